//! The decoder stack every family but Llama runs on: embedding (optionally
//! scaled), blocks of attention and a feed-forward (dense or sparse), the
//! final norm and the head (tied or not, optionally soft-capped). A
//! family's file turns its `config.json` into a [`Spec`]; this file builds
//! and runs it with mlx-lm's parameter names.

use std::path::Path;

use mlx_rs::nn::{EmbeddingLayer, LayerCache, LinearLayer, Module, RotatingKvCache};
use mlx_rs::{Array, Dtype};
use serde_json::Value;

use super::layers::{Attention, AttentionSpec, LayerMask, Mlp, Norm};
use super::loading;
use super::switch::SparseMoe;
use super::LanguageModel;
use crate::error::{Error, Result};

/// How the embedding is scaled before the blocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EmbedScale {
    /// Not scaled.
    None,
    /// `h · s` (Gemma 2: a weak scalar, in `h`'s dtype).
    Weak(f32),
    /// `h · bf16(s)` (Gemma 3: the scale rounded to `bfloat16` first).
    Bf16(f32),
}

/// The feed-forward of a block, and where its parameters live.
#[derive(Debug, Clone, PartialEq)]
pub enum FfnSpec {
    /// A gated MLP under `mlp`.
    Dense {
        /// Hidden width.
        hidden: i32,
        /// Fused `gate_up_proj` (Phi-3).
        fused: bool,
        /// The activation.
        activation: super::layers::Activation,
    },
    /// Sparse experts under `mlp` (Qwen3-MoE) or `block_sparse_moe`
    /// (Mixtral).
    Moe {
        /// Hidden width of each expert.
        hidden: i32,
        /// Experts.
        experts: i32,
        /// Experts per token.
        top_k: i32,
        /// The routing.
        router: super::switch::Router,
        /// Parameters under `block_sparse_moe` instead of `mlp`.
        block_sparse: bool,
    },
}

/// One block.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// The attention.
    pub attention: AttentionSpec,
    /// The feed-forward.
    pub ffn: FfnSpec,
}

/// Everything that tells the families apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The `model_type`.
    pub model_type: String,
    /// Vocabulary size.
    pub vocab_size: i32,
    /// Model width.
    pub hidden_size: i32,
    /// RMSNorm epsilon.
    pub eps: f32,
    /// Norms scale by `1 + weight` (Gemma).
    pub norm_offset: bool,
    /// Gemma's four norms per block (post-attention on the attention's
    /// output, pre- and post-feed-forward) instead of two.
    pub sandwich_norms: bool,
    /// Masks are arrays even where causal would do (Gemma 2).
    pub array_masks: bool,
    /// The embedding scale.
    pub embed_scale: EmbedScale,
    /// Output head tied to the embedding; `None`: tied when the weights
    /// have no `lm_head.weight` (Gemma 3).
    pub tie_word_embeddings: Option<bool>,
    /// `tanh(logits / c) · c` (Gemma 2).
    pub final_softcap: Option<f32>,
    /// The blocks.
    pub layers: Vec<LayerSpec>,
}

/// One block: attention and a feed-forward, each behind a norm.
#[derive(Debug, Clone, Module)]
pub struct Block {
    /// Attention.
    pub self_attn: Attention,
    /// Dense MLP, or Qwen3-MoE's experts.
    pub mlp: Option<Ffn>,
    /// Mixtral's experts.
    pub block_sparse_moe: Option<SparseMoe>,
    /// Norm before attention.
    pub input_layernorm: Norm,
    /// Norm before the feed-forward, or (Gemma) after attention.
    pub post_attention_layernorm: Norm,
    /// Gemma: norm before the feed-forward.
    pub pre_feedforward_layernorm: Option<Norm>,
    /// Gemma: norm after the feed-forward.
    pub post_feedforward_layernorm: Option<Norm>,
}

/// A feed-forward under `mlp`.
#[derive(Debug, Clone, Module)]
pub enum Ffn {
    /// Dense.
    Dense(Mlp),
    /// Experts.
    Moe(SparseMoe),
}

impl Ffn {
    fn forward(&self, x: &Array) -> Result<Array> {
        match self {
            Ffn::Dense(m) => m.forward(x),
            Ffn::Moe(m) => m.forward(x),
        }
    }
}

/// `x + y`; in `float16`, summed in `float32` and clipped to the `float16`
/// range (Gemma 3's `clip_residual`).
fn residual(x: &Array, y: &Array, clip: bool) -> Result<Array> {
    if clip && x.dtype() == Dtype::Float16 {
        let s = (x.astype(Dtype::Float32)? + y.astype(Dtype::Float32)?)?;
        let lo = Array::scalar(-65504.0f32)?;
        let hi = Array::scalar(65504.0f32)?;
        return Ok(mlx_rs::ops::clip(&s, Some(&lo), Some(&hi))?.astype(Dtype::Float16)?);
    }
    Ok((x + y)?)
}

impl Block {
    fn forward(
        &self,
        x: &Array,
        mask: &LayerMask,
        cache: Option<&mut LayerCache>,
        gemma3: bool,
    ) -> Result<Array> {
        let r = self
            .self_attn
            .forward(&self.input_layernorm.forward(x)?, mask, cache)?;
        let ffn = |h: &Array| -> Result<Array> {
            match (&self.mlp, &self.block_sparse_moe) {
                (Some(m), _) => m.forward(h),
                (None, Some(m)) => m.forward(h),
                (None, None) => Err(Error::config("block", "no feed-forward")),
            }
        };
        match (
            &self.pre_feedforward_layernorm,
            &self.post_feedforward_layernorm,
        ) {
            (Some(pre), Some(post)) => {
                let h = residual(x, &self.post_attention_layernorm.forward(&r)?, gemma3)?;
                let r = ffn(&pre.forward(&h)?)?;
                residual(&h, &post.forward(&r)?, gemma3)
            }
            _ => {
                let h = (x + &r)?;
                let r = ffn(&self.post_attention_layernorm.forward(&h)?)?;
                Ok((&h + &r)?)
            }
        }
    }
}

/// The embedding, the blocks and the final norm (mlx-lm's `model.`).
#[derive(Debug, Clone, Module)]
pub struct Body {
    /// Token embeddings.
    pub embed_tokens: EmbeddingLayer,
    /// The blocks.
    pub layers: Vec<Block>,
    /// Final norm.
    pub norm: Norm,
}

/// A decoder-only transformer of any family [`Spec`] describes.
#[derive(Debug, Clone, Module)]
pub struct Transformer {
    /// The body.
    pub model: Body,
    /// The output head, when not tied.
    pub lm_head: Option<LinearLayer>,
    /// What it is.
    #[module(skip)]
    pub spec: Spec,
}

impl Transformer {
    /// A model of zeros (ones for the norms) of the shape `spec` gives;
    /// `tied` decides the head when the spec leaves it open.
    ///
    /// # Errors
    /// [`Error::Config`] for inconsistent sizes.
    pub fn new(spec: Spec, tied: bool) -> Result<Self> {
        let (d, eps, off) = (spec.hidden_size, spec.eps, spec.norm_offset);
        let layers = spec
            .layers
            .iter()
            .map(|l| -> Result<Block> {
                let (mlp, block_sparse_moe) = match &l.ffn {
                    FfnSpec::Dense {
                        hidden,
                        fused,
                        activation,
                    } => (
                        Some(Ffn::Dense(Mlp::new(d, *hidden, *fused, *activation)?)),
                        None,
                    ),
                    FfnSpec::Moe {
                        hidden,
                        experts,
                        top_k,
                        router,
                        block_sparse,
                    } => {
                        let moe = SparseMoe::new(d, *hidden, *experts, *top_k, *router)?;
                        if *block_sparse {
                            (None, Some(moe))
                        } else {
                            (Some(Ffn::Moe(moe)), None)
                        }
                    }
                };
                let sandwich = || -> Result<Option<Norm>> {
                    spec.sandwich_norms
                        .then(|| Norm::new(d, eps, off))
                        .transpose()
                };
                Ok(Block {
                    self_attn: Attention::new(l.attention)?,
                    mlp,
                    block_sparse_moe,
                    input_layernorm: Norm::new(d, eps, off)?,
                    post_attention_layernorm: Norm::new(d, eps, off)?,
                    pre_feedforward_layernorm: sandwich()?,
                    post_feedforward_layernorm: sandwich()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let tied = spec.tie_word_embeddings.unwrap_or(tied);
        Ok(Transformer {
            model: Body {
                embed_tokens: EmbeddingLayer::new(spec.vocab_size, d)?,
                layers,
                norm: Norm::new(d, eps, off)?,
            },
            lm_head: if tied {
                None
            } else {
                Some(LinearLayer::new(d, spec.vocab_size, false)?)
            },
            spec,
        })
    }

    /// Loads an mlx-lm directory of a family [`super::spec_of`] knows,
    /// strictly; float parameters keep the stored dtype, then are cast to
    /// `compute` when given.
    ///
    /// # Errors
    /// As [`super::load_as`].
    pub fn load_as(dir: &Path, compute: Option<Dtype>) -> Result<Self> {
        let config = mlx_rs::nn::mlx_lm::read_config(dir)?;
        let weights = loading::read_weights(dir)?;
        Transformer::from_weights(&config, weights, compute)
    }

    /// The model of `config` with `weights` (names as in an mlx-lm
    /// directory, quantized layers included).
    ///
    /// # Errors
    /// As [`super::load_as`].
    pub fn from_weights(
        config: &Value,
        weights: std::collections::HashMap<String, Array>,
        compute: Option<Dtype>,
    ) -> Result<Self> {
        let spec = super::spec_of(config)?;
        let tied = !weights.contains_key("lm_head.weight");
        let mut model = Transformer::new(spec, tied)?;
        loading::load_into(&mut model, config, weights, compute)?;
        Ok(model)
    }

    fn run(&self, mut h: Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        let s = &self.spec;
        h = match s.embed_scale {
            EmbedScale::None => h,
            EmbedScale::Weak(x) => (&h * x)?,
            EmbedScale::Bf16(x) => {
                let x = Array::scalar(x)?
                    .astype(Dtype::Bfloat16)?
                    .astype(h.dtype())?;
                (&h * &x)?
            }
        };
        let t = h.shape().get(1).copied().unwrap_or(0);
        let gemma3 = s.model_type == "gemma3_text";
        let n = self.model.layers.len();
        let mask = |l: &Block| LayerMask::new(t, 0, false, l.self_attn.spec.window, s.array_masks);
        match caches {
            Some(caches) => {
                if caches.len() != n {
                    return Err(Error::config(
                        "caches",
                        format!("{} caches for {n} blocks", caches.len()),
                    ));
                }
                for (layer, cache) in self.model.layers.iter().zip(caches) {
                    let m =
                        LayerMask::of_cache(cache, t, layer.self_attn.spec.window, s.array_masks)?;
                    h = layer.forward(&h, &m, Some(cache), gemma3)?;
                }
            }
            None => {
                for layer in &self.model.layers {
                    let m = mask(layer)?;
                    h = layer.forward(&h, &m, None, gemma3)?;
                }
            }
        }
        let h = self.model.norm.forward(&h)?;
        let out = match &self.lm_head {
            Some(head) => head.forward(&h)?,
            None => self.model.embed_tokens.as_linear(&h)?,
        };
        Ok(match s.final_softcap {
            Some(c) => (mlx_rs::ops::tanh(&(&out / c)?)? * c)?,
            None => out,
        })
    }
}

impl LanguageModel for Transformer {
    fn model_type(&self) -> &str {
        &self.spec.model_type
    }

    fn vocab_size(&self) -> i32 {
        self.spec.vocab_size
    }

    /// Standard caches; Gemma 3's sliding-window layers get a
    /// [`RotatingKvCache`] of the window's size (mlx-lm's `make_cache`).
    fn new_caches(&self) -> Vec<LayerCache> {
        let gemma3 = self.spec.model_type == "gemma3_text";
        self.model
            .layers
            .iter()
            .map(|l| match l.self_attn.spec.window {
                Some(w) if gemma3 => RotatingKvCache::new(w, 0)
                    .map(LayerCache::Rotating)
                    .unwrap_or_default(),
                _ => LayerCache::default(),
            })
            .collect()
    }

    fn forward(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        self.run(self.model.embed_tokens.forward(ids)?, caches)
    }

    fn forward_clamped(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        self.run(self.model.embed_tokens.forward_clamped(ids)?, caches)
    }
}
