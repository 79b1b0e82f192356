//! Transforms against Python MLX: every expected value was produced by
//! Python MLX 0.32.2 (`scripts/golden/transforms.py`, fixed seeds, the CPU)
//! and stored in `tests/golden/transforms_cases.json` with its inputs.
//! Cases are ported from MLX's `test_autograd.py`, `test_vmap.py` and
//! `test_compile.py`, plus the gradients of the fused and quantized ops (quantized_matmul,
//! gather_qmm, sdpa, rope, rms_norm, layer_norm).
//!
//! On the CPU results must match bit for bit (the same kernels, the same
//! graph; the wheel's reference BLAS, the default build); on the GPU
//! within 2e-3 of each result's largest magnitude.

mod device;

use mlx_rs::fast::{self, RopeBase, SdpaOptions};
use mlx_rs::ops::{self, Axes};
use mlx_rs::quantization::{gather_qmm, quantize, quantized_matmul, GatherIndices, QuantMode};
use mlx_rs::transforms::{checkpoint, compile, custom_vjp, grad, jvp, value_and_grad, vjp, vmap};
use mlx_rs::{Array, Result};
use serde_json::Value;

fn cases() -> &'static Value {
    static G: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    G.get_or_init(|| {
        let v: Value = serde_json::from_str(include_str!("golden/transforms_cases.json"))
            .expect("transforms_cases.json parses");
        assert_eq!(v["mlx_version"], "0.32.2");
        v
    })
}

fn case(name: &str) -> &'static Value {
    &cases()["cases"][name]
}

fn shape(v: &Value) -> Vec<i32> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap() as i32)
        .collect()
}

fn values(v: &Value) -> Vec<f32> {
    v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// The golden array `key` of case `c`.
fn input(c: &Value, key: &str) -> Array {
    Array::from_slice(&values(&c[key]), &shape(&c[key])).unwrap()
}

/// Asserts `got` equals golden `c[key]`: same shape, values within a
/// tolerance relative to the largest magnitude (none on the CPU with the
/// reference BLAS).
fn expect(got: &Array, c: &Value, key: &str) {
    let want = values(&c[key]);
    assert_eq!(got.shape(), shape(&c[key]).as_slice(), "{key}: shape");
    let got = got
        .astype(mlx_rs::Dtype::Float32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let scale = want.iter().fold(1e-6f32, |m, w| m.max(w.abs()));
    let tol = if device::on_gpu() {
        2e-3 * scale
    } else if mlx_sys::BLAS != "reference" {
        // Another BLAS sums the matmuls (MLP, sdpa) in another order.
        1e-5 * scale
    } else {
        0.0
    };
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{key}[{i}]: got {g}, Python MLX {w} (tol {tol})"
        );
    }
}

fn sum(a: &Array) -> Result<Array> {
    ops::sum(a, Axes::All, false)
}

fn s(v: f32) -> Array {
    Array::scalar(v).unwrap()
}

#[test]
fn value_and_grad_of_two_arguments() {
    let c = case("vg_two_args");
    let vg = value_and_grad(
        |a: &[Array]| {
            Ok(vec![sum(&ops::multiply(
                &ops::multiply(&a[0], &a[0])?,
                &a[1],
            )?)?])
        },
        &[0, 1],
    )
    .unwrap();
    let (v, g) = vg.call(&[input(c, "x"), input(c, "y")]).unwrap();
    expect(&v[0], c, "value");
    expect(&g[0], c, "gx");
    expect(&g[1], c, "gy");
}

#[test]
fn second_order_gradient() {
    let c = case("second_order");
    let inner = grad(
        |a: &[Array]| {
            Ok(vec![sum(&ops::add(
                &ops::power(&a[0], s(3.0))?,
                &ops::sin(&a[0])?,
            )?)?])
        },
        &[0],
    )
    .unwrap();
    let outer = grad(move |a: &[Array]| Ok(vec![sum(&inner.call(a)?[0])?]), &[0]).unwrap();
    expect(&outer.call(&[input(c, "x")]).unwrap()[0], c, "g");
}

#[test]
fn auxiliary_outputs_come_back_with_the_loss() {
    let c = case("aux");
    let vg = value_and_grad(
        |a: &[Array]| {
            Ok(vec![
                sum(&ops::multiply(&ops::exp(&a[0])?, s(0.5))?)?,
                ops::tanh(&a[0])?,
            ])
        },
        &[0],
    )
    .unwrap();
    let (v, g) = vg.call(&[input(c, "x")]).unwrap();
    expect(&v[0], c, "loss");
    expect(&v[1], c, "aux");
    expect(&g[0], c, "gx");
}

fn two_outputs(a: &[Array]) -> Result<Vec<Array>> {
    let (x, y) = (&a[0], &a[1]);
    Ok(vec![
        ops::add(&ops::multiply(x, y)?, &ops::sin(x)?)?,
        ops::multiply(&ops::exp(y)?, x)?,
    ])
}

#[test]
fn vjp_and_jvp_of_two_outputs() {
    let c = case("vjp_jvp");
    let primals = [input(c, "x"), input(c, "y")];
    let (out, vjps) = vjp(two_outputs, &primals, &[input(c, "c1"), input(c, "c2")]).unwrap();
    expect(&out[0], c, "out0");
    expect(&out[1], c, "out1");
    expect(&vjps[0], c, "vjp0");
    expect(&vjps[1], c, "vjp1");
    let (_, jvps) = jvp(two_outputs, &primals, &[input(c, "t1"), input(c, "t2")]).unwrap();
    expect(&jvps[0], c, "jvp0");
    expect(&jvps[1], c, "jvp1");
}

#[test]
fn vmap_cases() {
    let c = case("vmap");
    let mm = vmap(
        |a: &[Array]| Ok(vec![ops::matmul(&a[0], &a[1])?]),
        &[Some(0), None],
        &[1],
    )
    .unwrap();
    expect(
        &mm.call(&[input(c, "a"), input(c, "b")]).unwrap()[0],
        c,
        "matmul",
    );
    let lse = vmap(
        |a: &[Array]| Ok(vec![ops::logsumexp(&a[0], 0, false)?]),
        &[Some(1)],
        &[],
    )
    .unwrap();
    expect(&lse.call(&[input(c, "c")]).unwrap()[0], c, "logsumexp");
    // Per-example gradients: vmap over grad.
    let g = grad(
        |a: &[Array]| Ok(vec![ops::square(&sum(&ops::multiply(&a[0], &a[1])?)?)?]),
        &[0],
    )
    .unwrap();
    let pe = vmap(move |a: &[Array]| g.call(a), &[None, Some(0)], &[]).unwrap();
    let rows = input(c, "a").index((.., 0, ..)).unwrap();
    expect(
        &pe.call(&[input(c, "w"), rows]).unwrap()[0],
        c,
        "per_example",
    );
}

fn gelu(a: &[Array]) -> Result<Vec<Array>> {
    let x = &a[0];
    let e = ops::erf(&ops::divide(x, s(std::f32::consts::SQRT_2))?)?;
    Ok(vec![ops::divide(
        &ops::multiply(x, &ops::add(s(1.0), &e)?)?,
        s(2.0),
    )?])
}

#[test]
fn compiled_function_and_its_gradient() {
    let c = case("compile_gelu");
    let f = compile(gelu, false).unwrap();
    expect(&f.call(&[input(c, "x")]).unwrap()[0], c, "y");
    let g = grad(move |a: &[Array]| Ok(vec![sum(&f.call(a)?[0])?]), &[0]).unwrap();
    expect(&g.call(&[input(c, "x")]).unwrap()[0], c, "g");
}

#[test]
fn custom_vjp_and_checkpoint() {
    let c = case("custom_vjp");
    let f = custom_vjp(
        |a: &[Array]| Ok(vec![ops::sin(&a[0])?]),
        |p: &[Array], ct: &[Array], _o: &[Array]| {
            Ok(vec![ops::multiply(
                &ops::multiply(&ct[0], s(3.0))?,
                &ops::cos(&p[0])?,
            )?])
        },
    )
    .unwrap();
    let g = grad(move |a: &[Array]| Ok(vec![sum(&f.call(a)?[0])?]), &[0]).unwrap();
    expect(&g.call(&[input(c, "x")]).unwrap()[0], c, "g");

    let c = case("checkpoint");
    let ck = checkpoint(|a: &[Array]| Ok(vec![sum(&ops::exp(&ops::sin(&a[0])?)?)?])).unwrap();
    let g = grad(move |a: &[Array]| ck.call(a), &[0]).unwrap();
    expect(&g.call(&[input(c, "x")]).unwrap()[0], c, "g");
}

#[test]
fn gradient_of_sdpa() {
    let c = case("sdpa");
    let scale = c["scale"].as_f64().unwrap() as f32;
    let f = move |a: &[Array]| {
        Ok(vec![fast::scaled_dot_product_attention(
            &a[0],
            &a[1],
            &a[2],
            scale,
            SdpaOptions::default(),
        )?])
    };
    let (_, g) = vjp(
        f,
        &[input(c, "q"), input(c, "k"), input(c, "v")],
        &[input(c, "ct")],
    )
    .unwrap();
    expect(&g[0], c, "gq");
    expect(&g[1], c, "gk");
    expect(&g[2], c, "gv");
}

#[test]
fn gradients_of_norms_and_rope() {
    let c = case("rms_norm");
    let (_, g) = vjp(
        |a: &[Array]| Ok(vec![fast::rms_norm(&a[0], Some(&a[1]), 1e-5)?]),
        &[input(c, "x"), input(c, "w")],
        &[input(c, "ct")],
    )
    .unwrap();
    expect(&g[0], c, "gx");
    expect(&g[1], c, "gw");

    let c = case("layer_norm");
    let (_, g) = vjp(
        |a: &[Array]| {
            Ok(vec![fast::layer_norm(
                &a[0],
                Some(&a[1]),
                Some(&a[2]),
                1e-5,
            )?])
        },
        &[input(c, "x"), input(c, "w"), input(c, "b")],
        &[input(c, "ct")],
    )
    .unwrap();
    expect(&g[0], c, "gx");
    expect(&g[1], c, "gw");
    expect(&g[2], c, "gb");

    let c = case("rope");
    let (_, g) = vjp(
        |a: &[Array]| {
            Ok(vec![fast::rope(
                &a[0],
                16,
                false,
                RopeBase::Base(10000.0),
                1.0,
                3,
            )?])
        },
        &[input(c, "x")],
        &[input(c, "ct")],
    )
    .unwrap();
    expect(&g[0], c, "gx");
}

#[test]
fn gradient_of_quantized_matmul() {
    let c = case("quantized_matmul");
    let q = quantize(&input(c, "w"), QuantMode::affine(4, 64).unwrap()).unwrap();
    let (_, g) = vjp(
        move |a: &[Array]| Ok(vec![quantized_matmul(&a[0], &q, true)?]),
        &[input(c, "x")],
        &[input(c, "ct")],
    )
    .unwrap();
    expect(&g[0], c, "gx");
}

#[test]
fn gradient_of_gather_qmm() {
    let c = case("gather_qmm");
    let q = quantize(&input(c, "w"), QuantMode::affine(4, 64).unwrap()).unwrap();
    let rhs = input(c, "rhs").astype(mlx_rs::Dtype::Uint32).unwrap();
    let (_, g) = vjp(
        move |a: &[Array]| {
            let indices = GatherIndices {
                lhs: None,
                rhs: Some(&rhs),
                sorted: false,
            };
            Ok(vec![gather_qmm(&a[0], &q, indices, true)?])
        },
        &[input(c, "x")],
        &[input(c, "ct")],
    )
    .unwrap();
    expect(&g[0], c, "gx");
}

#[derive(Debug, mlx_rs::nn::Module)]
struct Two {
    l1: mlx_rs::nn::Linear,
    l2: mlx_rs::nn::Linear,
}

fn mse(m: &Two, a: &[Array]) -> Result<Vec<Array>> {
    let h = mlx_rs::nn::silu(&m.l1.forward(&a[0])?)?;
    let d = ops::subtract(&m.l2.forward(&h)?, &a[1])?;
    Ok(vec![ops::mean(&ops::square(&d)?, Axes::All, false)?])
}

#[test]
fn module_value_and_grad_over_the_parameter_tree() {
    use mlx_rs::nn::{Linear, Module};
    let c = case("nn_value_and_grad");
    let mut m = Two {
        l1: Linear::new(3, 4, true).unwrap(),
        l2: Linear::new(4, 2, true).unwrap(),
    };
    let params: std::collections::BTreeMap<String, Array> = c["params"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.clone(), input(&c["params"], k)))
        .collect();
    m.update(&params).unwrap();
    let (loss, grads) = m
        .value_and_grad(mse, &[input(c, "x"), input(c, "t")])
        .unwrap();
    expect(&loss[0], c, "loss");
    let names: Vec<&String> = grads.keys().collect();
    assert_eq!(names, ["l1.bias", "l1.weight", "l2.bias", "l2.weight"]);
    for (name, g) in &grads {
        expect(g, &c["grads"], name);
    }
    // The real parameters are back in place.
    assert_eq!(
        m.l1.weight.to_vec::<f32>().unwrap(),
        params["l1.weight"].to_vec::<f32>().unwrap()
    );
    // One SGD step through `update` lowers the loss.
    let stepped: std::collections::BTreeMap<String, Array> = m
        .parameters()
        .into_iter()
        .map(|(k, p)| {
            let g = ops::multiply(&grads[&k], Array::scalar(0.1f32).unwrap()).unwrap();
            (k, ops::subtract(&p, &g).unwrap())
        })
        .collect();
    m.update(&stepped).unwrap();
    let after = mse(&m, &[input(c, "x"), input(c, "t")]).unwrap()[0]
        .item::<f32>()
        .unwrap();
    assert!(after < loss[0].item::<f32>().unwrap());
}

#[test]
fn module_update_refuses_unknown_names_and_shapes_and_changes_nothing() {
    use mlx_rs::nn::{Linear, Module};
    let mut l = Linear::new(2, 1, true).unwrap();
    let bad = std::collections::BTreeMap::from([
        (
            "bias".to_owned(),
            Array::ones(&[1], mlx_rs::Dtype::Float32).unwrap(),
        ),
        (
            "weight".to_owned(),
            Array::ones(&[2, 1], mlx_rs::Dtype::Float32).unwrap(),
        ),
        (
            "wieght".to_owned(),
            Array::ones(&[1, 2], mlx_rs::Dtype::Float32).unwrap(),
        ),
    ]);
    let e = l.update(&bad).unwrap_err().to_string();
    assert!(e.contains("\"wieght\" is not a parameter"), "{e}");
    assert!(e.contains("\"weight\" is"), "{e}");
    assert_eq!(
        l.bias.as_ref().unwrap().to_vec::<f32>().unwrap(),
        [0.0],
        "nothing applied"
    );
    // A loss function that fails leaves the parameters in place too.
    let e = l
        .value_and_grad(
            |_: &Linear, _: &[Array]| Err(mlx_rs::Error::NotEvaluated),
            &[],
        )
        .unwrap_err();
    assert_eq!(e, mlx_rs::Error::NotEvaluated);
    assert_eq!(l.weight.to_vec::<f32>().unwrap(), [0.0, 0.0]);
}
