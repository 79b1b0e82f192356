//! Layers for inference and training, the [`Module`] trait and derive that
//! give a model named parameters, and the [`losses`].
//!
//! A model is a plain struct of layers that derives [`Module`](derive@Module):
//!
//! ```
//! use mlx_rs::fast::AttentionMask;
//! use mlx_rs::nn::{Attention, AttentionConfig, EmbeddingLayer, Mlp, Module, RmsNorm};
//! use mlx_rs::nn::{quantize, QuantizeConfig};
//! use mlx_rs::quantization::QuantMode;
//! use mlx_rs::Array;
//!
//! #[derive(Debug, Module)]
//! struct Block { self_attn: Attention, mlp: Mlp, input_layernorm: RmsNorm }
//!
//! #[derive(Debug, Module)]
//! struct Model { embed_tokens: EmbeddingLayer, layers: Vec<Block>, norm: RmsNorm }
//!
//! let attn = AttentionConfig { dims: 32, n_heads: 4, n_kv_heads: 2, head_dim: 8,
//!                              rope_base: 10000.0, bias: false };
//! let mut model = Model {
//!     embed_tokens: EmbeddingLayer::new(64, 32)?,
//!     layers: vec![Block { self_attn: Attention::new(attn)?, mlp: Mlp::new(32, 64, false)?,
//!                          input_layernorm: RmsNorm::new(32, 1e-5)? }],
//!     norm: RmsNorm::new(32, 1e-5)?,
//! };
//! assert!(model.parameters().contains_key("layers.0.self_attn.k_proj.weight"));
//!
//! quantize(&mut model, &QuantizeConfig::new(QuantMode::affine(4, 32)?), None)?;
//! assert!(model.parameters().contains_key("layers.0.self_attn.k_proj.scales"));
//!
//! let ids = Array::from_slice(&[1u32, 2, 3], &[1, 3])?;
//! let h = model.embed_tokens.forward(&ids)?;
//! let h = model.layers[0].self_attn.forward(&h, AttentionMask::Causal, None)?;
//! assert_eq!(model.embed_tokens.as_linear(&h)?.shape(), [1, 3, 64]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! - [`Module`]: named traversal, loading ([`Module::load_weights`] is
//!   strict), saving, counting; [`replace_modules`] to swap layers.
//! - Layers: [`Linear`], [`QuantizedLinear`], [`Embedding`],
//!   [`QuantizedEmbedding`], [`RmsNorm`], [`LayerNorm`], [`Rope`],
//!   [`Attention`] with a [`LayerCache`] ([`KvCache`], [`RotatingKvCache`],
//!   [`QuantizedKvCache`]), [`Mlp`] (SwiGLU).
//! - Activations, Python MLX's op for op (compiled where Python compiles
//!   them, so the same bits on the CPU): [`sigmoid`], [`log_sigmoid`],
//!   [`silu`], [`gelu`], [`gelu_approx`], [`gelu_fast_approx`],
//!   [`softplus`], [`mish`], [`elu`], [`celu`], [`selu`], [`softsign`],
//!   [`tanh`], [`softmax`], [`softmin`], [`log_softmax`], [`glu`],
//!   [`relu`], [`relu2`], [`relu6`], [`leaky_relu`], [`prelu`],
//!   [`hardswish`], [`hard_tanh`], [`hard_shrink`], [`softshrink`],
//!   [`step`]; as layers [`Glu`], [`Sigmoid`], [`Mish`], [`Relu`],
//!   [`Relu2`], [`Relu6`], [`LeakyRelu`], [`Elu`], [`Softmax`],
//!   [`Softplus`], [`Softsign`], [`Softshrink`], [`Celu`], [`Silu`],
//!   [`LogSoftmax`], [`LogSigmoid`], [`Prelu`], [`Gelu`], [`Tanh`],
//!   [`Hardswish`], [`Step`], [`Selu`], [`HardTanh`], [`HardShrink`],
//!   [`Softmin`].
//! - [`init`]: Python's initializers ([`init::constant`], [`init::normal`],
//!   [`init::uniform`], [`init::identity`], [`init::glorot_normal`],
//!   [`init::glorot_uniform`], [`init::he_normal`], [`init::he_uniform`],
//!   [`init::sparse`], [`init::orthogonal`]), drawing from the global
//!   random state as Python does.
//! - Training layers, initialised as Python's from the global random state
//!   ([`random::seed`](crate::random::seed)): [`Linear::uniform`],
//!   [`Conv1d`], [`Conv2d`], [`Conv3d`], [`MaxPool1d`]–[`MaxPool3d`],
//!   [`AvgPool1d`]–[`AvgPool3d`], [`Dropout`], [`Dropout2d`],
//!   [`Dropout3d`] (see [`Module::train`]), [`GroupNorm`],
//!   [`InstanceNorm`], [`BatchNorm`], [`MultiHeadAttention`], [`Transformer`]
//!   and its encoder/decoder (layers), [`Rnn`], [`Gru`], [`Lstm`].
//!   Train with [`Module::value_and_grad`], an
//!   [`optimizer`](crate::optimizers) and [`Module::update`].
//! - [`quantize`] a whole model in place ([`LinearLayer`] and
//!   [`EmbeddingLayer`] are float or quantized).
//! - [`lora`]: [`LoraLinear`] adapters (LoRA / QLoRA) and fusing them.
//! - [`mlx_lm`]: mlx-lm's `config.json` quantization block and directory
//!   layout.
//!
//! Inference layers built with `new` ([`Linear::new`], [`Embedding`], …)
//! hold zeros (or ones for norms) and get their values from
//! [`Module::load_weights`].

mod activations;
mod attention;
mod batch_norm;
pub mod cache;
mod conv;
mod distributed;
mod dropout;
mod embedding;
pub mod freeze;
pub mod init;
mod linear;
pub mod lora;
pub mod losses;
mod mlp;
pub mod mlx_lm;
mod module;
mod multi_head;
mod norm;
mod pooling;
mod quantize;
mod recurrent;
mod rope;
mod transformer;

pub use activations::{
    celu, elu, gelu, gelu_approx, gelu_fast_approx, glu, hard_shrink, hard_tanh, hardswish,
    leaky_relu, log_sigmoid, log_softmax, mish, prelu, relu, relu2, relu6, selu, sigmoid, silu,
    softmax, softmin, softplus, softshrink, softsign, step, tanh, Celu, Elu, Gelu, GeluApprox, Glu,
    HardShrink, HardTanh, Hardswish, LeakyRelu, LogSigmoid, LogSoftmax, Mish, Prelu, Relu, Relu2,
    Relu6, Selu, Sigmoid, Silu, Softmax, Softmin, Softplus, Softshrink, Softsign, Step, Tanh,
};
pub use attention::{Attention, AttentionConfig};
pub use batch_norm::BatchNorm;
pub use cache::{
    load_prompt_cache, quantized_scaled_dot_product_attention, save_prompt_cache, CacheMask,
    CachedKv, KvCache, LayerCache, QuantizedKvCache, RotatingKvCache,
};
pub use conv::{Conv1d, Conv2d, Conv3d};
pub use distributed::{
    average_gradients, shard_linear_layer, AllToShardedLinear, ShardedToAllLinear, Sharding,
};
pub use dropout::{Dropout, Dropout2d, Dropout3d};
pub use embedding::{Embedding, QuantizedEmbedding};
pub use freeze::{Freeze, Frozen};
pub use linear::{Linear, QuantizedLinear};
pub use lora::LoraLinear;
pub use mlp::Mlp;
/// Derives [`Module`] for a model struct; see the trait for what it
/// generates and [`mlx_macros::Module`] for the attributes.
pub use mlx_macros::Module;
pub use module::{join_name, replace_modules, Module};
pub use multi_head::MultiHeadAttention;
pub use norm::{GroupNorm, InstanceNorm, LayerNorm, RmsNorm};
pub use pooling::{AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d};
pub use quantize::{
    dequantize, quantize, quantize_by, EmbeddingLayer, LayerPredicate, LinearLayer, MaybeQuantized,
    QuantizeConfig, QuantizeReport,
};
pub use recurrent::{Gru, Lstm, Rnn};
pub use rope::Rope;
pub use transformer::{
    Activation, Transformer, TransformerConfig, TransformerDecoder, TransformerDecoderLayer,
    TransformerEncoder, TransformerEncoderLayer,
};
