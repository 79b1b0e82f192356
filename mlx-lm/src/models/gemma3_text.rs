//! Gemma 3 (text): Gemma 2's block without soft-capping, with `1 + w`
//! q/k norms; layers alternate local attention over a sliding window
//! (RoPE base `rope_local_base_freq`) and global attention (`rope_theta`),
//! one global layer every `sliding_window_pattern`; the embedding scaled by
//! `√hidden` rounded to `bfloat16`; the head tied when the weights have no
//! `lm_head`.

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::{Activation, AttentionSpec};
use super::loading::{parse, rope_scale};
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::{Error, Result};

fn d_hidden() -> i32 {
    1152
}
fn d_layers() -> i32 {
    26
}
fn d_inter() -> i32 {
    6912
}
fn d_heads() -> i32 {
    4
}
fn d_head_dim() -> i32 {
    256
}
fn d_eps() -> f32 {
    1.0e-6
}
fn d_vocab() -> i32 {
    262_144
}
fn d_kv() -> i32 {
    1
}
fn d_theta() -> f32 {
    1_000_000.0
}
fn d_local() -> f32 {
    10_000.0
}
fn d_qpas() -> f32 {
    256.0
}
fn d_window() -> i32 {
    512
}
fn d_pattern() -> i32 {
    6
}

/// The keys of a Gemma 3 text `config.json` (as mlx-lm's `ModelArgs`:
/// every one has a default).
#[derive(Debug, Clone, Deserialize)]
pub struct Gemma3TextConfig {
    /// Model width.
    #[serde(default = "d_hidden")]
    pub hidden_size: i32,
    /// Blocks.
    #[serde(default = "d_layers")]
    pub num_hidden_layers: i32,
    /// MLP width.
    #[serde(default = "d_inter")]
    pub intermediate_size: i32,
    /// Query heads.
    #[serde(default = "d_heads")]
    pub num_attention_heads: i32,
    /// Features per head.
    #[serde(default = "d_head_dim")]
    pub head_dim: i32,
    /// RMSNorm epsilon.
    #[serde(default = "d_eps")]
    pub rms_norm_eps: f32,
    /// Vocabulary size.
    #[serde(default = "d_vocab")]
    pub vocab_size: i32,
    /// Key/value heads.
    #[serde(default = "d_kv")]
    pub num_key_value_heads: i32,
    /// RoPE base of the global layers.
    #[serde(default = "d_theta")]
    pub rope_theta: f32,
    /// RoPE base of the local layers.
    #[serde(default = "d_local")]
    pub rope_local_base_freq: f32,
    /// Scores scaled by `query_pre_attn_scalar^−½`.
    #[serde(default = "d_qpas")]
    pub query_pre_attn_scalar: f32,
    /// Window of the local layers.
    #[serde(default = "d_window")]
    pub sliding_window: i32,
    /// One global layer every this many.
    #[serde(default = "d_pattern")]
    pub sliding_window_pattern: i32,
}

/// The [`Spec`] of a Gemma 3 text `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a mistyped field or a pattern below 1;
/// [`crate::Error::Unsupported`] for RoPE scaling other than linear.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: Gemma3TextConfig = parse(config)?;
    if c.sliding_window_pattern < 1 || c.sliding_window < 1 {
        return Err(Error::config(
            "config.json (gemma3_text)",
            "sliding_window and sliding_window_pattern must be positive",
        ));
    }
    let global_scale = rope_scale(config)?;
    let layers = (0..c.num_hidden_layers.max(0))
        .map(|i| {
            let sliding = (i + 1) % c.sliding_window_pattern != 0;
            let rope = Rope {
                dims: c.head_dim,
                traditional: false,
                base: if sliding {
                    c.rope_local_base_freq
                } else {
                    c.rope_theta
                },
                scale: if sliding { 1.0 } else { global_scale },
            };
            LayerSpec {
                attention: AttentionSpec {
                    dims: c.hidden_size,
                    n_heads: c.num_attention_heads,
                    n_kv_heads: c.num_key_value_heads,
                    head_dim: c.head_dim,
                    qkv_bias: false,
                    fused_qkv: false,
                    qk_norm: Some((c.rms_norm_eps, true)),
                    rope,
                    scale: f64::from(c.query_pre_attn_scalar).powf(-0.5) as f32,
                    softcap: None,
                    window: sliding.then_some(c.sliding_window),
                },
                ffn: FfnSpec::Dense {
                    hidden: c.intermediate_size,
                    fused: false,
                    activation: Activation::GeluApprox,
                },
            }
        })
        .collect();
    Ok(Spec {
        model_type: "gemma3_text".into(),
        vocab_size: c.vocab_size,
        hidden_size: c.hidden_size,
        eps: c.rms_norm_eps,
        norm_offset: true,
        sandwich_norms: true,
        array_masks: false,
        embed_scale: EmbedScale::Bf16(f64::from(c.hidden_size).sqrt() as f32),
        tie_word_embeddings: None,
        final_softcap: None,
        layers,
    })
}
