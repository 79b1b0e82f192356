//! Initializers, as Python MLX 0.32.2's `mlx.nn.init`: each returns a new
//! array of `shape` (Python's initializers take an array and use only its
//! shape) and draws from the global random state, so after the same
//! [`random::seed`] the same call gives Python's bits.
//!
//! Python's builders take the dtype (default `float32`) and return a
//! function of the array; here both sets of arguments are one call:
//! Python's `nn.init.he_uniform(mx.float16)(a, mode="fan_out", gain=2.0)`
//! is `he_uniform(a.shape(), FanMode::FanOut, 2.0, Dtype::Float16)`.
//!
//! Also [`sparse`] and [`orthogonal`], Python's other two.
//!
//! ```
//! use mlx_rs::nn::init::{glorot_uniform, he_normal, FanMode};
//! use mlx_rs::{random, Dtype};
//! random::seed(0)?;
//! let w = glorot_uniform(&[8, 4], 1.0, Dtype::Float32)?;
//! let limit = (6.0f32 / 12.0).sqrt();
//! assert!(w.to_vec::<f32>()?.iter().all(|v| v.abs() <= limit));
//! assert!(he_normal(&[4], FanMode::FanIn, 1.0, Dtype::Float32).is_err()); // 1-D
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ops::linalg::qr;
use crate::ops::support::invalid;
use crate::ops::{argsort, diag, put_along_axis, sign, slice};
use crate::random;
use crate::{Array, Dtype};

/// Which fan the He initializers scale by (Python's `mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FanMode {
    /// The number of inputs (Python's `"fan_in"`, the default).
    #[default]
    FanIn,
    /// The number of outputs (Python's `"fan_out"`).
    FanOut,
}

impl FromStr for FanMode {
    type Err = Error;

    /// Python's names, `"fan_in"` and `"fan_out"`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another name (Python's message).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fan_in" => Ok(FanMode::FanIn),
            "fan_out" => Ok(FanMode::FanOut),
            _ => Err(invalid(
                "nn::init",
                format!("Invalid mode: {s}. Valid modes are: fan_in, fan_out"),
            )),
        }
    }
}

/// Python's `_calculate_fan_in_fan_out`: `(shape[-1], shape[0])`, each
/// times the product of the dimensions between them for more than two
/// dimensions.
///
/// ```
/// use mlx_rs::nn::init::fan_in_fan_out;
/// assert_eq!(fan_in_fan_out(&[8, 5])?, (5, 8));
/// assert_eq!(fan_in_fan_out(&[6, 3, 3, 4])?, (36, 54));
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for fewer than two dimensions (Python's
/// message).
pub fn fan_in_fan_out(shape: &[i32]) -> Result<(i64, i64)> {
    if shape.len() < 2 {
        return Err(invalid(
            "nn::init",
            format!(
                "Glorot / He initialization requires at least 2 dimensional input but input \
                 with {} dimensions.",
                shape.len()
            ),
        ));
    }
    let receptive: i64 = shape[1..shape.len() - 1]
        .iter()
        .map(|&d| i64::from(d))
        .product();
    let fan_in = i64::from(shape[shape.len() - 1]) * receptive;
    let fan_out = i64::from(shape[0]) * receptive;
    Ok((fan_in, fan_out))
}

/// `shape` filled with `value` (Python's `nn.init.constant(value, dtype)`,
/// `mx.full`; the value is converted to `dtype` as a Python float is).
///
/// # Errors
/// [`Error::InvalidArgument`] for a non-floating `dtype` (Python MLX
/// returns `float32` for one); [`Error::Mlx`] for a
/// negative dimension.
#[doc(alias = "mlx_full")]
pub fn constant(shape: &[i32], value: f64, dtype: Dtype) -> Result<Array> {
    if !dtype.is_floating() {
        return Err(invalid(
            "nn::init::constant",
            format!("dtype {dtype} is not floating (Python MLX would return float32)"),
        ));
    }
    if dtype == Dtype::Float64 {
        return Array::full(shape, value);
    }
    Array::full(shape, value as f32)?.astype(dtype)
}

/// Samples of `N(mean, std²)` (Python's `nn.init.normal(mean, std,
/// dtype)`; Python's defaults are 0, 1 and `float32`).
///
/// # Errors
/// As [`random::normal`].
#[doc(alias = "mlx_random_normal")]
pub fn normal(shape: &[i32], mean: f64, std: f64, dtype: Dtype) -> Result<Array> {
    random::normal(shape, dtype, mean as f32, std as f32, None)
}

/// Samples uniform in `[low, high)` (Python's `nn.init.uniform(low, high,
/// dtype)`; Python's defaults are 0, 1 and `float32`).
///
/// # Errors
/// As [`random::uniform`].
#[doc(alias = "mlx_random_uniform")]
pub fn uniform(shape: &[i32], low: f64, high: f64, dtype: Dtype) -> Result<Array> {
    random::uniform(low, high, shape, dtype, None)
}

/// The identity matrix of a square `shape` (Python's
/// `nn.init.identity(dtype)`).
///
/// ```
/// use mlx_rs::nn::init::identity;
/// use mlx_rs::Dtype;
/// assert_eq!(identity(&[2, 2], Dtype::Float32)?.to_vec::<f32>()?, [1.0, 0.0, 0.0, 1.0]);
/// assert!(identity(&[2, 3], Dtype::Float32).is_err());
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] unless `shape` is `[n, n]` (Python's
/// message).
#[doc(alias = "mlx_eye")]
pub fn identity(shape: &[i32], dtype: Dtype) -> Result<Array> {
    if shape.len() != 2 || shape[0] != shape[1] {
        return Err(invalid(
            "nn::init::identity",
            format!("The input array must be a square matrix but got shape {shape:?}."),
        ));
    }
    Array::eye(shape[0], None, 0, dtype)
}

/// Glorot (Xavier) normal: `N(0, σ²)` with `σ = gain · √(2 / (fan_in +
/// fan_out))` (Python's `nn.init.glorot_normal(dtype)(a, gain)`; Python's
/// default `gain` is 1).
///
/// # Errors
/// As [`fan_in_fan_out`] and [`random::normal`].
#[doc(alias = "mlx_random_normal")]
pub fn glorot_normal(shape: &[i32], gain: f64, dtype: Dtype) -> Result<Array> {
    let (fan_in, fan_out) = fan_in_fan_out(shape)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    random::normal(shape, dtype, 0.0, std as f32, None)
}

/// Glorot (Xavier) uniform: uniform in `[−limit, limit)` with `limit =
/// gain · √(6 / (fan_in + fan_out))` (Python's
/// `nn.init.glorot_uniform(dtype)(a, gain)`; Python's default `gain` is
/// 1).
///
/// # Errors
/// As [`fan_in_fan_out`] and [`random::uniform`].
#[doc(alias = "mlx_random_uniform")]
pub fn glorot_uniform(shape: &[i32], gain: f64, dtype: Dtype) -> Result<Array> {
    let (fan_in, fan_out) = fan_in_fan_out(shape)?;
    let limit = gain * (6.0 / (fan_in + fan_out) as f64).sqrt();
    random::uniform(-limit, limit, shape, dtype, None)
}

/// The fan `mode` picks.
fn fan(shape: &[i32], mode: FanMode) -> Result<f64> {
    let (fan_in, fan_out) = fan_in_fan_out(shape)?;
    Ok(match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    } as f64)
}

/// He (Kaiming) normal: `N(0, σ²)` with `σ = gain / √fan` (Python's
/// `nn.init.he_normal(dtype)(a, mode, gain)`; Python's defaults are
/// `fan_in` and 1).
///
/// # Errors
/// As [`fan_in_fan_out`] and [`random::normal`].
#[doc(alias = "mlx_random_normal")]
pub fn he_normal(shape: &[i32], mode: FanMode, gain: f64, dtype: Dtype) -> Result<Array> {
    let std = gain / fan(shape, mode)?.sqrt();
    random::normal(shape, dtype, 0.0, std as f32, None)
}

/// He (Kaiming) uniform: uniform in `[−limit, limit)` with `limit = gain ·
/// √(3 / fan)` (Python's `nn.init.he_uniform(dtype)(a, mode, gain)`;
/// Python's defaults are `fan_in` and 1).
///
/// # Errors
/// As [`fan_in_fan_out`] and [`random::uniform`].
#[doc(alias = "mlx_random_uniform")]
pub fn he_uniform(shape: &[i32], mode: FanMode, gain: f64, dtype: Dtype) -> Result<Array> {
    let limit = gain * (3.0 / fan(shape, mode)?).sqrt();
    random::uniform(-limit, limit, shape, dtype, None)
}

/// A sparse matrix: `N(mean, std²)` samples with `⌈sparsity · cols⌉`
/// entries of each row set to zero, the columns picked per row by sorting
/// uniform keys (Python's `nn.init.sparse(sparsity, mean, std, dtype)`;
/// the keys are drawn before the samples, as in Python). A `sparsity`
/// above 1 zeroes every entry, as Python's slice does.
///
/// ```
/// use mlx_rs::nn::init::sparse;
/// use mlx_rs::Dtype;
/// let w = sparse(&[3, 4], 0.5, 0.0, 1.0, Dtype::Float32)?.to_vec::<f32>()?;
/// for row in w.chunks(4) {
///     assert_eq!(row.iter().filter(|v| **v == 0.0).count(), 2);
/// }
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for a shape of other than two dimensions
/// (Python's message) or a negative or NaN `sparsity` (which Python's
/// slice would read from the end); as [`random::normal`].
#[doc(alias = "mlx_put_along_axis")]
pub fn sparse(shape: &[i32], sparsity: f64, mean: f64, std: f64, dtype: Dtype) -> Result<Array> {
    if shape.len() != 2 {
        return Err(invalid(
            "nn::init::sparse",
            "Only tensors with 2 dimensions are supported",
        ));
    }
    if sparsity.is_nan() || sparsity < 0.0 {
        return Err(invalid(
            "nn::init::sparse",
            format!("sparsity must be a fraction in [0, 1] but got {sparsity}"),
        ));
    }
    let (rows, cols) = (shape[0], shape[1]);
    let num_zeros = (sparsity * f64::from(cols)).ceil().min(f64::from(cols)) as i32;
    let keys = random::uniform(0.0, 1.0, shape, Dtype::Float32, None)?;
    let order = argsort(&keys, Some(1))?;
    let a = random::normal(shape, dtype, mean as f32, std as f32, None)?;
    if num_zeros == 0 || rows == 0 {
        return Ok(a);
    }
    let zeroed = slice(&order, &[0, 0], &[rows, num_zeros], &[1, 1])?;
    let zeros = Array::zeros(&[rows, num_zeros], dtype)?;
    put_along_axis(&a, &zeroed, &zeros, 1)
}

/// An orthogonal matrix times `gain`: the `Q` of the QR decomposition (on
/// the CPU) of an `[n, n]` standard normal sample, `n = max(rows, cols)`,
/// its columns' signs set by `R`'s diagonal, cut to `shape` (Python's
/// `nn.init.orthogonal(gain, dtype)`; Python's default `gain` is 1).
///
/// ```
/// use mlx_rs::nn::init::orthogonal;
/// use mlx_rs::{ops, Dtype};
/// let q = orthogonal(&[3, 3], 1.0, Dtype::Float32)?;
/// let qtq = ops::matmul(&q.transpose()?, &q)?.to_vec::<f32>()?;
/// assert!((qtq[0] - 1.0).abs() < 1e-5 && qtq[1].abs() < 1e-5);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for a shape of other than two dimensions
/// (Python's message); MLX's error from the QR decomposition.
#[doc(alias = "mlx_linalg_qr")]
pub fn orthogonal(shape: &[i32], gain: f64, dtype: Dtype) -> Result<Array> {
    if shape.len() != 2 {
        return Err(invalid(
            "nn::init::orthogonal",
            format!(
                "Orthogonal initialization requires a 2D array but got a {}D array.",
                shape.len()
            ),
        ));
    }
    let (rows, cols) = (shape[0], shape[1]);
    let n = rows.max(cols);
    let rmat = random::normal(&[n, n], Dtype::Float32, 0.0, 1.0, None)?;
    let (q, r) = qr(&rmat)?;
    let q = (q * sign(&diag(&r, 0)?)?)?;
    let q = slice(&q, &[0, 0], &[rows, cols], &[1, 1])?;
    (q * gain)?.astype(dtype)
}
