//! The error type of `mlx-lm`.

use std::path::PathBuf;

/// What can go wrong loading, converting or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of MLX or of `mlx-rs`.
    #[error(transparent)]
    Mlx(#[from] mlx_rs::Error),
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A GGUF metadata entry is missing or has the wrong type.
    #[error("GGUF metadata `{key}`: {reason}")]
    Metadata {
        /// The metadata key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `config.json`, `tokenizer.json` or `tokenizer_config.json` that
    /// cannot be used.
    #[error("{what}: {reason}")]
    Config {
        /// The file or setting.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A model, tokenizer or setting this crate does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The `tokenizers` crate failed to build, encode or decode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The chat template failed to parse or render.
    #[error("chat template: {0}")]
    Template(#[from] minijinja::Error),
    /// A training or validation data set that cannot be used: a line that
    /// is not JSON or lacks the format's keys (with its 1-based number), or
    /// no examples at all.
    #[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Dataset {
        /// The `.jsonl` file.
        path: PathBuf,
        /// The line, when one line is at fault.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// The model could not be fetched.
    #[error(transparent)]
    Fetch(#[from] crate::models::FetchError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Config`].
    pub(crate) fn config(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Metadata`].
    pub(crate) fn metadata(key: &str, reason: impl Into<String>) -> Self {
        Error::Metadata {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

impl From<tokenizers::Error> for Error {
    fn from(e: tokenizers::Error) -> Self {
        Error::Tokenizer(e.to_string())
    }
}
