//! Shared by `tests/quantization.rs` and `tests/fast.rs`: reading the
//! golden files written by `scripts/golden/quant_fast.py` and comparing
//! results with them.
//!
//! Arrays are stored as `{"dtype", "shape", "hex"}`, each element's raw bits
//! as fixed-width hex, so they are rebuilt exactly and compared bit for bit.
//!
//! Every test runs on the current stream (the default device's). On the
//! CPU (where the golden data comes from) results must be bit-identical to
//! Python MLX; on another device a comparison uses the tolerance its caller
//! passes (each test file keeps them in one `tol` module).

#![allow(dead_code)]

use mlx_rs::{bf16, f16, Array, Device, DeviceType, Dtype, Error, Stream};
use serde_json::Value;

/// A named call that must fail as Python MLX did.
pub type ErrorCase<'a> = (&'static str, Box<dyn Fn() -> mlx_rs::Result<Array> + 'a>);

/// Absolute and relative tolerance, used only off the CPU.
#[derive(Debug, Clone, Copy)]
pub struct Tol {
    pub atol: f64,
    pub rtol: f64,
}

/// Whether the tests run on the CPU: the device of the current stream
/// (the default device's, unless a `with_stream` scope says otherwise).
pub fn on_cpu() -> bool {
    current_device().kind() == DeviceType::Cpu
}

/// The device the tests run on.
pub fn current_device() -> Device {
    Stream::current().unwrap().device().unwrap()
}

/// A fresh stream on the device the tests run on (for the `_on` variants).
pub fn fresh_stream() -> Stream {
    Stream::new(current_device()).unwrap()
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

/// `a`'s elements as `f64` (any float dtype).
pub fn values(a: &Array) -> Vec<f64> {
    a.astype(Dtype::Float64).unwrap().to_vec::<f64>().unwrap()
}

fn bits_to_f64(dtype: &str, b: u64) -> f64 {
    match dtype {
        "float32" => f64::from(f32::from_bits(b as u32)),
        "float16" => f64::from(f16::from_bits(b as u16)),
        "bfloat16" => f64::from(bf16::from_bits(b as u16)),
        _ => b as f64,
    }
}

/// Asserts `got` has the stored dtype and shape, and the stored values:
/// bit for bit on the CPU, within `tol` elsewhere (floats; other dtypes
/// exactly).
pub fn assert_golden(got: &Array, want: &Value, tol: Tol, what: &str) {
    let wd = want["dtype"].as_str().unwrap();
    assert_eq!(got.dtype().name(), wd, "{what}: dtype");
    assert_eq!(got.shape(), &shape(want)[..], "{what}: shape");
    let w = bits(want);
    let is_float = matches!(wd, "float32" | "float16" | "bfloat16");
    if on_cpu() || !is_float {
        let g = array_bits(got);
        let bad: Vec<usize> = (0..w.len()).filter(|&i| g[i] != w[i]).collect();
        assert!(
            bad.is_empty(),
            "{what}: {} of {} elements differ from Python MLX; first at {}: got {} ({:#x}), want {} ({:#x})",
            bad.len(),
            w.len(),
            bad[0],
            bits_to_f64(wd, g[bad[0]]),
            g[bad[0]],
            bits_to_f64(wd, w[bad[0]]),
            w[bad[0]],
        );
    } else {
        let g = values(got);
        let w: Vec<f64> = w.iter().map(|&b| bits_to_f64(wd, b)).collect();
        assert_close(&g, &w, tol, what);
    }
}

/// Elementwise `|got − want| ≤ atol + rtol·|want|` (equal infinities and
/// NaNs pass).
pub fn assert_close(got: &[f64], want: &[f64], tol: Tol, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok =
            g == w || (g.is_nan() && w.is_nan()) || (g - w).abs() <= tol.atol + tol.rtol * w.abs();
        assert!(
            ok,
            "{what}: element {i}: got {g}, want {w} (tolerance {tol:?})"
        );
    }
}

/// Asserts that `got` fails as Python MLX did: with MLX's exact message,
/// when the op is called (`"build"`) or when its result is evaluated
/// (`"eval"`).
pub fn assert_mlx_error(got: mlx_rs::Result<Array>, want: &Value, what: &str) {
    let message = want["message"].as_str().unwrap();
    let err = match (want["phase"].as_str().unwrap(), got) {
        ("build", Err(e)) => e,
        ("build", Ok(a)) => panic!("{what}: expected an error when building, got {a:?}"),
        ("eval", Ok(a)) => a.eval().expect_err(what),
        ("eval", Err(e)) => {
            panic!("{what}: expected an error when evaluating, got {e:?} when building")
        }
        (p, _) => panic!("unknown phase {p}"),
    };
    match err {
        Error::Mlx { message: m, .. } => assert_eq!(m, message, "{what}"),
        other => panic!("{what}: expected MLX's error {message:?}, got {other:?}"),
    }
}
