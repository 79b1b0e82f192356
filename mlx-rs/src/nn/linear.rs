//! [`Linear`] and [`QuantizedLinear`] layers.

use crate::error::{Error, Result};
use crate::nn::Module;
use crate::ops::{addmm, matmul};
use crate::quantization::{quantize, quantized_matmul, QuantMode, Quantized};
use crate::random::uniform;
use crate::{Array, Dtype};

/// `y = x Wᵀ + b`, with `weight` stored `[output_dims, input_dims]` as in
/// MLX and PyTorch; the bias is optional.
///
/// Parameters: `weight`, `bias` (mlx-lm's names).
///
/// ```
/// use mlx_rs::nn::Linear;
/// use mlx_rs::Array;
/// let layer = Linear {
///     weight: Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?,
///     bias: Some(Array::from_slice(&[0.5f32, -0.5], &[2])?),
/// };
/// let y = layer.forward(&Array::from_slice(&[1.0f32, 1.0], &[1, 2])?)?;
/// assert_eq!(y.to_vec::<f32>()?, [3.5, 6.5]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Linear {
    /// `[output_dims, input_dims]`.
    pub weight: Array,
    /// `[output_dims]`, if the layer has a bias.
    pub bias: Option<Array>,
}

impl Linear {
    /// A layer of zeros in `float32` (inference layers get their values
    /// from [`Module::load_weights`]).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for negative dimensions.
    pub fn new(input_dims: i32, output_dims: i32, bias: bool) -> Result<Self> {
        Ok(Linear {
            weight: Array::zeros(&[output_dims, input_dims], Dtype::Float32)?,
            bias: if bias {
                Some(Array::zeros(&[output_dims], Dtype::Float32)?)
            } else {
                None
            },
        })
    }

    /// A layer initialised as Python MLX's `nn.Linear`: weight, then
    /// bias, uniform in `±sqrt(1 / input_dims)` from the global random
    /// state, so that after the same [`random::seed`](crate::random::seed)
    /// both give the same values; `float32`.
    ///
    /// ```
    /// use mlx_rs::nn::Linear;
    /// mlx_rs::random::seed(0)?;
    /// let l = Linear::uniform(4, 2, true)?;
    /// assert_eq!(l.weight.shape(), [2, 4]);
    /// assert!(l.weight.to_vec::<f32>()?.iter().all(|w| w.abs() <= 0.5));
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a non-positive `input_dims` or a
    /// negative `output_dims`.
    #[doc(alias = "mlx_random_uniform")]
    pub fn uniform(input_dims: i32, output_dims: i32, bias: bool) -> Result<Self> {
        if input_dims < 1 || output_dims < 0 {
            return Err(Error::InvalidArgument {
                op: "Linear",
                reason: format!(
                    "input_dims must be positive and output_dims non-negative, got \
                     {input_dims} and {output_dims}"
                ),
            });
        }
        let scale = (1.0 / f64::from(input_dims)).sqrt() as f32;
        let weight = uniform(
            -scale,
            scale,
            &[output_dims, input_dims],
            Dtype::Float32,
            None,
        )?;
        let bias = if bias {
            Some(uniform(
                -scale,
                scale,
                &[output_dims],
                Dtype::Float32,
                None,
            )?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    /// The size of the last axis of the input.
    pub fn input_dims(&self) -> i32 {
        self.weight.shape().last().copied().unwrap_or(0)
    }

    /// The size of the last axis of the output.
    pub fn output_dims(&self) -> i32 {
        self.weight.shape().first().copied().unwrap_or(0)
    }

    /// `x Wᵀ + b`, as Python MLX's `nn.Linear` computes it (`addmm` with a
    /// bias, `matmul` without).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the layer when the last axis of
    /// `x` is not `input_dims` (or `x` is a scalar).
    #[doc(alias = "mlx_addmm")]
    #[doc(alias = "mlx_matmul")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        if x.shape().last() != Some(&self.input_dims()) {
            return Err(Error::InvalidArgument {
                op: "Linear",
                reason: format!(
                    "expects inputs whose last axis is {} (input_dims), got shape {:?}",
                    self.input_dims(),
                    x.shape()
                ),
            });
        }
        let wt = self.weight.transpose()?;
        match &self.bias {
            Some(b) => addmm(b, x, &wt, 1.0, 1.0),
            None => matmul(x, &wt),
        }
    }

    /// The quantized layer: `weight` quantized with `mode` (MLX's
    /// `QuantizedLinear.from_linear`); the bias is kept as it is.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for nvfp4 with a global scale (MLX's
    /// quantized layers have none); [`Error::Mlx`] when `input_dims` is not
    /// a multiple of the group size.
    #[doc(alias = "mlx_quantize")]
    pub fn to_quantized(&self, mode: QuantMode) -> Result<QuantizedLinear> {
        no_global_scale(mode)?;
        let q = quantize(&self.weight, mode)?;
        Ok(QuantizedLinear::from_parts(q, self.bias.clone()))
    }
}

pub(crate) fn no_global_scale(mode: QuantMode) -> Result<()> {
    if mode.global_scale().is_some() {
        return Err(Error::InvalidQuantization {
            reason: "quantized layers do not take an nvfp4 global scale (as in MLX's nn layers)"
                .to_owned(),
        });
    }
    Ok(())
}

/// A [`Linear`] layer with quantized weights, in any of MLX's modes:
/// `y = x ŵᵀ + b`.
///
/// Parameters, as in MLX and mlx-lm: `weight` (packed `uint32`,
/// `[output_dims, input_dims · bits / 32]`), `scales`, `biases` (affine
/// only) and `bias` (if the layer has one). The mode is not a parameter:
/// mlx-lm stores it in the `quantization` block of `config.json` (see
/// [`mlx_lm`](crate::nn::mlx_lm)).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct QuantizedLinear {
    /// Packed quantized weights (`uint32`).
    pub weight: Array,
    /// One scale per group.
    pub scales: Array,
    /// One bias per group (affine mode only).
    pub biases: Option<Array>,
    /// The layer's bias, if any.
    pub bias: Option<Array>,
    /// The quantization mode and its parameters.
    #[module(skip)]
    pub mode: QuantMode,
}

impl QuantizedLinear {
    /// The layer from quantized weights and an optional bias.
    pub fn from_parts(q: Quantized, bias: Option<Array>) -> Self {
        QuantizedLinear {
            weight: q.weights,
            scales: q.scales,
            biases: q.biases,
            bias,
            mode: q.mode,
        }
    }

    /// A layer of zero weights in `mode` (shapes and dtypes as MLX makes
    /// them for `float32` weights), to load quantized weights into.
    ///
    /// # Errors
    /// As [`Linear::to_quantized`].
    pub fn new(input_dims: i32, output_dims: i32, bias: bool, mode: QuantMode) -> Result<Self> {
        Linear::new(input_dims, output_dims, bias)?.to_quantized(mode)
    }

    /// The quantized weights as a [`Quantized`] (cheap: clones handles).
    pub fn quantized(&self) -> Quantized {
        Quantized {
            weights: self.weight.clone(),
            scales: self.scales.clone(),
            biases: self.biases.clone(),
            mode: self.mode,
        }
    }

    /// The size of the last axis of the input.
    pub fn input_dims(&self) -> i32 {
        unpacked_cols(&self.weight, self.mode)
    }

    /// The size of the last axis of the output.
    pub fn output_dims(&self) -> i32 {
        self.weight.shape().first().copied().unwrap_or(0)
    }

    /// `x ŵᵀ + b` through MLX's `quantized_matmul`, as Python MLX's
    /// `nn.QuantizedLinear` computes it.
    ///
    /// # Errors
    /// As [`quantized_matmul`].
    #[doc(alias = "mlx_quantized_matmul")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let y = quantized_matmul(x, &self.quantized(), true)?;
        match &self.bias {
            Some(b) => y + b,
            None => Ok(y),
        }
    }

    /// The float layer: weights dequantized to `dtype` (MLX's default
    /// when `None`, see [`Quantized::dequantize`]).
    ///
    /// # Errors
    /// As [`Quantized::dequantize`].
    #[doc(alias = "mlx_dequantize")]
    pub fn to_linear(&self, dtype: Option<Dtype>) -> Result<Linear> {
        Ok(Linear {
            weight: self.quantized().dequantize(dtype)?,
            bias: self.bias.clone(),
        })
    }
}

/// Used by tied heads: `x @ w.T`.
pub(crate) fn matmul_t(x: &Array, w: &Array) -> Result<Array> {
    matmul(x, &w.transpose()?)
}

/// The number of columns of packed weights (`uint32`, `32 / bits` values
/// to a word) quantized in `mode`.
pub(crate) fn unpacked_cols(packed: &Array, mode: QuantMode) -> i32 {
    packed.shape().last().copied().unwrap_or(0) * 32 / mode.bits()
}
