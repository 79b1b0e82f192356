//! Trainable `nn` layers against Python MLX 0.32.2
//! (`scripts/golden/nn_layers_train.py`): Conv1d/2d/3d and Max/AvgPool
//! 1–3d. For each case: the parameters the constructor draws after
//! `random::seed` (bit for bit Python's initialisation), the forward pass,
//! and the gradients of `sum(layer(x) · c)` with respect to every parameter
//! and to the input, bit for bit on the CPU. Then bad input: wrong shapes
//! and bad settings give an `Err` naming the layer.

mod common;
mod device;

use std::collections::HashMap;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned};
use device::{Family, Report};
use mlx_rs::nn::{
    AvgPool1d, AvgPool2d, AvgPool3d, Conv1d, Conv2d, Conv3d, Linear, MaxPool1d, MaxPool2d,
    MaxPool3d, Module,
};
use mlx_rs::ops::{sum, Axes, Conv};
use mlx_rs::{Array, Dtype, Error};
use serde_json::Value;

/// `[v; N]` from an int or a list of N ints (Python's `_value_or_list`).
fn arr<const N: usize>(v: &Value) -> [i32; N] {
    match v {
        Value::Array(items) => {
            let vals: Vec<i32> = items.iter().map(|x| x.as_i64().unwrap() as i32).collect();
            vals.try_into().unwrap()
        }
        x => [x.as_i64().unwrap() as i32; N],
    }
}

fn int(v: &Value, default: i32) -> i32 {
    v.as_i64().map_or(default, |x| x as i32)
}

fn conv<const N: usize>(a: &Value) -> Conv<N> {
    let or = |k: &str, d: i32| {
        if a[k].is_null() {
            [d; N]
        } else {
            arr::<N>(&a[k])
        }
    };
    Conv {
        stride: or("stride", 1),
        padding: or("padding", 0),
        dilation: or("dilation", 1),
        groups: int(&a["groups"], 1),
    }
}

/// Checks one case: the seeded parameters, the output and the gradients.
fn check<M, F>(r: &mut Report, name: &str, c: &Value, mut layer: M, forward: F)
where
    M: Module + Clone,
    F: Fn(&M, &Array) -> mlx_rs::Result<Array> + Copy + 'static,
{
    let want_params = c["params"].as_object().unwrap();
    let got_params = layer.parameters();
    assert_eq!(
        got_params.keys().collect::<Vec<_>>(),
        want_params.keys().collect::<Vec<_>>(),
        "{name}: parameter names"
    );
    for (k, w) in want_params {
        assert_golden(
            r,
            &got_params[k],
            w,
            Family::Exact,
            &format!("{name}: init {k}"),
        );
    }
    // Python's own values from here on, whatever the init gave.
    let weights: HashMap<String, Array> = want_params
        .iter()
        .map(|(k, v)| (k.clone(), array(v)))
        .collect();
    layer.load_weights(weights).unwrap();
    let x = array(&c["x"]);
    let cot = array(&c["cotangent"]);
    let y = forward(&layer, &x).unwrap();
    assert_golden(r, &y, &c["y"], Family::Matmul, &format!("{name}: forward"));

    let loss = move |m: &M, x: &Array, cot: &Array| -> mlx_rs::Result<Array> {
        sum(&(forward(m, x)? * cot)?, Axes::All, false)
    };
    if !want_params.is_empty() {
        let (_, grads) = layer
            .value_and_grad(
                move |m: &M, a: &[Array]| Ok(vec![loss(m, &a[0], &a[1])?]),
                &[x.clone(), cot.clone()],
            )
            .unwrap();
        for (k, w) in c["grads"].as_object().unwrap() {
            assert_golden(
                r,
                &grads[k],
                w,
                Family::Matmul,
                &format!("{name}: grad {k}"),
            );
        }
    }
    let frozen = layer.clone();
    let dx = mlx_rs::transforms::grad(
        move |a: &[Array]| Ok(vec![loss(&frozen, &a[0], &a[1])?]),
        &[0],
    )
    .unwrap()
    .call(&[x, cot])
    .unwrap();
    assert_golden(
        r,
        &dx[0],
        &c["dx"],
        Family::Matmul,
        &format!("{name}: grad x"),
    );
}

#[test]
fn layers_match_python() {
    let g = pinned(golden_file!("nn_train_layers.json"));
    let cases = g["cases"].as_object().unwrap();
    let mut r = Report::new();
    let mut seen = 0;
    for (name, c) in cases {
        mlx_rs::random::seed(c["seed"].as_u64().unwrap()).unwrap();
        let a = &c["args"];
        let io = |k: &str| int(&a[k], 0);
        let bias = a["bias"].as_bool().unwrap_or(true);
        let pad = |n: usize| -> Vec<i32> {
            if a["padding"].is_null() {
                vec![0; n]
            } else {
                match &a["padding"] {
                    Value::Array(v) => v.iter().map(|x| x.as_i64().unwrap() as i32).collect(),
                    x => vec![x.as_i64().unwrap() as i32; n],
                }
            }
        };
        let stride = |n: usize| -> Option<Vec<i32>> {
            (!a["stride"].is_null()).then(|| match &a["stride"] {
                Value::Array(v) => v.iter().map(|x| x.as_i64().unwrap() as i32).collect(),
                x => vec![x.as_i64().unwrap() as i32; n],
            })
        };
        macro_rules! pool {
            ($ty:ident, $n:literal) => {{
                let k = arr::<$n>(&a["kernel_size"]);
                let s = stride($n).map(|v| <[i32; $n]>::try_from(v).unwrap());
                let p = <[i32; $n]>::try_from(pad($n)).unwrap();
                check(&mut r, name, c, $ty::new(k, s, p).unwrap(), |m: &$ty, x| {
                    m.forward(x)
                });
            }};
        }
        match name.split('_').next().unwrap() {
            "conv1d" => {
                let l = Conv1d::new(
                    io("in_channels"),
                    io("out_channels"),
                    arr(&a["kernel_size"]),
                    bias,
                    conv(a),
                );
                check(&mut r, name, c, l.unwrap(), |m: &Conv1d, x| m.forward(x));
            }
            "conv2d" => {
                let l = Conv2d::new(
                    io("in_channels"),
                    io("out_channels"),
                    arr(&a["kernel_size"]),
                    bias,
                    conv(a),
                );
                check(&mut r, name, c, l.unwrap(), |m: &Conv2d, x| m.forward(x));
            }
            "conv3d" => {
                let l = Conv3d::new(
                    io("in_channels"),
                    io("out_channels"),
                    arr(&a["kernel_size"]),
                    bias,
                    conv(a),
                );
                check(&mut r, name, c, l.unwrap(), |m: &Conv3d, x| m.forward(x));
            }
            "max" | "avg" => match name.as_str() {
                n if n.starts_with("max_pool1d") => pool!(MaxPool1d, 1),
                n if n.starts_with("max_pool2d") => pool!(MaxPool2d, 2),
                n if n.starts_with("max_pool3d") => pool!(MaxPool3d, 3),
                n if n.starts_with("avg_pool1d") => pool!(AvgPool1d, 1),
                n if n.starts_with("avg_pool2d") => pool!(AvgPool2d, 2),
                n if n.starts_with("avg_pool3d") => pool!(AvgPool3d, 3),
                other => panic!("unknown case {other}"),
            },
            other => panic!("unknown case {other}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 12);
    r.finish();
}

fn invalid_reason(e: Error) -> (&'static str, String) {
    match e {
        Error::InvalidArgument { op, reason } => (op, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn bad_input_names_the_layer() {
    let x = |s: &[i32]| Array::ones(s, Dtype::Float32).unwrap();
    let c2 = Conv2d::new(3, 4, [3, 3], true, Conv::default()).unwrap();
    let (op, reason) = invalid_reason(c2.forward(&x(&[1, 8, 8, 2])).unwrap_err());
    assert_eq!(op, "Conv2d");
    assert!(
        reason.contains("3 input channels") && reason.contains("[1, 8, 8, 2]"),
        "{reason}"
    );
    let (op, reason) = invalid_reason(c2.forward(&x(&[8, 8, 3])).unwrap_err());
    assert_eq!(op, "Conv2d");
    assert!(reason.contains("4 axes"), "{reason}");
    let (op, reason) = invalid_reason(
        Conv1d::new(
            3,
            4,
            [2],
            true,
            Conv {
                groups: 2,
                ..Conv::default()
            },
        )
        .unwrap_err(),
    );
    assert_eq!(op, "Conv1d");
    assert!(
        reason.contains("divisible by the number of groups (2)"),
        "{reason}"
    );
    let (op, _) = invalid_reason(Conv3d::new(0, 4, [2, 2, 2], true, Conv::default()).unwrap_err());
    assert_eq!(op, "Conv3d");

    let (op, reason) = invalid_reason(MaxPool2d::new([0, 2], None, [0, 0]).unwrap_err());
    assert_eq!(op, "MaxPool2d");
    assert_eq!(reason, "'kernel_size' must be positive but got [0, 2].");
    let (op, reason) = invalid_reason(AvgPool1d::new([2], None, [-1]).unwrap_err());
    assert_eq!(op, "AvgPool1d");
    assert_eq!(reason, "'padding' must be non-negative but got [-1].");
    let pool = MaxPool2d::new([2, 2], None, [0, 0]).unwrap();
    let (op, reason) = invalid_reason(pool.forward(&x(&[4, 4, 1])).unwrap_err());
    assert_eq!(op, "MaxPool2d");
    assert!(reason.contains("[4, 4, 1]"), "{reason}");
    let (op, reason) = invalid_reason(pool.forward(&x(&[1, 1, 4, 1])).unwrap_err());
    assert_eq!(op, "MaxPool2d");
    assert!(reason.contains("does not fit"), "{reason}");

    let lin = Linear::uniform(4, 2, true).unwrap();
    let (op, reason) = invalid_reason(lin.forward(&x(&[3, 5])).unwrap_err());
    assert_eq!(op, "Linear");
    assert!(
        reason.contains("last axis is 4") && reason.contains("[3, 5]"),
        "{reason}"
    );
}

#[test]
fn dropout_matches_python() {
    use mlx_rs::nn::{Dropout, Dropout2d, Dropout3d};
    let g = pinned(golden_file!("nn_train_layers.json"));
    let mut r = Report::new();
    for (name, c) in g["dropout"].as_object().unwrap() {
        let p = c["p"].as_f64().unwrap();
        let x = array(&c["x"]);
        type Fwd = Box<dyn Fn(&Array, bool) -> mlx_rs::Result<Array>>;
        let layer: Fwd = match name.as_str() {
            "dropout" | "dropout_p1" => {
                let d = Dropout::new(p).unwrap();
                Box::new(move |x, t| {
                    let mut d = d;
                    d.training = t;
                    d.forward(x)
                })
            }
            "dropout2d" => {
                let d = Dropout2d::new(p).unwrap();
                Box::new(move |x, t| {
                    let mut d = d;
                    d.training = t;
                    d.forward(x)
                })
            }
            "dropout3d" => {
                let d = Dropout3d::new(p).unwrap();
                Box::new(move |x, t| {
                    let mut d = d;
                    d.training = t;
                    d.forward(x)
                })
            }
            other => panic!("unknown case {other}"),
        };
        mlx_rs::random::seed(c["seed"].as_u64().unwrap()).unwrap();
        let y = layer(&x, true).unwrap();
        assert_golden(&mut r, &y, &c["y"], Family::Elementwise, name);
        // Evaluation mode: the input itself.
        assert_golden(
            &mut r,
            &layer(&x, false).unwrap(),
            &c["x"],
            Family::Exact,
            name,
        );
    }
    r.finish();

    // Module::train reaches the layers inside a model.
    #[derive(Debug, Module)]
    struct Net {
        fc: Linear,
        drop: Vec<Dropout>,
    }
    let mut net = Net {
        fc: Linear::uniform(2, 2, true).unwrap(),
        drop: vec![Dropout::new(0.5).unwrap(); 2],
    };
    assert!(net.drop.iter().all(|d| d.training));
    net.train(false);
    assert!(net.drop.iter().all(|d| !d.training));
    net.train(true);
    assert!(net.drop[1].training);

    let (op, reason) = invalid_reason(Dropout::new(1.0).unwrap_err());
    assert_eq!(
        (op, reason.as_str()),
        ("Dropout", "The dropout probability 1 is not in [0, 1)")
    );
    let (op, reason) = invalid_reason(
        Dropout2d::new(0.5)
            .unwrap()
            .forward(&Array::ones(&[2, 3], Dtype::Float32).unwrap())
            .unwrap_err(),
    );
    assert_eq!(op, "Dropout2d");
    assert_eq!(
        reason,
        "Received input with 2 dimensions. Expected 3 or 4 dimensions."
    );
}

/// Checks the seeded parameters against the golden, then loads Python's.
fn seeded_params<M: Module>(r: &mut Report, name: &str, c: &Value, layer: &mut M) {
    let want = c["params"].as_object().unwrap();
    let got = layer.parameters();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{name}: parameter names"
    );
    for (k, w) in want {
        assert_golden(r, &got[k], w, Family::Exact, &format!("{name}: init {k}"));
    }
    layer
        .load_weights(want.iter().map(|(k, v)| (k.clone(), array(v))).collect())
        .unwrap();
}

fn dot(a: &Array, b: &Array) -> mlx_rs::Result<Array> {
    sum(&(a * b)?, Axes::All, false)
}

#[test]
fn recurrent_layers_match_python() {
    use mlx_rs::nn::{Gru, Lstm, Rnn};
    let g = pinned(golden_file!("nn_train_layers.json"));
    let mut r = Report::new();
    for (name, c) in g["recurrent"].as_object().unwrap() {
        mlx_rs::random::seed(c["seed"].as_u64().unwrap()).unwrap();
        let a = c["args"].as_array().unwrap();
        let (input, hidden) = (a[0].as_i64().unwrap() as i32, a[1].as_i64().unwrap() as i32);
        let bias = a.get(2).and_then(Value::as_bool).unwrap_or(true);
        let x = array(&c["x"]);
        let h0 = (!c["hidden"].is_null()).then(|| array(&c["hidden"]));
        let c0 = (!c["cell"].is_null()).then(|| array(&c["cell"]));
        let cots: Vec<Array> = c["cotangents"]
            .as_array()
            .unwrap()
            .iter()
            .map(array)
            .collect();
        let mut inputs = vec![x.clone()];
        inputs.extend(cots.iter().cloned());
        let grads = match name.split('_').next().unwrap() {
            "rnn" => {
                let mut l = Rnn::new(input, hidden, bias).unwrap();
                seeded_params(&mut r, name, c, &mut l);
                let y = l.forward(&x, h0.as_ref()).unwrap();
                assert_golden(&mut r, &y, &c["outs"][0], Family::Transcendental, name);
                l.value_and_grad(
                    move |m: &Rnn, a: &[Array]| {
                        Ok(vec![dot(&m.forward(&a[0], h0.as_ref())?, &a[1])?])
                    },
                    &inputs,
                )
                .unwrap()
                .1
            }
            "gru" => {
                let mut l = Gru::new(input, hidden, bias).unwrap();
                seeded_params(&mut r, name, c, &mut l);
                let y = l.forward(&x, h0.as_ref()).unwrap();
                assert_golden(&mut r, &y, &c["outs"][0], Family::Transcendental, name);
                l.value_and_grad(
                    move |m: &Gru, a: &[Array]| {
                        Ok(vec![dot(&m.forward(&a[0], h0.as_ref())?, &a[1])?])
                    },
                    &inputs,
                )
                .unwrap()
                .1
            }
            "lstm" => {
                let mut l = Lstm::new(input, hidden, bias).unwrap();
                seeded_params(&mut r, name, c, &mut l);
                let (h, cell) = l.forward(&x, h0.as_ref(), c0.as_ref()).unwrap();
                assert_golden(
                    &mut r,
                    &h,
                    &c["outs"][0],
                    Family::Transcendental,
                    &format!("{name} hidden"),
                );
                assert_golden(
                    &mut r,
                    &cell,
                    &c["outs"][1],
                    Family::Transcendental,
                    &format!("{name} cell"),
                );
                l.value_and_grad(
                    move |m: &Lstm, a: &[Array]| {
                        let (h, cell) = m.forward(&a[0], h0.as_ref(), c0.as_ref())?;
                        Ok(vec![(dot(&h, &a[1])? + dot(&cell, &a[2])?)?])
                    },
                    &inputs,
                )
                .unwrap()
                .1
            }
            other => panic!("unknown case {other}"),
        };
        for (k, w) in c["grads"].as_object().unwrap() {
            assert_golden(
                &mut r,
                &grads[k],
                w,
                Family::Transcendental,
                &format!("{name}: grad {k}"),
            );
        }
    }
    r.finish();

    let (op, reason) = invalid_reason(
        Lstm::new(3, 4, true)
            .unwrap()
            .forward(
                &Array::ones(&[2, 4, 5], Dtype::Float32).unwrap(),
                None,
                None,
            )
            .unwrap_err(),
    );
    assert_eq!(op, "LSTM");
    assert!(
        reason.contains("[N, L, 3]") && reason.contains("[2, 4, 5]"),
        "{reason}"
    );
    let (op, _) = invalid_reason(Gru::new(0, 4, true).unwrap_err());
    assert_eq!(op, "GRU");
}

#[test]
fn multi_head_attention_matches_python() {
    use mlx_rs::fast::AttentionMask;
    use mlx_rs::nn::MultiHeadAttention;
    let g = pinned(golden_file!("nn_train_layers.json"));
    let mut r = Report::new();
    for (name, c) in g["attention"].as_object().unwrap() {
        mlx_rs::random::seed(c["seed"].as_u64().unwrap()).unwrap();
        let mut mha = MultiHeadAttention::new(16, 4, true).unwrap();
        seeded_params(&mut r, name, c, &mut mha);
        let (q, k, v) = (array(&c["q"]), array(&c["k"]), array(&c["v"]));
        let mask = (!c["mask"].is_null()).then(|| array(&c["mask"]));
        let m = || {
            mask.as_ref()
                .map_or(AttentionMask::Causal, AttentionMask::Array)
        };
        let y = mha.forward(&q, &k, &v, m()).unwrap();
        assert_golden(&mut r, &y, &c["y"], Family::Sdpa, name);
        let cot = array(&c["cotangent"]);
        let (_, grads) = mha
            .value_and_grad(
                move |l: &MultiHeadAttention, a: &[Array]| {
                    let m = a.get(4).map_or(AttentionMask::Causal, AttentionMask::Array);
                    Ok(vec![dot(&l.forward(&a[0], &a[1], &a[2], m)?, &a[3])?])
                },
                &[q, k, v, cot]
                    .into_iter()
                    .chain(mask.clone())
                    .collect::<Vec<_>>(),
            )
            .unwrap();
        for (p, w) in c["grads"].as_object().unwrap() {
            assert_golden(
                &mut r,
                &grads[p],
                w,
                Family::Sdpa,
                &format!("{name}: grad {p}"),
            );
        }
    }
    r.finish();

    let (op, reason) = invalid_reason(MultiHeadAttention::new(10, 4, false).unwrap_err());
    assert_eq!(op, "MultiHeadAttention");
    assert_eq!(
        reason,
        "The input feature dimensions should be divisible by the number of heads (10 % 4) != 0"
    );
    let mha = MultiHeadAttention::new(8, 2, false).unwrap();
    let x = Array::ones(&[1, 3, 8], Dtype::Float32).unwrap();
    let (op, reason) = invalid_reason(
        mha.forward(
            &x,
            &Array::ones(&[1, 3, 6], Dtype::Float32).unwrap(),
            &x,
            AttentionMask::None,
        )
        .unwrap_err(),
    );
    assert_eq!(op, "Linear");
    assert!(reason.contains("[1, 3, 6]"), "{reason}");
    let (op, _) = invalid_reason(
        mha.forward(
            &x,
            &x,
            &Array::ones(&[1, 4, 8], Dtype::Float32).unwrap(),
            AttentionMask::None,
        )
        .unwrap_err(),
    );
    assert_eq!(op, "MultiHeadAttention");
}

#[test]
fn group_and_instance_norm_match_python() {
    use mlx_rs::nn::{GroupNorm, InstanceNorm};
    let g = pinned(golden_file!("nn_train_layers.json"));
    let mut r = Report::new();
    for (name, c) in g["norms"].as_object().unwrap() {
        match name.as_str() {
            "group_norm" => check(
                &mut r,
                name,
                c,
                with(c, GroupNorm::new(2, 6, 1e-5, true, false)),
                |m: &GroupNorm, x| m.forward(x),
            ),
            "group_norm_pytorch" => check(
                &mut r,
                name,
                c,
                with(c, GroupNorm::new(3, 6, 1e-5, true, true)),
                |m: &GroupNorm, x| m.forward(x),
            ),
            "group_norm_plain" => check(
                &mut r,
                name,
                c,
                with(c, GroupNorm::new(2, 4, 1e-3, false, false)),
                |m: &GroupNorm, x| m.forward(x),
            ),
            "instance_norm" => check(
                &mut r,
                name,
                c,
                with(c, InstanceNorm::new(3, 1e-5, true)),
                |m: &InstanceNorm, x| m.forward(x),
            ),
            "instance_norm_plain" => check(
                &mut r,
                name,
                c,
                with(c, InstanceNorm::new(4, 1e-5, false)),
                |m: &InstanceNorm, x| m.forward(x),
            ),
            other => panic!("unknown case {other}"),
        }
    }
    r.finish();

    let (op, reason) = invalid_reason(GroupNorm::new(4, 6, 1e-5, true, false).unwrap_err());
    assert_eq!(op, "GroupNorm");
    assert_eq!(
        reason,
        "The number of features (6) must be evenly divisible by the number of groups (4)."
    );
    let (op, reason) = invalid_reason(
        InstanceNorm::new(3, 1e-5, false)
            .unwrap()
            .forward(&Array::ones(&[2, 3], Dtype::Float32).unwrap())
            .unwrap_err(),
    );
    assert_eq!(op, "InstanceNorm");
    assert_eq!(reason, "InstanceNorm expects inputs with at least 3 dimensions (N, ..., C) but the input has 2 dimensions.");
    let (op, _) = invalid_reason(
        GroupNorm::new(2, 6, 1e-5, true, false)
            .unwrap()
            .forward(&Array::ones(&[2, 4], Dtype::Float32).unwrap())
            .unwrap_err(),
    );
    assert_eq!(op, "GroupNorm");
}

/// A norm layer with the golden's (random) affine parameters in place of
/// ones and zeros, so that [`check`]'s init comparison holds.
fn with<M: Module>(c: &Value, layer: mlx_rs::Result<M>) -> M {
    let mut layer = layer.unwrap();
    let weights: HashMap<String, Array> = c["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), array(v)))
        .collect();
    layer.load_weights(weights).unwrap();
    layer
}
