//! Inputs that MLX 0.32.2 does not check and would crash on (SIGFPE,
//! out-of-bounds reads) are refused by mlx-rs with an `Err` naming what is
//! wrong, before anything runs; the valid neighbours still work.

mod device;

use mlx_rs::fast::{scaled_dot_product_attention, SdpaOptions};
use mlx_rs::quantization::raw::{self, Params};
use mlx_rs::quantization::{gather_qmm, quantize, GatherIndices, QuantMode};
use mlx_rs::{Array, Dtype, Error};

#[test]
fn quantization_group_size_and_bits_below_one_are_refused() {
    let w = Array::ones(&[4, 64], Dtype::Float32).unwrap();
    for mode in ["affine", "mxfp4", "mxfp8", "nvfp4"] {
        for (group_size, bits, what) in [
            (Some(0), None, "group size must be positive, got 0"),
            (Some(-32), None, "group size must be positive, got -32"),
            (None, Some(0), "bits must be positive, got 0"),
        ] {
            let params = Params {
                mode,
                group_size,
                bits,
            };
            match raw::quantize(&w, &params, None) {
                Err(Error::InvalidQuantization { reason }) => assert_eq!(reason, what, "{mode}"),
                other => panic!("{mode} {group_size:?} {bits:?}: {other:?}"),
            }
            let d = raw::dequantize(&w, &w, None, &params, None, None);
            assert!(
                matches!(d, Err(Error::InvalidQuantization { .. })),
                "{mode}: {d:?}"
            );
        }
    }
    // The valid neighbour still quantizes.
    let ok = Params {
        mode: "affine",
        group_size: Some(32),
        bits: Some(4),
    };
    assert_eq!(raw::quantize(&w, &ok, None).unwrap().len(), 3);
}

#[test]
fn gather_qmm_refuses_expert_indices_out_of_range() {
    // Two experts of [8, 64] weights.
    let w = Array::ones(&[2, 8, 64], Dtype::Float32).unwrap();
    let q = quantize(&w, QuantMode::default()).unwrap();
    let x = Array::ones(&[1, 1, 64], Dtype::Float32).unwrap();
    for bad in [2u32, 7] {
        let idx = Array::from_slice(&[bad], &[1]).unwrap();
        let indices = GatherIndices {
            lhs: None,
            rhs: Some(&idx),
            sorted: false,
        };
        match gather_qmm(&x, &q, indices, true) {
            Err(Error::InvalidIndex { op, reason }) => {
                assert_eq!(op, "mlx_gather_qmm");
                assert_eq!(
                    reason,
                    format!("index {bad} is out of bounds for a size of 2")
                );
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let neg = Array::from_slice(&[-1i32], &[1]).unwrap();
    let indices = GatherIndices {
        lhs: None,
        rhs: Some(&neg),
        sorted: false,
    };
    assert!(matches!(
        gather_qmm(&x, &q, indices, true),
        Err(Error::InvalidIndex { .. })
    ));
    let lhs = Array::from_slice(&[1u32], &[1]).unwrap();
    let indices = GatherIndices {
        lhs: Some(&lhs),
        rhs: None,
        sorted: false,
    };
    assert!(matches!(
        gather_qmm(&x, &q, indices, true),
        Err(Error::InvalidIndex { .. })
    ));
    // In range: each row of the result is 64 (ones times ones) for expert 1.
    let one = Array::from_slice(&[1u32], &[1]).unwrap();
    let indices = GatherIndices {
        lhs: None,
        rhs: Some(&one),
        sorted: false,
    };
    let y = gather_qmm(&x, &q, indices, true).unwrap();
    assert_eq!(y.shape(), [1, 1, 8]);
    assert!(y
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .all(|&v| (v - 64.0).abs() < 1e-3));
}

#[test]
fn attention_with_no_key_or_value_heads_is_refused() {
    let q = Array::ones(&[1, 2, 3, 8], Dtype::Float32).unwrap();
    let empty = Array::ones(&[1, 0, 3, 8], Dtype::Float32).unwrap();
    let kv = Array::ones(&[1, 1, 3, 8], Dtype::Float32).unwrap();
    for (k, v, what) in [
        (&empty, &kv, "keys"),
        (&kv, &empty, "values"),
        (&empty, &empty, "keys"),
    ] {
        match scaled_dot_product_attention(&q, k, v, 0.5, SdpaOptions::default()) {
            Err(Error::InvalidArgument { op, reason }) => {
                assert_eq!(op, "mlx_fast_scaled_dot_product_attention");
                assert_eq!(reason, format!("{what} have no heads (shape [1, 0, 3, 8])"));
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    let y = scaled_dot_product_attention(&q, &kv, &kv, 0.5, SdpaOptions::default()).unwrap();
    assert_eq!(y.shape(), [1, 2, 3, 8]);
    // Exact on the CPU; the GPU kernel is within Family::Sdpa's tolerance.
    let tol = if device::on_cpu() { 1e-6 } else { 1e-3 };
    assert!(y
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .all(|&v| (v - 1.0).abs() < tol));
}
