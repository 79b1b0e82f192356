//! `nn` layers against Python MLX 0.32.2 (`scripts/golden/nn.py`), the KV
//! cache's growth, quantized layers in every mode, and the `Module` API
//! (strict loading, saving, counting, replacing layers).

mod common;
mod device;
mod nn_common;

use std::collections::HashMap;

use device::{Family, Report};
use mlx_rs::fast::AttentionMask;
use mlx_rs::io::LoadOptions;
use mlx_rs::nn::mlx_lm::QuantizationConfig;
use mlx_rs::nn::{
    dequantize, gelu, gelu_approx, gelu_fast_approx, quantize, replace_modules, silu, Attention,
    AttentionConfig, Embedding, EmbeddingLayer, KvCache, LayerCache, LayerNorm, Linear,
    LinearLayer, MaybeQuantized, Module, QuantizeConfig, QuantizedLinear, RmsNorm, Rope,
};
use mlx_rs::quantization::QuantMode;
use mlx_rs::{Array, Dtype, Error};
use nn_common::{assert_close, decode, det_weight, fill, golden};

/// Tolerance against Python for single layers on the CPU (identical
/// kernels give 0); on the GPU each layer's op family's applies.
const TOL: f32 = 1e-5;

fn all_modes() -> Vec<QuantMode> {
    vec![
        QuantMode::affine(2, 32).unwrap(),
        QuantMode::affine(3, 64).unwrap(),
        QuantMode::affine(4, 64).unwrap(),
        QuantMode::affine(5, 32).unwrap(),
        QuantMode::affine(6, 128).unwrap(),
        QuantMode::affine(8, 128).unwrap(),
        QuantMode::Mxfp4,
        QuantMode::Mxfp8,
        QuantMode::Nvfp4 { global_scale: None },
    ]
}

#[test]
fn layers_match_python() {
    let g = golden();
    let c = &g["layers"];
    let x = decode(&c["x"]);
    let mut r = Report::new();
    let lin = Linear {
        weight: det_weight("lin.weight", &[4, 8]),
        bias: Some(det_weight("lin.bias", &[4])),
    };
    assert_close(
        &mut r,
        &lin.forward(&x).unwrap(),
        &decode(&c["linear_bias"]),
        Family::Matmul,
        TOL,
        "linear",
    );
    let ln = LayerNorm {
        weight: Some(det_weight("ln.norm.weight", &[8])),
        bias: Some(det_weight("ln.bias", &[8])),
        eps: 1e-5,
    };
    assert_close(
        &mut r,
        &ln.forward(&x).unwrap(),
        &decode(&c["layer_norm"]),
        Family::LayerNorm,
        TOL,
        "layer_norm",
    );
    let rms = RmsNorm {
        weight: det_weight("rms.norm.weight", &[8]),
        eps: 1e-5,
    };
    assert_close(
        &mut r,
        &rms.forward(&x).unwrap(),
        &decode(&c["rms_norm"]),
        Family::RmsNorm,
        TOL,
        "rms_norm",
    );
    let rope = Rope::new(8, 10000.0);
    assert_close(
        &mut r,
        &rope.forward(&x, 3).unwrap(),
        &decode(&c["rope_offset3"]),
        Family::Rope,
        TOL,
        "rope",
    );
    // The activations run Python's compiled graphs: exact on the CPU.
    assert_close(
        &mut r,
        &silu(&x).unwrap(),
        &decode(&c["silu"]),
        Family::Transcendental,
        0.0,
        "silu",
    );
    assert_close(
        &mut r,
        &gelu(&x).unwrap(),
        &decode(&c["gelu"]),
        Family::Transcendental,
        0.0,
        "gelu",
    );
    assert_close(
        &mut r,
        &gelu_approx(&x).unwrap(),
        &decode(&c["gelu_approx"]),
        Family::Transcendental,
        0.0,
        "gelu_approx",
    );
    assert_close(
        &mut r,
        &gelu_fast_approx(&x).unwrap(),
        &decode(&c["gelu_fast_approx"]),
        Family::Transcendental,
        0.0,
        "gelu_fast_approx",
    );
    let emb = Embedding {
        weight: det_weight("emb.weight", &[10, 8]),
    };
    let ids = Array::from_slice(&[1u32, 9, 0, 4, 4, 2], &[2, 3]).unwrap();
    assert_close(
        &mut r,
        &emb.forward(&ids).unwrap(),
        &decode(&c["embedding"]),
        Family::Exact,
        TOL,
        "embedding",
    );
    assert_close(
        &mut r,
        &emb.as_linear(&x).unwrap(),
        &decode(&c["embedding_as_linear"]),
        Family::Matmul,
        TOL,
        "embedding.as_linear",
    );
    r.finish();
}

#[test]
fn embedding_rejects_out_of_range_ids() {
    let emb = Embedding::new(4, 2).unwrap();
    let ids = Array::from_slice(&[4u32], &[1]).unwrap();
    assert!(matches!(emb.forward(&ids), Err(Error::InvalidIndex { .. })));
}

#[test]
fn quantized_layers_in_every_mode() {
    let w = det_weight("q.weight", &[16, 128]);
    let x = (det_weight("q.x", &[3, 128]) * 5.0).unwrap();
    let lin = Linear {
        weight: w.clone(),
        bias: Some(det_weight("q.bias", &[16])),
    };
    let mut r = Report::new();
    for mode in all_modes() {
        let q = lin.to_quantized(mode).unwrap();
        assert_eq!(q.weight.dtype(), Dtype::Uint32);
        assert_eq!((q.input_dims(), q.output_dims()), (128, 16), "{mode}");
        assert_eq!(q.biases.is_some(), mode.has_biases());
        // the quantized product is the float product with ŵ (a TF32
        // matmul on the GPU)
        let deq = q.to_linear(Some(Dtype::Float32)).unwrap();
        // x is [3, 128]: one group per row at group size 128, a known MLX
        // GPU mismatch for 4 and 8 bits (device::GPU_QMM_MISMATCHES)
        let known = device::known_gpu_qmm_mismatch(&mode.to_string(), 3, 16, 128);
        let check = |r: &mut Report, got: &Array, want: &Array, what: &str| {
            if known {
                let (g, w) = (device::host_f64(got), device::host_f64(want));
                device::assert_known_mismatch(r, &g, &w, what);
            } else {
                assert_close(r, got, want, Family::Matmul, 1e-4, what);
            }
        };
        check(
            &mut r,
            &q.forward(&x).unwrap(),
            &deq.forward(&x).unwrap(),
            &format!("{mode}"),
        );
        let names: Vec<String> = q.parameters().into_keys().collect();
        let want: &[&str] = if mode.has_biases() {
            &["bias", "biases", "scales", "weight"]
        } else {
            &["bias", "scales", "weight"]
        };
        assert_eq!(names, want);

        let e = Embedding { weight: w.clone() };
        let qe = e.to_quantized(mode).unwrap();
        assert_eq!(qe.dims(), 128);
        let ids = Array::from_slice(&[3u32, 0, 15], &[3]).unwrap();
        let rows = qe.forward(&ids).unwrap();
        let table = qe.quantized().dequantize(None).unwrap();
        assert_close(
            &mut r,
            &rows,
            &table.index(&ids).unwrap(),
            Family::Dequantize,
            0.0,
            &format!("{mode} quantized embedding rows"),
        );
        // tied head: x @ ŵᵀ
        let head = qe.as_linear(&x).unwrap();
        let want = Embedding {
            weight: qe.quantized().dequantize(Some(Dtype::Float32)).unwrap(),
        }
        .as_linear(&x)
        .unwrap();
        check(&mut r, &head, &want, &format!("{mode} tied head"));
    }
    r.finish();
}

#[test]
fn quantized_linear_rejects_global_scale_and_bad_group() {
    let lin = Linear::new(48, 8, false).unwrap();
    let gs = QuantMode::Nvfp4 {
        global_scale: Some(2.0),
    };
    assert!(matches!(
        lin.to_quantized(gs),
        Err(Error::InvalidQuantization { .. })
    ));
    assert!(matches!(
        lin.to_quantized(QuantMode::affine(4, 32).unwrap()),
        Err(Error::Mlx { .. })
    ));
    let q = QuantizedLinear::new(64, 8, true, QuantMode::Mxfp8).unwrap();
    assert_eq!(q.scales.shape(), [8, 2]);
}

#[test]
fn kv_cache_grows_in_steps() {
    let mut cache = KvCache::new();
    let chunk = |start: i32, t: i32| {
        // position p holds the value p in every element
        Array::arange(f64::from(start), f64::from(start + t), 1.0, Dtype::Float32)
            .unwrap()
            .reshape(&[1, 1, t, 1])
            .unwrap()
            .broadcast_to(&[1, 2, t, 4])
            .unwrap()
    };
    let mut pos = 0;
    // as mlx-lm: a partly used block is trimmed before whole steps are added
    for (t, cap) in [
        (10, 256),
        (1, 256),
        (245, 256),
        (1, 512),
        (300, 769),
        (1, 769),
    ] {
        let kv = chunk(pos, t);
        let (k, v) = cache.update_and_fetch(&kv, &(&kv * 2.0).unwrap()).unwrap();
        pos += t;
        assert_eq!(cache.offset(), pos);
        assert_eq!(cache.capacity(), cap, "after {pos} positions");
        assert_eq!(k.shape(), [1, 2, pos, 4]);
        let got = k.index((0, 1, .., 0)).unwrap().to_vec::<f32>().unwrap();
        let want: Vec<f32> = (0..pos).map(|p| p as f32).collect();
        assert_eq!(got, want);
        assert_eq!(
            v.index((0, 0, -1, 3)).unwrap().item::<f32>().unwrap(),
            2.0 * (pos - 1) as f32
        );
    }
    let (k, _) = cache.state().unwrap().unwrap();
    assert_eq!(k.shape(), [1, 2, pos, 4]);
    cache.reset();
    assert_eq!((cache.offset(), cache.capacity()), (0, 0));
    assert!(cache.state().unwrap().is_none());
    let bad = Array::zeros(&[2, 4], Dtype::Float32).unwrap();
    assert!(matches!(
        cache.update_and_fetch(&bad, &bad),
        Err(Error::InvalidShape { .. })
    ));
}

#[test]
fn attention_with_cache_matches_without() {
    let cfg = AttentionConfig {
        dims: 32,
        n_heads: 8,
        n_kv_heads: 2,
        head_dim: 4,
        rope_base: 500000.0,
        bias: true,
    };
    let mut attn = Attention::new(cfg).unwrap();
    fill(&mut attn);
    let x = det_weight("attn.x", &[2, 6, 32]);
    let full = attn.forward(&x, AttentionMask::Causal, None).unwrap();
    let mut cache = LayerCache::from(KvCache::with_step(4));
    let a = attn
        .forward(
            &x.index((.., ..3)).unwrap(),
            AttentionMask::Causal,
            Some(&mut cache),
        )
        .unwrap();
    let b = attn
        .forward(
            &x.index((.., 3..5)).unwrap(),
            AttentionMask::Causal,
            Some(&mut cache),
        )
        .unwrap();
    let c = attn
        .forward(
            &x.index((.., 5..)).unwrap(),
            Attention::default_mask(1),
            Some(&mut cache),
        )
        .unwrap();
    let LayerCache::Standard(kv) = &cache else {
        panic!("a standard cache")
    };
    assert_eq!(kv.capacity(), 7); // 4, then trimmed to 3 + one step of 4
    let mut r = Report::new();
    let sdpa = Family::Sdpa;
    assert_close(
        &mut r,
        &a,
        &full.index((.., ..3)).unwrap(),
        sdpa,
        1e-5,
        "prefill",
    );
    assert_close(
        &mut r,
        &b,
        &full.index((.., 3..5)).unwrap(),
        sdpa,
        1e-5,
        "chunk",
    );
    assert_close(
        &mut r,
        &c,
        &full.index((.., 5..)).unwrap(),
        sdpa,
        1e-5,
        "decode",
    );
    r.finish();
    assert!(Attention::new(AttentionConfig {
        n_kv_heads: 3,
        ..cfg
    })
    .is_err());
    assert!(matches!(
        attn.forward(
            &Array::zeros(&[6, 32], Dtype::Float32).unwrap(),
            AttentionMask::None,
            None
        ),
        Err(Error::InvalidShape { .. })
    ));
}

#[derive(Debug, Module)]
struct Net {
    embed: EmbeddingLayer,
    blocks: [LinearLayer; 2],
    extra: Option<Box<Linear>>,
    #[module(rename = "ln_f")]
    final_norm: LayerNorm,
    #[module(skip)]
    note: String,
}

fn net() -> Net {
    Net {
        embed: EmbeddingLayer::new(16, 32).unwrap(),
        blocks: [
            LinearLayer::new(32, 32, true).unwrap(),
            LinearLayer::new(32, 64, false).unwrap(),
        ],
        extra: Some(Box::new(Linear::new(64, 8, false).unwrap())),
        final_norm: LayerNorm::new(8, 1e-5, true).unwrap(),
        note: "not a parameter".into(),
    }
}

#[test]
fn module_names_counts_and_strict_loading() {
    let mut m = net();
    let names: Vec<String> = m.parameters().into_keys().collect();
    assert_eq!(
        names,
        [
            "blocks.0.bias",
            "blocks.0.weight",
            "blocks.1.weight",
            "embed.weight",
            "extra.weight",
            "ln_f.bias",
            "ln_f.weight"
        ]
    );
    assert_eq!(m.num_parameters(), 32 + 1024 + 2048 + 512 + 512 + 8 + 8);
    assert_eq!(m.parameters_nbytes(), 4 * m.num_parameters());

    // strict: a missing name, an unexpected one and a wrong shape are all
    // reported, and nothing is loaded
    let mut w: HashMap<String, Array> = m.parameters().into_iter().collect();
    w.remove("ln_f.bias");
    w.insert("oops".into(), Array::zeros(&[1], Dtype::Float32).unwrap());
    w.insert(
        "extra.weight".into(),
        Array::ones(&[8, 63], Dtype::Float32).unwrap(),
    );
    w.insert(
        "embed.weight".into(),
        Array::ones(&[16, 32], Dtype::Float32).unwrap(),
    );
    match m.load_weights(w.clone()) {
        Err(Error::WeightsMismatch(r)) => {
            assert_eq!(r.missing, ["ln_f.bias"]);
            assert_eq!(r.unexpected, ["oops"]);
            assert_eq!(r.shape_mismatches[0].name, "extra.weight");
        }
        other => panic!("{other:?}"),
    }
    let MaybeQuantized::Float(e) = &m.embed else {
        panic!()
    };
    assert_eq!(e.weight.to_vec::<f32>().unwrap()[0], 0.0, "nothing loaded");
    // lenient: what matches is loaded, the rest is reported
    let r = m.load_weights_with(w, LoadOptions::lenient()).unwrap();
    assert!(!r.is_exact());
    let MaybeQuantized::Float(e) = &m.embed else {
        panic!()
    };
    assert_eq!(e.weight.to_vec::<f32>().unwrap()[0], 1.0);
    // dtype mismatch
    let mut w: HashMap<String, Array> = m.parameters().into_iter().collect();
    w.insert(
        "ln_f.bias".into(),
        Array::zeros(&[8], Dtype::Float16).unwrap(),
    );
    assert!(
        matches!(m.load_weights(w), Err(Error::WeightsMismatch(r)) if r.dtype_mismatches.len() == 1)
    );
    assert_eq!(m.note, "not a parameter");
}

#[test]
fn save_and_load_safetensors_round_trip() {
    let mut a = net();
    fill(&mut a);
    quantize(
        &mut a,
        &QuantizeConfig::new(QuantMode::affine(4, 32).unwrap()),
        None,
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!(
        "mlx-rs-nn-layers-{}.safetensors",
        std::process::id()
    ));
    a.save_safetensors(&path).unwrap();
    let mut b = net();
    // the file is quantized: quantize the same layers first, then load strictly
    let file = mlx_rs::io::load_safetensors(&path).unwrap();
    mlx_rs::nn::mlx_lm::quantize_for_weights(
        &mut b,
        &QuantizationConfig::new(QuantMode::affine(4, 32).unwrap()),
        &file.arrays,
    )
    .unwrap();
    b.load_safetensors(&path, LoadOptions::strict()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut r = Report::new();
    for (name, x) in a.parameters() {
        assert_close(
            &mut r,
            &b.parameters()[&name],
            &x,
            Family::Exact,
            0.0,
            &name,
        );
    }
    r.finish();
}

#[test]
fn replace_and_dequantize_layers() {
    let mut m = net();
    fill(&mut m);
    let mut seen = Vec::new();
    replace_modules(&mut m, |path, l: &mut Linear| {
        seen.push(path.to_owned());
        l.bias = None;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["blocks.0", "blocks.1", "extra"]);
    assert!(!m.parameters().contains_key("blocks.0.bias"));
    // an error stops the traversal
    let err = replace_modules(&mut m, |_, _: &mut LayerNorm| Err(Error::NotEvaluated));
    assert_eq!(err, Err(Error::NotEvaluated));
    // visit_modules sees every module once, with its path
    let mut paths = Vec::new();
    m.visit_modules("", &mut |p, _| {
        paths.push(p.to_owned());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        paths,
        ["", "embed", "embed", "blocks.0", "blocks.0", "blocks.1", "blocks.1", "extra", "ln_f"]
    );

    let x = det_weight("x", &[2, 32]);
    let before = m.blocks[0].forward(&x).unwrap();
    quantize(
        &mut m,
        &QuantizeConfig::new(QuantMode::affine(8, 32).unwrap()),
        None,
    )
    .unwrap();
    assert!(m.blocks[0].is_quantized() && m.embed.is_quantized());
    dequantize(&mut m, Some(Dtype::Float32)).unwrap();
    assert!(!m.blocks[0].is_quantized() && !m.embed.is_quantized());
    let mut r = Report::new();
    assert_close(
        &mut r,
        &m.blocks[0].forward(&x).unwrap(),
        &before,
        Family::Matmul,
        2e-2,
        "8-bit round trip",
    );
    r.finish();
}

#[test]
fn mlx_lm_quantization_block() {
    let block = serde_json::json!({"group_size": 64, "bits": 4, "mode": "affine",
        "model.layers.0.mlp.down_proj": {"group_size": 32, "bits": 8},
        "lm_head": false});
    let q = QuantizationConfig::from_json(&block).unwrap();
    assert_eq!(q.mode, QuantMode::default());
    assert_eq!(
        q.mode_for("model.layers.0.mlp.down_proj"),
        Some(QuantMode::affine(8, 32).unwrap())
    );
    assert_eq!(q.mode_for("lm_head"), None);
    assert_eq!(q.mode_for("anything"), Some(QuantMode::default()));
    let round = q.to_json();
    assert_eq!(round["model.layers.0.mlp.down_proj"]["mode"], "affine");
    assert_eq!(QuantizationConfig::from_json(&round).unwrap(), q);
    // legacy: no mode means affine; quantization_config as a fallback
    let legacy = serde_json::json!({"quantization_config": {"group_size": 32, "bits": 4}});
    let q = QuantizationConfig::from_config(&legacy).unwrap().unwrap();
    assert_eq!(q.mode, QuantMode::affine(4, 32).unwrap());
    assert!(QuantizationConfig::from_config(&serde_json::json!({}))
        .unwrap()
        .is_none());
    for bad in [
        serde_json::json!({"quantization": 4}),
        serde_json::json!({"quantization": {"bits": "four"}}),
        serde_json::json!({"quantization": {"bits": 7, "group_size": 64}}),
        serde_json::json!({"quantization": {"mode": "int4"}}),
        serde_json::json!({"quantization": {"mode": "mxfp4", "group_size": 64}}),
    ] {
        assert!(
            matches!(
                QuantizationConfig::from_config(&bad),
                Err(Error::InvalidQuantization { .. })
            ),
            "{bad}"
        );
    }
}

/// `quantize` says which float layers it could not quantize because their
/// field type is fixed (a plain `Linear` / `Embedding`), instead of
/// leaving them out of the report.
#[test]
fn quantize_reports_fixed_type_layers() {
    #[derive(Debug, Module)]
    struct Mixed {
        swappable: LinearLayer,
        plain: Linear,
        table: Embedding,
        layers: Vec<Linear>,
    }
    let mut m = Mixed {
        swappable: LinearLayer::new(64, 8, false).unwrap(),
        plain: Linear::new(64, 8, false).unwrap(),
        table: Embedding::new(16, 64).unwrap(),
        layers: vec![Linear::new(64, 8, true).unwrap()],
    };
    let mut config = QuantizeConfig::new(QuantMode::affine(4, 32).unwrap());
    config.embeddings = true;
    let report = quantize(&mut m, &config, None).unwrap();
    assert_eq!(report.quantized.len(), 1);
    assert_eq!(report.quantized[0].0, "swappable");
    assert_eq!(report.fixed_type, ["layers.0", "plain", "table"]);
    assert!(report.skipped.is_empty() && report.indivisible.is_empty());
    // A skipped or quantized LinearLayer is not reported as fixed.
    let mut again = Mixed {
        swappable: LinearLayer::new(64, 8, false).unwrap(),
        plain: Linear::new(64, 8, false).unwrap(),
        table: Embedding::new(16, 64).unwrap(),
        layers: vec![],
    };
    let r = quantize(
        &mut again,
        &config,
        Some(&|p: &str, _: &dyn Module| p != "swappable"),
    )
    .unwrap();
    assert_eq!(r.skipped, ["swappable"]);
    assert_eq!(r.fixed_type, ["plain", "table"]);
    // Without embeddings, the plain table is skipped, not fixed.
    config.embeddings = false;
    let r = quantize(&mut again, &config, None).unwrap();
    assert_eq!(
        (r.fixed_type, r.skipped),
        (vec!["plain".to_owned()], vec!["table".to_owned()])
    );
}
