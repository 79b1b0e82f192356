//! [`Mlp`]: the SwiGLU feed-forward block of Llama-style models.

use crate::error::Result;
use crate::nn::{silu, LinearLayer, Module};
use crate::Array;

/// SwiGLU feed-forward: `down(silu(gate(x)) · up(x))`, mlx-lm's Llama
/// `MLP` with its parameter names (`gate_proj`, `up_proj`, `down_proj`).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Mlp {
    /// `[hidden, dims]`.
    pub gate_proj: LinearLayer,
    /// `[hidden, dims]`.
    pub up_proj: LinearLayer,
    /// `[dims, hidden]`.
    pub down_proj: LinearLayer,
}

impl Mlp {
    /// A block of zeros (float layers, with or without biases).
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for negative sizes.
    pub fn new(dims: i32, hidden_dims: i32, bias: bool) -> Result<Self> {
        Ok(Mlp {
            gate_proj: LinearLayer::new(dims, hidden_dims, bias)?,
            up_proj: LinearLayer::new(dims, hidden_dims, bias)?,
            down_proj: LinearLayer::new(hidden_dims, dims, bias)?,
        })
    }

    /// Runs the block on `x`, `[…, dims]`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) for an input of the wrong size.
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let h = (silu(&self.gate_proj.forward(x)?)? * self.up_proj.forward(x)?)?;
        self.down_proj.forward(&h)
    }
}
