//! The Llama architecture (Llama 2/3, SmolLM, TinyLlama, ...) on
//! [`mlx_rs::nn`] layers, with mlx-lm's parameter names, so that an mlx-lm
//! directory loads strictly and what [`crate::convert`] writes loads in
//! Python's mlx-lm.
//!
//! Grouped-query attention, RoPE (`rope_theta`), RMSNorm, SwiGLU, tied or
//! separate output head; every linear layer and the embedding may be
//! quantized in any MLX mode.

use std::path::Path;

use mlx_rs::fast::AttentionMask;
use mlx_rs::io::LoadOptions;
use mlx_rs::nn::{
    Attention, AttentionConfig, EmbeddingLayer, LayerCache, LinearLayer, Mlp, Module, RmsNorm,
};
use mlx_rs::{Array, Dtype};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::gguf_meta::{self, Metadata};
use crate::models::{loading, LanguageModel};

fn default_true() -> bool {
    true
}

fn default_rope_theta() -> f32 {
    10_000.0
}

/// The `config.json` of a Llama model (the keys this implementation
/// reads; others are kept in [`LlamaConfig::extra`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    /// `"llama"`.
    pub model_type: String,
    /// Model width.
    pub hidden_size: i32,
    /// Transformer blocks.
    pub num_hidden_layers: i32,
    /// Hidden width of the MLP.
    pub intermediate_size: i32,
    /// Query heads.
    pub num_attention_heads: i32,
    /// Key/value heads (GQA).
    pub num_key_value_heads: i32,
    /// Features per head (`hidden_size / num_attention_heads` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<i32>,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f32,
    /// Vocabulary size.
    pub vocab_size: i32,
    /// RoPE base.
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f32,
    /// Interleaved (GGUF-style) RoPE instead of rotate-half.
    #[serde(default)]
    pub rope_traditional: bool,
    /// Output head shares the embedding table.
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
    /// Biases in the attention projections.
    #[serde(default)]
    pub attention_bias: bool,
    /// Biases in the MLP.
    #[serde(default)]
    pub mlp_bias: bool,
    /// Context length the model was trained for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_position_embeddings: Option<i32>,
    /// Every other key of `config.json` (written back unchanged).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl LlamaConfig {
    /// The configuration a GGUF file's `llama.*` metadata describes.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an architecture other than `llama`;
    /// [`Error::Metadata`] for a missing or mistyped entry.
    pub fn from_gguf_metadata(m: &Metadata) -> Result<Self> {
        let arch = gguf_meta::string(m, "general.architecture")?;
        if arch != "llama" {
            return Err(Error::Unsupported(format!(
                "GGUF architecture {arch:?} (only \"llama\")"
            )));
        }
        let int = |key: &str| -> Result<i32> {
            let x = gguf_meta::number(m, key)?;
            if x.fract() == 0.0 && x > 0.0 && x <= f64::from(i32::MAX) {
                Ok(x as i32)
            } else {
                Err(Error::metadata(
                    key,
                    format!("{x} is not a positive integer"),
                ))
            }
        };
        let heads = int("llama.attention.head_count")?;
        let hidden = int("llama.embedding_length")?;
        let vocab = match gguf_meta::opt_number(m, "llama.vocab_size")? {
            Some(v) => v as i32,
            None => gguf_meta::strings(m, "tokenizer.ggml.tokens")?.len() as i32,
        };
        let head_dim = match gguf_meta::opt_number(m, "llama.rope.dimension_count")? {
            Some(d) if d as i32 != hidden / heads => {
                return Err(Error::Unsupported(format!(
                    "partial rotary embeddings (rope.dimension_count {d}, head dim {})",
                    hidden / heads
                )))
            }
            _ => None,
        };
        if m.contains_key("llama.rope.scaling.type") {
            return Err(Error::Unsupported(
                "RoPE scaling (llama.rope.scaling.*)".into(),
            ));
        }
        Ok(LlamaConfig {
            model_type: "llama".into(),
            hidden_size: hidden,
            num_hidden_layers: int("llama.block_count")?,
            intermediate_size: int("llama.feed_forward_length")?,
            num_attention_heads: heads,
            num_key_value_heads: match gguf_meta::opt_number(m, "llama.attention.head_count_kv")? {
                Some(_) => int("llama.attention.head_count_kv")?,
                None => heads,
            },
            head_dim,
            rms_norm_eps: gguf_meta::number(m, "llama.attention.layer_norm_rms_epsilon")? as f32,
            vocab_size: vocab,
            rope_theta: gguf_meta::opt_number(m, "llama.rope.freq_base")?
                .map_or(default_rope_theta(), |x| x as f32),
            rope_traditional: false,
            tie_word_embeddings: true,
            attention_bias: false,
            mlp_bias: false,
            max_position_embeddings: gguf_meta::opt_number(m, "llama.context_length")?
                .map(|x| x as i32),
            extra: serde_json::Map::new(),
        })
    }

    /// Parses a `config.json`.
    ///
    /// # Errors
    /// [`Error::Config`] for missing keys or a `model_type` this
    /// implementation does not run.
    pub fn from_json(v: &Value) -> Result<Self> {
        let c: LlamaConfig = serde_json::from_value(v.clone())
            .map_err(|e| Error::config("config.json", e.to_string()))?;
        if !matches!(c.model_type.as_str(), "llama" | "mistral") {
            return Err(Error::Unsupported(format!(
                "model_type {:?} (only llama)",
                c.model_type
            )));
        }
        if c.extra.get("rope_scaling").is_some_and(|v| !v.is_null()) {
            return Err(Error::Unsupported("RoPE scaling (`rope_scaling`)".into()));
        }
        Ok(c)
    }

    /// Features per head.
    pub fn head_dim(&self) -> i32 {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }
}

/// One transformer block.
#[derive(Debug, Clone, Module)]
pub struct Block {
    /// Attention with RoPE and GQA.
    pub self_attn: Attention,
    /// SwiGLU MLP.
    pub mlp: Mlp,
    /// Norm before attention.
    pub input_layernorm: RmsNorm,
    /// Norm before the MLP.
    pub post_attention_layernorm: RmsNorm,
    /// The group the block is sharded over (see [`Llama::shard`]): the
    /// outputs of attention and MLP are then `all_sum`med over it.
    #[module(skip)]
    pub tensor_group: Option<mlx_rs::distributed::Group>,
}

/// The embedding, the blocks and the final norm (mlx-lm's `model.`).
#[derive(Debug, Clone, Module)]
pub struct LlamaBody {
    /// Token embeddings.
    pub embed_tokens: EmbeddingLayer,
    /// The blocks.
    pub layers: Vec<Block>,
    /// Final norm.
    pub norm: RmsNorm,
}

/// A Llama model.
#[derive(Debug, Clone, Module)]
pub struct Llama {
    /// The body.
    pub model: LlamaBody,
    /// The output head, when not tied to the embedding.
    pub lm_head: Option<LinearLayer>,
    /// The configuration.
    #[module(skip)]
    pub config: LlamaConfig,
}

impl Llama {
    /// A model of the given shape, holding zeros until weights are loaded.
    ///
    /// # Errors
    /// [`mlx_rs::Error::InvalidShape`] for inconsistent sizes.
    pub fn new(config: LlamaConfig) -> Result<Self> {
        let c = &config;
        let attn = AttentionConfig {
            dims: c.hidden_size,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.num_key_value_heads,
            head_dim: c.head_dim(),
            rope_base: c.rope_theta,
            bias: c.attention_bias,
        };
        let layers = (0..c.num_hidden_layers)
            .map(|_| -> Result<Block> {
                let mut self_attn = Attention::new(attn)?;
                self_attn.rope.traditional = c.rope_traditional;
                Ok(Block {
                    self_attn,
                    mlp: Mlp::new(c.hidden_size, c.intermediate_size, c.mlp_bias)?,
                    input_layernorm: RmsNorm::new(c.hidden_size, c.rms_norm_eps)?,
                    post_attention_layernorm: RmsNorm::new(c.hidden_size, c.rms_norm_eps)?,
                    tensor_group: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Llama {
            model: LlamaBody {
                embed_tokens: EmbeddingLayer::new(c.vocab_size, c.hidden_size)?,
                layers,
                norm: RmsNorm::new(c.hidden_size, c.rms_norm_eps)?,
            },
            lm_head: if c.tie_word_embeddings {
                None
            } else {
                Some(LinearLayer::new(c.hidden_size, c.vocab_size, false)?)
            },
            config,
        })
    }

    /// Shards the model for tensor-parallel inference over `group`, as
    /// mlx-lm's `Model.shard`: in every block, `q_proj`, `k_proj`,
    /// `v_proj`, `gate_proj` and `up_proj` keep this rank's output
    /// features, `o_proj` and `down_proj` this rank's input features, each
    /// rank keeps `1/N` of the heads, and the block `all_sum`s the
    /// attention and MLP outputs. Embeddings, norms and the head stay
    /// whole. Every rank must call it, with the same weights; afterwards
    /// every rank computes the same logits. Float or quantized layers
    /// (a quantized `o_proj`/`down_proj` needs whole quantization groups
    /// per rank). For inference: the backward pass does not sum the input
    /// gradients.
    ///
    /// # Errors
    /// [`mlx_rs::Error::InvalidArgument`] when the heads or features do not
    /// divide by the group size (SmolLM2-135M's 9 query and 3 key/value
    /// heads split over 3 ranks, not 2).
    pub fn shard(&mut self, group: &mlx_rs::distributed::Group) -> Result<()> {
        use mlx_rs::nn::{shard_linear_layer, Sharding};
        let n = group.size() as i32;
        let (h, kv) = (
            self.config.num_attention_heads,
            self.config.num_key_value_heads,
        );
        if h % n != 0 || kv % n != 0 {
            return Err(mlx_rs::Error::InvalidArgument {
                op: "Llama::shard",
                reason: format!("{h} query and {kv} key/value heads do not split across {n} ranks"),
            }
            .into());
        }
        let (rows, cols) = (Sharding::AllToSharded, Sharding::ShardedToAll);
        for b in &mut self.model.layers {
            let a = &mut b.self_attn;
            a.q_proj = shard_linear_layer(&a.q_proj, rows, 1, group)?;
            a.k_proj = shard_linear_layer(&a.k_proj, rows, 1, group)?;
            a.v_proj = shard_linear_layer(&a.v_proj, rows, 1, group)?;
            a.o_proj = shard_linear_layer(&a.o_proj, cols, 1, group)?;
            a.n_heads /= n;
            a.n_kv_heads /= n;
            let m = &mut b.mlp;
            m.gate_proj = shard_linear_layer(&m.gate_proj, rows, 1, group)?;
            m.up_proj = shard_linear_layer(&m.up_proj, rows, 1, group)?;
            m.down_proj = shard_linear_layer(&m.down_proj, cols, 1, group)?;
            b.tensor_group = (n > 1).then(|| group.clone());
        }
        Ok(())
    }

    /// Loads an mlx-lm directory (`config.json` + `*.safetensors`, quantized
    /// or not), strictly: every weight must match a parameter. The float
    /// parameters keep the stored dtype; see [`Llama::load_as`].
    ///
    /// # Errors
    /// As [`mlx_rs::nn::mlx_lm::load_model`] and [`LlamaConfig::from_json`].
    pub fn load(dir: &Path) -> Result<Self> {
        Llama::load_as(dir, None)
    }

    /// [`Llama::load`], then the float parameters (norms, float layers,
    /// affine scales and biases) cast to `compute` when given: `float32`
    /// on the CPU, where MLX's half-precision quantized matmuls are slow
    /// (and SmolLM2's activations overflow `float16`).
    ///
    /// # Errors
    /// As [`Llama::load`].
    pub fn load_as(dir: &Path, compute: Option<Dtype>) -> Result<Self> {
        let config = LlamaConfig::from_json(&mlx_rs::nn::mlx_lm::read_config(dir)?)?;
        let mut model = Llama::new(config)?;
        // Parameters first take the dtype of the stored float weights (the
        // norms are never quantized), so that quantized layers get scales
        // of that dtype and the strict load matches.
        if let Some(dtype) = loading::stored_float_dtype(dir)? {
            model.cast(dtype)?;
        }
        mlx_rs::nn::mlx_lm::load_model(&mut model, dir, LoadOptions::strict())?;
        if let Some(dtype) = compute {
            model.cast(dtype)?;
        }
        Ok(model)
    }

    /// Casts every floating-point parameter to `dtype` (lazily); packed
    /// quantized weights and `uint8` scales are left alone.
    ///
    /// # Errors
    /// As [`Array::astype`].
    pub fn cast(&mut self, dtype: Dtype) -> Result<()> {
        loading::cast(self, dtype)
    }

    /// Fresh KV caches, one per block.
    pub fn new_caches(&self) -> Vec<LayerCache> {
        self.model
            .layers
            .iter()
            .map(|_| LayerCache::default())
            .collect()
    }

    /// Logits `[B, T, vocab]` for token ids `[B, T]`. With `caches` (one per
    /// block, from [`Llama::new_caches`]), positions continue after what the
    /// caches hold and the new keys and values are appended.
    ///
    /// # Errors
    /// [`Error::Mlx`] for ids out of the vocabulary or of the wrong shape;
    /// [`Error::Config`] when the number of caches is wrong.
    pub fn forward(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        let h = self.model.embed_tokens.forward(ids)?;
        self.forward_embedded(h, ids, caches)
    }

    /// [`forward`](Self::forward) for ids the model sampled itself: they are
    /// clamped into the vocabulary on the device instead of checked, so
    /// nothing is evaluated and a decode step can be queued before the
    /// previous token is read back (see
    /// [`Embedding::forward_clamped`](mlx_rs::nn::Embedding::forward_clamped)).
    ///
    /// # Errors
    /// As [`forward`](Self::forward), less the vocabulary check.
    pub fn forward_clamped(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        let h = self.model.embed_tokens.forward_clamped(ids)?;
        self.forward_embedded(h, ids, caches)
    }

    /// The blocks, the norm and the head over embedded tokens `h`.
    fn forward_embedded(
        &self,
        mut h: Array,
        ids: &Array,
        caches: Option<&mut [LayerCache]>,
    ) -> Result<Array> {
        let t = ids.shape().last().copied().unwrap_or(0);
        let mask = || Attention::default_mask(t);
        match caches {
            Some(caches) => {
                if caches.len() != self.model.layers.len() {
                    return Err(Error::config(
                        "caches",
                        format!(
                            "{} caches for {} blocks",
                            caches.len(),
                            self.model.layers.len()
                        ),
                    ));
                }
                for (layer, cache) in self.model.layers.iter().zip(caches) {
                    let m = cache.make_mask(t, None, false)?;
                    h = layer.forward(&h, m.as_attention_mask(), Some(cache))?;
                }
            }
            None => {
                for layer in &self.model.layers {
                    h = layer.forward(&h, mask(), None)?;
                }
            }
        }
        let h = self.model.norm.forward(&h)?;
        Ok(match &self.lm_head {
            Some(head) => head.forward(&h)?,
            None => self.model.embed_tokens.as_linear(&h)?,
        })
    }
}

impl Llama {
    /// The mean log-likelihood (natural log) of each token of `ids` given
    /// the ones before it, in one forward pass (for perplexity and the
    /// quantization quality table): `mean(log softmax(logits[t])[ids[t+1]])`.
    ///
    /// # Errors
    /// [`Error::Config`] for fewer than two ids; as [`Llama::forward`].
    pub fn mean_log_likelihood(&self, ids: &[u32]) -> Result<f64> {
        LanguageModel::mean_log_likelihood(self, ids)
    }
}

impl LanguageModel for Llama {
    fn model_type(&self) -> &str {
        &self.config.model_type
    }

    fn vocab_size(&self) -> i32 {
        self.config.vocab_size
    }

    fn new_caches(&self) -> Vec<LayerCache> {
        Llama::new_caches(self)
    }

    fn forward(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        Llama::forward(self, ids, caches)
    }

    fn forward_clamped(&self, ids: &Array, caches: Option<&mut [LayerCache]>) -> Result<Array> {
        Llama::forward_clamped(self, ids, caches)
    }
}

impl Block {
    /// `x + attn(norm(x))`, then `h + mlp(norm(h))`.
    ///
    /// # Errors
    /// As [`Attention::forward`].
    pub fn forward(
        &self,
        x: &Array,
        mask: AttentionMask<'_>,
        cache: Option<&mut LayerCache>,
    ) -> Result<Array> {
        let a = self
            .self_attn
            .forward(&self.input_layernorm.forward(x)?, mask, cache)?;
        let reduce = |y: Array| match &self.tensor_group {
            Some(g) => mlx_rs::distributed::all_sum(&y, g),
            None => Ok(y),
        };
        let a = reduce(a)?;
        let h = (x + &a)?;
        let m = self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&h)?)?;
        let m = reduce(m)?;
        Ok((&h + &m)?)
    }
}
