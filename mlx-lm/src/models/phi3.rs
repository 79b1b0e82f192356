//! Phi-3: fused `qkv_proj` and `gate_up_proj`, partial rotary embeddings
//! (`partial_rotary_factor`), untied head by default. (LongRoPE / `su`
//! scaling is not implemented: an `Unsupported` error.)

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::{Activation, AttentionSpec};
use super::loading::{parse, rope_scale};
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::Result;

fn d_theta() -> f32 {
    10_000.0
}
fn d_one() -> f32 {
    1.0
}

/// The keys of a Phi-3 `config.json` (as mlx-lm's `ModelArgs`).
#[derive(Debug, Clone, Deserialize)]
pub struct Phi3Config {
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
    /// Key/value heads (the query heads when absent).
    #[serde(default)]
    pub num_key_value_heads: Option<i32>,
    /// RoPE base.
    #[serde(default = "d_theta")]
    pub rope_theta: f32,
    /// Interleaved RoPE.
    #[serde(default)]
    pub rope_traditional: bool,
    /// The share of each head that is rotated.
    #[serde(default = "d_one")]
    pub partial_rotary_factor: f32,
    /// Head tied to the embedding.
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

/// The [`Spec`] of a Phi-3 `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a missing field;
/// [`crate::Error::Unsupported`] for RoPE scaling other than linear.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: Phi3Config = parse(config)?;
    let head_dim = c.hidden_size / c.num_attention_heads.max(1);
    let rope = Rope {
        dims: (f64::from(head_dim) * f64::from(c.partial_rotary_factor)) as i32,
        traditional: c.rope_traditional,
        base: c.rope_theta,
        scale: rope_scale(config)?,
    };
    let layer = LayerSpec {
        attention: AttentionSpec {
            dims: c.hidden_size,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.num_key_value_heads.unwrap_or(c.num_attention_heads),
            head_dim,
            qkv_bias: false,
            fused_qkv: true,
            qk_norm: None,
            rope,
            scale: f64::from(head_dim).powf(-0.5) as f32,
            softcap: None,
            window: None,
        },
        ffn: FfnSpec::Dense {
            hidden: c.intermediate_size,
            fused: true,
            activation: Activation::Silu,
        },
    };
    Ok(Spec {
        model_type: "phi3".into(),
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
