//! [`RmsNorm`] and [`LayerNorm`].

use crate::error::Result;
use crate::fast;
use crate::nn::Module;
use crate::{Array, Dtype};

/// RMS normalization over the last axis, with a learned scale:
/// `x / sqrt(mean(x²) + eps) · weight` (MLX's `nn.RMSNorm`).
///
/// Parameter: `weight`.
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct RmsNorm {
    /// `[dims]`.
    pub weight: Array,
    /// Added to the mean square.
    #[module(skip)]
    pub eps: f32,
}

impl RmsNorm {
    /// A layer with a scale of ones in `float32`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for a negative size.
    pub fn new(dims: i32, eps: f32) -> Result<Self> {
        Ok(RmsNorm {
            weight: Array::ones(&[dims], Dtype::Float32)?,
            eps,
        })
    }

    /// Normalizes `x` with [`fast::rms_norm`].
    ///
    /// # Errors
    /// As [`fast::rms_norm`].
    #[doc(alias = "mlx_fast_rms_norm")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        fast::rms_norm(x, Some(&self.weight), self.eps)
    }
}

/// Layer normalization over the last axis, with an optional learned scale
/// and shift (MLX's `nn.LayerNorm`).
///
/// Parameters: `weight`, `bias` (when affine).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct LayerNorm {
    /// `[dims]`, when affine.
    pub weight: Option<Array>,
    /// `[dims]`, when affine with a bias.
    pub bias: Option<Array>,
    /// Added to the variance.
    #[module(skip)]
    pub eps: f32,
}

impl LayerNorm {
    /// A layer with scale ones and shift zeros (`affine`), or none.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for a negative size.
    pub fn new(dims: i32, eps: f32, affine: bool) -> Result<Self> {
        let (weight, bias) = if affine {
            (
                Some(Array::ones(&[dims], Dtype::Float32)?),
                Some(Array::zeros(&[dims], Dtype::Float32)?),
            )
        } else {
            (None, None)
        };
        Ok(LayerNorm { weight, bias, eps })
    }

    /// Normalizes `x` with [`fast::layer_norm`].
    ///
    /// # Errors
    /// As [`fast::layer_norm`].
    #[doc(alias = "mlx_fast_layer_norm")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        fast::layer_norm(x, self.weight.as_ref(), self.bias.as_ref(), self.eps)
    }
}
