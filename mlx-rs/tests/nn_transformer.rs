//! A tiny Llama-style transformer defined with `#[derive(Module)]`, run in
//! float and quantized form and compared with the same model in Python MLX
//! 0.32.2 (`scripts/golden/nn.py`), plus mlx-lm compatibility in both
//! directions.
//!
//! Tolerance: max |logit difference| <= 1e-4 against Python on the CPU
//! (logits are O(1); the two runs execute the same kernels, and the
//! measured differences are ~1e-7 or exactly 0); on the GPU
//! [`Family::TransformerLogits`] (`tests/device`: TF32 matmuls, other
//! reductions). The models are quantized on the CPU stream, so that the
//! forward pass under test gets Python's packed weights on every device
//! (quantization itself is `quantization.rs`'s).

mod common;
mod device;
mod nn_common;

use std::collections::{BTreeMap, HashMap};

use device::{on_cpu_stream, Family, Report};
use mlx_rs::fast::AttentionMask;
use mlx_rs::io::{self, LoadOptions};
use mlx_rs::nn::mlx_lm::{self, QuantizationConfig};
use mlx_rs::nn::{
    quantize, Attention, AttentionConfig, EmbeddingLayer, LayerCache, Mlp, Module, QuantizeConfig,
    RmsNorm,
};
use mlx_rs::quantization::QuantMode;
use mlx_rs::{Array, Error};
use nn_common::{assert_close, decode, fill, golden, golden_dir};
use serde_json::Value;

const TOL: f32 = 1e-4;

#[derive(Debug, Module)]
struct Block {
    self_attn: Attention,
    mlp: Mlp,
    input_layernorm: RmsNorm,
    post_attention_layernorm: RmsNorm,
}

#[derive(Debug, Module)]
struct TinyLlama {
    embed_tokens: EmbeddingLayer,
    layers: Vec<Block>,
    norm: RmsNorm,
}

impl Block {
    fn forward(
        &self,
        x: &Array,
        mask: AttentionMask<'_>,
        cache: Option<&mut LayerCache>,
    ) -> mlx_rs::Result<Array> {
        let h = (x + self
            .self_attn
            .forward(&self.input_layernorm.forward(x)?, mask, cache)?)?;
        &h + self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&h)?)?
    }
}

impl TinyLlama {
    fn new(c: &Value) -> mlx_rs::Result<Self> {
        let g = |k: &str| c[k].as_i64().unwrap() as i32;
        let eps = c["eps"].as_f64().unwrap() as f32;
        let attn = AttentionConfig {
            dims: g("dims"),
            n_heads: g("n_heads"),
            n_kv_heads: g("n_kv_heads"),
            head_dim: g("head_dim"),
            rope_base: c["rope_base"].as_f64().unwrap() as f32,
            bias: false,
        };
        let layers = (0..g("layers"))
            .map(|_| {
                Ok(Block {
                    self_attn: Attention::new(attn)?,
                    mlp: Mlp::new(g("dims"), g("hidden"), false)?,
                    input_layernorm: RmsNorm::new(g("dims"), eps)?,
                    post_attention_layernorm: RmsNorm::new(g("dims"), eps)?,
                })
            })
            .collect::<mlx_rs::Result<_>>()?;
        Ok(TinyLlama {
            embed_tokens: EmbeddingLayer::new(g("vocab"), g("dims"))?,
            layers,
            norm: RmsNorm::new(g("dims"), eps)?,
        })
    }

    fn forward(&self, ids: &Array, mut caches: Option<&mut [LayerCache]>) -> mlx_rs::Result<Array> {
        let t = ids.shape()[1];
        let mut h = self.embed_tokens.forward(ids)?;
        for (i, layer) in self.layers.iter().enumerate() {
            let cache = caches.as_deref_mut().map(|c| &mut c[i]);
            h = layer.forward(&h, Attention::default_mask(t), cache)?;
        }
        self.embed_tokens.as_linear(&self.norm.forward(&h)?)
    }
}

fn tokens(g: &Value) -> Array {
    let t: Vec<u32> = g["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    Array::from_slice(&t, &[1, t.len() as i32]).unwrap()
}

/// Full-sequence logits and KV-cache decode logits (prefill, then one token
/// at a time), as nn.py's `run`.
fn run(model: &TinyLlama, g: &Value) -> (Array, Array) {
    let ids = tokens(g);
    let full = model.forward(&ids, None).unwrap();
    let n = ids.shape()[1];
    let prefill = g["prefill"].as_i64().unwrap() as i32;
    let mut caches: Vec<LayerCache> = (0..model.layers.len())
        .map(|_| LayerCache::default())
        .collect();
    let first = model
        .forward(&ids.index((.., ..prefill)).unwrap(), Some(&mut caches))
        .unwrap();
    let mut steps = vec![first.index((.., prefill - 1..)).unwrap()];
    for t in prefill..n {
        steps.push(
            model
                .forward(&ids.index((.., t..t + 1)).unwrap(), Some(&mut caches))
                .unwrap(),
        );
    }
    assert_eq!(caches[0].offset(), n);
    let LayerCache::Standard(kv) = &caches[0] else {
        panic!("a standard cache")
    };
    assert_eq!(kv.capacity(), 256);
    let rows: Vec<Vec<f32>> = steps.iter().map(device::host_f32).collect();
    let vocab = full.shape()[2];
    let inc = Array::from_slice(&rows.concat(), &[1, steps.len() as i32, vocab]).unwrap();
    (full, inc)
}

fn mode_of(block: &Value) -> QuantMode {
    QuantizationConfig::from_json(block).unwrap().mode
}

fn built(g: &Value, run_name: &str) -> TinyLlama {
    let mut model = TinyLlama::new(&g["config"]).unwrap();
    fill(&mut model);
    let block = &g["runs"][run_name]["quantization"];
    if !block.is_null() {
        // on the CPU stream: Python's packed weights on every device
        on_cpu_stream(|| quantize(&mut model, &QuantizeConfig::new(mode_of(block)), None)).unwrap();
    }
    model
}

fn specs_json(model: &dyn Module) -> BTreeMap<String, Value> {
    model
        .weight_specs()
        .into_iter()
        .map(|(k, s)| (k, serde_json::json!([s.shape, s.dtype.to_string()])))
        .collect()
}

fn python_specs(g: &Value, run_name: &str) -> BTreeMap<String, Value> {
    g["runs"][run_name]["specs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check_run(run_name: &str) {
    let g = golden();
    let model = built(g, run_name);
    assert_eq!(
        specs_json(&model),
        python_specs(g, run_name),
        "{run_name}: names/shapes/dtypes"
    );
    let (full, inc) = run(&model, g);
    let want = &g["runs"][run_name];
    let mut r = Report::new();
    let logits = Family::TransformerLogits;
    assert_close(
        &mut r,
        &full,
        &decode(&want["logits"]),
        logits,
        TOL,
        &format!("{run_name} logits"),
    );
    assert_close(
        &mut r,
        &inc,
        &decode(&want["incremental"]),
        logits,
        TOL,
        &format!("{run_name} incremental"),
    );
    // the cache reproduces the full sequence's last rows
    let n = full.shape()[1];
    let tail = full.index((.., n - inc.shape()[1]..)).unwrap();
    let what = format!("{run_name} cache vs full");
    assert_close(&mut r, &inc, &tail, logits, TOL, &what);
    r.finish();
}

#[test]
fn float_matches_python() {
    check_run("float");
}

#[test]
fn affine4_matches_python() {
    check_run("affine4");
}

#[test]
fn affine8_matches_python() {
    check_run("affine8");
}

#[test]
fn mxfp4_matches_python() {
    check_run("mxfp4");
}

#[test]
fn mxfp8_matches_python() {
    check_run("mxfp8");
}

#[test]
fn nvfp4_matches_python() {
    check_run("nvfp4");
}

#[test]
fn quantize_leaves_indivisible_layers_alone() {
    let g = golden();
    let mut model = TinyLlama::new(&g["config"]).unwrap();
    fill(&mut model);
    let report = quantize(
        &mut model,
        &QuantizeConfig::new(QuantMode::affine(4, 32).unwrap()),
        None,
    )
    .unwrap();
    // hidden = 48 is not a multiple of 32: down_proj stays float, as in mlx-lm
    assert_eq!(
        report.indivisible,
        ["layers.0.mlp.down_proj", "layers.1.mlp.down_proj"]
    );
    assert_eq!(report.quantized.len(), 1 + 2 * 6);
    assert!(!model.layers[0].mlp.down_proj.is_quantized());
    assert!(model.embed_tokens.is_quantized());
    // already quantized layers are not touched again
    let again = quantize(&mut model, &QuantizeConfig::new(QuantMode::Mxfp4), None).unwrap();
    assert!(again.quantized.is_empty());
}

#[test]
fn quantize_with_predicate_and_without_embeddings() {
    let g = golden();
    let mut model = TinyLlama::new(&g["config"]).unwrap();
    let config = QuantizeConfig::new(QuantMode::Nvfp4 { global_scale: None }).embeddings(false);
    let skip_layer1 = |path: &str, _: &dyn Module| !path.starts_with("layers.1.");
    let report = quantize(&mut model, &config, Some(&skip_layer1)).unwrap();
    assert!(!model.embed_tokens.is_quantized());
    assert!(model.layers[0].mlp.down_proj.is_quantized());
    assert!(!model.layers[1].self_attn.q_proj.is_quantized());
    assert_eq!(report.skipped.len(), 1 + 7);
    // nvfp4 with a global scale has no quantized layer in MLX either
    let mut m2 = TinyLlama::new(&g["config"]).unwrap();
    let bad = QuantizeConfig::new(QuantMode::Nvfp4 {
        global_scale: Some(1.0),
    });
    assert!(matches!(
        quantize(&mut m2, &bad, None),
        Err(Error::InvalidQuantization { .. })
    ));
}

/// Python -> Rust: directories that Python MLX quantized and saved (the
/// mlx-lm layout) load strictly into the Rust model and give Python's
/// logits.
#[test]
fn python_quantized_models_load_in_rust() {
    let g = golden();
    let mut r = Report::new();
    for name in ["affine4", "mxfp4"] {
        let dir = golden_dir().join(format!("nn_py_{name}"));
        let mut model = TinyLlama::new(&g["config"]).unwrap();
        let (config, report) = mlx_lm::load_model(&mut model, &dir, LoadOptions::strict()).unwrap();
        assert!(report.is_exact(), "{name}: {report}");
        assert_eq!(config["quantization"], g["runs"][name]["quantization"]);
        assert_eq!(specs_json(&model), python_specs(g, name));
        let (full, _) = run(&model, g);
        let want = decode(&g["runs"][name]["logits"]);
        assert_close(&mut r, &full, &want, Family::TransformerLogits, TOL, name);
    }
    r.finish();
}

/// A Python-quantized model does not load into a float model strictly.
#[test]
fn quantized_weights_need_quantized_layers() {
    let g = golden();
    let file = io::load_safetensors(golden_dir().join("nn_py_affine4/model.safetensors")).unwrap();
    let mut model = TinyLlama::new(&g["config"]).unwrap();
    match model.load_weights(file.arrays) {
        Err(Error::WeightsMismatch(r)) => {
            assert!(r
                .unexpected
                .contains(&"layers.0.self_attn.q_proj.scales".to_string()));
            assert!(!r.shape_mismatches.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

/// Rust -> Python: what Rust saves has exactly the keys, shapes and dtypes
/// Python produces for the same quantization, and the config block mlx-lm
/// writes. With `MLX_RS_NN_EXPORT=dir`, the directories are also written
/// there for `scripts/golden/nn.py check` to load in Python.
#[test]
fn rust_quantized_models_match_python_layout() {
    let g = golden();
    let export = std::env::var_os("MLX_RS_NN_EXPORT").map(std::path::PathBuf::from);
    let tmp = std::env::temp_dir().join(format!("mlx-rs-nn-{}", std::process::id()));
    let mut r = Report::new();
    for name in ["float", "affine4", "affine8", "mxfp4", "mxfp8", "nvfp4"] {
        let model = built(g, name);
        let block = &g["runs"][name]["quantization"];
        let q = (!block.is_null()).then(|| QuantizationConfig::new(mode_of(block)));
        let dir = export.as_ref().unwrap_or(&tmp).join(name);
        let config = serde_json::json!({"model_type": "tiny_llama"});
        mlx_lm::save_model(&model, &dir, &config, q.as_ref()).unwrap();

        let header = io::inspect_safetensors(dir.join("model.safetensors")).unwrap();
        assert_eq!(header.metadata["format"], "mlx");
        let saved: BTreeMap<String, Value> = header
            .tensors
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    serde_json::json!([t.shape, t.dtype.to_string()]),
                )
            })
            .collect();
        assert_eq!(saved, python_specs(g, name), "{name}");
        let cfg = mlx_lm::read_config(&dir).unwrap();
        assert_eq!(
            cfg.get("quantization").unwrap_or(&Value::Null),
            block,
            "{name}"
        );

        // and it loads back into a fresh float model, mlx-lm's way
        let mut back = TinyLlama::new(&g["config"]).unwrap();
        mlx_lm::load_model(&mut back, &dir, LoadOptions::strict()).unwrap();
        let (a, b) = (
            model.forward(&tokens(g), None).unwrap(),
            back.forward(&tokens(g), None).unwrap(),
        );
        assert_close(&mut r, &a, &b, Family::Exact, 0.0, name);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    r.finish();
}

#[test]
fn derive_counts_and_names() {
    let g = golden();
    let model = TinyLlama::new(&g["config"]).unwrap();
    let params = model.parameters();
    assert_eq!(params.len(), 1 + 2 * 9 + 1);
    assert!(params.contains_key("layers.1.post_attention_layernorm.weight"));
    // 64*32 + 2 * (32*32 + 2*16*32 + 32*32 + 3*48*32 + 2*32) + 32
    assert_eq!(
        model.num_parameters(),
        2048 + 2 * (1024 + 1024 + 1024 + 4608 + 64) + 32
    );
    let file: HashMap<String, Array> = params.into_iter().collect();
    assert_eq!(file.len(), 20);
}
