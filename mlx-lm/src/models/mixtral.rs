//! Mixtral: Llama's attention, and a sparse mixture of experts
//! (`block_sparse_moe`: router `gate`, experts `switch_mlp`) choosing
//! `num_experts_per_tok` of `num_local_experts` per token. The experts
//! are stacked as mlx-lm stores them (`switch_mlp.{gate,up,down}_proj`);
//! the per-expert Hugging Face layout (`experts.N.w1`) is not converted.

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::AttentionSpec;
use super::loading::{parse, rope_scale};
use super::switch::Router;
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::Result;

fn d_vocab() -> i32 {
    32_000
}
fn d_hidden() -> i32 {
    4096
}
fn d_inter() -> i32 {
    14_336
}
fn d_32() -> i32 {
    32
}
fn d_2() -> i32 {
    2
}
fn d_8() -> i32 {
    8
}
fn d_eps() -> f32 {
    1e-5
}
fn d_theta() -> f32 {
    1e6
}

/// The keys of a Mixtral `config.json` (as mlx-lm's `ModelArgs`: every
/// one has a default).
#[derive(Debug, Clone, Deserialize)]
pub struct MixtralConfig {
    /// Vocabulary size.
    #[serde(default = "d_vocab")]
    pub vocab_size: i32,
    /// Model width.
    #[serde(default = "d_hidden")]
    pub hidden_size: i32,
    /// Width of each expert.
    #[serde(default = "d_inter")]
    pub intermediate_size: i32,
    /// Blocks.
    #[serde(default = "d_32")]
    pub num_hidden_layers: i32,
    /// Query heads.
    #[serde(default = "d_32")]
    pub num_attention_heads: i32,
    /// Experts per token.
    #[serde(default = "d_2")]
    pub num_experts_per_tok: i32,
    /// Key/value heads.
    #[serde(default = "d_8")]
    pub num_key_value_heads: i32,
    /// Experts.
    #[serde(default = "d_8")]
    pub num_local_experts: i32,
    /// RMSNorm epsilon.
    #[serde(default = "d_eps")]
    pub rms_norm_eps: f32,
    /// RoPE base.
    #[serde(default = "d_theta")]
    pub rope_theta: f32,
    /// Interleaved RoPE.
    #[serde(default)]
    pub rope_traditional: bool,
    /// Head tied to the embedding.
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

/// The [`Spec`] of a Mixtral `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a mistyped field or a bad expert count.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: MixtralConfig = parse(config)?;
    let head_dim = c.hidden_size / c.num_attention_heads.max(1);
    // mlx-lm's Mixtral builds a plain nn.RoPE (rope_scaling unused), but a
    // scaling it cannot honour is refused rather than ignored.
    rope_scale(config)?;
    let layer = LayerSpec {
        attention: AttentionSpec {
            dims: c.hidden_size,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.num_key_value_heads,
            head_dim,
            qkv_bias: false,
            fused_qkv: false,
            qk_norm: None,
            rope: Rope {
                dims: head_dim,
                traditional: c.rope_traditional,
                base: c.rope_theta,
                scale: 1.0,
            },
            scale: f64::from(head_dim).powf(-0.5) as f32,
            softcap: None,
            window: None,
        },
        ffn: FfnSpec::Moe {
            hidden: c.intermediate_size,
            experts: c.num_local_experts,
            top_k: c.num_experts_per_tok,
            router: Router::Mixtral,
            block_sparse: true,
        },
    };
    Ok(Spec {
        model_type: "mixtral".into(),
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
