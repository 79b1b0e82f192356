//! Reading the golden files.
//!
//! Arrays come in two encodings:
//! - hex: `{"dtype", "shape", "hex"}`, each element's raw bits as
//!   fixed-width hex (complex64: the pair's 64 bits, real part low), so
//!   [`array`] rebuilds them exactly;
//! - values: `{"dtype", "shape", "values"}`, JSON numbers (non-finite ones
//!   as the strings `"inf"`, `"-inf"`, `"nan"`; complex as `[re, im]`),
//!   read by [`values`] and built by [`from_values`].

use mlx_rs::{Array, Complex32, Dtype};
use serde_json::Value;

/// The MLX version every golden file that names one must name.
pub const MLX_VERSION: &str = "0.32.2";

/// The golden file `tests/golden/$name`, embedded in the test binary and
/// parsed once: a `&'static serde_json::Value`.
#[allow(unused_macros)] // a binary may read no golden file
macro_rules! golden_file {
    ($name:literal) => {{
        static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
        DOC.get_or_init(|| {
            $crate::common::golden::parse(
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/", $name)),
                $name,
            )
        })
    }};
}
#[allow(unused_imports)]
pub(crate) use golden_file;

/// A golden file's text as JSON.
pub fn parse(text: &str, name: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name} parses: {e}"))
}

/// `doc`, after checking that it was written by the pinned MLX.
#[track_caller]
pub fn pinned(doc: &Value) -> &Value {
    assert_eq!(
        doc["mlx_version"], MLX_VERSION,
        "golden data from the pinned MLX"
    );
    doc
}

/// The dtype MLX names `name` (`"float32"`, `"bfloat16"`, ...).
pub fn dtype(name: &str) -> Dtype {
    *Dtype::ALL
        .iter()
        .find(|d| d.name() == name)
        .unwrap_or_else(|| panic!("unknown dtype {name}"))
}

/// The dtype a stored array names in its `"dtype"` field.
pub fn dtype_of(v: &Value) -> Dtype {
    dtype(v["dtype"].as_str().unwrap())
}

/// A list of ints (a shape, axes, ...).
pub fn shape(v: &Value) -> Vec<i32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a shape: {v}"))
        .iter()
        .map(|x| x.as_i64().unwrap() as i32)
        .collect()
}

/// An optional list of ints (`null` → `None`).
pub fn opt_ints(v: &Value) -> Option<Vec<i32>> {
    (!v.is_null()).then(|| shape(v))
}

pub fn int(v: &Value) -> i32 {
    v.as_i64().unwrap_or_else(|| panic!("not an int: {v}")) as i32
}

pub fn float(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A stored number (non-finite values are stored as strings).
pub fn num(v: &Value) -> f64 {
    match v.as_str() {
        Some("inf") => f64::INFINITY,
        Some("-inf") => f64::NEG_INFINITY,
        Some("nan") => f64::NAN,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

/// Stored values, flattened row-major (complex `[re, im]` pairs
/// interleaved, as `device::host_f64` reads complex arrays).
pub fn values(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(values).collect(),
        x => vec![num(x)],
    }
}

/// The array a values-encoded `{dtype, shape, values}` describes (values
/// exact in `float64`), built as the generators build theirs: `float64`,
/// then `astype` (complex64 directly), on the current stream.
pub fn from_values(v: &Value) -> Array {
    let d = dtype_of(v);
    let shape = shape(&v["shape"]);
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

/// Decodes a hex string into bytes.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The raw bits of each element of a hex-encoded array.
pub fn bits(v: &Value) -> Vec<u64> {
    let hex = v["hex"].as_str().unwrap();
    let width = 2 * dtype_of(v).size().max(1);
    assert_eq!(hex.len() % width, 0);
    (0..hex.len() / width)
        .map(|i| u64::from_str_radix(&hex[i * width..(i + 1) * width], 16).unwrap())
        .collect()
}

/// A hex-encoded array, rebuilt exactly.
pub fn array(v: &Value) -> Array {
    let b = bits(v);
    let s = shape(&v["shape"]);
    let it = b.iter().copied();
    match dtype_of(v) {
        Dtype::Bool => Array::from_iter_shaped(it.map(|x| x != 0), &s),
        Dtype::Uint8 => Array::from_iter_shaped(it.map(|x| x as u8), &s),
        Dtype::Uint16 => Array::from_iter_shaped(it.map(|x| x as u16), &s),
        Dtype::Uint32 => Array::from_iter_shaped(it.map(|x| x as u32), &s),
        Dtype::Uint64 => Array::from_iter_shaped(it, &s),
        Dtype::Int8 => Array::from_iter_shaped(it.map(|x| x as u8 as i8), &s),
        Dtype::Int16 => Array::from_iter_shaped(it.map(|x| x as u16 as i16), &s),
        Dtype::Int32 => Array::from_iter_shaped(it.map(|x| x as u32 as i32), &s),
        Dtype::Int64 => Array::from_iter_shaped(it.map(|x| x as i64), &s),
        Dtype::Float16 => Array::from_iter_shaped(it.map(|x| mlx_rs::f16::from_bits(x as u16)), &s),
        Dtype::Bfloat16 => {
            Array::from_iter_shaped(it.map(|x| mlx_rs::bf16::from_bits(x as u16)), &s)
        }
        Dtype::Float32 => Array::from_iter_shaped(it.map(|x| f32::from_bits(x as u32)), &s),
        Dtype::Float64 => Array::from_iter_shaped(it.map(f64::from_bits), &s),
        Dtype::Complex64 => Array::from_iter_shaped(
            it.map(|x| Complex32::new(f32::from_bits(x as u32), f32::from_bits((x >> 32) as u32))),
            &s,
        ),
        other => panic!("no decoder for {other}"),
    }
    .unwrap()
}

/// Stored bits as `f64` values (complex: real and imaginary parts
/// interleaved; integers as they are).
pub fn bits_to_values(d: Dtype, b: &[u64]) -> Vec<f64> {
    b.iter()
        .flat_map(|&x| match d {
            Dtype::Float16 => vec![f64::from(mlx_rs::f16::from_bits(x as u16))],
            Dtype::Bfloat16 => vec![f64::from(mlx_rs::bf16::from_bits(x as u16))],
            Dtype::Float32 => vec![f64::from(f32::from_bits(x as u32))],
            Dtype::Float64 => vec![f64::from_bits(x)],
            Dtype::Complex64 => vec![
                f64::from(f32::from_bits(x as u32)),
                f64::from(f32::from_bits((x >> 32) as u32)),
            ],
            _ => vec![x as f64],
        })
        .collect()
}
