//! The model families and their registry, keyed by the `model_type` of an
//! mlx-lm directory's `config.json`, and the test and demo models fetched
//! on demand ([`smollm2_gguf`]).
//!
//! - [`load`] / [`load_as`]: any supported family from an mlx-lm directory
//!   (`config.json` + `*.safetensors`, float or quantized by mlx-lm in any
//!   mode, mixed per-layer quantization included), as a
//!   [`LanguageModel`].
//! - Llama is [`crate::Llama`]; the other families are a [`Transformer`]
//!   built from the family's configuration: [`qwen2`], [`qwen3`],
//!   [`gemma2`], [`gemma3_text`], [`phi3`], [`mixtral`], [`qwen3_moe`].
//! - The shared pieces: [`layers`] (norms, attention with GQA, q/k norms,
//!   fused projections, soft-capping and sliding windows, the MLPs),
//!   [`switch`] (mixture-of-experts through `gather_mm` / `gather_qmm`),
//!   [`transformer`] (the decoder stack with its KV caches), and the
//!   loading rules (`loading`).

use std::path::Path;

use mlx_rs::nn::{LayerCache, Module, RotatingKvCache};
use mlx_rs::ops::{self, Axes};
use mlx_rs::{Array, Dtype};
use serde_json::Value;

use crate::error::{Error, Result};

mod fetch;
pub mod gemma2;
pub mod gemma3_text;
pub mod layers;
pub(crate) mod loading;
pub mod mixtral;
pub mod phi3;
pub mod qwen2;
pub mod qwen3;
pub mod qwen3_moe;
pub mod switch;
pub mod transformer;

pub use fetch::*;
pub use transformer::{Spec, Transformer};

/// The `model_type`s [`load`] runs.
pub const SUPPORTED: &[&str] = &[
    "gemma2",
    "gemma3_text",
    "llama",
    "mistral",
    "mixtral",
    "phi3",
    "qwen2",
    "qwen3",
    "qwen3_moe",
];

/// A causal language model: token ids in, logits out, with one KV cache
/// per block. [`crate::generate()`] and the `mlx-lm` command run any of
/// them.
pub trait LanguageModel: Module + std::fmt::Debug {
    /// The `model_type` of its `config.json`.
    fn model_type(&self) -> &str;

    /// The number of logits per position.
    fn vocab_size(&self) -> i32;

    /// Fresh KV caches, one per block (mlx-lm's `make_prompt_cache(model)`:
    /// standard caches, or the family's own, e.g. Gemma 3's rotating caches
    /// for its sliding-window layers).
    fn new_caches(&self) -> Vec<LayerCache>;

    /// Fresh caches for generation with `max_kv_size` (mlx-lm's
    /// `make_prompt_cache(model, max_kv_size)`): when the family uses plain
    /// caches, a [`RotatingKvCache`] of `max_kv_size` positions keeping the
    /// first 4 per block; a family with its own caches keeps them (as in
    /// mlx-lm, where `make_cache` wins).
    ///
    /// # Errors
    /// [`Error::Config`] naming `max_kv_size` when it is 0.
    fn make_caches(&self, max_kv_size: Option<usize>) -> Result<Vec<LayerCache>> {
        let caches = self.new_caches();
        let Some(max) = max_kv_size else {
            return Ok(caches);
        };
        let max = i32::try_from(max).ok().filter(|&m| m > 4).ok_or_else(|| {
            Error::config(
                "max_kv_size",
                format!("must be more than the 4 kept positions and fit i32, not {max}"),
            )
        })?;
        if !caches.iter().all(|c| matches!(c, LayerCache::Standard(_))) {
            return Ok(caches);
        }
        caches
            .iter()
            .map(|_| Ok(LayerCache::Rotating(RotatingKvCache::new(max, 4)?)))
            .collect()
    }

    /// Logits `[B, T, vocab]` for token ids `[B, T]`. With `caches` (one
    /// per block, from [`new_caches`](Self::new_caches)), positions continue
    /// after what the caches hold and the new keys and values are appended.
    ///
    /// # Errors
    /// [`Error::Mlx`] for ids out of the vocabulary or of the wrong shape;
    /// [`Error::Config`] when the number of caches is wrong.
    fn forward(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array>;

    /// [`forward`](Self::forward) for ids the model sampled itself: they
    /// are clamped into the vocabulary on the device instead of checked, so
    /// nothing is evaluated.
    ///
    /// # Errors
    /// As [`forward`](Self::forward), less the vocabulary check.
    fn forward_clamped(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array>;

    /// The mean log-likelihood (natural log) of each token of `ids` given
    /// the ones before it, in one forward pass:
    /// `mean(log softmax(logits[t])[ids[t+1]])`.
    ///
    /// # Errors
    /// [`Error::Config`] for fewer than two ids; as
    /// [`forward`](Self::forward).
    fn mean_log_likelihood(&self, ids: &[u32]) -> Result<f64> {
        if ids.len() < 2 {
            return Err(Error::config("ids", "need at least two tokens"));
        }
        let n = ids.len() as i32;
        let input = Array::from_slice(&ids[..ids.len() - 1], &[1, n - 1])?;
        let targets = Array::from_slice(&ids[1..], &[n - 1, 1])?;
        let logits = self.forward(&input, None)?.astype(Dtype::Float32)?;
        let logits = logits.reshape(&[n - 1, -1])?;
        let logp = (&logits - &ops::logsumexp(&logits, -1, true)?)?;
        let picked = ops::take_along_axis(&logp, &targets, -1)?;
        Ok(f64::from(
            ops::mean(&picked, Axes::All, false)?.item::<f32>()?,
        ))
    }
}

/// The `model_type` of a parsed `config.json`.
///
/// # Errors
/// [`Error::Config`] when it is missing or not a string.
pub fn model_type(config: &Value) -> Result<&str> {
    config
        .get("model_type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::config("config.json", "missing field `model_type`"))
}

/// The [`Spec`] of a supported family other than Llama, from its
/// `config.json`.
///
/// # Errors
/// [`Error::Unsupported`] for a `model_type` not in [`SUPPORTED`] (the
/// message lists them); [`Error::Config`] for a missing or mistyped field
/// (named); [`Error::Unsupported`] for settings the family's
/// implementation does not run (e.g. RoPE scaling).
pub fn spec_of(config: &Value) -> Result<Spec> {
    match model_type(config)? {
        "qwen2" => qwen2::spec(config),
        "qwen3" => qwen3::spec(config),
        "gemma2" => gemma2::spec(config),
        "gemma3_text" => gemma3_text::spec(config),
        "phi3" => phi3::spec(config),
        "mixtral" => mixtral::spec(config),
        "qwen3_moe" => qwen3_moe::spec(config),
        other => Err(unknown(other)),
    }
}

fn unknown(model_type: &str) -> Error {
    Error::Unsupported(format!(
        "model_type {model_type:?} (supported: {})",
        SUPPORTED.join(", ")
    ))
}

/// Loads the mlx-lm directory `dir` as whatever family its `config.json`
/// names, strictly (every weight must match a parameter, every parameter
/// must be there); float parameters keep their stored dtype.
///
/// # Errors
/// As [`load_as`].
pub fn load(dir: &Path) -> Result<Box<dyn LanguageModel>> {
    load_as(dir, None)
}

/// [`load`], then the float parameters cast to `compute` when given
/// (`float32` on the CPU).
///
/// # Errors
/// [`Error::Unsupported`] for an unknown `model_type` (listing the
/// supported ones); [`Error::Config`] for a `config.json` missing a field
/// (named); [`Error::Mlx`] for weights that do not match the model (the
/// names missing, unexpected or of the wrong shape); [`Error::Io`] when the
/// directory cannot be read.
pub fn load_as(dir: &Path, compute: Option<Dtype>) -> Result<Box<dyn LanguageModel>> {
    let config = mlx_rs::nn::mlx_lm::read_config(dir)?;
    match model_type(&config)? {
        "llama" | "mistral" => Ok(Box::new(crate::Llama::load_as(dir, compute)?)),
        t if SUPPORTED.contains(&t) => Ok(Box::new(Transformer::load_as(dir, compute)?)),
        other => Err(unknown(other)),
    }
}
