//! Shared by `ops_golden.rs` and `ops_errors.rs`: reads
//! `golden/ops_cases.json` (written by `scripts/golden/ops.py` with Python
//! MLX 0.32.2) and turns its arrays back into `Array`s, on the CPU stream
//! whatever the default device (`crate::device::on_cpu_stream`).

#![allow(dead_code)]

use mlx_rs::{Array, Complex32, Dtype};
use serde_json::Value;

pub fn golden() -> &'static Value {
    static G: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    G.get_or_init(|| {
        serde_json::from_str(include_str!("../golden/ops_cases.json"))
            .expect("ops_cases.json parses")
    })
}

pub fn dtype(name: &str) -> Dtype {
    *Dtype::ALL
        .iter()
        .find(|d| d.name() == name)
        .unwrap_or_else(|| panic!("unknown dtype {name}"))
}

pub fn num(v: &Value) -> f64 {
    match v.as_str() {
        Some("inf") => f64::INFINITY,
        Some("-inf") => f64::NEG_INFINITY,
        Some("nan") => f64::NAN,
        _ => v.as_f64().expect("a number"),
    }
}

/// The array a JSON `{dtype, shape, values}` describes (values are exact:
/// every input is a float32, integer or bool value), built as the generator
/// did (float64, then `astype`) on the CPU stream: harness work, identical
/// on every device (no float64 array on the GPU).
pub fn decode(v: &Value) -> Array {
    crate::device::on_cpu_stream(|| decode_here(v))
}

fn decode_here(v: &Value) -> Array {
    let d = dtype(v["dtype"].as_str().unwrap());
    let shape: Vec<i32> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap() as i32)
        .collect();
    let vals = v["values"].as_array().unwrap();
    if d == Dtype::Complex64 {
        let c: Vec<Complex32> = vals
            .iter()
            .map(|p| Complex32::new(num(&p[0]) as f32, num(&p[1]) as f32))
            .collect();
        return Array::from_slice(&c, &shape).unwrap();
    }
    let f: Vec<f64> = vals.iter().map(num).collect();
    Array::from_slice(&f, &shape).unwrap().astype(d).unwrap()
}

pub fn inputs(case: &Value) -> Vec<Array> {
    case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(decode)
        .collect()
}
