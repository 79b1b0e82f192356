//! Shared by `ops_golden.rs` and `ops_errors.rs`: reads
//! `golden/ops_cases.json` (written by `scripts/golden/ops.py` with Python
//! MLX 0.32.2) and turns its values-encoded arrays back into `Array`s, on
//! the CPU stream whatever the default device
//! (`crate::device::on_cpu_stream`).

#![allow(dead_code)]

use mlx_rs::Array;
use serde_json::Value;

use crate::common::golden::{from_values, golden_file};

pub fn golden() -> &'static Value {
    golden_file!("ops_cases.json")
}

/// The array a JSON `{dtype, shape, values}` describes (values are exact:
/// every input is a float32, integer or bool value), built as the generator
/// did (float64, then `astype`) on the CPU stream: harness work, identical
/// on every device (no float64 array on the GPU).
pub fn decode(v: &Value) -> Array {
    crate::device::on_cpu_stream(|| from_values(v))
}

pub fn inputs(case: &Value) -> Vec<Array> {
    case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(decode)
        .collect()
}
