//! `nn` activations, activation layers and `nn::init` against Python MLX
//! 0.32.2 (`scripts/golden/nn_activations.py`): every activation's output
//! and the gradient of `sum(f(x) · c)` on one input with negatives, zeros
//! of both signs, the kinks of the piecewise functions and large
//! magnitudes, in float32 (and bfloat16 / float16 for the smooth ones),
//! bit for bit on the CPU; each layer's output (PReLU: its initial weight
//! and its gradients); each initializer's output after the same seed, bit
//! for bit; a chain of activations under `compile` and `vmap`. Then bad
//! input: an `Err` naming what is wrong. (Exporting them: `tests/export.rs`.)

mod common;
mod device;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned, shape};
use device::{Family, Report};
use mlx_rs::nn::init::{self, FanMode};
use mlx_rs::nn::{self, GeluApprox, Module};
use mlx_rs::ops::{sum, Axes};
use mlx_rs::transforms::grad;
use mlx_rs::{Array, Dtype, Error};
use serde_json::Value;

fn doc() -> &'static Value {
    pinned(golden_file!("nn_activations.json"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn i(v: &Value) -> i32 {
    v.as_i64().unwrap_or_else(|| panic!("not an int: {v}")) as i32
}

/// The `nn` function a case names, with its stored arguments.
fn apply(name: &str, a: &[Value], x: &Array) -> mlx_rs::Result<Array> {
    match name {
        "sigmoid" => nn::sigmoid(x),
        "relu" => nn::relu(x),
        "relu2" => nn::relu2(x),
        "relu6" => nn::relu6(x),
        "leaky_relu" => nn::leaky_relu(x, f(&a[0])),
        "log_softmax" => nn::log_softmax(x, i(&a[0])),
        "elu" => nn::elu(x, f(&a[0])),
        "softmax" => nn::softmax(x, i(&a[0])),
        "softplus" => nn::softplus(x),
        "softsign" => nn::softsign(x),
        "softshrink" => nn::softshrink(x, f(&a[0])),
        "celu" => nn::celu(x, f(&a[0])),
        "silu" => nn::silu(x),
        "log_sigmoid" => nn::log_sigmoid(x),
        "gelu" => nn::gelu(x),
        "gelu_approx" => nn::gelu_approx(x),
        "gelu_fast_approx" => nn::gelu_fast_approx(x),
        "glu" => nn::glu(x, i(&a[0])),
        "step" => nn::step(x, f(&a[0])),
        "selu" => nn::selu(x),
        "mish" => nn::mish(x),
        "hardswish" => nn::hardswish(x),
        "hard_tanh" => nn::hard_tanh(x, f(&a[0]), f(&a[1])),
        "hard_shrink" => nn::hard_shrink(x, f(&a[0])),
        "softmin" => nn::softmin(x, i(&a[0])),
        "tanh" => nn::tanh(x),
        other => panic!("no case for {other}"),
    }
}

/// The op family of a function, for the GPU's tolerance.
fn family(name: &str) -> Family {
    match name {
        "softmax" | "softmin" | "log_softmax" => Family::Reduction,
        "relu" | "relu2" | "relu6" | "step" | "hard_tanh" | "hard_shrink" => Family::Elementwise,
        _ => Family::Transcendental,
    }
}

/// `d sum(f(x) · c) / dx`.
fn grad_x<F>(fun: F, x: &Array, c: &Array) -> Array
where
    F: Fn(&Array) -> mlx_rs::Result<Array> + 'static,
{
    let g = grad(
        move |a: &[Array]| Ok(vec![sum(&(fun(&a[0])? * &a[1])?, Axes::All, false)?]),
        &[0],
    )
    .unwrap();
    g.call(&[x.clone(), c.clone()]).unwrap().remove(0)
}

fn input(dtype: &str) -> Array {
    let g = doc();
    if dtype == "float32" {
        array(&g["x"])
    } else {
        array(&g["x_low"][dtype])
    }
}

#[test]
fn functions_match_python() {
    let mut r = Report::new();
    let cases = doc()["functions"].as_array().unwrap();
    let mut names = std::collections::BTreeSet::new();
    for c in cases {
        let name = c["name"].as_str().unwrap().to_owned();
        let dtype = c["dtype"].as_str().unwrap();
        let args: Vec<Value> = c["args"].as_array().unwrap().clone();
        let what = format!("{name}({args:?}) {dtype}");
        let x = input(dtype);
        let y = apply(&name, &args, &x).unwrap();
        assert_golden(&mut r, &y, &c["y"], family(&name), &what);
        let cot = array(&c["cotangent"]);
        let (n, a) = (name.clone(), args.clone());
        let dx = grad_x(move |x| apply(&n, &a, x), &x, &cot);
        assert_golden(
            &mut r,
            &dx,
            &c["dx"],
            family(&name),
            &format!("{what}: grad"),
        );
        names.insert(name);
    }
    // Every function of Python's activations.py but prelu (its own test).
    assert_eq!(names.len(), 26, "{names:?}");
    r.finish();
}

#[test]
fn prelu_matches_python() {
    let mut r = Report::new();
    let x = input("float32");
    for (j, c) in doc()["prelu"].as_array().unwrap().iter().enumerate() {
        let alpha = array(&c["alpha"]);
        let cot = array(&c["cotangent"]);
        let y = nn::prelu(&x, &alpha).unwrap();
        assert_golden(
            &mut r,
            &y,
            &c["y"],
            Family::Elementwise,
            &format!("prelu {j}"),
        );
        let g = grad(
            |a: &[Array]| {
                Ok(vec![sum(
                    &(nn::prelu(&a[0], &a[1])? * &a[2])?,
                    Axes::All,
                    false,
                )?])
            },
            &[0, 1],
        )
        .unwrap()
        .call(&[x.clone(), alpha, cot])
        .unwrap();
        assert_golden(
            &mut r,
            &g[0],
            &c["dx"],
            Family::Elementwise,
            &format!("prelu {j}: dx"),
        );
        assert_golden(
            &mut r,
            &g[1],
            &c["dalpha"],
            Family::Reduction,
            &format!("prelu {j}: dalpha"),
        );
    }
    r.finish();
}

/// A layer's forward pass.
type Forward = Box<dyn Fn(&Array) -> mlx_rs::Result<Array>>;

/// A layer of the stored Python class name, with its stored arguments.
fn layer(name: &str, a: &[Value]) -> Forward {
    macro_rules! plain {
        ($t:ident) => {
            Box::new(|x| nn::$t.forward(x))
        };
    }
    match name {
        "GLU" => {
            let l = nn::Glu::new(i(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        "LeakyReLU" => {
            let l = nn::LeakyRelu::new(f(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        "ELU" => {
            let l = nn::Elu::new(f(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        "Softshrink" => {
            let l = nn::Softshrink::new(f(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        "CELU" => {
            let l = nn::Celu::new(f(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        "Step" => {
            let l = nn::Step::new(f(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        "HardShrink" => {
            let l = nn::HardShrink::new(f(&a[0]));
            Box::new(move |x| l.forward(x))
        }
        n if n.starts_with("GELU") => {
            let l = nn::Gelu::new(a[0].as_str().unwrap().parse().unwrap());
            Box::new(move |x| l.forward(x))
        }
        "Sigmoid" => plain!(Sigmoid),
        "Mish" => plain!(Mish),
        "ReLU" => plain!(Relu),
        "ReLU2" => plain!(Relu2),
        "ReLU6" => plain!(Relu6),
        "Softmax" => plain!(Softmax),
        "Softplus" => plain!(Softplus),
        "Softsign" => plain!(Softsign),
        "SiLU" => plain!(Silu),
        "LogSoftmax" => plain!(LogSoftmax),
        "LogSigmoid" => plain!(LogSigmoid),
        "Tanh" => plain!(Tanh),
        "Hardswish" => plain!(Hardswish),
        "SELU" => plain!(Selu),
        "HardTanh" => plain!(HardTanh),
        "Softmin" => plain!(Softmin),
        other => panic!("no layer {other}"),
    }
}

#[test]
fn layers_match_python() {
    let mut r = Report::new();
    let x = input("float32");
    let layers = doc()["layers"].as_object().unwrap();
    for (name, c) in layers {
        if name.starts_with("PReLU") {
            continue;
        }
        let args = c["args"].as_array().unwrap();
        let y = layer(name, args)(&x).unwrap();
        assert_golden(&mut r, &y, &c["y"], Family::Transcendental, name);
    }
    // The defaults are Python's.
    assert_eq!(nn::LeakyRelu::default().negative_slope, 0.01);
    assert_eq!(nn::Elu::default().alpha, 1.0);
    assert_eq!(nn::Celu::default().alpha, 1.0);
    assert_eq!(nn::Softshrink::default().lambd, 0.5);
    assert_eq!(nn::HardShrink::default().lambd, 0.5);
    assert_eq!(nn::Step::default().threshold, 0.0);
    assert_eq!(nn::Glu::default().axis, -1);
    assert_eq!(nn::Gelu::default().approx, GeluApprox::None);
    assert!(nn::Relu.parameters().is_empty());
    assert!(nn::Elu::default().parameters().is_empty());

    for (name, mut prelu) in [
        ("PReLU", nn::Prelu::new(1, 0.25).unwrap()),
        ("PReLU_16", nn::Prelu::new(16, 0.1).unwrap()),
    ] {
        let c = &layers[name];
        let want = c["params"].as_object().unwrap();
        let got = prelu.parameters();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        assert_golden(
            &mut r,
            &got["weight"],
            &want["weight"],
            Family::Exact,
            &format!("{name}: init"),
        );
        let y = prelu.forward(&x).unwrap();
        assert_golden(&mut r, &y, &c["y"], Family::Elementwise, name);
        let cot = array(&c["cotangent"]);
        let (_, grads) = prelu
            .value_and_grad(
                |m: &nn::Prelu, a: &[Array]| {
                    Ok(vec![sum(&(m.forward(&a[0])? * &a[1])?, Axes::All, false)?])
                },
                &[x.clone(), cot.clone()],
            )
            .unwrap();
        assert_golden(
            &mut r,
            &grads["weight"],
            &c["grads"]["weight"],
            Family::Reduction,
            &format!("{name}: grad weight"),
        );
        let frozen = prelu.clone();
        let dx = grad_x(move |x| frozen.forward(x), &x, &cot);
        assert_golden(
            &mut r,
            &dx,
            &c["dx"],
            Family::Elementwise,
            &format!("{name}: dx"),
        );
    }
    r.finish();
}

#[test]
fn initializers_match_python() {
    let mut r = Report::new();
    for c in doc()["init"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let a = &c["args"];
        let call = &c["call"];
        let sh = shape(&c["shape"]);
        let dtype = a["dtype"]
            .as_str()
            .map_or(Dtype::Float32, common::golden::dtype);
        let num = |v: &Value, d: f64| v.as_f64().unwrap_or(d);
        let gain = num(&call["gain"], 1.0);
        let mode: FanMode = call["mode"].as_str().unwrap_or("fan_in").parse().unwrap();
        mlx_rs::random::seed(c["seed"].as_u64().unwrap()).unwrap();
        let y = match name {
            "constant" => init::constant(&sh, f(&a["value"]), dtype),
            "normal" => init::normal(&sh, num(&a["mean"], 0.0), num(&a["std"], 1.0), dtype),
            "uniform" => init::uniform(&sh, num(&a["low"], 0.0), num(&a["high"], 1.0), dtype),
            "identity" => init::identity(&sh, dtype),
            "glorot_normal" => init::glorot_normal(&sh, gain, dtype),
            "glorot_uniform" => init::glorot_uniform(&sh, gain, dtype),
            "he_normal" => init::he_normal(&sh, mode, gain, dtype),
            "he_uniform" => init::he_uniform(&sh, mode, gain, dtype),
            "sparse" => init::sparse(
                &sh,
                f(&a["sparsity"]),
                num(&a["mean"], 0.0),
                num(&a["std"], 1.0),
                dtype,
            ),
            "orthogonal" => init::orthogonal(&sh, num(&a["gain"], 1.0), dtype),
            other => panic!("no initializer {other}"),
        }
        .unwrap();
        let fam = match name {
            "constant" | "identity" => Family::Exact,
            "orthogonal" => device::lapack_family(Family::Reduction),
            _ => Family::RandomFloat,
        };
        assert_golden(&mut r, &y, &c["y"], fam, &format!("{name} {a} {call}"));
    }
    r.finish();
}

/// Why the activations are compiled: on the CPU, MLX's compiler writes
/// `gelu`'s `1/√2` with 7 digits, so Python's (compiled) `nn.gelu` differs
/// from the same ops run one by one; `nn::gelu` gives Python's bits.
#[test]
fn gelu_needs_the_compiled_graph() {
    if device::on_gpu() {
        return;
    }
    let x = input("float32");
    let c = doc()["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gelu" && c["dtype"] == "float32")
        .unwrap();
    let want = common::golden::bits(&c["y"]);
    let bits = |a: &Array| -> Vec<u64> {
        a.to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| u64::from(v.to_bits()))
            .collect()
    };
    let eager = ((&x
        * (mlx_rs::ops::erf(&(&x / std::f64::consts::SQRT_2).unwrap()).unwrap() + 1.0).unwrap())
    .unwrap()
        / 2.0)
        .unwrap();
    assert_eq!(bits(&nn::gelu(&x).unwrap()), want);
    let differ = bits(&eager)
        .iter()
        .zip(&want)
        .filter(|(a, b)| a != b)
        .count();
    assert!(differ > 0, "the eager ops gave Python's compiled bits");
}

fn invalid(e: Error) -> (&'static str, String) {
    match e {
        Error::InvalidArgument { op, reason } => (op, reason),
        other => panic!("not InvalidArgument: {other:?}"),
    }
}

#[test]
fn bad_input_is_an_error() {
    let x = Array::from_slice(&[1.0f32; 6], &[2, 3]).unwrap();
    let (op, reason) = invalid(nn::glu(&x, 1).unwrap_err());
    assert_eq!(op, "glu");
    assert!(
        reason.contains("axis 1") && reason.contains("odd size 3"),
        "{reason}"
    );
    let (op, reason) = invalid(nn::glu(&x, -1).unwrap_err());
    assert_eq!(op, "glu");
    assert!(reason.contains("axis -1"), "{reason}");
    let (op, reason) = invalid(nn::glu(&x, 2).unwrap_err());
    assert_eq!(op, "glu");
    assert!(reason.contains("out of range"), "{reason}");
    assert!(nn::glu(&x, 0).is_ok());
    let (op, _) = invalid(nn::Glu::new(-1).forward(&x).unwrap_err());
    assert_eq!(op, "glu");

    // MLX's own refusals from inside a compiled activation are errors.
    assert!(matches!(nn::softmax(&x, 2).unwrap_err(), Error::Mlx { .. }));
    assert!(matches!(
        nn::log_softmax(&x, -3).unwrap_err(),
        Error::Mlx { .. }
    ));
    let alpha = Array::from_slice(&[0.1f32, 0.2], &[2]).unwrap();
    assert!(nn::prelu(&x, &alpha).is_err());
    assert!(nn::Prelu::new(2, 0.25).unwrap().forward(&x).is_err());

    let (op, reason) = invalid(init::identity(&[2, 3], Dtype::Float32).unwrap_err());
    assert_eq!(op, "nn::init::identity");
    assert!(
        reason.contains("square matrix") && reason.contains("[2, 3]"),
        "{reason}"
    );
    let (_, reason) = invalid(init::identity(&[3], Dtype::Float32).unwrap_err());
    assert!(reason.contains("[3]"), "{reason}");
    for e in [
        init::glorot_normal(&[4], 1.0, Dtype::Float32).unwrap_err(),
        init::glorot_uniform(&[], 1.0, Dtype::Float32).unwrap_err(),
        init::he_normal(&[4], FanMode::FanIn, 1.0, Dtype::Float32).unwrap_err(),
        init::he_uniform(&[4], FanMode::FanOut, 1.0, Dtype::Float32).unwrap_err(),
    ] {
        let (_, reason) = invalid(e);
        assert!(reason.contains("at least 2 dimensional"), "{reason}");
    }
    let (_, reason) = invalid("fan_avg".parse::<FanMode>().unwrap_err());
    assert!(reason.contains("Invalid mode: fan_avg"), "{reason}");
    let (op, reason) = invalid("erf".parse::<GeluApprox>().unwrap_err());
    assert_eq!(op, "GELU");
    assert!(reason.contains("'erf' was given"), "{reason}");
    let (op, _) = invalid(nn::Prelu::new(-1, 0.25).unwrap_err());
    assert_eq!(op, "PReLU");
    let (op, reason) = invalid(init::constant(&[2], 1.0, Dtype::Int32).unwrap_err());
    assert_eq!(op, "nn::init::constant");
    assert!(reason.contains("int32"), "{reason}");
    assert!(init::normal(&[2], 0.0, 1.0, Dtype::Int32).is_err());
    let (op, reason) =
        invalid(init::sparse(&[2, 2, 2], 0.5, 0.0, 1.0, Dtype::Float32).unwrap_err());
    assert_eq!(op, "nn::init::sparse");
    assert!(reason.contains("2 dimensions"), "{reason}");
    let (_, reason) = invalid(init::sparse(&[2, 2], -0.5, 0.0, 1.0, Dtype::Float32).unwrap_err());
    assert!(reason.contains("-0.5"), "{reason}");
    let (op, reason) = invalid(init::orthogonal(&[4], 1.0, Dtype::Float32).unwrap_err());
    assert_eq!(op, "nn::init::orthogonal");
    assert!(reason.contains("got a 1D array"), "{reason}");
    assert_eq!(init::fan_in_fan_out(&[6, 3, 3, 4]).unwrap(), (36, 54));
}

/// Each thread compiles its own activations (MLX's compile cache is per
/// thread): the same input gives the same bits on several threads at once.
#[test]
fn threads_compile_their_own() {
    let x = input("float32");
    let want: Vec<u32> = nn::gelu(&x)
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let data: Vec<f32> = x.to_vec::<f32>().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let data = data.clone();
            std::thread::spawn(move || {
                let x = Array::from_slice(&data, &[4, 16]).unwrap();
                let mut out = Vec::new();
                for _ in 0..3 {
                    let y = nn::gelu(&nn::selu(&x).unwrap()).unwrap();
                    out = nn::gelu(&x).unwrap().to_vec::<f32>().unwrap();
                    y.eval().unwrap();
                }
                out.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), want);
    }
}

/// The compiled activations compose with the transforms: a chain of them
/// called directly, inside a user's `compile` and under `vmap` gives
/// Python's bits for each (the goldens check `grad` above).
#[test]
fn activations_compose_with_compile_and_vmap() {
    use mlx_rs::transforms::{compile, vmap};
    let mut r = Report::new();
    let want = &doc()["compose"];
    let x = input("float32");
    let chain = |x: &Array| -> mlx_rs::Result<Array> {
        nn::log_softmax(&nn::mish(&nn::celu(&nn::gelu(x)?, 0.7)?)?, -1)
    };
    let direct = chain(&x).unwrap();
    assert_golden(
        &mut r,
        &direct,
        &want["direct"],
        Family::Reduction,
        "direct",
    );
    let compiled = compile(move |a: &[Array]| Ok(vec![chain(&a[0])?]), false).unwrap();
    let y = compiled.call(std::slice::from_ref(&x)).unwrap().remove(0);
    assert_golden(&mut r, &y, &want["compiled"], Family::Reduction, "compiled");
    let mapped = vmap(move |a: &[Array]| Ok(vec![chain(&a[0])?]), &[Some(0)], &[]).unwrap();
    let y = mapped.call(std::slice::from_ref(&x)).unwrap().remove(0);
    assert_golden(&mut r, &y, &want["vmap"], Family::Reduction, "vmap");
    r.finish();
}
