//! [`RmsNorm`], [`LayerNorm`], [`GroupNorm`] and [`InstanceNorm`].

use crate::error::Result;
use crate::fast;
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::ops::{mean, rsqrt, var};
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

/// `weight · x + bias` when the layer is affine, `x` otherwise.
fn affine(x: Array, weight: Option<&Array>, bias: Option<&Array>) -> Result<Array> {
    match (weight, bias) {
        (Some(w), Some(b)) => (w * &x)? + b,
        (Some(w), None) => w * &x,
        _ => Ok(x),
    }
}

fn positive_eps(layer: &'static str, eps: f32) -> Result<()> {
    if eps <= 0.0 {
        return Err(invalid(
            layer,
            format!("[{layer}] 'eps' must be positive but got {eps}."),
        ));
    }
    Ok(())
}

/// Group normalization over the last axis split into `num_groups` groups,
/// with statistics over every other non-batch axis (MLX's `nn.GroupNorm`,
/// both its default and its `pytorch_compatible` grouping).
///
/// Parameters: `weight`, `bias` (when affine).
///
/// ```
/// use mlx_rs::nn::GroupNorm;
/// use mlx_rs::{Array, Dtype};
/// let gn = GroupNorm::new(2, 4, 1e-5, true, false)?;
/// let x = Array::arange(0.0, 24.0, 1.0, Dtype::Float32)?.reshape(&[2, 3, 4])?;
/// assert_eq!(gn.forward(&x)?.shape(), [2, 3, 4]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct GroupNorm {
    /// `[dims]`, when affine.
    pub weight: Option<Array>,
    /// `[dims]`, when affine.
    pub bias: Option<Array>,
    /// The number of groups.
    #[module(skip)]
    pub num_groups: i32,
    /// The number of features (the last axis).
    #[module(skip)]
    pub dims: i32,
    /// Added to the variance.
    #[module(skip)]
    pub eps: f32,
    /// Groups of consecutive features, as PyTorch (`fast::layer_norm` per
    /// group), instead of MLX's default strided grouping.
    #[module(skip)]
    pub pytorch_compatible: bool,
}

impl GroupNorm {
    /// A layer with scale ones and shift zeros (`affine`), or none.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) with
    /// Python's messages for a non-positive `eps`, `num_groups` or `dims`, or
    /// `dims` not divisible by `num_groups`.
    pub fn new(
        num_groups: i32,
        dims: i32,
        eps: f32,
        affine: bool,
        pytorch_compatible: bool,
    ) -> Result<Self> {
        positive_eps("GroupNorm", eps)?;
        let bad = |r: String| Err(invalid("GroupNorm", r));
        if num_groups <= 0 {
            return bad(format!(
                "The number of groups ({num_groups}) must be a positive integer."
            ));
        }
        if dims <= 0 {
            return bad(format!(
                "The number of features ({dims}) must be a positive integer."
            ));
        }
        if dims % num_groups != 0 {
            return bad(format!(
                "The number of features ({dims}) must be evenly divisible by the number of groups \
                 ({num_groups})."
            ));
        }
        let (weight, bias) = if affine {
            (
                Some(Array::ones(&[dims], Dtype::Float32)?),
                Some(Array::zeros(&[dims], Dtype::Float32)?),
            )
        } else {
            (None, None)
        };
        Ok(GroupNorm {
            weight,
            bias,
            num_groups,
            dims,
            eps,
            pytorch_compatible,
        })
    }

    /// Normalizes `x` (`[N, ..., dims]`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the
    /// layer when `x` has fewer than 2 axes or its last is not `dims`.
    #[doc(alias = "mlx_var_axis")]
    #[doc(alias = "mlx_fast_layer_norm")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let shape = x.shape().to_vec();
        if shape.len() < 2 || shape.last() != Some(&self.dims) {
            return Err(invalid(
                "GroupNorm",
                format!(
                    "expects inputs [N, ..., {}], got shape {shape:?}",
                    self.dims
                ),
            ));
        }
        let (batch, g) = (shape[0], self.num_groups);
        let y = if self.pytorch_compatible {
            let group_size = self.dims / g;
            let y = x
                .reshape(&[batch, -1, g, group_size])?
                .transpose_axes(&[0, 2, 1, 3])?
                .reshape(&[batch, g, -1])?;
            let y = fast::layer_norm(&y, None, None, self.eps)?;
            y.reshape(&[batch, g, -1, group_size])?
                .transpose_axes(&[0, 2, 1, 3])?
                .reshape(&shape)?
        } else {
            let y = x.reshape(&[batch, -1, g])?;
            let means = mean(&y, 1, true)?;
            let v = var(&y, 1, true, 0)?;
            ((&y - &means)? * rsqrt(&(&v + self.eps)?)?)?.reshape(&shape)?
        };
        affine(y, self.weight.as_ref(), self.bias.as_ref())
    }
}

/// Instance normalization: each sample's each channel normalized over the
/// spatial axes of `[N, ..., C]` (MLX's `nn.InstanceNorm`).
///
/// Parameters: `weight`, `bias` (when affine).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct InstanceNorm {
    /// `[dims]`, when affine.
    pub weight: Option<Array>,
    /// `[dims]`, when affine.
    pub bias: Option<Array>,
    /// The number of channels (the last axis).
    #[module(skip)]
    pub dims: i32,
    /// Added to the variance.
    #[module(skip)]
    pub eps: f32,
}

impl InstanceNorm {
    /// A layer with scale ones and shift zeros (`affine`), or none.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
    /// non-positive `eps` (Python's message).
    pub fn new(dims: i32, eps: f32, affine: bool) -> Result<Self> {
        positive_eps("InstanceNorm", eps)?;
        let (weight, bias) = if affine {
            (
                Some(Array::ones(&[dims], Dtype::Float32)?),
                Some(Array::zeros(&[dims], Dtype::Float32)?),
            )
        } else {
            (None, None)
        };
        Ok(InstanceNorm {
            weight,
            bias,
            dims,
            eps,
        })
    }

    /// Normalizes `x` (`[N, ..., C]`, at least 3 axes) as Python does:
    /// channels first, [`fast::layer_norm`] over the flattened spatial axes,
    /// back to channels last.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the
    /// layer for fewer than 3 axes (Python's message) or a last axis that is
    /// not `dims`.
    #[doc(alias = "mlx_fast_layer_norm")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let shape = x.shape().to_vec();
        let n = shape.len();
        if n < 3 {
            return Err(invalid(
                "InstanceNorm",
                format!(
                    "InstanceNorm expects inputs with at least 3 dimensions (N, ..., C) but the \
                     input has {n} dimensions."
                ),
            ));
        }
        if shape[n - 1] != self.dims {
            return Err(invalid(
                "InstanceNorm",
                format!(
                    "expects {} channels (the last axis), got shape {shape:?}",
                    self.dims
                ),
            ));
        }
        let (batch, features) = (shape[0], shape[n - 1]);
        let mut first = vec![0, (n - 1) as i32];
        first.extend(1..(n - 1) as i32);
        let cf = x.transpose_axes(&first)?.reshape(&[batch, features, -1])?;
        let y = fast::layer_norm(&cf, None, None, self.eps)?;
        let mut cf_shape = vec![batch, features];
        cf_shape.extend_from_slice(&shape[1..n - 1]);
        let mut last = vec![0];
        last.extend(2..n as i32);
        last.push(1);
        let y = y.reshape(&cf_shape)?.transpose_axes(&last)?;
        affine(y, self.weight.as_ref(), self.bias.as_ref())
    }
}
