//! Shared by the `nn_*` tests: the golden file, its arrays as `float32`, the
//! deterministic weights of `scripts/golden/nn.py`, and comparisons: within
//! the tolerance each test states on the CPU, within its op family's on the
//! GPU (`crate::device`, the suite's one table).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use mlx_rs::nn::Module;
use mlx_rs::Array;
use serde_json::Value;

use crate::common::golden::{bits, golden_file, pinned, shape};
use crate::device::{Family, Report, Tol};

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

pub fn golden() -> &'static Value {
    pinned(golden_file!("nn_cases.json"))
}

/// A hex-encoded `float32` or `bfloat16` array as a `float32` array (read
/// on the host: bfloat16 widens exactly).
pub fn decode(v: &Value) -> Array {
    let vals: Vec<f32> = match v["dtype"].as_str().unwrap() {
        "float32" => bits(v).iter().map(|&b| f32::from_bits(b as u32)).collect(),
        "bfloat16" => bits(v)
            .iter()
            .map(|&b| f32::from_bits((b as u32) << 16))
            .collect(),
        other => panic!("unexpected golden dtype {other}"),
    };
    Array::from_slice(&vals, &shape(&v["shape"])).unwrap()
}

/// Checks `got` against `want` (read on the host): max |diff| ≤ `cpu` on
/// the CPU; on the GPU within `family`'s tolerance (or `cpu`, if looser),
/// with a `GPU-DIFF` line. Failures go to `r`.
pub fn assert_close(
    r: &mut Report,
    got: &Array,
    want: &Array,
    family: Family,
    cpu: f32,
    what: &str,
) {
    r.close_arrays(family, what, got, want, Tol::new(f64::from(cpu), 0.0));
}

const M32: u64 = 0xFFFF_FFFF;

fn fnv1a(name: &str) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

fn mix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7FEB_352D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846C_A68B);
    h ^= h >> 16;
    h
}

/// `det_weight` of nn.py: the same integers, the same f64 arithmetic.
pub fn det_weight(name: &str, shape: &[i32]) -> Array {
    let n: i64 = shape.iter().map(|&d| i64::from(d)).product();
    let base = u64::from(fnv1a(name));
    let norm = name.ends_with("norm.weight");
    let vals: Vec<f32> = (0..n as u64)
        .map(|i| {
            let h = mix(((base + i * 0x9E37_79B9) & M32) as u32);
            let v = (f64::from(h % 2001) - 1000.0) / 1000.0;
            (if norm { 1.0 + 0.1 * v } else { 0.2 * v }) as f32
        })
        .collect();
    Array::from_slice(&vals, shape).unwrap()
}

/// Loads deterministic weights into every parameter of `model` (strictly).
pub fn fill(model: &mut dyn Module) {
    let weights: HashMap<String, Array> = model
        .weight_specs()
        .into_iter()
        .map(|(name, spec)| {
            let w = det_weight(&name, &spec.shape);
            (name, w)
        })
        .collect();
    model.load_weights(weights).unwrap();
}
