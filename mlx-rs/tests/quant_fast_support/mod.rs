//! Shared by `tests/quantization.rs` and `tests/fast.rs`: what the tests of
//! the golden files written by `scripts/golden/quant_fast.py` need beyond
//! `crate::common` (which reads the hex-encoded arrays and compares results
//! with them: bit for bit on the CPU, within the op family's tolerance on
//! the GPU).
//!
//! Every test runs on the current stream (the default device's). Failures
//! are collected in a `crate::device::Report` and reported together at the
//! end of each test.

#![allow(dead_code)]

pub mod emulate;

use std::collections::BTreeSet;

use mlx_rs::{Array, Stream};
use serde_json::Value;

use crate::common::compare::assert_mlx_error;
use crate::common::golden::bits;
use crate::device::{self, Report};

/// A named call that must fail as Python MLX did.
pub type ErrorCase<'a> = (&'static str, Box<dyn Fn() -> mlx_rs::Result<Array> + 'a>);

/// A fresh stream on the device the tests run on (for the `_on` variants).
pub fn fresh_stream() -> Stream {
    Stream::new(device::current_device()).unwrap()
}

/// The stored `float32` scalar.
pub fn scalar_f32(v: &Value) -> f32 {
    assert_eq!(v["dtype"], "float32");
    f32::from_bits(bits(v)[0] as u32)
}

/// Runs each named call of `cases`, which must fail as the entry of the
/// same name in `stored` (the golden file's `errors`) says; there is one
/// call per stored entry. Calls named `*_cpu` are MLX CPU refusals (a
/// kernel the CPU backend lacks) and are skipped on the GPU, which may have
/// the kernel. Failures go to `r`.
pub fn run_error_table(r: &mut Report, cases: &[ErrorCase<'_>], stored: &Value) {
    let stored = stored.as_object().unwrap();
    let names: BTreeSet<&str> = cases.iter().map(|(n, _)| *n).collect();
    let keys: BTreeSet<&str> = stored.keys().map(String::as_str).collect();
    assert_eq!(names, keys, "one Rust call per stored MLX error");
    let mut checked = 0;
    for (name, f) in cases {
        if name.ends_with("_cpu") && device::on_gpu() {
            continue;
        }
        assert_mlx_error(r, f(), &stored[*name], name);
        checked += 1;
    }
    let skipped = cases.iter().filter(|(n, _)| n.ends_with("_cpu")).count();
    assert_eq!(
        checked,
        if device::on_cpu() {
            cases.len()
        } else {
            cases.len() - skipped
        }
    );
}
