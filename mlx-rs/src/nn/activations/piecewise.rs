//! The piecewise activations: the ReLU family, the hard and shrink
//! functions, and the step.

use super::shapeless;
use crate::error::Result;
use crate::ops::{abs, greater, greater_equal, maximum, minimum, select, sign, square};
use crate::Array;

/// ReLU: `max(x, 0)` (Python's `nn.relu`, compiled).
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
    shapeless("relu", &[], &[x], |a, _| maximum(&a[0], 0))
}

/// ReLU²: `max(x, 0)²` (Python's `nn.relu2`, compiled).
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_square")]
pub fn relu2(x: &Array) -> Result<Array> {
    shapeless("relu2", &[], &[x], |a, _| square(&maximum(&a[0], 0)?))
}

/// ReLU6: `min(max(x, 0), 6)` (Python's `nn.relu6`, compiled).
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_minimum")]
pub fn relu6(x: &Array) -> Result<Array> {
    shapeless("relu6", &[], &[x], |a, _| minimum(&maximum(&a[0], 0)?, 6.0))
}

/// Leaky ReLU: `max(negative_slope · x, x)` (Python's `nn.leaky_relu`,
/// compiled; Python's default `negative_slope` is 0.01).
///
/// ```
/// use mlx_rs::nn::leaky_relu;
/// use mlx_rs::Array;
/// let y = leaky_relu(&Array::from_slice(&[-2.0f32, 3.0], &[2])?, 0.5)?;
/// assert_eq!(y.to_vec::<f32>()?, [-1.0, 3.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_maximum")]
pub fn leaky_relu(x: &Array, negative_slope: f64) -> Result<Array> {
    shapeless("leaky_relu", &[negative_slope], &[x], |a, c| {
        maximum(&(c[0] * &a[0])?, &a[0])
    })
}

/// Parametric ReLU: `max(0, x) + alpha · min(0, x)`, `alpha` an array that
/// broadcasts against `x` (Python's `nn.prelu`, compiled).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) when `alpha` does not broadcast
/// against `x`.
#[doc(alias = "mlx_maximum")]
pub fn prelu(x: &Array, alpha: &Array) -> Result<Array> {
    shapeless("prelu", &[], &[x, alpha], |a, _| {
        maximum(0, &a[0])? + (&a[1] * minimum(0, &a[0])?)?
    })
}

/// Hard swish: `x · min(max(x + 3, 0), 6) / 6` (Python's `nn.hardswish`,
/// compiled).
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_minimum")]
pub fn hardswish(x: &Array) -> Result<Array> {
    shapeless("hardswish", &[], &[x], |a, _| {
        let max_x_3 = maximum(&(&a[0] + 3)?, 0)?;
        (&a[0] * minimum(&max_x_3, 6)?)? / 6
    })
}

/// Hard tanh: `min(max(x, min_val), max_val)` (Python's `nn.hard_tanh`,
/// compiled; Python's defaults are −1.0 and 1.0).
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_minimum")]
pub fn hard_tanh(x: &Array, min_val: f64, max_val: f64) -> Result<Array> {
    shapeless("hard_tanh", &[min_val, max_val], &[x], |a, c| {
        minimum(&maximum(&a[0], c[0])?, c[1])
    })
}

/// Hard shrink: `x` where `|x| > lambd`, else 0 (Python's
/// `nn.hard_shrink`, compiled; Python's default `lambd` is 0.5).
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_where")]
pub fn hard_shrink(x: &Array, lambd: f64) -> Result<Array> {
    shapeless("hard_shrink", &[lambd], &[x], |a, c| {
        select(&greater(&abs(&a[0])?, c[0])?, &a[0], 0)
    })
}

/// Soft shrink: `x − sign(x) · lambd` where `|x| > lambd`, else 0
/// (Python's `nn.softshrink`, compiled; Python's default `lambd` is 0.5).
///
/// ```
/// use mlx_rs::nn::softshrink;
/// use mlx_rs::Array;
/// let y = softshrink(&Array::from_slice(&[-2.0f32, 0.25, 1.5], &[3])?, 0.5)?;
/// assert_eq!(y.to_vec::<f32>()?, [-1.5, 0.0, 1.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_where")]
pub fn softshrink(x: &Array, lambd: f64) -> Result<Array> {
    shapeless("softshrink", &[lambd], &[x], |a, c| {
        let x = &a[0];
        let shrunk = (x - (sign(x)? * c[0])?)?;
        select(&greater(&abs(x)?, c[0])?, shrunk, 0)
    })
}

/// The binary step: 1 where `x >= threshold`, else 0, as `int32`
/// (Python's `nn.step`, compiled; Python's default `threshold` is 0.0).
///
/// ```
/// use mlx_rs::nn::step;
/// use mlx_rs::{Array, Dtype};
/// let y = step(&Array::from_slice(&[-1.0f32, 0.0, 2.0], &[3])?, 0.0)?;
/// assert_eq!(y.dtype(), Dtype::Int32);
/// assert_eq!(y.to_vec::<i32>()?, [0, 1, 1]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`relu`].
#[doc(alias = "mlx_where")]
pub fn step(x: &Array, threshold: f64) -> Result<Array> {
    shapeless("step", &[threshold], &[x], |a, c| {
        select(&greater_equal(&a[0], c[0])?, 1, 0)
    })
}
