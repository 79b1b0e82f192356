//! [`Rope`]: rotary position embeddings.

use crate::error::Result;
use crate::fast::{self, RopeBase};
use crate::nn::Module;
use crate::Array;

/// Rotary position embedding (MLX's `nn.RoPE`): rotates the first `dims`
/// features of each position by angles `scale · position · base^(−2i/dims)`.
///
/// It has no parameters; it derives [`Module`] (with every field skipped)
/// so that it can sit in a model struct like any layer.
#[derive(Debug, Clone, Copy, PartialEq, Module)]
#[module(crate = crate)]
pub struct Rope {
    /// Features rotated (the head dimension, usually).
    #[module(skip)]
    pub dims: i32,
    /// Rotate consecutive pairs `(2i, 2i + 1)` instead of `(i, i + dims/2)`.
    #[module(skip)]
    pub traditional: bool,
    /// The base of the frequencies (`rope_theta` in configs).
    #[module(skip)]
    pub base: f32,
    /// Scale of the positions.
    #[module(skip)]
    pub scale: f32,
}

impl Rope {
    /// Non-traditional RoPE over `dims` features with frequencies from
    /// `base`, positions unscaled (what Llama models use).
    pub fn new(dims: i32, base: f32) -> Self {
        Rope {
            dims,
            traditional: false,
            base,
            scale: 1.0,
        }
    }

    /// Applies the rotation to `x`, `[B, …, T, D]`, whose positions start at
    /// `offset` (the number of tokens already in the KV cache).
    ///
    /// # Errors
    /// As [`fast::rope`].
    #[doc(alias = "mlx_fast_rope")]
    pub fn forward(&self, x: &Array, offset: i32) -> Result<Array> {
        fast::rope(
            x,
            self.dims,
            self.traditional,
            RopeBase::Base(self.base),
            self.scale,
            offset,
        )
    }
}
