//! Shared by `tests/ops_linalg.rs`, `tests/ops_fft.rs` and `tests/random.rs`:
//! reading the golden files written by `scripts/golden/linalg_fft_random.py`
//! and running their tables.
//!
//! Each file holds named inputs, `cases` (a Rust function name, its inputs
//! and parameters, and the outputs Python MLX 0.32.2 computed) and `errors`
//! (bad inputs with MLX's message and the phase it is raised in). A test
//! file supplies one dispatcher, `fn(name, inputs, params) ->
//! Result<Vec<Array>>`, calling the Rust API; [`run_cases`] and
//! [`run_errors`] drive it over the tables.
//!
//! Arrays are stored as `{"dtype", "shape", "hex"}`, each element's raw
//! bits as fixed-width hex (complex64: the pair's 64 bits, real part low),
//! so they are rebuilt exactly. On the CPU (where the golden data comes
//! from) results must match bit for bit; on the GPU within the tolerance
//! of the op family the caller names (`crate::device`, the suite's one
//! table), with a `GPU-DIFF` line each. Every failure of a table is
//! reported at its end.

#![allow(dead_code)]

use std::collections::BTreeMap;

use mlx_rs::{Array, Dtype, Error};
use serde_json::Value;

pub use crate::device::on_cpu;
use crate::device::{host_bits, Family, Report, Tol};

/// A test file's dispatcher: calls the Rust function `name` with the
/// table's inputs and parameters.
pub type Dispatch = dyn Fn(&str, &[Array], &Value) -> mlx_rs::Result<Vec<Array>>;

pub fn parse(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).expect("golden file parses");
    assert_eq!(
        v["mlx_version"], "0.32.2",
        "golden data from the pinned MLX"
    );
    v
}

pub fn dtype(name: &str) -> Dtype {
    *Dtype::ALL
        .iter()
        .find(|d| d.name() == name)
        .unwrap_or_else(|| panic!("unknown dtype {name}"))
}

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

/// The raw bits of each stored element.
pub fn bits(v: &Value) -> Vec<u64> {
    let hex = v["hex"].as_str().unwrap();
    let width = 2 * dtype(v["dtype"].as_str().unwrap()).size().max(1);
    assert_eq!(hex.len() % width, 0);
    (0..hex.len() / width)
        .map(|i| u64::from_str_radix(&hex[i * width..(i + 1) * width], 16).unwrap())
        .collect()
}

/// The stored array, rebuilt exactly.
pub fn array(v: &Value) -> Array {
    let b = bits(v);
    let s = shape(&v["shape"]);
    let it = b.iter().copied();
    match dtype(v["dtype"].as_str().unwrap()) {
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
            it.map(|x| {
                mlx_rs::Complex32::new(f32::from_bits(x as u32), f32::from_bits((x >> 32) as u32))
            }),
            &s,
        ),
        other => panic!("no decoder for {other}"),
    }
    .unwrap()
}

/// The raw bits of `a`'s elements, as the generator stores them (read on
/// the host).
pub fn array_bits(a: &Array) -> Vec<u64> {
    host_bits(a)
}

/// The stored bits as `f64` values (complex: real and imaginary parts
/// interleaved).
fn bits_to_values(d: Dtype, b: &[u64]) -> Vec<f64> {
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

/// Checks that `got` has the stored dtype and shape, and the stored
/// values: bit for bit on the CPU (and for non-float dtypes), within
/// `family`'s tolerance on the GPU. Failures go to `r`.
pub fn assert_golden(r: &mut Report, got: &Array, want: &Value, family: Family, what: &str) {
    if let Err(e) = got.eval() {
        r.fail(format!("{what}: evaluation failed: {e}"));
        return;
    }
    let wd = dtype(want["dtype"].as_str().unwrap());
    if !r.check(got.dtype() == wd, || {
        format!("{what}: dtype {}, want {wd}", got.dtype())
    }) || !r.check(got.shape() == &shape(&want["shape"])[..], || {
        format!("{what}: shape {:?}, want {}", got.shape(), want["shape"])
    }) {
        return;
    }
    let w = bits(want);
    let g = array_bits(got);
    if !r.check(g.len() == w.len(), || format!("{what}: element count")) {
        return;
    }
    if (on_cpu() && !crate::device::blas_moves(family))
        || !(wd.is_floating() || wd == Dtype::Complex64)
    {
        let bad: Vec<usize> = (0..w.len()).filter(|&i| g[i] != w[i]).collect();
        if let Some(&i) = bad.first() {
            let gv = bits_to_values(wd, &g[i..=i]);
            let wv = bits_to_values(wd, &w[i..=i]);
            r.fail(format!(
                "{what}: {} of {} elements differ from Python MLX; first at {i}: \
                 got {gv:?} ({:#x}), want {wv:?} ({:#x})",
                bad.len(),
                w.len(),
                g[i],
                w[i]
            ));
        }
    } else {
        let (gv, wv) = (bits_to_values(wd, &g), bits_to_values(wd, &w));
        r.close_as(wd, family, what, &gv, &wv, Tol::EXACT);
    }
}

/// The inputs of a golden file, by name.
pub fn inputs(doc: &Value) -> BTreeMap<String, Array> {
    doc["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), array(v)))
        .collect()
}

fn case_inputs(inputs: &BTreeMap<String, Array>, case: &Value) -> Vec<Array> {
    case["in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| inputs[n.as_str().unwrap()].clone())
        .collect()
}

/// A short description of a table entry, for failure messages.
pub fn describe(case: &Value) -> String {
    format!("{}({}, {})", case["fn"], case["in"], case["p"])
}

/// Whether a table entry involves `float64`, which MLX supports on the CPU
/// only ("float64 is not supported on the GPU").
fn uses_f64(doc: &Value, case: &Value) -> bool {
    let f64_name = |v: &Value| v == "float64";
    case["in"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| f64_name(&doc["inputs"][n.as_str().unwrap()]["dtype"]))
        || case["out"]
            .as_array()
            .is_some_and(|o| o.iter().any(|a| f64_name(&a["dtype"])))
        || f64_name(&case["p"]["dtype"])
}

/// Runs `f` on the current stream, or, for a `float64` entry off the CPU,
/// on the CPU's default stream (where MLX supports `float64`).
fn on_a_stream_for<R>(doc: &Value, case: &Value, f: impl FnOnce() -> R) -> R {
    if !on_cpu() && uses_f64(doc, case) {
        crate::device::on_cpu_stream(f)
    } else {
        f()
    }
}

/// Runs every golden case through `dispatch`, comparing each output with
/// Python's; `family` names the op family of a function (its tolerance on
/// the GPU). Entries with `float64` run on the CPU stream whatever the
/// device. Reports every failure at the end; returns the number of cases
/// per function.
pub fn run_cases(
    doc: &Value,
    dispatch: &Dispatch,
    family: impl Fn(&str) -> Family,
) -> BTreeMap<String, usize> {
    let inputs = inputs(doc);
    let mut seen = BTreeMap::new();
    let mut r = Report::new();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["fn"].as_str().unwrap();
        let what = describe(case);
        on_a_stream_for(doc, case, || {
            let outs = match dispatch(name, &case_inputs(&inputs, case), &case["p"]) {
                Ok(outs) => outs,
                Err(e) => return r.fail(format!("{what}: {e}")),
            };
            let want = case["out"].as_array().unwrap();
            if !r.check(outs.len() == want.len(), || {
                format!("{what}: number of outputs")
            }) {
                return;
            }
            for (i, (g, w)) in outs.iter().zip(want).enumerate() {
                assert_golden(&mut r, g, w, family(name), &format!("{what} output {i}"));
            }
        });
        *seen.entry(name.to_owned()).or_insert(0) += 1;
    }
    r.finish();
    seen
}

/// Asserts that `got` fails as Python MLX did: with MLX's exact message,
/// when the op is called (`"build"`) or when its outputs are evaluated
/// (`"eval"`).
#[track_caller]
pub fn assert_mlx_error(got: mlx_rs::Result<Vec<Array>>, want: &Value, what: &str) {
    if let Some(problem) = mlx_error_problem(got, want, what) {
        panic!("{problem}");
    }
}

/// What is wrong with `got` as the failure `want` describes, if anything.
fn mlx_error_problem(got: mlx_rs::Result<Vec<Array>>, want: &Value, what: &str) -> Option<String> {
    let message = want["message"].as_str().unwrap();
    let err = match (want["phase"].as_str().unwrap(), got) {
        ("build", Err(e)) => e,
        ("build", Ok(a)) => {
            return Some(format!(
                "{what}: expected an error when building, got {a:?}"
            ))
        }
        ("eval", Ok(a)) => match mlx_rs::eval(&a) {
            Err(e) => e,
            Ok(()) => return Some(format!("{what}: expected an error when evaluating")),
        },
        ("eval", Err(e)) => {
            return Some(format!(
                "{what}: expected an error when evaluating, got {e:?} when building"
            ))
        }
        (p, _) => panic!("unknown phase {p}"),
    };
    match err {
        Error::Mlx { message: m, .. } if m == message => None,
        Error::Mlx { message: m, .. } => Some(format!("{what}: {m:?}, Python {message:?}")),
        other => Some(format!(
            "{what}: expected MLX's error {message:?}, got {other:?}"
        )),
    }
}

/// Runs every bad-input entry through `dispatch`; each must fail with
/// MLX's message (none may end the process). Entries with `float64` run on
/// the CPU stream whatever the device. Returns the number of entries.
pub fn run_errors(doc: &Value, dispatch: &Dispatch) -> usize {
    let inputs = inputs(doc);
    let errors = doc["errors"].as_array().unwrap();
    let mut r = Report::new();
    for case in errors {
        let name = case["fn"].as_str().unwrap();
        let what = describe(case);
        on_a_stream_for(doc, case, || {
            let got = dispatch(name, &case_inputs(&inputs, case), &case["p"]);
            if let Some(problem) = mlx_error_problem(got, case, &what) {
                r.fail(problem);
            }
        });
    }
    r.finish();
    errors.len()
}
