//! mlx-rs against Python MLX: every expected value here was produced by
//! Python MLX 0.32.2 (`scripts/golden/core.py`, fixed seeds) and stored
//! in `tests/golden/core.json`.
//!
//! Inputs are built as the generator built them (float64, then `astype`)
//! on the CPU stream, whatever the default device; results are read on the
//! host. On the GPU, ops on `float64` arrays must be MLX's refusal
//! ("float64 is not supported on the GPU"), and the same cases are then
//! checked on the CPU stream; float results are compared within
//! [`Family::Elementwise`] (`tests/device`), with a `GPU-DIFF` line each.

mod common;
mod device;

use common::arange;
use common::compare::same_dtype_and_shape;
use common::golden::{dtype, golden_file, values};
use device::{assert_f64_refused, host_f64, on_cpu_stream, on_gpu, Family, Report, Tol};
use mlx_rs::index::{Ellipsis, Index, NewAxis, Slice};
use mlx_rs::ops::{self, Operand};
use mlx_rs::{Array, Complex32, Dtype, Error};
use serde_json::Value;

fn golden() -> &'static Value {
    golden_file!("core.json")
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Integers of a (possibly nested) JSON list, flattened row-major.
fn i32s(v: &Value) -> Vec<i32> {
    match v {
        Value::Array(items) => items.iter().flat_map(i32s).collect(),
        x => vec![x.as_i64().unwrap() as i32],
    }
}

/// An array of `dtype` from float values, as the generator makes them
/// (`float64` then `astype`), on the CPU stream (harness work: the same
/// bits whatever the default device).
fn make(values: &[f64], shape: &[i32], d: Dtype) -> Array {
    on_cpu_stream(|| Array::from_slice(values, shape)?.astype(d)).unwrap()
}

/// The comparison this file has always made on the CPU: equal, both NaN,
/// or within `1e-6·max(|want|, 1)`.
fn same_value(g: f64, w: f64) -> bool {
    g == w || (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-6 * w.abs().max(1.0)
}

/// Compares an mlx-rs result with a golden `{"ok": ...}` / `{"err": ...}`;
/// failures go to `r`. Float results on the GPU are compared within
/// [`Family::Elementwise`].
fn check(r: &mut Report, got: mlx_rs::Result<Array>, want: &Value, what: &str) {
    match (got, want.get("ok")) {
        (Ok(a), Some(ok)) => {
            if !same_dtype_and_shape(r, &a, ok, what) {
                return;
            }
            let (g, w) = (host_f64(&a), values(&ok["values"]));
            let float = a.dtype().is_floating() || a.dtype() == Dtype::Complex64;
            if on_gpu() && float {
                // 1e-6 relative and absolute: what `same_value` allows
                let cpu = Tol::new(1e-6, 1e-6);
                r.close_as(a.dtype(), Family::Elementwise, what, &g, &w, cpu);
            } else {
                r.check(
                    g.len() == w.len() && g.iter().zip(&w).all(|(&g, &w)| same_value(g, w)),
                    || format!("{what}: values {g:?} != {w:?}"),
                );
            }
        }
        (Err(e), None) => {
            let msg = want["err"].as_str().unwrap();
            match &e {
                Error::ScalarOverflow { .. } => {
                    r.check(msg.contains("overflow"), || format!("{what}: {e} vs {msg}"));
                }
                Error::Mlx { message, .. } => {
                    r.check(message == msg, || format!("{what}: {message:?} vs {msg:?}"));
                }
                other => r.fail(format!(
                    "{what}: unexpected error {other:?} (python: {msg})"
                )),
            }
        }
        (Ok(a), None) => r.fail(format!("{what}: expected error {}, got {a}", want["err"])),
        (Err(e), Some(_)) => r.fail(format!("{what}: unexpected error {e}")),
    }
}

/// [`check`] for an op on `float64` arrays: on the CPU as it is; on the
/// GPU the op must be MLX's float64 refusal, and is then checked on the
/// CPU stream (its dtype rules and values do not depend on the device).
fn check_f64(r: &mut Report, f: impl Fn() -> mlx_rs::Result<Array>, want: &Value, what: &str) {
    if on_gpu() {
        assert_f64_refused(f(), what);
        check(r, on_cpu_stream(f), want, &format!("{what} (CPU stream)"));
    } else {
        check(r, f(), want, what);
    }
}

#[test]
fn golden_file_is_from_the_pinned_mlx() {
    assert_eq!(golden()["mlx_version"], "0.32.2");
}

#[test]
fn array_promotion_matches_python_for_every_dtype_pair() {
    let cases = golden()["promotion"].as_array().unwrap();
    assert_eq!(cases.len(), 14 * 14);
    let mut refused = 0;
    for c in cases {
        let (a, b) = (
            dtype(c["a"].as_str().unwrap()),
            dtype(c["b"].as_str().unwrap()),
        );
        // the operands: inputs, made on the CPU stream
        let x = on_cpu_stream(|| Array::ones(&[1], a)).unwrap();
        let y = on_cpu_stream(|| Array::ones(&[1], b)).unwrap();
        let f64_on_gpu = on_gpu() && (a == Dtype::Float64 || b == Dtype::Float64);
        if f64_on_gpu {
            assert_f64_refused(&x + &y, &format!("{a} + {b}"));
            assert_f64_refused(&x / &y, &format!("{a} / {b}"));
            refused += 1;
        }
        // the promotion rule itself, on the CPU stream where the device
        // refuses float64
        let run = |f: &dyn Fn() -> mlx_rs::Result<Array>| {
            if f64_on_gpu {
                on_cpu_stream(f)
            } else {
                f()
            }
        };
        let sum = run(&|| &x + &y).unwrap();
        assert_eq!(sum.dtype().name(), c["add"], "{a} + {b}");
        let quot = run(&|| &x / &y).unwrap();
        assert_eq!(quot.dtype().name(), c["divide"], "{a} / {b}");
    }
    // every pair with a float64 operand: 2·14 − 1
    assert_eq!(refused, if on_gpu() { 27 } else { 0 });
}

fn scalar_operand(s: &Value) -> Operand<'static> {
    let v = &s["value"];
    match s["kind"].as_str().unwrap() {
        "bool" => v.as_bool().unwrap().into(),
        "int" => v.as_i64().unwrap().into(),
        "float" => v.as_f64().unwrap().into(),
        "complex" => {
            let p = f64s(v);
            Complex32::new(p[0] as f32, p[1] as f32).into()
        }
        k => panic!("unknown scalar kind {k}"),
    }
}

#[test]
fn weak_scalars_match_python_on_both_sides() {
    let cases = golden()["scalar_promotion"].as_array().unwrap();
    assert!(cases.len() > 200);
    let mut r = Report::new();
    for c in cases {
        let d = dtype(c["dtype"].as_str().unwrap());
        let x = make(&f64s(&c["array"]), &[2], d);
        let op = c["op"].as_str().unwrap();
        let f = |a: Operand<'_>, b: Operand<'_>| {
            if op == "add" {
                ops::add(a, b)
            } else {
                ops::multiply(a, b)
            }
        };
        let what = format!("{d} {op} {}", c["scalar"]);
        let right = || f((&x).into(), scalar_operand(&c["scalar"]));
        let left = || f(scalar_operand(&c["scalar"]), (&x).into());
        if on_gpu() && d == Dtype::Bool && c["scalar"]["kind"] == "complex" {
            // MLX's CUDA backend differs here: see
            // `bool_to_complex_on_each_device` (docs/gpu.md).
            continue;
        }
        if d == Dtype::Float64 {
            check_f64(&mut r, right, &c["scalar_right"], &what);
            check_f64(&mut r, left, &c["scalar_left"], &what);
        } else {
            check(&mut r, right(), &c["scalar_right"], &what);
            check(&mut r, left(), &c["scalar_left"], &what);
        }
    }
    r.finish();
}

#[test]
fn weak_scalars_through_operators() {
    // The operators go through the same rules; spot-check each side.
    let x = make(&[1.0, 2.0], &[2], Dtype::Int8);
    assert_eq!((&x + 3).unwrap().dtype(), Dtype::Int8);
    assert_eq!((3 * &x).unwrap().dtype(), Dtype::Int8);
    assert_eq!((&x - 2.5).unwrap().dtype(), Dtype::Float32);
    assert!(matches!(&x + 300, Err(Error::ScalarOverflow { .. })));
    let h = make(&[1.0, 2.0], &[2], Dtype::Float16);
    assert_eq!((&h * 2.0).unwrap().dtype(), Dtype::Float16);
    assert_eq!((1.0 / &h).unwrap().dtype(), Dtype::Float16);
    assert_eq!((&h + true).unwrap().dtype(), Dtype::Float16);
}

#[test]
fn arithmetic_and_comparisons_match_python() {
    let cases = golden()["arith"].as_array().unwrap();
    let mut r = Report::new();
    for c in cases {
        let d = dtype(c["dtype"].as_str().unwrap());
        let a = make(&f64s(&c["a"]["values"]), &i32s(&c["a"]["shape"]), d);
        let b = make(&f64s(&c["b"]["values"]), &i32s(&c["b"]["shape"]), d);
        let what = |op: &str| format!("{d} {op} {:?} {:?}", a.shape(), b.shape());
        let res = &c["results"];
        // Operators and named functions must agree with Python.
        check(&mut r, &a + &b, &res["add"], &what("+"));
        check(&mut r, &a - &b, &res["subtract"], &what("-"));
        check(&mut r, &a * &b, &res["multiply"], &what("*"));
        check(&mut r, &a / &b, &res["divide"], &what("/"));
        check(&mut r, &a % &b, &res["remainder"], &what("%"));
        check(&mut r, a.clone() + b.clone(), &res["add"], &what("owned +"));
        check(
            &mut r,
            ops::floor_divide(&a, &b),
            &res["floor_divide"],
            &what("//"),
        );
        check(&mut r, a.equal(&b), &res["equal"], &what("=="));
        check(&mut r, a.not_equal(&b), &res["not_equal"], &what("!="));
        check(&mut r, a.less(&b), &res["less"], &what("<"));
        check(&mut r, a.less_equal(&b), &res["less_equal"], &what("<="));
        check(&mut r, a.greater(&b), &res["greater"], &what(">"));
        check(
            &mut r,
            a.greater_equal(&b),
            &res["greater_equal"],
            &what(">="),
        );
        check(&mut r, a.logical_and(&b), &res["logical_and"], &what("and"));
        check(&mut r, a.logical_or(&b), &res["logical_or"], &what("or"));
        check(&mut r, -&a, &c["negative"], &what("neg"));
    }
    r.finish();
}

fn component(c: &Value) -> Index {
    let opt = |k: &str| c.get(k).map(|v| v.as_i64().unwrap() as i32);
    match c["t"].as_str().unwrap() {
        "int" => Index::Int(c["v"].as_i64().unwrap() as i32),
        "slice" => Index::Slice(Slice::new(opt("start"), opt("stop"), opt("step"))),
        "none" => NewAxis.into(),
        "ellipsis" => Ellipsis.into(),
        "array" => Index::Array(Array::from_slice(&i32s(&c["data"]), &i32s(&c["shape"])).unwrap()),
        t => panic!("unknown component {t}"),
    }
}

/// A stored index: its components, in order.
fn components(v: &Value) -> Vec<Index> {
    v.as_array().unwrap().iter().map(component).collect()
}

#[test]
fn indexing_matches_python() {
    let cases = golden()["index"].as_array().unwrap();
    assert!(cases.len() >= 25);
    let mut r = Report::new();
    for c in cases {
        let x = arange(&i32s(&c["source"]));
        let comps = components(&c["index"]);
        let what = format!("index {}", c["index"]);
        let got = if c["tuple"].as_bool().unwrap() {
            x.index(comps)
        } else {
            x.index(comps.into_iter().next().unwrap())
        };
        check(&mut r, got, &c["result"], &what);
    }
    r.finish();
}

#[test]
fn indexed_updates_match_python() {
    let cases = golden()["index_put"].as_array().unwrap();
    let mut r = Report::new();
    for c in cases {
        let x = arange(&i32s(&c["source"]));
        let comps = components(&c["index"]);
        let v = &c["value"];
        let value: Operand<'static> = match v.get("scalar") {
            Some(s) => s.as_i64().unwrap().into(),
            None => Array::from_slice(&i32s(&v["array"]), &i32s(&v["shape"]))
                .unwrap()
                .into(),
        };
        let what = format!("put {} = {v}", c["index"]);
        let got = if c["tuple"].as_bool().unwrap() {
            x.index_put(comps, value)
        } else {
            x.index_put(comps.into_iter().next().unwrap(), value)
        };
        check(&mut r, got, &c["result"], &what);
        // The source is a value: unchanged by the update.
        let n: i32 = i32s(&c["source"]).iter().product();
        assert_eq!(x.to_vec::<i32>().unwrap(), (0..n).collect::<Vec<_>>());
    }
    r.finish();
}

#[test]
fn display_matches_python_repr() {
    for c in golden()["repr"].as_array().unwrap() {
        let d = dtype(c["dtype"].as_str().unwrap());
        let shape = i32s(&c["shape"]);
        let values = f64s(&c["values"]);
        let mut a = if values.is_empty() {
            Array::zeros(&shape, d).unwrap()
        } else {
            make(&values, &shape, d)
        };
        if c["op"] == "transpose" {
            a = a.transpose().unwrap();
        }
        assert_eq!(a.to_string(), c["repr"].as_str().unwrap());
        assert_eq!(format!("{a:?}"), c["repr"].as_str().unwrap());
    }
    let z = Array::from_slice(
        &[Complex32::new(1.0, 2.0), Complex32::new(-0.0, -0.5)],
        &[2],
    )
    .unwrap();
    assert_eq!(z.to_string(), golden()["repr_complex"].as_str().unwrap());
}

#[test]
fn reading_views_matches_python() {
    let v = &golden()["views"];
    let base = Array::arange(0.0, 24.0, 1.0, Dtype::Float32)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    let cases = [
        ("transpose", base.transpose_axes(&[2, 0, 1])),
        (
            "step_slice",
            base.index((.., Slice::from(..).step(2), Slice::from(1..).step(2))),
        ),
        (
            "reversed",
            base.index((Slice::from(..).step(-1), .., Slice::from(..).step(-3))),
        ),
        (
            "broadcast",
            Array::from_slice(&[1.0f32, 2.0, 3.0], &[3])
                .unwrap()
                .broadcast_to(&[2, 3]),
        ),
        (
            "broadcast_column",
            Array::from_slice(&[1.0f32, 2.0], &[2, 1])
                .unwrap()
                .broadcast_to(&[2, 3]),
        ),
    ];
    for (name, a) in cases {
        let a = a.unwrap();
        let want = &v[name];
        assert_eq!(a.shape(), &i32s(&want["shape"])[..], "{name}");
        // Read the view directly, in its own dtype, through its strides.
        let got: Vec<f64> = a
            .to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        assert_eq!(got, f64s(&want["values"]), "{name}");
    }
}

#[test]
fn constructors_match_python() {
    let c = &golden()["constructors"];
    let ok = |v: &Value| serde_json::json!({ "ok": v });
    let mut r = Report::new();
    check(
        &mut r,
        Array::arange(0.0, 10.0, 3.0, Dtype::Int32),
        &ok(&c["arange_int"]),
        "arange int",
    );
    check(
        &mut r,
        Array::arange(-1.0, 1.0, 0.5, Dtype::Float32),
        &ok(&c["arange_float"]),
        "arange float",
    );
    check(
        &mut r,
        mlx_rs::ops::linspace(0.0, 1.0, 5, true, Dtype::Float32),
        &ok(&c["linspace"]),
        "linspace",
    );
    check(
        &mut r,
        Array::eye(3, Some(4), 1, Dtype::Float32),
        &ok(&c["eye"]),
        "eye",
    );
    check(&mut r, Array::full(&[2, 2], 7i16), &ok(&c["full"]), "full");
    r.finish();
}

/// A known CPU/GPU difference of MLX 0.32.2 (docs/gpu.md): converting `bool`
/// to `complex64` gives `1 + 0i` for `true` on the CPU (as Python MLX does),
/// but `1 + 1i` on the GPU, where the CUDA cast sets both parts from the
/// value. It shows in `bool + complex` arithmetic (the weak-scalar cases of
/// Python's golden file, which this test stands in for on the GPU).
#[test]
fn bool_to_complex_on_each_device() {
    let b = Array::from_slice(&[true, false], &[2]).unwrap();
    let im_of_true = if on_gpu() { 1.0 } else { 0.0 };
    let c = b.astype(Dtype::Complex64).unwrap();
    assert_eq!(host_f64(&c), [1.0, im_of_true, 0.0, 0.0], "astype");
    let s = Complex32::new(1.0, 2.0);
    let sum = ops::add(&b, s).unwrap();
    assert_eq!(sum.dtype(), Dtype::Complex64);
    assert_eq!(
        host_f64(&sum),
        [2.0, 2.0 + im_of_true, 1.0, 2.0],
        "bool + (1+2i)"
    );
    let prod = ops::multiply(&b, s).unwrap();
    // (1 + k·i)(1 + 2i) = (1 − 2k) + (2 + k)i
    assert_eq!(
        host_f64(&prod),
        [1.0 - 2.0 * im_of_true, 2.0 + im_of_true, 0.0, 0.0],
        "bool · (1+2i)"
    );
}
