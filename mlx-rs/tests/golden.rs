//! mlx-rs against Python MLX: every expected value here was produced by
//! Python MLX 0.32.2 (`scripts/golden/core.py`, fixed seeds) and stored
//! in `tests/golden/core.json`.

use mlx_rs::index::{Ellipsis, Index, NewAxis, Slice};
use mlx_rs::ops::{self, Operand};
use mlx_rs::{Array, Complex32, Dtype, Error};
use serde_json::Value;

fn golden() -> &'static Value {
    static G: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    G.get_or_init(|| {
        let text = include_str!("golden/core.json");
        serde_json::from_str(text).expect("core.json parses")
    })
}

fn dtype(name: &str) -> Dtype {
    *Dtype::ALL
        .iter()
        .find(|d| d.name() == name)
        .unwrap_or_else(|| panic!("unknown dtype {name}"))
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
/// (`float64` then `astype`).
fn make(values: &[f64], shape: &[i32], d: Dtype) -> Array {
    Array::from_slice(values, shape).unwrap().astype(d).unwrap()
}

/// A float as the generator stores it (non-finite values as strings).
fn num(v: f64) -> Value {
    if v.is_nan() {
        Value::from("nan")
    } else if v.is_infinite() {
        Value::from(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        Value::from(v)
    }
}

/// Values as the generator stores them: floats, or [re, im] pairs.
fn flat(a: &Array) -> Value {
    if a.dtype() == Dtype::Complex64 {
        let v = a.to_vec::<Complex32>().unwrap();
        Value::from(
            v.iter()
                .map(|c| Value::from(vec![num(f64::from(c.re)), num(f64::from(c.im))]))
                .collect::<Vec<_>>(),
        )
    } else {
        let v = a.astype(Dtype::Float64).unwrap().to_vec::<f64>().unwrap();
        Value::from(v.into_iter().map(num).collect::<Vec<_>>())
    }
}

fn same_values(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(a, b)| same_values(a, b))
        }
        (g, w) => {
            let num = |v: &Value| match v.as_str() {
                Some("inf") => f64::INFINITY,
                Some("-inf") => f64::NEG_INFINITY,
                Some("nan") => f64::NAN,
                _ => v.as_f64().unwrap_or(f64::NAN),
            };
            let (g, w) = (num(g), num(w));
            g == w || (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-6 * w.abs().max(1.0)
        }
    }
}

/// Compares an mlx-rs result with a golden `{"ok": ...}` / `{"err": ...}`.
fn check(got: mlx_rs::Result<Array>, want: &Value, what: &str) {
    match (got, want.get("ok")) {
        (Ok(a), Some(ok)) => {
            assert_eq!(
                a.dtype(),
                dtype(ok["dtype"].as_str().unwrap()),
                "{what}: dtype"
            );
            assert_eq!(a.shape(), &i32s(&ok["shape"])[..], "{what}: shape");
            let got = flat(&a);
            assert!(
                same_values(&got, &ok["values"]),
                "{what}: values {got} != {}",
                ok["values"]
            );
        }
        (Err(e), None) => {
            let msg = want["err"].as_str().unwrap();
            match &e {
                Error::ScalarOverflow { .. } => {
                    assert!(msg.contains("overflow"), "{what}: {e} vs {msg}")
                }
                Error::Mlx { message, .. } => assert_eq!(message, msg, "{what}"),
                other => panic!("{what}: unexpected error {other:?} (python: {msg})"),
            }
        }
        (Ok(a), None) => panic!("{what}: expected error {}, got {a}", want["err"]),
        (Err(e), Some(_)) => panic!("{what}: unexpected error {e}"),
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
    for c in cases {
        let (a, b) = (
            dtype(c["a"].as_str().unwrap()),
            dtype(c["b"].as_str().unwrap()),
        );
        let x = Array::ones(&[1], a).unwrap();
        let y = Array::ones(&[1], b).unwrap();
        let sum = (&x + &y).unwrap();
        assert_eq!(sum.dtype().name(), c["add"], "{a} + {b}");
        let quot = (&x / &y).unwrap();
        assert_eq!(quot.dtype().name(), c["divide"], "{a} / {b}");
    }
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
        check(
            f((&x).into(), scalar_operand(&c["scalar"])),
            &c["scalar_right"],
            &what,
        );
        check(
            f(scalar_operand(&c["scalar"]), (&x).into()),
            &c["scalar_left"],
            &what,
        );
    }
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
    for c in cases {
        let d = dtype(c["dtype"].as_str().unwrap());
        let a = make(&f64s(&c["a"]["values"]), &i32s(&c["a"]["shape"]), d);
        let b = make(&f64s(&c["b"]["values"]), &i32s(&c["b"]["shape"]), d);
        let what = |op: &str| format!("{d} {op} {:?} {:?}", a.shape(), b.shape());
        let r = &c["results"];
        // Operators and named functions must agree with Python.
        check(&a + &b, &r["add"], &what("+"));
        check(&a - &b, &r["subtract"], &what("-"));
        check(&a * &b, &r["multiply"], &what("*"));
        check(&a / &b, &r["divide"], &what("/"));
        check(&a % &b, &r["remainder"], &what("%"));
        check(a.clone() + b.clone(), &r["add"], &what("owned +"));
        check(ops::floor_divide(&a, &b), &r["floor_divide"], &what("//"));
        check(a.equal(&b), &r["equal"], &what("=="));
        check(a.not_equal(&b), &r["not_equal"], &what("!="));
        check(a.less(&b), &r["less"], &what("<"));
        check(a.less_equal(&b), &r["less_equal"], &what("<="));
        check(a.greater(&b), &r["greater"], &what(">"));
        check(a.greater_equal(&b), &r["greater_equal"], &what(">="));
        check(a.logical_and(&b), &r["logical_and"], &what("and"));
        check(a.logical_or(&b), &r["logical_or"], &what("or"));
        check(-&a, &c["negative"], &what("neg"));
    }
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

fn source(shape: &[i32]) -> Array {
    let n: i32 = shape.iter().product();
    Array::arange(0.0, f64::from(n), 1.0, Dtype::Int32)
        .unwrap()
        .reshape(shape)
        .unwrap()
}

#[test]
fn indexing_matches_python() {
    let cases = golden()["index"].as_array().unwrap();
    assert!(cases.len() >= 25);
    for c in cases {
        let x = source(&i32s(&c["source"]));
        let comps: Vec<Index> = c["index"]
            .as_array()
            .unwrap()
            .iter()
            .map(component)
            .collect();
        let what = format!("index {}", c["index"]);
        let got = if c["tuple"].as_bool().unwrap() {
            x.index(comps)
        } else {
            x.index(comps.into_iter().next().unwrap())
        };
        check(got, &c["result"], &what);
    }
}

#[test]
fn indexed_updates_match_python() {
    let cases = golden()["index_put"].as_array().unwrap();
    for c in cases {
        let x = source(&i32s(&c["source"]));
        let comps: Vec<Index> = c["index"]
            .as_array()
            .unwrap()
            .iter()
            .map(component)
            .collect();
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
        check(got, &c["result"], &what);
        // The source is a value: unchanged by the update.
        let n: i32 = i32s(&c["source"]).iter().product();
        assert_eq!(x.to_vec::<i32>().unwrap(), (0..n).collect::<Vec<_>>());
    }
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
    check(
        Array::arange(0.0, 10.0, 3.0, Dtype::Int32),
        &ok(&c["arange_int"]),
        "arange int",
    );
    check(
        Array::arange(-1.0, 1.0, 0.5, Dtype::Float32),
        &ok(&c["arange_float"]),
        "arange float",
    );
    check(
        Array::linspace(0.0, 1.0, 5, Dtype::Float32),
        &ok(&c["linspace"]),
        "linspace",
    );
    check(
        Array::eye(3, Some(4), 1, Dtype::Float32),
        &ok(&c["eye"]),
        "eye",
    );
    check(Array::full(&[2, 2], 7i16), &ok(&c["full"]), "full");
}
