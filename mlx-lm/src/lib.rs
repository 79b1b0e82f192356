//! LLM inference on [`mlx_rs`]: the model families mlx-lm runs most
//! (Llama, Qwen2/3, Qwen3-MoE, Mixtral, Gemma 2/3, Phi-3) from mlx-lm
//! directories (Llama from GGUF files too), their tokenizer and chat
//! template, native
//! conversion (dequantize, re-quantize in any MLX mode, save in mlx-lm's
//! layout), and streaming generation with a KV cache.
//!
//! - [`tokenizer`]: byte-level BPE tokenizers from GGUF metadata or
//!   `tokenizer.json`.
//! - [`chat`]: chat templates rendered with `minijinja`.
//! - [`llama`]: the model, loaded from an mlx-lm directory.
//! - [`convert`]: GGUF → dequantize → re-quantize → mlx-lm directory.
//! - [`generate`](mod@generate): streaming generation with a KV cache.
//! - [`sample`]: mlx-lm's samplers and logits processors, on the device.
//! - [`models`]: the registry of families by `model_type`
//!   ([`models::load`]), their shared layers, and the demo model
//!   (SmolLM2-135M-Instruct), fetched on demand.

pub mod chat;
pub mod convert;
mod error;
pub mod generate;
mod gguf_meta;
pub mod llama;
pub mod lora;
pub mod models;
pub mod sample;
pub mod tokenizer;

pub use chat::{ChatTemplate, Message};
pub use error::{Error, Result};
pub use generate::{
    generate, generate_with, generate_with_cache, maybe_quantize_kv_cache, Finish, GenerateOptions,
    GenerationStats,
};
pub use gguf_meta::Metadata;
pub use llama::{Llama, LlamaConfig};
pub use models::LanguageModel;
pub use sample::{LogitsProcessors, Penalty, Sampler};
pub use tokenizer::{TextStream, Tokenizer};

/// The metadata of a GGUF file (its tensors are read and dropped).
///
/// # Errors
/// As [`mlx_rs::io::load_gguf`].
pub fn gguf_metadata(path: impl AsRef<std::path::Path>) -> Result<Metadata> {
    Ok(mlx_rs::io::load_gguf(path)?.metadata)
}
