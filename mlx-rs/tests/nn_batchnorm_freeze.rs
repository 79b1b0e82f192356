//! `BatchNorm` and `freeze` / `unfreeze` / `trainable_parameters` against
//! Python MLX 0.32.2 (`scripts/golden/nn_batchnorm_freeze.py`).
//!
//! BatchNorm: three training steps through `Module::value_and_grad_mut`
//! (loss, gradients of weight and bias, running statistics after the
//! step), the output and the input gradient of each step, then the output
//! in evaluation mode, bit for bit on the CPU. Freezing: the trainable
//! names after each sequence of calls equal Python's, with one deliberate
//! difference: a recursive `unfreeze` from a parent makes Python's
//! BatchNorm running statistics trainable (its `unfreeze` override only
//! runs when called on the layer itself); here buffers never train.

mod common;
mod device;

use std::collections::{BTreeMap, BTreeSet};

use common::compare::assert_golden;
use common::golden::{array, golden_file};
use device::{Family, Report};
use mlx_rs::nn::{BatchNorm, Freeze, Frozen, Linear, Module};
use mlx_rs::ops::{sum, Axes};
use mlx_rs::transforms::grad;
use mlx_rs::{Array, Dtype, Error};
use serde_json::Value;

fn doc() -> &'static Value {
    golden_file!("nn_batchnorm_freeze.json")
}

fn layer(kw: &Value) -> BatchNorm {
    let f = |k: &str, d: f64| kw[k].as_f64().unwrap_or(d);
    let b = |k: &str| kw[k].as_bool().unwrap_or(true);
    BatchNorm::new(
        kw["num_features"].as_i64().unwrap() as i32,
        f("eps", 1e-5) as f32,
        f("momentum", 0.1),
        b("affine"),
        b("track_running_stats"),
    )
    .unwrap()
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn loss_of(bn: &mut BatchNorm, x: &Array, c: &Array) -> mlx_rs::Result<Array> {
    sum(&(&bn.forward(x)? * c)?, Axes::All, false)
}

#[test]
fn batch_norm_matches_python() {
    let mut r = Report::new();
    for (name, case) in doc()["batch_norm"].as_object().unwrap() {
        let mut bn = layer(&case["kwargs"]);
        let init: BTreeMap<String, Array> = case["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), array(v)))
            .collect();
        assert_eq!(
            bn.parameters().keys().collect::<Vec<_>>(),
            init.keys().collect::<Vec<_>>(),
            "{name}: parameter names"
        );
        bn.update(&init).unwrap();
        for (s, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let what = |w: &str| format!("{name} step {s}: {w}");
            let (x, c) = (array(&step["x"]), array(&step["cotangent"]));
            assert_eq!(
                bn.trainable_parameters()
                    .keys()
                    .cloned()
                    .collect::<BTreeSet<_>>(),
                names(&step["trainable"]),
                "{}",
                what("trainable")
            );
            let before = bn.clone();
            // The output and dx, from the state before the step.
            let y = before.clone().forward(&x).unwrap();
            assert_golden(&mut r, &y, &step["y"], Family::Reduction, &what("y"));
            let mut for_dx = before.clone();
            let c2 = c.clone();
            let dx = grad(
                move |a: &[Array]| Ok(vec![loss_of(&mut for_dx, &a[0], &c2)?]),
                &[0],
            )
            .unwrap()
            .call(std::slice::from_ref(&x))
            .unwrap();
            assert_golden(&mut r, &dx[0], &step["dx"], Family::Reduction, &what("dx"));
            // The step: loss and gradients, and the running statistics
            // updated once.
            let c3 = c.clone();
            let (loss, grads) = if bn.trainable_parameters().is_empty() {
                (vec![loss_of(&mut bn, &x, &c).unwrap()], BTreeMap::new())
            } else {
                bn.value_and_grad_mut(
                    move |m: &mut BatchNorm, a: &[Array]| Ok(vec![loss_of(m, &a[0], &c3)?]),
                    std::slice::from_ref(&x),
                )
                .unwrap()
            };
            assert_golden(
                &mut r,
                &loss[0],
                &step["loss"],
                Family::Reduction,
                &what("loss"),
            );
            let want_grads = step["grads"].as_object().unwrap();
            assert_eq!(grads.len(), want_grads.len(), "{}", what("gradient names"));
            for (k, g) in &grads {
                assert_golden(&mut r, g, &want_grads[k], Family::Reduction, &what(k));
            }
            for (k, v) in step["after"].as_object().unwrap() {
                assert_golden(&mut r, &bn.parameters()[k], v, Family::Reduction, &what(k));
            }
        }
        bn.train(false);
        let y = bn.forward(&array(&case["eval_x"])).unwrap();
        assert_golden(
            &mut r,
            &y,
            &case["eval_y"],
            Family::Reduction,
            &format!("{name}: eval"),
        );
    }
    r.finish();
}

#[test]
fn batch_norm_refuses_bad_input() {
    let mut bn = BatchNorm::new(3, 1e-5, 0.1, true, true).unwrap();
    let msg = |e: Error| e.to_string();
    let e = bn
        .forward(&Array::ones(&[3], Dtype::Float32).unwrap())
        .unwrap_err();
    assert!(msg(e).contains("Expected input tensor to have 2, 3 or 4 dimensions, but got 1"));
    let e = bn
        .forward(&Array::ones(&[1, 3], Dtype::Float32).unwrap())
        .unwrap_err();
    assert!(msg(e).contains("requires more than one value per channel"));
    assert!(bn
        .forward(&Array::ones(&[2, 4], Dtype::Float32).unwrap())
        .is_err());
    let e = BatchNorm::new(3, 0.0, 0.1, true, true).unwrap_err();
    assert!(msg(e).contains("[BatchNorm] 'eps' must be positive but got 0."));
    // One value per channel is fine in evaluation mode.
    bn.train(false);
    assert_eq!(
        bn.forward(&Array::ones(&[1, 3], Dtype::Float32).unwrap())
            .unwrap()
            .shape(),
        [1, 3]
    );
}

#[derive(Debug, Clone, Module)]
struct Block {
    proj: Linear,
    norm: BatchNorm,
    scale: Array,
}

#[derive(Debug, Clone, Module)]
struct Net {
    embed: Linear,
    layers: Vec<Block>,
    head: Linear,
    #[module(frozen)]
    frozen: Frozen,
}

fn net() -> Net {
    let block = || Block {
        proj: Linear::new(2, 2, true).unwrap(),
        norm: BatchNorm::new(2, 1e-5, 0.1, true, true).unwrap(),
        scale: Array::ones(&[2], Dtype::Float32).unwrap(),
    };
    Net {
        embed: Linear::new(2, 2, false).unwrap(),
        layers: vec![block(), block()],
        head: Linear::new(2, 1, true).unwrap(),
        frozen: Frozen::default(),
    }
}

#[test]
fn freezing_matches_python() {
    for (name, case) in doc()["freeze"].as_object().unwrap() {
        let mut m = net();
        assert_eq!(
            m.parameters().keys().cloned().collect::<BTreeSet<_>>(),
            names(&case["parameters"]),
            "{name}: parameters"
        );
        for call in case["calls"].as_array().unwrap() {
            let path = call[1].as_str().unwrap();
            let kw = &call[2];
            let keys: Option<Vec<&str>> = kw["keys"]
                .as_array()
                .map(|k| k.iter().map(|s| s.as_str().unwrap()).collect());
            let mut sel = Freeze::at(path);
            if let Some(k) = &keys {
                sel = sel.keys(k);
            }
            if let Some(rec) = kw["recurse"].as_bool() {
                sel = sel.recurse(rec);
            }
            match call[0].as_str().unwrap() {
                "freeze" => m.freeze(&sel).unwrap(),
                _ => m.unfreeze(&sel).unwrap(),
            }
        }
        // Buffers stay untrainable (see the header).
        let want: BTreeSet<String> = names(&case["trainable"])
            .into_iter()
            .filter(|n| !n.contains(".running_"))
            .collect();
        let got: BTreeSet<String> = m.trainable_parameters().keys().cloned().collect();
        assert_eq!(got, want, "{name}");
        let frozen = m.frozen_names();
        assert!(got.iter().all(|n| !frozen.contains(n)), "{name}");
    }
}

#[test]
fn frozen_parameters_get_no_gradient() {
    let mut m = net();
    m.freeze(&Freeze::all()).unwrap();
    m.unfreeze(&Freeze::at("head")).unwrap();
    m.embed.weight = Array::from_slice(&[1.0f32, 2.0, -1.0, 0.5], &[2, 2]).unwrap();
    m.layers[0].proj.weight = Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0], &[2, 2]).unwrap();
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0, -1.0, 0.5, 0.0, 2.0, 2.0], &[4, 2]).unwrap();
    let (_, grads) = m
        .value_and_grad_mut(
            |m: &mut Net, a: &[Array]| {
                let mut h = m.embed.forward(&a[0])?;
                for b in &mut m.layers {
                    h = (&b.norm.forward(&b.proj.forward(&h)?)? * &b.scale)?;
                }
                Ok(vec![sum(&m.head.forward(&h)?, Axes::All, false)?])
            },
            &[x],
        )
        .unwrap();
    assert_eq!(
        grads.keys().collect::<Vec<_>>(),
        ["head.bias", "head.weight"]
    );
    // The running statistics moved (the batch mean of the first norm's
    // input is not zero), the frozen parameters did not.
    let rm = m.layers[0].norm.running_mean.as_ref().unwrap();
    assert!(rm.to_vec::<f32>().unwrap().iter().any(|v| *v != 0.0));
    // Everything frozen: nothing to differentiate.
    m.freeze(&Freeze::all()).unwrap();
    let e = m
        .value_and_grad(
            |m: &Net, a: &[Array]| Ok(vec![sum(&m.head.forward(&a[0])?, Axes::All, false)?]),
            &[Array::ones(&[1, 2], Dtype::Float32).unwrap()],
        )
        .unwrap_err();
    assert!(e.to_string().contains("no (trainable) parameters"), "{e}");
}

#[test]
fn freezing_refuses_bad_selections() {
    let mut m = net();
    let e = m.freeze(&Freeze::at("layers.7")).unwrap_err();
    assert!(e.to_string().contains("no module at \"layers.7\""), "{e}");
    let e = m
        .freeze(&Freeze::at("head").keys(&["nope"]).strict(true))
        .unwrap_err();
    let python = doc()["strict_error"].as_str().unwrap();
    assert!(python.contains("doesn't contain member nope"), "{python}");
    assert!(
        e.to_string()
            .contains("head doesn't contain member \"nope\""),
        "{e}"
    );
    assert!(
        m.trainable_parameters().contains_key("head.weight"),
        "nothing changed"
    );
    // Not strict: an unknown key freezes nothing.
    m.freeze(&Freeze::all().keys(&["nope"])).unwrap();
    assert_eq!(m.frozen.names().count(), 0);
    // A module without a frozen field cannot keep frozen names.
    let mut l = Linear::new(2, 2, true).unwrap();
    let e = l.freeze(&Freeze::all()).unwrap_err();
    assert!(e.to_string().contains("#[module(frozen)]"), "{e}");
}
