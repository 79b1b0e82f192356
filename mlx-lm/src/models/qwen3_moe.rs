//! Qwen3-MoE: Qwen3's attention (q/k norms), and in the layers that
//! `decoder_sparse_step` and `mlp_only_layers` pick, a mixture of experts
//! under `mlp` (router `gate` softmaxed, top `num_experts_per_tok`,
//! renormalized when `norm_topk_prob`); the other layers a dense MLP.

use mlx_rs::nn::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::layers::{Activation, AttentionSpec};
use super::loading::parse;
use super::switch::Router;
use super::transformer::{EmbedScale, FfnSpec, LayerSpec, Spec};
use crate::error::Result;

/// The keys of a Qwen3-MoE `config.json` (as mlx-lm's `ModelArgs`).
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen3MoeConfig {
    /// Model width.
    pub hidden_size: i32,
    /// Blocks.
    pub num_hidden_layers: i32,
    /// Width of the dense MLPs.
    pub intermediate_size: i32,
    /// Query heads.
    pub num_attention_heads: i32,
    /// Experts.
    pub num_experts: i32,
    /// Experts per token.
    pub num_experts_per_tok: i32,
    /// Every this many layers is sparse.
    pub decoder_sparse_step: i32,
    /// Layers that stay dense.
    pub mlp_only_layers: Vec<i32>,
    /// Width of each expert.
    pub moe_intermediate_size: i32,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f32,
    /// Vocabulary size.
    pub vocab_size: i32,
    /// Key/value heads.
    pub num_key_value_heads: i32,
    /// Features per head.
    pub head_dim: i32,
    /// RoPE base.
    pub rope_theta: f32,
    /// Head tied to the embedding.
    pub tie_word_embeddings: bool,
    /// Context length.
    pub max_position_embeddings: i32,
    /// Renormalize the chosen experts' probabilities.
    pub norm_topk_prob: bool,
}

/// The [`Spec`] of a Qwen3-MoE `config.json`.
///
/// # Errors
/// [`crate::Error::Config`] for a missing field.
pub fn spec(config: &Value) -> Result<Spec> {
    let c: Qwen3MoeConfig = parse(config)?;
    let attention = AttentionSpec {
        dims: c.hidden_size,
        n_heads: c.num_attention_heads,
        n_kv_heads: c.num_key_value_heads,
        head_dim: c.head_dim,
        qkv_bias: false,
        fused_qkv: false,
        qk_norm: Some((c.rms_norm_eps, false)),
        // mlx-lm's Qwen3-MoE builds a plain nn.RoPE.
        rope: Rope::new(c.head_dim, c.rope_theta),
        scale: f64::from(c.head_dim).powf(-0.5) as f32,
        softcap: None,
        window: None,
    };
    let layers = (0..c.num_hidden_layers.max(0))
        .map(|i| {
            let sparse = !c.mlp_only_layers.contains(&i)
                && c.num_experts > 0
                && c.decoder_sparse_step > 0
                && (i + 1) % c.decoder_sparse_step == 0;
            let ffn = if sparse {
                FfnSpec::Moe {
                    hidden: c.moe_intermediate_size,
                    experts: c.num_experts,
                    top_k: c.num_experts_per_tok,
                    router: Router::Qwen3 {
                        norm_topk_prob: c.norm_topk_prob,
                    },
                    block_sparse: false,
                }
            } else {
                FfnSpec::Dense {
                    hidden: c.intermediate_size,
                    fused: false,
                    activation: Activation::Silu,
                }
            };
            LayerSpec { attention, ffn }
        })
        .collect();
    Ok(Spec {
        model_type: "qwen3_moe".into(),
        vocab_size: c.vocab_size,
        hidden_size: c.hidden_size,
        eps: c.rms_norm_eps,
        norm_offset: false,
        sandwich_norms: false,
        array_masks: false,
        embed_scale: EmbedScale::None,
        tie_word_embeddings: Some(c.tie_word_embeddings),
        final_softcap: None,
        layers,
    })
}
