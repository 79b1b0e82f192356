//! Qwen3: Llama's block with an RMSNorm over each query and key head
//! (`q_norm`, `k_norm`) before RoPE, and an explicit `head_dim`.

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::{Activation, AttentionSpec};
use super::loading::{parse, rope_scale};
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::{Error, Result};

/// The keys of a Qwen3 `config.json` (as mlx-lm's `ModelArgs`).
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen3Config {
    /// Model width.
    pub hidden_size: i32,
    /// Blocks.
    pub num_hidden_layers: i32,
    /// MLP width.
    pub intermediate_size: i32,
    /// Query heads.
    pub num_attention_heads: i32,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f32,
    /// Vocabulary size.
    pub vocab_size: i32,
    /// Key/value heads.
    pub num_key_value_heads: i32,
    /// Context length.
    pub max_position_embeddings: i32,
    /// Features per head.
    pub head_dim: i32,
    /// Head tied to the embedding.
    pub tie_word_embeddings: bool,
    /// RoPE base (or `rope_parameters.rope_theta`).
    #[serde(default)]
    pub rope_theta: Option<f32>,
}

/// The rope base of `rope_theta`, else `rope_parameters.rope_theta`.
pub(crate) fn theta(config: &Value, direct: Option<f32>) -> Result<f32> {
    direct
        .or_else(|| {
            config
                .get("rope_parameters")
                .and_then(|p| p.get("rope_theta"))
                .and_then(Value::as_f64)
                .map(|x| x as f32)
        })
        .ok_or_else(|| Error::config("config.json", "missing field `rope_theta`"))
}

/// The [`Spec`] of a Qwen3 `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a missing field;
/// [`crate::Error::Unsupported`] for RoPE scaling other than linear.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: Qwen3Config = parse(config)?;
    let rope = Rope {
        dims: c.head_dim,
        traditional: false,
        base: theta(config, c.rope_theta)?,
        scale: rope_scale(config)?,
    };
    let layer = LayerSpec {
        attention: AttentionSpec {
            dims: c.hidden_size,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.num_key_value_heads,
            head_dim: c.head_dim,
            qkv_bias: false,
            fused_qkv: false,
            qk_norm: Some((c.rms_norm_eps, false)),
            rope,
            scale: f64::from(c.head_dim).powf(-0.5) as f32,
            softcap: None,
            window: None,
        },
        ffn: FfnSpec::Dense {
            hidden: c.intermediate_size,
            fused: false,
            activation: Activation::Silu,
        },
    };
    Ok(Spec {
        model_type: "qwen3".into(),
        vocab_size: c.vocab_size,
        hidden_size: c.hidden_size,
        eps: c.rms_norm_eps,
        norm_offset: false,
        sandwich_norms: false,
        array_masks: false,
        embed_scale: EmbedScale::None,
        tie_word_embeddings: Some(c.tie_word_embeddings),
        final_softcap: None,
        layers: vec![layer; c.num_hidden_layers.max(0) as usize],
    })
}
