//! Activation functions, written as Python MLX's `nn` writes them.

use std::f64::consts::{PI, SQRT_2};

use crate::error::Result;
use crate::Array;

/// The logistic sigmoid `1 / (1 + exp(−x))`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_sigmoid")]
pub fn sigmoid(x: &Array) -> Result<Array> {
    crate::ops::sigmoid(x)
}

/// ReLU: `max(x, 0)` (Python MLX's `nn.relu`).
///
/// ```
/// use mlx_rs::nn::relu;
/// use mlx_rs::Array;
/// assert_eq!(relu(&Array::from_slice(&[-1.0f32, 2.0], &[2])?)?.to_vec::<f32>()?, [0.0, 2.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_maximum")]
pub fn relu(x: &Array) -> Result<Array> {
    crate::ops::maximum(x, 0)
}

/// SiLU (swish): `x · σ(x)`.
///
/// ```
/// use mlx_rs::nn::silu;
/// use mlx_rs::Array;
/// let y = silu(&Array::from_slice(&[0.0f32, 1.0], &[2])?)?.to_vec::<f32>()?;
/// assert_eq!(y[0], 0.0);
/// assert!((y[1] - 0.7310586).abs() < 1e-6);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`sigmoid`].
#[doc(alias = "mlx_sigmoid")]
pub fn silu(x: &Array) -> Result<Array> {
    x * sigmoid(x)?
}

/// Exact GELU: `x · (1 + erf(x / √2)) / 2`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-floating dtype.
#[doc(alias = "mlx_erf")]
pub fn gelu(x: &Array) -> Result<Array> {
    (x * (crate::ops::erf(&(x / SQRT_2)?)? + 1.0)?)? / 2.0
}

/// GELU's tanh approximation (max. error < 0.0005 on [−6, 6]):
/// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`.
///
/// # Errors
/// As [`gelu`].
#[doc(alias = "mlx_tanh")]
pub fn gelu_approx(x: &Array) -> Result<Array> {
    let x3 = ((x * x)? * x)?;
    let inner = ((x + (x3 * 0.044715)?)? * (2.0 / PI).sqrt())?;
    (x * 0.5)? * (crate::ops::tanh(&inner)? + 1.0)?
}

/// GELU's sigmoid approximation (max. error < 0.015 on [−6, 6]):
/// `x · σ(1.702 · x)`.
///
/// # Errors
/// As [`sigmoid`].
#[doc(alias = "mlx_sigmoid")]
pub fn gelu_fast_approx(x: &Array) -> Result<Array> {
    x * sigmoid(&(x * 1.702)?)?
}
