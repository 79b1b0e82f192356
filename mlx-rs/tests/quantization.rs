//! `mlx_rs::quantization` against Python MLX 0.32.2: every expected value
//! and message comes from `scripts/golden/quant_fast.py` (fixed seeds, CPU),
//! stored in `tests/golden/quant_cases.json`.
//!
//! The tests run on the default device and stream. On the CPU every result
//! must be bit-identical to Python MLX; elsewhere the tolerances of [`tol`]
//! apply.

mod quant_fast_support;

use std::collections::BTreeSet;
use std::str::FromStr;

use mlx_rs::quantization::raw::{self, Params};
use mlx_rs::quantization::{
    gather_qmm, qqmm, qqmm_dense, quantize, quantized_matmul, AffineBits, GatherIndices, GroupSize,
    QuantMode, Quantized,
};
use mlx_rs::{Array, Dtype, Error, Result};
use quant_fast_support::{
    array, assert_close, assert_golden, assert_mlx_error, bits, on_cpu, parse, scalar_f32, shape,
    values, ErrorCase, Tol,
};
use serde_json::Value;

/// Tolerances, one per op, in one place. They apply only off the CPU: on
/// the CPU each comparison with Python MLX is bit for bit.
mod tol {
    use super::Tol;

    /// Dequantized weights of the fp modes and the fixed-dtype cases. (For
    /// the affine grid a GPU, which rounds ties away from zero and starts
    /// the group maximum at 0, may pick the neighbouring level; there the
    /// bound is one scale step per element and the packed words are not
    /// compared: see `affine_grid_matches_python`.)
    pub const DEQUANTIZE: Tol = Tol {
        atol: 1e-6,
        rtol: 1e-6,
    };
    /// Quantized matmuls (K = 64 or 128): other accumulation order.
    pub const QMM: Tol = Tol {
        atol: 1e-4,
        rtol: 1e-4,
    };
    /// `quantized_matmul` against the dense `x @ dequantize(w).T`, on every
    /// device (the CPU too): the two sum in different orders.
    pub const QMM_VS_DENSE: Tol = Tol {
        atol: 1e-4,
        rtol: 1e-5,
    };
    /// Quantized matmuls in float16/bfloat16.
    pub const QMM_HALF: Tol = Tol {
        atol: 1e-2,
        rtol: 1e-2,
    };
    /// qqmm also quantizes `x`; a GPU may round `x` differently.
    pub const QQMM: Tol = Tol {
        atol: 1e-3,
        rtol: 1e-3,
    };
}

fn golden() -> &'static Value {
    static G: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    G.get_or_init(|| parse(include_str!("golden/quant_cases.json")))
}

fn input(name: &str) -> Array {
    array(&golden()["inputs"][name])
}

fn mode_of(case: &Value) -> QuantMode {
    let m = case["mode"].as_str().unwrap_or("affine");
    let int = |k: &str| case.get(k).and_then(Value::as_i64).map(|v| v as i32);
    let mode = QuantMode::from_parts(m, int("group_size"), int("bits")).unwrap();
    match mode {
        QuantMode::Nvfp4 { .. } if case["global_scale"] == true => QuantMode::Nvfp4 {
            global_scale: Some(scalar_f32(&golden()["nvfp4_global_scale"])),
        },
        other => other,
    }
}

/// The affine scale of each element of `w` (its group's), as `f64`.
fn per_element(scales: &Array, cols: usize, group: usize) -> Vec<f64> {
    values(scales)
        .chunks(cols / group)
        .flat_map(|row| row.iter().flat_map(|&s| std::iter::repeat_n(s, group)))
        .collect()
}

#[test]
fn affine_grid_matches_python() {
    let w = input("w");
    let cases = golden()["affine"].as_array().unwrap();
    // every bit width × group size
    assert_eq!(cases.len(), AffineBits::ALL.len() * GroupSize::ALL.len());
    let mut seen = BTreeSet::new();
    for case in cases {
        let mode = mode_of(case);
        seen.insert((mode.bits(), mode.group_size()));
        let what = format!("{mode}");
        // the generator checked that its tie row puts elements exactly
        // half-way between two levels for this (bits, group size)
        assert!(case["ties"].as_u64().unwrap() > 0, "{what}: ties");
        let q = quantize(&w, mode).unwrap();
        assert_eq!(q.mode, mode);
        let deq = q.dequantize(None).unwrap();
        if on_cpu() {
            assert_golden(&deq, &case["dequantized"], tol::DEQUANTIZE, &what);
            assert_golden(&q.weights, &case["weights"], tol::DEQUANTIZE, &what);
            assert_golden(&q.scales, &case["scales"], tol::DEQUANTIZE, &what);
            assert_golden(
                q.biases.as_ref().unwrap(),
                &case["biases"],
                tol::DEQUANTIZE,
                &what,
            );
        } else {
            // the packed words may differ by a level; the values may not
            // move further than one step of their group
            let step = per_element(&array(&case["scales"]), 128, mode.group_size() as usize);
            let want = values(&array(&case["dequantized"]));
            for (i, (g, want)) in values(&deq).iter().zip(&want).enumerate() {
                assert!(
                    (g - want).abs() <= step[i].abs() + 1e-6,
                    "{what}: element {i}"
                );
            }
        }
    }
    assert_eq!(seen.len(), 18, "each (bits, group size) once");
}

/// The round-trip bound: `|w − ŵ| ≤ |scale| + 1e-6` for every element, on
/// every device, over the whole grid (random, all-negative, all-positive,
/// tie and constant rows).
#[test]
fn affine_round_trip_bound() {
    let w = input("w");
    let wv = values(&w);
    let mut checked = 0;
    for bits in AffineBits::ALL {
        for group_size in GroupSize::ALL {
            let mode = QuantMode::Affine { bits, group_size };
            let q = quantize(&w, mode).unwrap();
            let w_hat = values(&q.dequantize(None).unwrap());
            let step = per_element(&q.scales, 128, group_size.get() as usize);
            for i in 0..wv.len() {
                let err = (wv[i] - w_hat[i]).abs();
                assert!(
                    err <= step[i].abs() + 1e-6,
                    "{mode}: element {i}: |{} - {}| = {err} > |scale| = {}",
                    wv[i],
                    w_hat[i],
                    step[i].abs()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 18 * 5 * 128);
}

#[test]
fn default_mode_is_affine_4_bits_group_64() {
    assert_eq!(QuantMode::default(), QuantMode::affine(4, 64).unwrap());
    let w = input("w");
    let case = golden()["affine"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bits"] == 4 && c["group_size"] == 64)
        .unwrap();
    let q = quantize(&w, QuantMode::default()).unwrap();
    assert_golden(
        &q.dequantize(None).unwrap(),
        &case["dequantized"],
        tol::DEQUANTIZE,
        "default",
    );
}

#[test]
fn fp_modes_match_python() {
    let w = input("w");
    let cases = golden()["fp"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let mode = mode_of(case);
        let what = format!("{mode}");
        let q = quantize(&w, mode).unwrap();
        assert!(q.biases.is_none(), "{what}: no biases");
        if on_cpu() {
            assert_golden(&q.weights, &case["weights"], tol::DEQUANTIZE, &what);
            assert_golden(&q.scales, &case["scales"], tol::DEQUANTIZE, &what);
        }
        // MLX's default output dtype: bfloat16, or float32 (the global
        // scale's) for nvfp4 with a global scale; checked by assert_golden
        let deq = q.dequantize(None).unwrap();
        assert_golden(&deq, &case["dequantized"], tol::DEQUANTIZE, &what);
        let deq32 = q.dequantize(Some(Dtype::Float32)).unwrap();
        assert_golden(&deq32, &case["dequantized_f32"], tol::DEQUANTIZE, &what);
    }
}

#[test]
fn nvfp4_global_scale_changes_the_result() {
    // The global scale reaches MLX: with it, the scales and the
    // dequantized values differ from those without (both from Python).
    let cases = golden()["fp"].as_array().unwrap();
    let without = cases
        .iter()
        .find(|c| c["mode"] == "nvfp4" && c["global_scale"] == false)
        .unwrap();
    let with = cases
        .iter()
        .find(|c| c["mode"] == "nvfp4" && c["global_scale"] == true)
        .unwrap();
    assert_ne!(bits(&without["scales"]), bits(&with["scales"]));
    let w = input("w");
    let a = quantize(&w, mode_of(without))
        .unwrap()
        .dequantize(Some(Dtype::Float32))
        .unwrap();
    let b = quantize(&w, mode_of(with))
        .unwrap()
        .dequantize(Some(Dtype::Float32))
        .unwrap();
    assert_ne!(values(&a), values(&b));
}

#[test]
fn dequantize_output_dtypes_match_python() {
    let w = input("w");
    let q = quantize(&w, QuantMode::default()).unwrap();
    for case in golden()["dequantize_dtype"].as_array().unwrap() {
        let name = case["dtype"].as_str().unwrap();
        let dtype = *Dtype::ALL.iter().find(|d| d.name() == name).unwrap();
        let got = q.dequantize(Some(dtype)).unwrap();
        assert_golden(&got, &case["out"], tol::DEQUANTIZE, name);
    }
}

#[test]
fn half_precision_weights_match_python() {
    let w = input("w");
    let x = input("x");
    let cases = golden()["half"].as_array().unwrap();
    // (float16, bfloat16) × (affine, mxfp4)
    assert_eq!(cases.len(), 4);
    for case in cases {
        let dtype = if case["dtype"] == "float16" {
            Dtype::Float16
        } else {
            Dtype::Bfloat16
        };
        let mode = mode_of(case);
        let what = format!("{mode} on {dtype}");
        let q = quantize(&w.astype(dtype).unwrap(), mode).unwrap();
        if on_cpu() {
            assert_golden(&q.weights, &case["weights"], tol::DEQUANTIZE, &what);
            assert_golden(&q.scales, &case["scales"], tol::DEQUANTIZE, &what);
            if let Some(b) = &q.biases {
                assert_golden(b, &case["biases"], tol::DEQUANTIZE, &what);
            }
            assert_golden(
                &q.dequantize(None).unwrap(),
                &case["dequantized"],
                tol::DEQUANTIZE,
                &what,
            );
        }
        assert_eq!(q.biases.is_some(), case.get("biases").is_some(), "{what}");
        let y = quantized_matmul(&x.astype(dtype).unwrap(), &q, true).unwrap();
        assert_golden(&y, &case["qmm"], tol::QMM_HALF, &what);
    }
}

#[test]
fn quantized_matmul_matches_python() {
    let w = input("w");
    let x = input("x");
    let xt = input("x_t");
    let cases = golden()["qmm"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let mode = mode_of(case);
        let what = format!("{mode}");
        let q = quantize(&w, mode).unwrap();
        let y = quantized_matmul(&x, &q, true).unwrap();
        assert_golden(&y, &case["out"], tol::QMM, &format!("{what} x @ w.T"));
        let yt = quantized_matmul(&xt, &q, false).unwrap();
        assert_golden(&yt, &case["out_t"], tol::QMM, &format!("{what} x @ w"));
        // and against the dense product with the dequantized weights
        let reference = values(&array(&case["reference"]));
        assert_close(
            &values(&y),
            &reference,
            tol::QMM_VS_DENSE,
            &format!("{what} vs dense"),
        );
        let reference_t = values(&array(&case["reference_t"]));
        assert_close(
            &values(&yt),
            &reference_t,
            tol::QMM_VS_DENSE,
            &format!("{what} vs dense (no transpose)"),
        );
    }
}

#[test]
fn gather_qmm_matches_python() {
    let w = input("gather_w");
    let x = input("gather_x");
    let x2 = input("gather_x2");
    let (rhs, rhs_sorted, lhs) = (input("rhs"), input("rhs_sorted"), input("lhs"));
    let cases = golden()["gather_qmm"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let mode = mode_of(case);
        let q = quantize(&w, mode).unwrap();
        let variants = [
            (
                "rhs",
                &x,
                GatherIndices {
                    rhs: Some(&rhs),
                    ..Default::default()
                },
            ),
            (
                "rhs_sorted",
                &x,
                GatherIndices {
                    rhs: Some(&rhs_sorted),
                    sorted: true,
                    ..Default::default()
                },
            ),
            (
                "lhs_rhs",
                &x2,
                GatherIndices {
                    lhs: Some(&lhs),
                    rhs: Some(&rhs),
                    sorted: false,
                },
            ),
        ];
        for (name, x, idx) in variants {
            let y = gather_qmm(x, &q, idx, true).unwrap();
            assert_golden(&y, &case[name], tol::QMM, &format!("{mode} {name}"));
        }
    }
}

#[test]
fn qqmm_matches_python() {
    let w = input("w");
    let x = input("qqmm_x");
    let gx = scalar_f32(&golden()["qqmm_global_scale_x"]);
    let cases = golden()["qqmm"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let mut c = case.clone();
        c["global_scale"] = case["global_scales"].clone();
        let mode = mode_of(&c);
        let q = quantize(&w, mode).unwrap();
        let global_x = (case["global_scales"] == true).then_some(gx);
        let y = qqmm(&x, &q, global_x).unwrap();
        assert_golden(&y, &case["out"], tol::QQMM, &format!("qqmm {mode}"));
    }
}

/// The regression of passing a by-value struct through FFI ("affine"
/// arriving as "linear"): each mode string, and each optional group size
/// and bit width, reaches MLX intact, as the shapes MLX returns show (each
/// follows from the mode's definition).
#[test]
fn each_mode_reaches_mlx_intact() {
    let w = Array::ones(&[4, 64], Dtype::Float32).unwrap();
    // (mode, packed columns, scale columns, scale dtype, biases)
    let expect = [
        (
            QuantMode::affine(4, 64).unwrap(),
            8,
            1,
            Dtype::Float32,
            true,
        ),
        (
            QuantMode::affine(3, 32).unwrap(),
            6,
            2,
            Dtype::Float32,
            true,
        ),
        (
            QuantMode::affine(8, 32).unwrap(),
            16,
            2,
            Dtype::Float32,
            true,
        ),
        (
            QuantMode::affine(2, 64).unwrap(),
            4,
            1,
            Dtype::Float32,
            true,
        ),
        (QuantMode::Mxfp4, 8, 2, Dtype::Uint8, false),
        (QuantMode::Mxfp8, 16, 2, Dtype::Uint8, false),
        (
            QuantMode::Nvfp4 { global_scale: None },
            8,
            4,
            Dtype::Uint8,
            false,
        ),
        (
            QuantMode::Nvfp4 {
                global_scale: Some(100.0),
            },
            8,
            4,
            Dtype::Uint8,
            false,
        ),
    ];
    for (mode, packed, groups, scale_dtype, has_biases) in expect {
        let q = quantize(&w, mode).unwrap();
        assert_eq!(q.weights.shape(), [4, packed], "{mode}");
        assert_eq!(q.weights.dtype(), Dtype::Uint32, "{mode}");
        assert_eq!(q.scales.shape(), [4, groups], "{mode}");
        assert_eq!(q.scales.dtype(), scale_dtype, "{mode}");
        assert_eq!(q.biases.is_some(), has_biases, "{mode}");
        assert_eq!(q.dequantize(None).unwrap().shape(), [4, 64], "{mode}");
    }
    // The raw path with no group size or bits: MLX's per-mode defaults.
    for (mode, packed, groups) in [
        ("affine", 8, 1),
        ("mxfp4", 8, 2),
        ("mxfp8", 16, 2),
        ("nvfp4", 8, 4),
    ] {
        let p = Params {
            mode,
            group_size: None,
            bits: None,
        };
        let parts = raw::quantize(&w, &p, None).unwrap();
        assert_eq!(parts.len(), if mode == "affine" { 3 } else { 2 }, "{mode}");
        assert_eq!(parts[0].shape(), [4, packed], "{mode}");
        assert_eq!(parts[1].shape(), [4, groups], "{mode}");
    }
    // A mode MLX does not know comes back quoted exactly.
    for bogus in ["linear", "affine ", "mxfp4\u{e9}"] {
        let p = Params {
            mode: bogus,
            group_size: None,
            bits: None,
        };
        match raw::quantize(&w, &p, None) {
            Err(Error::Mlx { message, .. }) => {
                assert_eq!(
                    message,
                    format!("[quantize] Invalid quantization mode '{bogus}'.")
                )
            }
            other => panic!("{bogus}: {other:?}"),
        }
    }
}

#[test]
fn impossible_parameters_are_rejected_before_mlx() {
    fn invalid<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::InvalidQuantization { reason }) => reason,
            other => panic!("expected InvalidQuantization, got {other:?}"),
        }
    }
    assert!(invalid(QuantMode::affine(7, 64)).contains("2, 3, 4, 5, 6 or 8 bits, not 7"));
    assert!(invalid(QuantMode::affine(4, 16)).contains("group size 32, 64 or 128, not 16"));
    assert!(
        invalid(QuantMode::from_parts("mxfp4", Some(64), None)).contains("group size 32, not 64")
    );
    assert!(invalid(QuantMode::from_parts("mxfp8", None, Some(4))).contains("takes 8 bits, not 4"));
    assert!(
        invalid(QuantMode::from_parts("nvfp4", Some(32), None)).contains("group size 16, not 32")
    );
    assert!(invalid(QuantMode::from_str("linear")).contains("unknown quantization mode 'linear'"));
    assert!(invalid(QuantMode::from_str("Affine")).contains("'Affine'"));
    let p = Params {
        mode: "aff\0ine",
        group_size: None,
        bits: None,
    };
    let w = Array::ones(&[4, 64], Dtype::Float32).unwrap();
    assert!(invalid(raw::quantize(&w, &p, None)).contains("NUL"));

    // nvfp4 with a global scale has no quantized_matmul in MLX
    let mode = QuantMode::Nvfp4 {
        global_scale: Some(100.0),
    };
    let q = quantize(&w, mode).unwrap();
    let x = Array::ones(&[1, 64], Dtype::Float32).unwrap();
    assert!(invalid(quantized_matmul(&x, &q, true)).contains("global-scale"));
    let idx = Array::from_slice(&[0u32], &[1]).unwrap();
    let gather = GatherIndices {
        rhs: Some(&idx),
        ..Default::default()
    };
    assert!(invalid(gather_qmm(&x, &q, gather, true)).contains("global-scale"));
    // qqmm has no biases
    let affine = quantize(&w, QuantMode::default()).unwrap();
    assert!(invalid(qqmm(&x, &affine, None)).contains("no biases"));
    assert!(invalid(qqmm_dense(&x, &w, QuantMode::default(), None)).contains("no biases"));
}

#[test]
fn modes_parse_print_and_count_bits() {
    for m in ["affine", "mxfp4", "mxfp8", "nvfp4"] {
        assert_eq!(QuantMode::from_str(m).unwrap().name(), m);
    }
    assert_eq!("affine".parse::<QuantMode>().unwrap(), QuantMode::default());
    assert_eq!(
        QuantMode::default().to_string(),
        "affine (4 bits, group size 64)"
    );
    assert_eq!(
        QuantMode::Nvfp4 {
            global_scale: Some(2.5)
        }
        .to_string(),
        "nvfp4 (global scale 2.5)"
    );
    // bits per weight follow from the formats
    assert_eq!(
        QuantMode::affine(4, 64)
            .unwrap()
            .bits_per_weight(Dtype::Float16),
        4.5
    );
    assert_eq!(
        QuantMode::affine(4, 64)
            .unwrap()
            .bits_per_weight(Dtype::Float32),
        5.0
    );
    assert_eq!(
        QuantMode::affine(2, 128)
            .unwrap()
            .bits_per_weight(Dtype::Bfloat16),
        2.25
    );
    assert_eq!(QuantMode::Mxfp4.bits_per_weight(Dtype::Float16), 4.25);
    assert_eq!(QuantMode::Mxfp8.bits_per_weight(Dtype::Float16), 8.25);
    assert_eq!(
        QuantMode::Nvfp4 { global_scale: None }.bits_per_weight(Dtype::Float16),
        4.5
    );
    for b in AffineBits::ALL {
        assert_eq!(AffineBits::try_from(b.get()).unwrap(), b);
    }
    for g in GroupSize::ALL {
        assert_eq!(GroupSize::try_from(g.get()).unwrap(), g);
    }
}

/// Every error MLX raises, with MLX's text (and when: building or
/// evaluating), through the public API: the typed functions where they can
/// express the case, the raw path where the types make it impossible.
#[test]
fn errors_match_python() {
    let z = |s: &[i32]| Array::zeros(s, Dtype::Float32).unwrap();
    let wq = z(&[4, 64]);
    let aff = quantize(&wq, QuantMode::default()).unwrap();
    let (q, s, b) = (
        aff.weights.clone(),
        aff.scales.clone(),
        aff.biases.clone().unwrap(),
    );
    let fp = quantize(&wq, QuantMode::Mxfp4).unwrap();
    let nv = quantize(&z(&[32, 64]), QuantMode::Nvfp4 { global_scale: None }).unwrap();
    let x = z(&[3, 64]);
    let one = Array::scalar(1.0f32).unwrap();
    let user = |w: &Array, s: &Array, b: Option<&Array>, mode| Quantized {
        weights: w.clone(),
        scales: s.clone(),
        biases: b.cloned(),
        mode,
    };
    let p = |mode, group_size, bits| Params {
        mode,
        group_size,
        bits,
    };
    let raw_q = |params: Params<'_>, g: Option<&Array>| {
        raw::quantize(&wq, &params, g).map(|mut v| v.remove(0))
    };
    let u32s = |v: &[u32]| Array::from_slice(v, &[v.len() as i32]).unwrap();
    let nvfp4 = QuantMode::Nvfp4 { global_scale: None };

    let cases: Vec<ErrorCase<'_>> = vec![
        (
            "quantize_bad_mode",
            Box::new(|| raw_q(p("linear", None, None), None)),
        ),
        (
            "quantize_bad_mode_case",
            Box::new(|| raw_q(p("Affine", None, None), None)),
        ),
        (
            "quantize_group_size_16",
            Box::new(|| raw_q(p("affine", Some(16), None), None)),
        ),
        (
            "quantize_bits_7",
            Box::new(|| raw_q(p("affine", None, Some(7)), None)),
        ),
        (
            "quantize_bits_1",
            Box::new(|| raw_q(p("affine", None, Some(1)), None)),
        ),
        (
            "quantize_last_dim",
            Box::new(|| quantize(&z(&[4, 40]), QuantMode::affine(4, 32)?).map(|q| q.weights)),
        ),
        (
            "quantize_1d",
            Box::new(|| quantize(&z(&[64]), QuantMode::default()).map(|q| q.weights)),
        ),
        (
            "quantize_int",
            Box::new(|| {
                quantize(&Array::zeros(&[4, 64], Dtype::Int32)?, QuantMode::default())
                    .map(|q| q.weights)
            }),
        ),
        (
            "quantize_mxfp4_group_64",
            Box::new(|| raw_q(p("mxfp4", Some(64), None), None)),
        ),
        (
            "quantize_mxfp4_bits_8",
            Box::new(|| raw_q(p("mxfp4", None, Some(8)), None)),
        ),
        (
            "quantize_mxfp8_bits_4",
            Box::new(|| raw_q(p("mxfp8", None, Some(4)), None)),
        ),
        (
            "quantize_nvfp4_group_32",
            Box::new(|| raw_q(p("nvfp4", Some(32), None), None)),
        ),
        (
            "quantize_global_scale_affine",
            Box::new(|| raw_q(p("affine", None, None), Some(&one))),
        ),
        (
            "quantize_global_scale_mxfp4",
            Box::new(|| raw_q(p("mxfp4", None, None), Some(&one))),
        ),
        (
            "quantize_global_scale_bf16",
            Box::new(|| {
                raw_q(
                    p("nvfp4", None, None),
                    Some(&Array::scalar(mlx_rs::bf16::ONE)?),
                )
            }),
        ),
        (
            "quantize_global_scale_shape",
            Box::new(|| {
                raw_q(
                    p("nvfp4", None, None),
                    Some(&Array::from_slice(&[1.0f32, 2.0], &[2])?),
                )
            }),
        ),
        (
            "dequantize_missing_biases",
            Box::new(|| user(&q, &s, None, QuantMode::default()).dequantize(None)),
        ),
        (
            "dequantize_biases_fp",
            Box::new(|| {
                user(
                    &fp.weights,
                    &fp.scales,
                    Some(&b.astype(Dtype::Uint8)?),
                    QuantMode::Mxfp4,
                )
                .dequantize(None)
            }),
        ),
        (
            "dequantize_affine_scales_for_fp",
            Box::new(|| user(&q, &s, Some(&b), QuantMode::Mxfp4).dequantize(None)),
        ),
        (
            "dequantize_scales_shape",
            Box::new(|| {
                user(&q, &z(&[4, 2]), Some(&z(&[4, 2])), QuantMode::default()).dequantize(None)
            }),
        ),
        (
            "dequantize_w_dtype",
            Box::new(|| {
                user(&q.astype(Dtype::Int32)?, &s, Some(&b), QuantMode::default()).dequantize(None)
            }),
        ),
        (
            "dequantize_out_int",
            Box::new(|| fp.dequantize(Some(Dtype::Int32))),
        ),
        (
            "dequantize_1d",
            Box::new(|| {
                user(
                    &q.reshape(&[-1])?,
                    &s.reshape(&[-1])?,
                    Some(&b.reshape(&[-1])?),
                    QuantMode::default(),
                )
                .dequantize(None)
            }),
        ),
        (
            "dequantize_bad_mode",
            Box::new(|| raw::dequantize(&q, &s, Some(&b), &p("int4", None, None), None, None)),
        ),
        (
            "dequantize_global_scale_affine",
            Box::new(|| {
                raw::dequantize(&q, &s, Some(&b), &p("affine", None, None), Some(&one), None)
            }),
        ),
        (
            "qmm_shape",
            Box::new(|| quantized_matmul(&z(&[3, 32]), &aff, true)),
        ),
        (
            "qmm_missing_biases",
            Box::new(|| quantized_matmul(&x, &user(&q, &s, None, QuantMode::default()), true)),
        ),
        (
            "qmm_biases_fp",
            Box::new(|| {
                quantized_matmul(
                    &x,
                    &user(
                        &fp.weights,
                        &fp.scales,
                        Some(&b.astype(Dtype::Uint8)?),
                        QuantMode::Mxfp4,
                    ),
                    true,
                )
            }),
        ),
        (
            "qmm_transpose_shape",
            Box::new(|| quantized_matmul(&x, &aff, false)),
        ),
        (
            "gather_qmm_float_indices",
            Box::new(|| {
                let idx = z(&[3]);
                gather_qmm(
                    &x,
                    &aff,
                    GatherIndices {
                        rhs: Some(&idx),
                        ..Default::default()
                    },
                    true,
                )
            }),
        ),
        (
            "gather_qmm_shape",
            Box::new(|| {
                let idx = u32s(&[0, 0, 0]);
                gather_qmm(
                    &z(&[3, 32]),
                    &aff,
                    GatherIndices {
                        rhs: Some(&idx),
                        ..Default::default()
                    },
                    true,
                )
            }),
        ),
        (
            "qqmm_bad_mode",
            Box::new(|| {
                raw::qqmm(
                    &z(&[1, 64]),
                    &z(&[32, 64]),
                    None,
                    &p("int8", None, None),
                    None,
                    None,
                )
            }),
        ),
        (
            "qqmm_float64",
            Box::new(|| qqmm(&Array::zeros(&[1, 64], Dtype::Float64)?, &nv, None)),
        ),
        (
            "qqmm_mode_mismatch",
            Box::new(|| {
                qqmm(
                    &z(&[1, 64]),
                    &user(&nv.weights, &nv.scales, None, QuantMode::Mxfp8),
                    None,
                )
            }),
        ),
        (
            "qqmm_one_global_scale",
            Box::new(|| {
                let mode = QuantMode::Nvfp4 {
                    global_scale: Some(1.0),
                };
                qqmm(
                    &z(&[1, 64]),
                    &user(&nv.weights, &nv.scales, None, mode),
                    None,
                )
            }),
        ),
        (
            "qqmm_global_scale_mxfp8",
            Box::new(|| {
                let q = quantize(&z(&[32, 64]), QuantMode::Mxfp8)?;
                qqmm(&z(&[1, 64]), &q, Some(1.0))
            }),
        ),
        (
            "qqmm_dense_cpu",
            Box::new(|| qqmm_dense(&z(&[1, 64]), &z(&[32, 64]), nvfp4, None)),
        ),
        ("qqmm_rows_cpu", Box::new(|| qqmm(&z(&[2, 64]), &nv, None))),
    ];

    let golden_errors = golden()["errors"].as_object().unwrap();
    let names: BTreeSet<&str> = cases.iter().map(|(n, _)| *n).collect();
    let stored: BTreeSet<&str> = golden_errors.keys().map(String::as_str).collect();
    assert_eq!(names, stored, "one Rust call per stored MLX error");
    let mut checked = 0;
    for (name, f) in &cases {
        // MLX's CPU backend lacks these kernels; a GPU may have them
        if name.ends_with("_cpu") && !on_cpu() {
            continue;
        }
        assert_mlx_error(f(), &golden_errors[*name], name);
        checked += 1;
    }
    let skipped = cases.iter().filter(|(n, _)| n.ends_with("_cpu")).count();
    assert_eq!(
        checked,
        if on_cpu() {
            cases.len()
        } else {
            cases.len() - skipped
        }
    );
}

/// The `_on` variants run on the stream they are given (a fresh stream of
/// the default device) with the same results.
#[test]
fn explicit_stream_variants_match_python() {
    use mlx_rs::quantization::{
        dequantize_on, gather_qmm_on, qqmm_on, quantize_on, quantized_matmul_on,
    };
    let s = quant_fast_support::fresh_stream();
    let w = input("w");
    let case = &golden()["qmm"][0];
    let mode = mode_of(case);
    let q = quantize_on(&w, mode, &s).unwrap();
    let y = quantized_matmul_on(&input("x"), &q, true, &s).unwrap();
    assert_golden(&y, &case["out"], tol::QMM, "quantized_matmul_on");
    let deq = dequantize_on(&q, None, &s).unwrap();
    let grid = golden()["affine"].as_array().unwrap();
    let want = grid.iter().find(|c| mode_of(c) == mode).unwrap();
    assert_golden(&deq, &want["dequantized"], tol::DEQUANTIZE, "dequantize_on");

    let gcase = &golden()["gather_qmm"][0];
    let gq = quantize_on(&input("gather_w"), mode_of(gcase), &s).unwrap();
    let rhs = input("rhs");
    let idx = GatherIndices {
        rhs: Some(&rhs),
        ..Default::default()
    };
    let g = gather_qmm_on(&input("gather_x"), &gq, idx, true, &s).unwrap();
    assert_golden(&g, &gcase["rhs"], tol::QMM, "gather_qmm_on");

    let qcase = &golden()["qqmm"][0];
    let qq = quantize_on(&w, mode_of(qcase), &s).unwrap();
    let z = qqmm_on(&input("qqmm_x"), &qq, None, &s).unwrap();
    assert_golden(&z, &qcase["out"], tol::QQMM, "qqmm_on");
}

#[test]
fn golden_inputs_have_the_documented_shapes() {
    // The grid's input: 5 rows of 128 (random, all negative, all positive,
    // ties, constant).
    let w = &golden()["inputs"]["w"];
    assert_eq!(shape(w), [5, 128]);
    let v = values(&array(w));
    assert!(v[128..256].iter().all(|&x| x < 0.0), "all-negative row");
    assert!(v[256..384].iter().all(|&x| x > 0.0), "all-positive row");
    assert!(v[512..640].iter().all(|&x| x == v[512]), "constant row");
}
