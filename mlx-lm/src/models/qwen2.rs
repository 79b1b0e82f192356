//! Qwen2 (and Qwen2.5): Llama's block with biases on the query, key and
//! value projections; output head tied by default.

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::{Activation, AttentionSpec};
use super::loading::{parse, rope_scale};
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::Result;

fn default_theta() -> f32 {
    1_000_000.0
}

fn default_true() -> bool {
    true
}

/// The keys of a Qwen2 `config.json` (as mlx-lm's `ModelArgs`).
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen2Config {
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
    /// RoPE base.
    #[serde(default = "default_theta")]
    pub rope_theta: f32,
    /// Interleaved RoPE.
    #[serde(default)]
    pub rope_traditional: bool,
    /// Head tied to the embedding.
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
}

/// The [`Spec`] of a Qwen2 `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a missing field;
/// [`crate::Error::Unsupported`] for RoPE scaling other than linear.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: Qwen2Config = parse(config)?;
    let head_dim = c.hidden_size / c.num_attention_heads.max(1);
    let rope = Rope {
        dims: head_dim,
        traditional: c.rope_traditional,
        base: c.rope_theta,
        scale: rope_scale(config)?,
    };
    let layer = LayerSpec {
        attention: AttentionSpec {
            dims: c.hidden_size,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.num_key_value_heads,
            head_dim,
            qkv_bias: true,
            fused_qkv: false,
            qk_norm: None,
            rope,
            scale: f64::from(head_dim).powf(-0.5) as f32,
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
        model_type: "qwen2".into(),
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
