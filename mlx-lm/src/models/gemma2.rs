//! Gemma 2: `1 + w` RMSNorms, four per block (around attention and the
//! MLP), the embedding scaled by `√hidden`, GELU-gated MLP, attention
//! scores and final logits soft-capped (`tanh(s / c) · c`), the head tied.
//! (mlx-lm 0.32.2's `gemma2` runs every layer over the full context: no
//! sliding window, so neither does this.)

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::{Activation, AttentionSpec};
use super::loading::parse;
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::Result;

fn d_theta() -> f32 {
    10_000.0
}
fn d_attn_cap() -> f32 {
    50.0
}
fn d_final_cap() -> f32 {
    30.0
}
fn d_qpas() -> f32 {
    144.0
}

/// The keys of a Gemma 2 `config.json` (as mlx-lm's `ModelArgs`).
#[derive(Debug, Clone, Deserialize)]
pub struct Gemma2Config {
    /// Model width.
    pub hidden_size: i32,
    /// Blocks.
    pub num_hidden_layers: i32,
    /// MLP width.
    pub intermediate_size: i32,
    /// Query heads.
    pub num_attention_heads: i32,
    /// Features per head.
    pub head_dim: i32,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f32,
    /// Vocabulary size.
    pub vocab_size: i32,
    /// Key/value heads.
    pub num_key_value_heads: i32,
    /// RoPE base.
    #[serde(default = "d_theta")]
    pub rope_theta: f32,
    /// Interleaved RoPE.
    #[serde(default)]
    pub rope_traditional: bool,
    /// Cap of the attention scores.
    #[serde(default = "d_attn_cap")]
    pub attn_logit_softcapping: f32,
    /// Cap of the logits.
    #[serde(default = "d_final_cap")]
    pub final_logit_softcapping: f32,
    /// The scores are scaled by `query_pre_attn_scalar^−½`.
    #[serde(default = "d_qpas")]
    pub query_pre_attn_scalar: f32,
}

/// The [`Spec`] of a Gemma 2 `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a missing field.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: Gemma2Config = parse(config)?;
    let layer = LayerSpec {
        attention: AttentionSpec {
            dims: c.hidden_size,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.num_key_value_heads,
            head_dim: c.head_dim,
            qkv_bias: false,
            fused_qkv: false,
            qk_norm: None,
            rope: Rope {
                dims: c.head_dim,
                traditional: c.rope_traditional,
                base: c.rope_theta,
                scale: 1.0,
            },
            scale: (1.0 / f64::from(c.query_pre_attn_scalar).sqrt()) as f32,
            softcap: Some(c.attn_logit_softcapping),
            window: None,
        },
        ffn: FfnSpec::Dense {
            hidden: c.intermediate_size,
            fused: false,
            activation: Activation::GeluApprox,
        },
    };
    Ok(Spec {
        model_type: "gemma2".into(),
        vocab_size: c.vocab_size,
        hidden_size: c.hidden_size,
        eps: c.rms_norm_eps,
        norm_offset: true,
        sandwich_norms: true,
        array_masks: true,
        embed_scale: EmbedScale::Weak(f64::from(c.hidden_size).sqrt() as f32),
        tie_word_embeddings: Some(true),
        final_softcap: Some(c.final_logit_softcapping),
        layers: vec![layer; c.num_hidden_layers.max(0) as usize],
    })
}
