//! What the test binaries of mlx-rs share to read the golden files of
//! `scripts/golden/*.py` (Python MLX 0.32.2, fixed seeds) and compare
//! results with them:
//!
//! - [`golden`]: loading a file once per binary, dtype names, shapes,
//!   numbers and both array encodings (hex bits and JSON values);
//! - [`compare`]: checking an `Array`'s dtype and shape against a stored
//!   one, its values bit for bit (or within its op family's tolerance on
//!   the GPU), and an `Err` against MLX's stored message;
//! - [`arange`]: the `int32` ramp the indexing and error tests start from.
//!
//! Included as `mod common;` next to `mod device;` (the per-device harness,
//! which [`compare`] reaches as `crate::device`). What belongs to one family
//! of tests (a table runner, deterministic weights, hostile files) stays in
//! that family's support module.

#![allow(dead_code)]

pub mod compare;
pub mod golden;
pub mod mlx_thread;

use mlx_rs::{Array, Dtype};

/// `0, 1, …` as `int32`, in `shape` (row-major).
pub fn arange(shape: &[i32]) -> Array {
    let n: i32 = shape.iter().product();
    Array::arange(0.0, f64::from(n), 1.0, Dtype::Int32)
        .unwrap()
        .reshape(shape)
        .unwrap()
}
