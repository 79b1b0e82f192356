//! `mlx_rs::fast` against Python MLX 0.32.2: every expected value and
//! message comes from `scripts/golden/quant_fast.py` (fixed seeds, CPU),
//! stored in `tests/golden/fast_cases.json`.
//!
//! The tests run on the default device and stream. On the CPU every result
//! must be bit-identical to Python MLX; on the GPU each is compared within
//! its op family's tolerance (`tests/device`, the suite's one table:
//! [`Family::Sdpa`], [`Family::RmsNorm`], [`Family::LayerNorm`],
//! [`Family::Rope`]).

mod common;
mod device;
mod quant_fast_support;

use std::collections::BTreeSet;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned};
use device::{host_f64, Family, Report};
use mlx_rs::fast::{
    layer_norm, rms_norm, rope, scaled_dot_product_attention, AttentionMask, RopeBase, RopeOffset,
    SdpaOptions,
};
use mlx_rs::{Array, Dtype};
use quant_fast_support::{run_error_table, scalar_f32, ErrorCase};
use serde_json::Value;

fn golden() -> &'static Value {
    pinned(golden_file!("fast_cases.json"))
}

fn input(name: &str) -> Array {
    array(&golden()["inputs"][name])
}

#[test]
fn sdpa_matches_python() {
    let q = input("q");
    let bool_mask = input("bool_mask");
    let add_mask = input("add_mask");
    let sinks = input("sinks");
    let scale = scalar_f32(&golden()["sdpa_scale"]);
    let cases = golden()["sdpa"].as_array().unwrap();
    // mask kinds × GQA ratios (4, 2 and 1 KV heads for 4 query heads) × sinks
    assert_eq!(cases.len(), 4 * 3 * 2);
    let mut seen = BTreeSet::new();
    let mut r = Report::new();
    for case in cases {
        let kv = case["kv_heads"].as_i64().unwrap();
        let (k, v) = (input(&format!("k{kv}")), input(&format!("v{kv}")));
        let mask_name = case["mask"].as_str().unwrap();
        let mask = match mask_name {
            "none" => AttentionMask::None,
            "causal" => AttentionMask::Causal,
            "bool" => AttentionMask::Array(&bool_mask),
            "additive" => AttentionMask::Array(&add_mask),
            other => panic!("unknown mask {other}"),
        };
        let with_sinks = case["sinks"] == true;
        let opts = SdpaOptions {
            mask,
            sinks: with_sinks.then_some(&sinks),
            force_fused: false,
        };
        let what = format!("mask {mask_name}, {kv} kv heads, sinks {with_sinks}");
        let o = scaled_dot_product_attention(&q, &k, &v, scale, opts).unwrap();
        assert_golden(&mut r, &o, &case["out"], Family::Sdpa, &what);
        seen.insert((mask_name.to_owned(), kv, with_sinks));
    }
    assert_eq!(seen.len(), 24);
    r.finish();
}

#[test]
fn sdpa_mask_kinds_and_sinks_change_the_result() {
    // Each option reaches MLX: the stored outputs (from Python) differ
    // between mask kinds and with or without sinks, and so do ours.
    let cases = golden()["sdpa"].as_array().unwrap();
    let pick = |mask: &str, sinks: bool| {
        cases
            .iter()
            .find(|c| c["mask"] == mask && c["kv_heads"] == 2 && c["sinks"] == sinks)
            .unwrap()["out"]["hex"]
            .as_str()
            .unwrap()
    };
    let outs: BTreeSet<&str> = ["none", "causal", "bool", "additive"]
        .iter()
        .flat_map(|m| [pick(m, false), pick(m, true)])
        .collect();
    assert_eq!(outs.len(), 8);
}

#[test]
fn sdpa_force_fused_on_the_cpu_is_mlx_error() {
    // Covered with MLX's text by `errors_match_python`; here: without
    // force_fused the same call succeeds.
    let q = Array::zeros(&[1, 4, 5, 8], Dtype::Float32).unwrap();
    let k = Array::zeros(&[1, 2, 7, 8], Dtype::Float32).unwrap();
    let ok = scaled_dot_product_attention(&q, &k, &k, 1.0, SdpaOptions::default()).unwrap();
    assert_eq!(ok.shape(), [1, 4, 5, 8]);
    assert!(host_f64(&ok).iter().all(|&x| x == 0.0));
}

#[test]
fn norms_match_python() {
    let x = input("norm_x");
    let w = input("norm_w");
    let b = input("norm_b");
    let eps = 1e-5f32;
    let cases = golden()["norms"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    let mut r = Report::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = match name {
            "rms_w" => rms_norm(&x, Some(&w), eps),
            "rms" => rms_norm(&x, None, eps),
            "ln" => layer_norm(&x, None, None, eps),
            "ln_w" => layer_norm(&x, Some(&w), None, eps),
            "ln_b" => layer_norm(&x, None, Some(&b), eps),
            "ln_wb" => layer_norm(&x, Some(&w), Some(&b), eps),
            other => panic!("unknown case {other}"),
        }
        .unwrap();
        let family = if name.starts_with("rms") {
            Family::RmsNorm
        } else {
            Family::LayerNorm
        };
        assert_golden(&mut r, &got, &case["out"], family, name);
    }
    r.finish();
}

#[test]
fn rope_matches_python() {
    let x = input("rope_x");
    let freqs8 = input("freqs8");
    let freqs4 = input("freqs4");
    let off_scalar = Array::scalar(3i32).unwrap();
    let off_vec = input("offset_vec");
    let cases = golden()["rope"].as_array().unwrap();
    // traditional × (base, freqs) × (int, scalar array, vector array)
    assert_eq!(cases.len(), 12);
    let mut r = Report::new();
    for case in cases {
        let dims = case["dims"].as_i64().unwrap() as i32;
        let traditional = case["traditional"] == true;
        let scale = case["scale"].as_f64().unwrap() as f32;
        let base = match case["basis"].as_str().unwrap() {
            "base" => RopeBase::Base(10000.0),
            _ => RopeBase::Freqs(if dims == 8 { &freqs8 } else { &freqs4 }),
        };
        let offset: RopeOffset<'_> = match case["offset"].as_str().unwrap() {
            "int" => 3.into(),
            "array_scalar" => (&off_scalar).into(),
            _ => (&off_vec).into(),
        };
        let what = format!("{case:?}").chars().take(120).collect::<String>();
        let got = rope(&x, dims, traditional, base, scale, offset).unwrap();
        assert_golden(&mut r, &got, &case["out"], Family::Rope, &what);
    }
    r.finish();
}

/// The `_on` variants run on the stream they are given (a fresh stream of
/// the default device) with the same results.
#[test]
fn explicit_stream_variants_match_python() {
    use mlx_rs::fast::{layer_norm_on, rms_norm_on, rope_on, scaled_dot_product_attention_on};
    let s = quant_fast_support::fresh_stream();
    let mut r = Report::new();
    let case = golden()["sdpa"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["mask"] == "causal" && c["kv_heads"] == 2 && c["sinks"] == true)
        .unwrap();
    let sinks = input("sinks");
    let opts = SdpaOptions {
        mask: AttentionMask::Causal,
        sinks: Some(&sinks),
        force_fused: false,
    };
    let scale = scalar_f32(&golden()["sdpa_scale"]);
    let o =
        scaled_dot_product_attention_on(&input("q"), &input("k2"), &input("v2"), scale, opts, &s)
            .unwrap();
    assert_golden(&mut r, &o, &case["out"], Family::Sdpa, "sdpa_on");

    let x = input("norm_x");
    let (w, b) = (input("norm_w"), input("norm_b"));
    let norms = golden()["norms"].as_array().unwrap();
    let find = |n: &str| &norms.iter().find(|c| c["name"] == n).unwrap()["out"];
    assert_golden(
        &mut r,
        &rms_norm_on(&x, Some(&w), 1e-5, &s).unwrap(),
        find("rms_w"),
        Family::RmsNorm,
        "rms_norm_on",
    );
    assert_golden(
        &mut r,
        &layer_norm_on(&x, Some(&w), Some(&b), 1e-5, &s).unwrap(),
        find("ln_wb"),
        Family::LayerNorm,
        "layer_norm_on",
    );

    let rcase = &golden()["rope"][0]; // not traditional, base, int offset, dims 8, scale 0.5
    assert_eq!(rcase["offset"], "int");
    assert_eq!(rcase["basis"], "base");
    let scale = rcase["scale"].as_f64().unwrap() as f32;
    let rope_out = rope_on(
        &input("rope_x"),
        8,
        false,
        RopeBase::Base(10000.0),
        scale,
        3,
        &s,
    )
    .unwrap();
    assert_golden(&mut r, &rope_out, &rcase["out"], Family::Rope, "rope_on");
    r.finish();
}

#[test]
fn errors_match_python() {
    let z = |s: &[i32]| Array::zeros(s, Dtype::Float32).unwrap();
    let (q, k, x) = (z(&[1, 4, 5, 8]), z(&[1, 2, 7, 8]), z(&[2, 3, 8]));
    let sdpa = |q: &Array, k: &Array, v: &Array, opts: SdpaOptions<'_>| {
        scaled_dot_product_attention(q, k, v, 1.0, opts)
    };
    let none = SdpaOptions::default;
    let base = RopeBase::Base(1e4);
    let cases: Vec<ErrorCase<'_>> = vec![
        (
            "sdpa_sinks_shape",
            Box::new(|| {
                let s = z(&[3]);
                sdpa(
                    &q,
                    &k,
                    &k,
                    SdpaOptions {
                        sinks: Some(&s),
                        ..none()
                    },
                )
            }),
        ),
        (
            "sdpa_gqa",
            Box::new(|| sdpa(&q, &z(&[1, 3, 7, 8]), &z(&[1, 3, 7, 8]), none())),
        ),
        (
            "sdpa_rank",
            Box::new(|| sdpa(&z(&[4, 5, 8]), &z(&[2, 7, 8]), &z(&[2, 7, 8]), none())),
        ),
        (
            "sdpa_head_dim",
            Box::new(|| sdpa(&q, &z(&[1, 2, 7, 4]), &k, none())),
        ),
        (
            "sdpa_mask_shape",
            Box::new(|| {
                let m = z(&[5, 6]);
                sdpa(
                    &q,
                    &k,
                    &k,
                    SdpaOptions {
                        mask: AttentionMask::Array(&m),
                        ..none()
                    },
                )
            }),
        ),
        (
            "sdpa_force_fused_cpu",
            Box::new(|| {
                sdpa(
                    &q,
                    &k,
                    &k,
                    SdpaOptions {
                        force_fused: true,
                        ..none()
                    },
                )
            }),
        ),
        (
            "rms_weight_size",
            Box::new(|| rms_norm(&x, Some(&z(&[7])), 1e-5)),
        ),
        (
            "rms_weight_ndim",
            Box::new(|| rms_norm(&x, Some(&z(&[1, 8])), 1e-5)),
        ),
        (
            "ln_weight_size",
            Box::new(|| layer_norm(&x, Some(&z(&[7])), None, 1e-5)),
        ),
        (
            "ln_bias_size",
            Box::new(|| layer_norm(&x, None, Some(&z(&[7])), 1e-5)),
        ),
        (
            "rope_odd_dims",
            Box::new(|| rope(&x, 5, false, base, 1.0, 0)),
        ),
        (
            "rope_freqs_shape",
            Box::new(|| {
                let f = z(&[3]);
                rope(&x, 8, false, RopeBase::Freqs(&f), 1.0, 0)
            }),
        ),
        (
            "rope_float_offset",
            Box::new(|| {
                let off = Array::scalar(1.5f32)?;
                rope(&x, 8, false, base, 1.0, &off)
            }),
        ),
        (
            "rope_rank",
            Box::new(|| rope(&z(&[8]), 8, false, base, 1.0, 0)),
        ),
    ];
    let mut r = Report::new();
    run_error_table(&mut r, &cases, &golden()["errors"]);
    r.finish();
}
