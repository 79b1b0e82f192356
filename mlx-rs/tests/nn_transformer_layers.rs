//! `nn::Transformer*` against Python MLX 0.32.2
//! (`scripts/golden/nn_transformer_layers.py`): for each layer, the
//! parameters the constructor draws after `random::seed` (bit for bit
//! Python's initialisation and names), the output with additive masks and
//! the gradients of `sum(out · c)` with respect to every parameter, bit for
//! bit on the CPU; pre-norm and post-norm blocks.

mod common;
mod device;

use common::compare::assert_golden;
use common::golden::{array, golden_file, pinned};
use device::{Family, Report};
use mlx_rs::fast::AttentionMask;
use mlx_rs::nn::{
    Module, Transformer, TransformerConfig, TransformerDecoder, TransformerDecoderLayer,
    TransformerEncoder, TransformerEncoderLayer,
};
use mlx_rs::ops::{sum, Axes};
use mlx_rs::{Array, Dtype};
use serde_json::Value;

const D: i32 = 16;
const H: i32 = 4;
const M: Option<i32> = Some(24);

/// Checks the seeded parameters, then loads Python's values.
fn seeded<L: Module>(r: &mut Report, name: &str, c: &Value, layer: &mut L) {
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

/// Output and gradients of `run(layer, inputs)`; the inputs are src,
/// tgt, src_mask, tgt_mask, mem_mask, cotangent.
fn check<L, F>(r: &mut Report, name: &str, c: &Value, mut layer: L, run: F)
where
    L: Module + Clone,
    F: Fn(&L, &[Array]) -> mlx_rs::Result<Array> + Copy + 'static,
{
    seeded(r, name, c, &mut layer);
    let inputs: Vec<Array> = [
        "src",
        "tgt",
        "src_mask",
        "tgt_mask",
        "mem_mask",
        "cotangent",
    ]
    .iter()
    .map(|k| array(&c[*k]))
    .collect();
    let y = run(&layer, &inputs).unwrap();
    assert_golden(r, &y, &c["y"], Family::Sdpa, &format!("{name}: forward"));
    let (_, grads) = layer
        .value_and_grad(
            move |l: &L, a: &[Array]| Ok(vec![sum(&(run(l, a)? * &a[5])?, Axes::All, false)?]),
            &inputs,
        )
        .unwrap();
    let want = c["grads"].as_object().unwrap();
    assert_eq!(grads.len(), want.len(), "{name}: gradient names");
    for (k, w) in want {
        assert_golden(r, &grads[k], w, Family::Sdpa, &format!("{name}: grad {k}"));
    }
}

fn mask(a: &Array) -> AttentionMask<'_> {
    AttentionMask::Array(a)
}

#[test]
fn transformer_layers_match_python() {
    let g = pinned(golden_file!("nn_transformer_layers.json"));
    let mut r = Report::new();
    for (name, c) in g["cases"].as_object().unwrap() {
        mlx_rs::random::seed(c["seed"].as_u64().unwrap()).unwrap();
        let post = name.ends_with("_post");
        match name.as_str() {
            "encoder_layer_pre" | "encoder_layer_post" => {
                let l = TransformerEncoderLayer::new(D, H, M, 0.0, !post).unwrap();
                check(&mut r, name, c, l, |l, a| l.forward(&a[0], mask(&a[2])));
            }
            "encoder" => {
                let l = TransformerEncoder::new(2, D, H, None, 0.0, true).unwrap();
                check(&mut r, name, c, l, |l, a| l.forward(&a[0], mask(&a[2])));
            }
            "decoder_layer_pre" | "decoder_layer_post" => {
                let l = TransformerDecoderLayer::new(D, H, M, 0.0, !post).unwrap();
                check(&mut r, name, c, l, |l, a| {
                    l.forward(&a[1], &a[0], mask(&a[3]), mask(&a[4]))
                });
            }
            "decoder" => {
                let l = TransformerDecoder::new(2, D, H, M, 0.0, true).unwrap();
                check(&mut r, name, c, l, |l, a| {
                    l.forward(&a[1], &a[0], mask(&a[3]), mask(&a[4]))
                });
            }
            "transformer" | "transformer_post" => {
                let (enc, dec) = if post { (2, 1) } else { (1, 2) };
                let l = Transformer::new(TransformerConfig {
                    dims: D,
                    num_heads: H,
                    num_encoder_layers: enc,
                    num_decoder_layers: dec,
                    mlp_dims: M,
                    dropout: 0.0,
                    norm_first: !post,
                })
                .unwrap();
                check(&mut r, name, c, l, |l, a| {
                    l.forward(&a[0], &a[1], mask(&a[2]), mask(&a[3]), mask(&a[4]))
                });
            }
            other => panic!("unknown case {other}"),
        }
    }
    r.finish();
}

#[test]
fn transformer_layers_refuse_bad_input() {
    let e = TransformerEncoderLayer::new(10, 4, None, 0.0, true).unwrap_err();
    assert!(e.to_string().contains("(10 % 4) != 0"), "{e}");
    let e = TransformerDecoder::new(1, 8, 2, None, 1.5, true).unwrap_err();
    assert!(
        e.to_string()
            .contains("The dropout probability 1.5 is not in [0, 1)"),
        "{e}"
    );
    let l = TransformerEncoderLayer::new(8, 2, None, 0.0, true).unwrap();
    let e = l
        .forward(
            &Array::ones(&[1, 3, 6], Dtype::Float32).unwrap(),
            AttentionMask::None,
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            mlx_rs::Error::Mlx { .. } | mlx_rs::Error::InvalidArgument { .. }
        ),
        "{e}"
    );
    // The Python defaults.
    let t = TransformerConfig::default();
    assert_eq!(
        (
            t.dims,
            t.num_heads,
            t.num_encoder_layers,
            t.num_decoder_layers
        ),
        (512, 8, 6, 6)
    );
}
