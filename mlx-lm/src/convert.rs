//! Native conversion of a GGUF model: dequantize its weights, re-quantize
//! them with [`mlx_rs::quantization`] in any MLX mode, and save an mlx-lm
//! directory (`model.safetensors`, `config.json`, `tokenizer.json`,
//! `tokenizer_config.json`) that [`Llama::load`] and Python's mlx-lm read.
//!
//! GGUF files store the query and key projections of Llama models permuted
//! for interleaved RoPE (llama.cpp's `convert_hf_to_gguf.py` reorders each
//! head's rows from rotate-half to pairs). [`gguf_weights`] undoes that, so
//! the weights are in Hugging Face layout and the model uses rotate-half
//! (non-traditional) RoPE, as mlx-lm does.
//!
//! Conversion is deterministic: the same GGUF and mode give the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use mlx_rs::io::{GgmlType, Gguf};
use mlx_rs::nn::mlx_lm::QuantizationConfig;
use mlx_rs::quantization::{self, QuantMode, Quantized};
use mlx_rs::{Array, Dtype};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::llama::{Llama, LlamaConfig};
use crate::tokenizer::Tokenizer;

/// Group size of the GGUF types MLX loads quantized (`Q4_0`, `Q4_1`,
/// `Q8_0`).
const GGUF_GROUP: i32 = 32;

/// The mlx-lm name of a GGUF tensor, and which projection (if any) is
/// permuted for interleaved RoPE.
fn hf_name(gguf: &str) -> Option<(String, Option<Permuted>)> {
    let simple = match gguf {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(s) = simple {
        return Some((s.to_owned(), None));
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, name) = rest.split_once('.')?;
    let layer: u32 = layer.parse().ok()?;
    let (hf, perm) = match name {
        "attn_norm.weight" => ("input_layernorm.weight", None),
        "ffn_norm.weight" => ("post_attention_layernorm.weight", None),
        "attn_q.weight" => ("self_attn.q_proj.weight", Some(Permuted::Queries)),
        "attn_k.weight" => ("self_attn.k_proj.weight", Some(Permuted::Keys)),
        "attn_v.weight" => ("self_attn.v_proj.weight", None),
        "attn_output.weight" => ("self_attn.o_proj.weight", None),
        "ffn_gate.weight" => ("mlp.gate_proj.weight", None),
        "ffn_up.weight" => ("mlp.up_proj.weight", None),
        "ffn_down.weight" => ("mlp.down_proj.weight", None),
        _ => return None,
    };
    Some((format!("model.layers.{layer}.{hf}"), perm))
}

#[derive(Debug, Clone, Copy)]
enum Permuted {
    Queries,
    Keys,
}

/// Undoes llama.cpp's permutation of a query or key projection `w`
/// (`[heads · head_dim, in]`): GGUF holds each head's rows as
/// `[head_dim / 2, 2]` pairs, Hugging Face as `[2, head_dim / 2]` halves.
fn unpermute(w: &Array, heads: i32) -> Result<Array> {
    let &[out, inp] = w.shape() else {
        return Err(Error::Unsupported(format!(
            "a query/key projection of shape {:?}",
            w.shape()
        )));
    };
    Ok(w.reshape(&[heads, out / heads / 2, 2, inp])?
        .transpose_axes(&[0, 2, 1, 3])?
        .reshape(&[out, inp])?)
}

/// The float weights of a GGUF Llama model, under mlx-lm's names, in
/// `dtype`: quantized tensors dequantized (MLX loads `Q4_0`/`Q4_1`/`Q8_0`
/// as affine groups of 32 and dequantizes the K-quants itself), query and
/// key projections un-permuted. The arrays are lazy.
///
/// # Errors
/// [`Error::Unsupported`] for a tensor this mapping does not know (none is
/// silently dropped).
pub fn gguf_weights(
    gguf: &Gguf,
    config: &LlamaConfig,
    dtype: Dtype,
) -> Result<BTreeMap<String, Array>> {
    let mut out = BTreeMap::new();
    for t in &gguf.info.tensors {
        let (name, perm) = match hf_name(&t.name) {
            Some(x) => x,
            // Precomputed RoPE frequencies are not weights.
            None if t.name == "rope_freqs.weight" => continue,
            None => {
                return Err(Error::Unsupported(format!(
                    "GGUF tensor {:?} (not part of a Llama model)",
                    t.name
                )))
            }
        };
        let get = |suffix: &str| -> Result<&Array> {
            let key = match t.name.strip_suffix(".weight") {
                Some(stem) if suffix != "weight" => format!("{stem}.{suffix}"),
                _ => t.name.clone(),
            };
            gguf.arrays
                .get(&key)
                .ok_or_else(|| Error::Unsupported(format!("GGUF tensor {key:?} is missing")))
        };
        let w = if t.ggml_type.is_mlx_quantized() {
            let bits = if t.ggml_type == GgmlType::Q8_0 { 8 } else { 4 };
            let q = Quantized {
                weights: get("weight")?.clone(),
                scales: get("scales")?.clone(),
                biases: Some(get("biases")?.clone()),
                mode: QuantMode::affine(bits, GGUF_GROUP)?,
            };
            q.dequantize(Some(dtype))?
        } else {
            get("weight")?.astype(dtype)?
        };
        let w = match perm {
            Some(Permuted::Queries) => unpermute(&w, config.num_attention_heads)?,
            Some(Permuted::Keys) => unpermute(&w, config.num_key_value_heads)?,
            None => w,
        };
        out.insert(name, w);
    }
    Ok(out)
}

/// The configuration of a loaded GGUF model (an `output.weight` tensor
/// means the output head is not tied to the embedding).
fn config_of(gguf: &Gguf) -> Result<LlamaConfig> {
    let mut config = LlamaConfig::from_gguf_metadata(&gguf.metadata)?;
    config.tie_word_embeddings = !gguf.info.tensors.iter().any(|t| t.name == "output.weight");
    Ok(config)
}

/// Whether the weight `name` belongs to a layer mlx-lm quantizes (linear
/// projections, the embedding and the output head).
fn quantizable(name: &str) -> bool {
    name.ends_with("_proj.weight")
        || name == "model.embed_tokens.weight"
        || name == "lm_head.weight"
}

/// How to convert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvertOptions {
    /// The quantization mode (default: affine, 4 bits, groups of 64).
    pub mode: QuantMode,
    /// The dtype of the float weights and of affine scales and biases
    /// (default `bfloat16`, SmolLM2's own: its activations overflow
    /// `float16`).
    pub dtype: Dtype,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            mode: QuantMode::default(),
            dtype: Dtype::Bfloat16,
            progress: true,
        }
    }
}

/// What [`convert_gguf`] wrote.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    /// The directory.
    pub dir: PathBuf,
    /// The model's configuration.
    pub config: LlamaConfig,
    /// The `quantization` block written to `config.json`.
    pub quantization: QuantizationConfig,
    /// Weights quantized.
    pub quantized: usize,
    /// Weights left in float (norms, and layers whose input dimension is
    /// not a multiple of the group size).
    pub float: usize,
    /// Bytes of `model.safetensors`.
    pub bytes: u64,
    /// Seconds taken.
    pub seconds: f64,
}

fn progress_bar(n: usize, show: bool, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(n as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>12} [{bar:40.cyan/blue}] {pos}/{len} tensors ({elapsed}) {prefix}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_owned());
    pb
}

/// Converts the GGUF Llama model at `gguf_path` into an mlx-lm directory
/// `out`: every weight dequantized to `options.dtype`, the linear layers
/// and the embedding re-quantized in `options.mode` (each evaluated as it
/// is made, so memory holds one float tensor at a time), the tokenizer and
/// chat template taken from the GGUF metadata.
///
/// # Errors
/// As [`mlx_rs::io::load_gguf`], [`LlamaConfig::from_gguf_metadata`],
/// [`Tokenizer::from_gguf_metadata`], [`gguf_weights`] and
/// [`mlx_rs::quantization::quantize`]; [`Error::Io`] when `out` cannot be
/// written.
pub fn convert_gguf(
    gguf_path: &Path,
    out: &Path,
    options: &ConvertOptions,
) -> Result<ConvertReport> {
    let start = Instant::now();
    let gguf = mlx_rs::io::load_gguf(gguf_path)?;
    let config = config_of(&gguf)?;
    let tokenizer = Tokenizer::from_gguf_metadata(&gguf.metadata)?;
    let n = gguf.info.tensors.len();
    let pb = progress_bar(n, options.progress, "converting");
    let floats = gguf_weights(&gguf, &config, options.dtype)?;
    let mode = options.mode;
    let mut arrays: HashMap<String, Array> = HashMap::new();
    let mut quantization = QuantizationConfig::new(mode);
    let (mut quantized, mut float) = (0, 0);
    for (name, w) in floats {
        pb.set_prefix(name.clone());
        let divisible = w
            .shape()
            .last()
            .is_some_and(|&d| d % mode.group_size() == 0);
        if quantizable(&name) && divisible {
            let q = quantization::quantize(&w, mode)?;
            let stem = name.strip_suffix(".weight").unwrap_or(&name).to_owned();
            let mut parts = vec![q.weights, q.scales];
            parts.extend(q.biases.clone());
            mlx_rs::eval(&parts)?;
            let mut parts = parts.into_iter();
            for suffix in ["weight", "scales", "biases"] {
                if let Some(a) = parts.next() {
                    arrays.insert(format!("{stem}.{suffix}"), a);
                }
            }
            quantized += 1;
        } else {
            if quantizable(&name) {
                let stem = name.strip_suffix(".weight").unwrap_or(&name).to_owned();
                quantization.layers.insert(stem, None);
            }
            w.eval()?;
            arrays.insert(name, w);
            float += 1;
        }
        pb.inc(1);
    }
    pb.set_position(n as u64);
    pb.finish_with_message("converted");
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let path = out.join("model.safetensors");
    let mut sorted: Vec<(&String, &Array)> = arrays.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    mlx_rs::io::save_safetensors(&path, sorted, [("format", "mlx")])?;
    let mut json =
        serde_json::to_value(&config).map_err(|e| Error::config("config.json", e.to_string()))?;
    if let Value::Object(o) = &mut json {
        o.insert(
            "architectures".into(),
            serde_json::json!(["LlamaForCausalLM"]),
        );
        o.insert(
            "torch_dtype".into(),
            Value::String(options.dtype.name().to_owned()),
        );
        if let Some(b) = tokenizer.bos_id() {
            o.insert("bos_token_id".into(), b.into());
        }
        if let Some(&e) = tokenizer.eos_ids().first() {
            o.insert("eos_token_id".into(), e.into());
        }
        o.insert("quantization".into(), quantization.to_json());
        o.insert("quantization_config".into(), quantization.to_json());
    }
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| Error::config("config.json", e.to_string()))?;
    let cpath = out.join("config.json");
    std::fs::write(&cpath, text + "\n").map_err(|e| Error::io(cpath, e))?;
    tokenizer.save(out)?;
    let bytes = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .len();
    Ok(ConvertReport {
        dir: out.to_owned(),
        config,
        quantization,
        quantized,
        float,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The GGUF model itself in float (`dtype`), as a [`Llama`], with its
/// tokenizer: the baseline of the quality table.
///
/// # Errors
/// As [`convert_gguf`], and [`mlx_rs::nn::Module::load_weights`].
pub fn load_gguf_float(gguf_path: &Path, dtype: Dtype) -> Result<(Llama, Tokenizer)> {
    use mlx_rs::nn::Module;
    let gguf = mlx_rs::io::load_gguf(gguf_path)?;
    let config = config_of(&gguf)?;
    let tokenizer = Tokenizer::from_gguf_metadata(&gguf.metadata)?;
    let weights = gguf_weights(&gguf, &config, dtype)?;
    let mut model = Llama::new(config)?;
    model.load_weights(weights.into_iter().collect())?;
    Ok((model, tokenizer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// llama.cpp's `permute` (convert_hf_to_gguf.py), for the test.
    fn permute(w: &Array, heads: i32) -> Array {
        let &[out, inp] = w.shape() else { panic!() };
        w.reshape(&[heads, 2, out / heads / 2, inp])
            .unwrap()
            .transpose_axes(&[0, 2, 1, 3])
            .unwrap()
            .reshape(&[out, inp])
            .unwrap()
    }

    #[test]
    fn unpermute_inverts_llama_cpp_permute() {
        let w = Array::arange(0.0, 3.0 * 8.0 * 5.0, 1.0, Dtype::Float32)
            .unwrap()
            .reshape(&[24, 5])
            .unwrap();
        let back = unpermute(&permute(&w, 3), 3).unwrap();
        assert_eq!(back.to_vec::<f32>().unwrap(), w.to_vec::<f32>().unwrap());
        // Row 1 of a head holds HF's row head_dim/2 (the pair partner).
        let p = permute(&w, 3);
        assert_eq!(
            p.index(1).unwrap().to_vec::<f32>().unwrap(),
            w.index(4).unwrap().to_vec::<f32>().unwrap()
        );
    }

    #[test]
    fn gguf_names_map_to_mlx_lm_names() {
        assert_eq!(
            hf_name("blk.12.attn_q.weight").map(|(n, p)| (n, p.is_some())),
            Some(("model.layers.12.self_attn.q_proj.weight".into(), true))
        );
        assert_eq!(
            hf_name("blk.0.ffn_down.weight").map(|(n, _)| n),
            Some("model.layers.0.mlp.down_proj.weight".into())
        );
        assert_eq!(
            hf_name("token_embd.weight").map(|(n, _)| n),
            Some("model.embed_tokens.weight".into())
        );
        assert!(hf_name("blk.0.attn_q_norm.weight").is_none());
        assert!(hf_name("blk.x.attn_q.weight").is_none());
        assert!(quantizable("model.layers.3.mlp.up_proj.weight"));
        assert!(!quantizable("model.layers.3.input_layernorm.weight"));
    }
}
