//! The smooth activations: sigmoid and its relatives, GELU, softplus, the
//! exponential units, softmax and GLU.

use std::f64::consts::{PI, SQRT_2};

use super::shapeless;
use crate::error::Result;
use crate::ops::support::{invalid, norm_axis};
use crate::ops::{
    self, abs, divide, erf, exp, greater, logaddexp, logsumexp, max, maximum, minimum, negative,
    power, select, split, stop_gradient, subtract,
};
use crate::Array;

/// The logistic sigmoid `1 / (1 + exp(−x))` (Python's `nn.sigmoid`,
/// compiled).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_sigmoid")]
pub fn sigmoid(x: &Array) -> Result<Array> {
    shapeless("sigmoid", &[], &[x], |a, _| ops::sigmoid(&a[0]))
}

/// SiLU (swish): `x · σ(x)` (Python's `nn.silu`, compiled).
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
    shapeless("silu", &[], &[x], |a, _| &a[0] * ops::sigmoid(&a[0])?)
}

/// Exact GELU: `x · (1 + erf(x / √2)) / 2` (Python's `nn.gelu`, compiled:
/// on the CPU, MLX's compiler writes `√2` with 7 digits, so some results
/// differ in the last bit from the uncompiled ops, as in Python).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-floating dtype.
#[doc(alias = "mlx_erf")]
pub fn gelu(x: &Array) -> Result<Array> {
    shapeless("gelu", &[], &[x], |a, _| {
        let x = &a[0];
        (x * (erf(&(x / SQRT_2)?)? + 1.0)?)? / 2.0
    })
}

/// GELU's tanh approximation (max. error < 0.0005 on [−6, 6]):
/// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (Python's
/// `nn.gelu_approx`, compiled; `x³` is `power(x, 3)`).
///
/// # Errors
/// As [`gelu`].
#[doc(alias = "mlx_tanh")]
pub fn gelu_approx(x: &Array) -> Result<Array> {
    shapeless("gelu_approx", &[], &[x], |a, _| {
        let x = &a[0];
        let inner = ((x + (power(x, 3)? * 0.044715)?)? * (2.0 / PI).sqrt())?;
        (x * 0.5)? * (ops::tanh(&inner)? + 1.0)?
    })
}

/// GELU's sigmoid approximation (max. error < 0.015 on [−6, 6]):
/// `x · σ(1.702 · x)` (Python's `nn.gelu_fast_approx`, compiled).
///
/// # Errors
/// As [`sigmoid`].
#[doc(alias = "mlx_sigmoid")]
pub fn gelu_fast_approx(x: &Array) -> Result<Array> {
    shapeless("gelu_fast_approx", &[], &[x], |a, _| {
        &a[0] * ops::sigmoid(&(&a[0] * 1.702)?)?
    })
}

/// Softplus `log(1 + exp(x))`, as `logaddexp(x, 0)` (Python's
/// `nn.softplus`, compiled).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_logaddexp")]
pub fn softplus(x: &Array) -> Result<Array> {
    shapeless("softplus", &[], &[x], |a, _| logaddexp(&a[0], 0))
}

/// Log-sigmoid `log σ(x) = −softplus(−x)` (Python's `nn.log_sigmoid`,
/// compiled).
///
/// # Errors
/// As [`softplus`].
#[doc(alias = "mlx_logaddexp")]
pub fn log_sigmoid(x: &Array) -> Result<Array> {
    shapeless("log_sigmoid", &[], &[x], |a, _| {
        negative(&softplus(&negative(&a[0])?)?)
    })
}

/// Mish `x · tanh(softplus(x))` (Python's `nn.mish`, compiled).
///
/// ```
/// use mlx_rs::nn::mish;
/// use mlx_rs::Array;
/// let y = mish(&Array::from_slice(&[0.0f32, 1.0], &[2])?)?.to_vec::<f32>()?;
/// assert_eq!(y[0], 0.0);
/// assert!((y[1] - 0.865098).abs() < 1e-6);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`softplus`].
#[doc(alias = "mlx_tanh")]
pub fn mish(x: &Array) -> Result<Array> {
    shapeless("mish", &[], &[x], |a, _| {
        &a[0] * ops::tanh(&softplus(&a[0])?)?
    })
}

/// ELU: `where(x > 0, x, alpha · (exp(x) − 1))` (Python's `nn.elu`,
/// compiled; Python's default `alpha` is 1.0).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_where")]
pub fn elu(x: &Array, alpha: f64) -> Result<Array> {
    shapeless("elu", &[alpha], &[x], |a, c| {
        let x = &a[0];
        let neg = ((exp(x)? - 1)? * c[0])?;
        select(&greater(x, 0)?, x, neg)
    })
}

/// CELU: `max(x, 0) + alpha · (exp(min(x, 0) / alpha) − 1)` (Python's
/// `nn.celu`, compiled; Python's default `alpha` is 1.0).
///
/// # Errors
/// As [`elu`].
#[doc(alias = "mlx_exp")]
pub fn celu(x: &Array, alpha: f64) -> Result<Array> {
    shapeless("celu", &[alpha], &[x], |a, c| {
        let x = &a[0];
        let alpha = c[0];
        let neg = ((exp(&(minimum(x, 0.0)? / alpha)?)? - 1)? * alpha)?;
        maximum(x, 0.0)? + neg
    })
}

/// SELU: `elu(x, 1.67326) · 1.0507` (Python's `nn.selu`, compiled).
///
/// # Errors
/// As [`elu`].
#[doc(alias = "mlx_where")]
pub fn selu(x: &Array) -> Result<Array> {
    shapeless("selu", &[], &[x], |a, _| elu(&a[0], 1.67326)? * 1.0507)
}

/// Softsign `x / (1 + |x|)` (Python's `nn.softsign`, compiled).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_divide")]
pub fn softsign(x: &Array) -> Result<Array> {
    shapeless("softsign", &[], &[x], |a, _| {
        divide(&a[0], (abs(&a[0])? + 1)?)
    })
}

/// The hyperbolic tangent (Python's `nn.tanh`: `mx.tanh`, not compiled).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_tanh")]
pub fn tanh(x: &Array) -> Result<Array> {
    ops::tanh(x)
}

/// Softmax along `axis` (Python's `nn.softmax`, compiled: `mx.softmax`,
/// not precise; Python's default `axis` is −1).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for an axis out of range or a
/// non-floating dtype.
#[doc(alias = "mlx_softmax_axis")]
pub fn softmax(x: &Array, axis: i32) -> Result<Array> {
    shapeless("softmax", &[f64::from(axis)], &[x], |a, c| {
        ops::softmax(&a[0], c[0] as i32, false)
    })
}

/// Softmin: `softmax(−x)` along `axis` (Python's `nn.softmin`, compiled;
/// Python's default `axis` is −1).
///
/// # Errors
/// As [`softmax`].
#[doc(alias = "mlx_softmax_axis")]
pub fn softmin(x: &Array, axis: i32) -> Result<Array> {
    shapeless("softmin", &[f64::from(axis)], &[x], |a, c| {
        ops::softmax(&negative(&a[0])?, c[0] as i32, false)
    })
}

/// Log-softmax along `axis`: `x − max` (the max with gradients stopped),
/// then minus its `logsumexp` (Python's `nn.log_softmax`, compiled;
/// Python's default `axis` is −1).
///
/// ```
/// use mlx_rs::nn::log_softmax;
/// use mlx_rs::Array;
/// let y = log_softmax(&Array::from_slice(&[1.0f32, 1.0], &[2])?, -1)?.to_vec::<f32>()?;
/// assert!((y[0] + std::f32::consts::LN_2).abs() < 1e-6);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`softmax`].
#[doc(alias = "mlx_logsumexp_axis")]
pub fn log_softmax(x: &Array, axis: i32) -> Result<Array> {
    shapeless("log_softmax", &[f64::from(axis)], &[x], |a, c| {
        let axis = c[0] as i32;
        let x = subtract(&a[0], stop_gradient(&max(&a[0], axis, true)?)?)?;
        subtract(&x, logsumexp(&x, axis, true)?)
    })
}

/// The gated linear unit: `x` split along `axis` into halves `a` and `b`,
/// then `a · σ(b)` (Python's `nn.glu`, not compiled; Python's default
/// `axis` is −1).
///
/// ```
/// use mlx_rs::nn::glu;
/// use mlx_rs::Array;
/// let x = Array::from_slice(&[2.0f32, 0.0], &[2])?;
/// assert_eq!(glu(&x, -1)?.to_vec::<f32>()?, [1.0]);
/// assert!(glu(&Array::from_slice(&[1.0f32; 3], &[3])?, -1).is_err());
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming `glu`
/// for an axis out of range or of odd size (it cannot be halved);
/// [`Error::Mlx`](crate::Error::Mlx) for a non-numeric dtype.
#[doc(alias = "mlx_split")]
pub fn glu(x: &Array, axis: i32) -> Result<Array> {
    let Some(ax) = norm_axis(axis, x.ndim()) else {
        return Err(invalid(
            "glu",
            format!(
                "axis {axis} is out of range for an array of shape {:?}",
                x.shape()
            ),
        ));
    };
    let n = x.shape()[ax];
    if n % 2 != 0 {
        return Err(invalid(
            "glu",
            format!(
                "axis {axis} of shape {:?} has odd size {n}: it cannot be split into two halves",
                x.shape()
            ),
        ));
    }
    let halves = split(x, 2, axis)?;
    &halves[0] * ops::sigmoid(&halves[1])?
}
