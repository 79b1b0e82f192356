//! Shared by `tests/quantization.rs` and `tests/fast.rs`: reading the
//! golden files written by `scripts/golden/quant_fast.py` and comparing
//! results with them.
//!
//! Arrays are stored as `{"dtype", "shape", "hex"}`, each element's raw bits
//! as fixed-width hex, so they are rebuilt exactly and compared bit for bit.
//!
//! Every test runs on the current stream (the default device's). On the
//! CPU (where the golden data comes from) results must be bit-identical to
//! Python MLX; on the GPU a comparison uses the tolerance of its op family
//! (`crate::device::Family`, the suite's one table) and prints a
//! `GPU-DIFF` line. Failures are collected in a `crate::device::Report`
//! and reported together at the end of each test.

#![allow(dead_code)]

pub mod emulate;

use mlx_rs::{bf16, f16, Array, Dtype, Error, Stream};
use serde_json::Value;

use crate::device::{self, Family, Report, Tol};

/// A named call that must fail as Python MLX did.
pub type ErrorCase<'a> = (&'static str, Box<dyn Fn() -> mlx_rs::Result<Array> + 'a>);

/// A fresh stream on the device the tests run on (for the `_on` variants).
pub fn fresh_stream() -> Stream {
    Stream::new(device::current_device()).unwrap()
}

pub fn parse(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).expect("golden file parses");
    assert_eq!(
        v["mlx_version"], "0.32.2",
        "golden data from the pinned MLX"
    );
    v
}

fn dtype(name: &str) -> Dtype {
    *Dtype::ALL
        .iter()
        .find(|d| d.name() == name)
        .unwrap_or_else(|| panic!("unknown dtype {name}"))
}

pub fn shape(v: &Value) -> Vec<i32> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap() as i32)
        .collect()
}

/// The raw bits of each stored element.
pub fn bits(v: &Value) -> Vec<u64> {
    let hex = v["hex"].as_str().unwrap();
    let width = match v["dtype"].as_str().unwrap() {
        "bool" | "uint8" | "int8" => 2,
        "uint16" | "int16" | "float16" | "bfloat16" => 4,
        "uint32" | "int32" | "float32" => 8,
        _ => 16,
    };
    assert_eq!(hex.len() % width, 0);
    (0..hex.len() / width)
        .map(|i| u64::from_str_radix(&hex[i * width..(i + 1) * width], 16).unwrap())
        .collect()
}

/// The stored array, rebuilt exactly.
pub fn array(v: &Value) -> Array {
    let b = bits(v);
    let s = shape(v);
    match v["dtype"].as_str().unwrap() {
        "float32" => Array::from_iter_shaped(b.iter().map(|&x| f32::from_bits(x as u32)), &s),
        "uint32" => Array::from_iter_shaped(b.iter().map(|&x| x as u32), &s),
        "int32" => Array::from_iter_shaped(b.iter().map(|&x| x as u32 as i32), &s),
        "uint8" => Array::from_iter_shaped(b.iter().map(|&x| x as u8), &s),
        "bool" => Array::from_iter_shaped(b.iter().map(|&x| x != 0), &s),
        "float16" => Array::from_iter_shaped(b.iter().map(|&x| f16::from_bits(x as u16)), &s),
        "bfloat16" => Array::from_iter_shaped(b.iter().map(|&x| bf16::from_bits(x as u16)), &s),
        other => panic!("no decoder for {other}"),
    }
    .unwrap()
}

/// The stored `float32` scalar.
pub fn scalar_f32(v: &Value) -> f32 {
    assert_eq!(v["dtype"], "float32");
    f32::from_bits(bits(v)[0] as u32)
}

/// The raw bits of `a`'s elements (evaluating it).
pub fn array_bits(a: &Array) -> Vec<u64> {
    match a.dtype() {
        Dtype::Float32 => a
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
        Dtype::Uint32 => a
            .to_vec::<u32>()
            .unwrap()
            .iter()
            .map(|&x| u64::from(x))
            .collect(),
        Dtype::Uint8 => a
            .to_vec::<u8>()
            .unwrap()
            .iter()
            .map(|&x| u64::from(x))
            .collect(),
        Dtype::Float16 => a
            .to_vec::<f16>()
            .unwrap()
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
        Dtype::Bfloat16 => a
            .to_vec::<bf16>()
            .unwrap()
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
        other => panic!("no bit reader for {other}"),
    }
}

/// `a`'s elements as `f64`, read on the host (no MLX op: device-independent).
pub fn values(a: &Array) -> Vec<f64> {
    device::host_f64(a)
}

fn bits_to_f64(dtype: &str, b: u64) -> f64 {
    match dtype {
        "float32" => f64::from(f32::from_bits(b as u32)),
        "float16" => f64::from(f16::from_bits(b as u16)),
        "bfloat16" => f64::from(bf16::from_bits(b as u16)),
        _ => b as f64,
    }
}

/// Checks that `got` has the stored dtype and shape, and the stored
/// values: bit for bit on the CPU (and for non-float dtypes everywhere),
/// within `family`'s tolerance on the GPU. Failures go to `report`.
pub fn assert_golden(report: &mut Report, got: &Array, want: &Value, family: Family, what: &str) {
    let wd = want["dtype"].as_str().unwrap();
    if !report.check(got.dtype().name() == wd, || {
        format!("{what}: dtype {}, want {wd}", got.dtype())
    }) || !report.check(got.shape() == &shape(want)[..], || {
        format!("{what}: shape {:?}, want {:?}", got.shape(), shape(want))
    }) {
        return;
    }
    let w = bits(want);
    let is_float = matches!(wd, "float32" | "float16" | "bfloat16");
    if (device::on_cpu() && !device::blas_moves(family)) || !is_float {
        let g = array_bits(got);
        let bad: Vec<usize> = (0..w.len()).filter(|&i| g[i] != w[i]).collect();
        if let Some(&i) = bad.first() {
            report.fail(format!(
                "{what}: {} of {} elements differ from Python MLX; first at {i}: got {} ({:#x}), want {} ({:#x})",
                bad.len(),
                w.len(),
                bits_to_f64(wd, g[i]),
                g[i],
                bits_to_f64(wd, w[i]),
                w[i],
            ));
        }
    } else {
        let w: Vec<f64> = w.iter().map(|&b| bits_to_f64(wd, b)).collect();
        report.close_as(got.dtype(), family, what, &values(got), &w, Tol::EXACT);
    }
}

/// Checks that `got` fails as Python MLX did: with MLX's exact message,
/// when the op is called (`"build"`) or when its result is evaluated
/// (`"eval"`). Failures go to `report`.
pub fn assert_mlx_error(report: &mut Report, got: mlx_rs::Result<Array>, want: &Value, what: &str) {
    let message = want["message"].as_str().unwrap();
    let err = match (want["phase"].as_str().unwrap(), got) {
        ("build", Err(e)) => e,
        ("build", Ok(a)) => {
            return report.fail(format!(
                "{what}: expected an error when building, got {a:?}"
            ))
        }
        ("eval", Ok(a)) => match a.eval() {
            Err(e) => e,
            Ok(()) => return report.fail(format!("{what}: expected an error when evaluating")),
        },
        ("eval", Err(e)) => {
            return report.fail(format!(
                "{what}: expected an error when evaluating, got {e:?} when building"
            ))
        }
        (p, _) => panic!("unknown phase {p}"),
    };
    match err {
        Error::Mlx { message: m, .. } => {
            report.check(m == message, || {
                format!("{what}: {m:?}, Python {message:?}")
            });
        }
        other => report.fail(format!(
            "{what}: expected MLX's error {message:?}, got {other:?}"
        )),
    }
}
