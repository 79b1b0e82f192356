//! `nn::losses` against Python MLX 0.32.2 (`scripts/golden/losses.py`):
//! 26 cases over all 14 losses, equal bit for bit on the CPU and within
//! the reduction tolerance on the GPU (`tests/device`).

mod common;
mod device;

use std::collections::HashMap;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned};
use device::{Family, Report};
use mlx_rs::nn::losses::*;
use mlx_rs::{Array, Error, Result};

#[test]
fn losses_match_python() {
    let g = pinned(golden_file!("losses.json"));
    let x: HashMap<String, Array> = g["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), array(v)))
        .collect();
    let classes = array(&g["classes"]);
    let (p, t, n, sgn) = (&x["p"], &x["t"], &x["n"], &x["sgn"]);
    let ce = |targets: &Array, o: CrossEntropy<'_>| cross_entropy(&x["logits"], targets, o);
    let m = Reduction::Mean;
    let s = Reduction::Sum;
    let none = Reduction::None;
    let d = CrossEntropy::default();
    let cases: Vec<(&str, Result<Array>)> = vec![
        ("ce", ce(&classes, d)),
        ("ce_mean", ce(&classes, CrossEntropy { reduction: m, ..d })),
        ("ce_probs", ce(&x["probs"], d)),
        (
            "ce_smooth",
            ce(
                &classes,
                CrossEntropy {
                    label_smoothing: 0.1,
                    reduction: s,
                    ..d
                },
            ),
        ),
        (
            "ce_weights",
            ce(
                &classes,
                CrossEntropy {
                    weights: Some(&x["weights"]),
                    ..d
                },
            ),
        ),
        (
            "ce_axis0",
            cross_entropy(
                &x["logits"].transpose().unwrap(),
                &classes,
                CrossEntropy { axis: 0, ..d },
            ),
        ),
        (
            "bce_logits",
            binary_cross_entropy(p, &x["bin"], None, true, m),
        ),
        (
            "bce_probs",
            binary_cross_entropy(&x["u"], &x["bin"], None, false, none),
        ),
        ("l1", l1_loss(p, t, m)),
        ("mse", mse_loss(p, t, s)),
        ("nll", nll_loss(&x["logp"], &classes, -1, none)),
        (
            "gaussian_nll",
            gaussian_nll_loss(p, t, &x["vars"], false, 1e-6, m),
        ),
        (
            "gaussian_nll_full",
            gaussian_nll_loss(p, t, &x["vars"], true, 1e-6, none),
        ),
        ("kl_div", kl_div_loss(&x["logp"], &x["logq"], -1, none)),
        ("smooth_l1", smooth_l1_loss(p, t, 1.0, m)),
        ("smooth_l1_beta", smooth_l1_loss(p, t, 0.5, none)),
        ("triplet", triplet_loss(p, t, n, Triplet::default())),
        (
            "triplet_p1",
            triplet_loss(
                p,
                t,
                n,
                Triplet {
                    p: 1,
                    margin: 0.5,
                    reduction: m,
                    ..Triplet::default()
                },
            ),
        ),
        ("hinge", hinge_loss(p, sgn, none)),
        ("huber", huber_loss(p, t, 1.0, none)),
        ("huber_delta", huber_loss(p, t, 0.5, m)),
        ("log_cosh", log_cosh_loss(p, t, none)),
        ("cosine", cosine_similarity_loss(p, t, 1, 1e-8, none)),
        ("cosine_axis", cosine_similarity_loss(p, t, -1, 1e-8, s)),
        ("margin_ranking", margin_ranking_loss(p, t, sgn, 0.0, none)),
        ("margin_ranking_m", margin_ranking_loss(p, t, sgn, 0.3, m)),
    ];
    let want = g["cases"].as_object().unwrap();
    assert_eq!(cases.len(), want.len());
    let mut r = Report::new();
    for (name, got) in cases {
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_golden(&mut r, &got, &want[name], Family::Reduction, name);
    }
    r.finish();
}

#[test]
fn bad_shapes_and_options_are_errors() {
    let a = Array::ones(&[2, 3], mlx_rs::Dtype::Float32).unwrap();
    let b = Array::ones(&[3, 2], mlx_rs::Dtype::Float32).unwrap();
    let msg = |r: Result<Array>| match r {
        Err(Error::InvalidArgument { op, reason }) => format!("{op}: {reason}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        msg(mse_loss(&a, &b, Reduction::Mean)),
        "mse_loss: predictions and targets shapes [2, 3] and [3, 2] do not match"
    );
    let classes = Array::from_slice(&[0i32, 1, 2], &[3]).unwrap();
    assert_eq!(
        msg(cross_entropy(&a, &classes, CrossEntropy::default())),
        "cross_entropy: Targets shape [3] does not match logits shape [2, 3]."
    );
    let two = Array::from_slice(&[0i32, 1], &[2]).unwrap();
    assert_eq!(
        msg(cross_entropy(
            &a,
            &two,
            CrossEntropy {
                label_smoothing: 1.0,
                ..Default::default()
            }
        )),
        "cross_entropy: Label smoothing must be in [0, 1), got 1."
    );
    let w = Array::ones(&[3], mlx_rs::Dtype::Float32).unwrap();
    assert_eq!(
        msg(cross_entropy(
            &a,
            &two,
            CrossEntropy {
                weights: Some(&w),
                ..Default::default()
            }
        )),
        "cross_entropy: weights with shape [3] are not the shape of the loss, [2]"
    );
    assert_eq!(
        msg(cross_entropy(
            &a,
            &two,
            CrossEntropy {
                axis: 5,
                ..Default::default()
            }
        )),
        "cross_entropy: axis 5 is out of range for 2 dimensions"
    );
    assert_eq!(
        msg(margin_ranking_loss(&a, &a, &b, 0.0, Reduction::None)),
        "margin_ranking_loss: inputs1 and targets shapes [2, 3] and [3, 2] do not match"
    );
}
