//! Random numbers (mlx-c's `random.h`, all 19 functions): MLX's
//! counter-based generator (Threefry-2x32), with explicit keys or MLX's
//! default key state.
//!
//! # Keys
//! A key is a `uint32` array of shape `[2]` ([`key`] makes one from a
//! seed; [`split`] and [`split_n`] derive independent ones). Every sampler
//! takes `key: Option<&Array>`:
//! - `Some(key)`: the result depends on the key only, and is the same on
//!   every run, thread and (on the CPU) bit for bit the same as Python MLX's
//!   `mx.random.<fn>(..., key=mx.random.key(seed))`. Reusing a key repeats
//!   the numbers: split it to get fresh ones.
//! - `None`: the next key of MLX's default key state, which advances on
//!   every such call. The state is per thread (MLX keeps it `thread_local`),
//!   starts from a time-based seed, and is reset by [`seed`] for the
//!   calling thread only. After `seed(s)`, the sequence of `None`-key calls
//!   on that thread matches Python's after `mx.random.seed(s)`.
//!
//! ```
//! use mlx_rs::{random, Dtype};
//! let k = random::key(0)?;
//! let a = random::normal(&[3], Dtype::Float32, 0.0, 1.0, Some(&k))?;
//! let b = random::normal(&[3], Dtype::Float32, 0.0, 1.0, Some(&k))?;
//! assert_eq!(a.to_vec::<f32>()?, b.to_vec::<f32>()?); // same key, same numbers
//! let (k1, _k2) = random::split(&k)?;
//! let c = random::uniform(0.0, 1.0, &[2, 2], Dtype::Float32, Some(&k1))?;
//! assert!(c.to_vec::<f32>()?.iter().all(|&x| (0.0..1.0).contains(&x)));
//! random::seed(42)?; // default state of this thread
//! let d = random::randint(0, 10, &[4], Dtype::Int32, None)?;
//! assert_eq!(d.shape(), [4]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! Scalars given for `low`, `high`, `p`, `lower` and `upper` become arrays
//! as in Python MLX (integers `int32`, floats `float32`) and broadcast
//! against `shape`. Every sampler has an `_on` form taking a stream and
//! runs on [`Stream::current`](crate::Stream::current) by default, except
//! [`multivariate_normal`]: it needs an SVD, which MLX 0.32.2 computes on
//! the CPU only, so it runs on the CPU stream by default. All the others run on the CPU and GPUs.
//! MLX 0.32.2 draws uniform samples (and so [`uniform`], [`gumbel`],
//! [`truncated_normal`], [`randint`], [`bernoulli`]) in `float32`,
//! `float16` and `bfloat16` only: a `float64` request fails with MLX's
//! "Unsupported type". [`normal`] and [`laplace`] do produce `float64`, on
//! the CPU only (MLX has no `float64` on GPUs).

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::ops::support::{op, opt};
use crate::ops::{Operand, Scalar};
use crate::raw;
use crate::{Array, Dtype, Stream};

/// An operand as an array; scalars become `int32`/`float32` (`int64` for
/// integers beyond `i32`), `bool` or `complex64` arrays, as in Python.
fn operand_array<'a>(o: impl Into<Operand<'a>>) -> Result<Cow<'a, Array>> {
    Ok(match o.into() {
        Operand::Ref(a) => Cow::Borrowed(a),
        Operand::Owned(a) => Cow::Owned(a),
        Operand::Scalar(s) => Cow::Owned(Scalar::to_array(s, None)?),
    })
}

/// Seeds this thread's default key state (used by samplers given no key).
///
/// # Errors
/// [`Error::Mlx`] if MLX reports a failure (it does not in 0.32.2).
#[doc(alias = "mlx_random_seed")]
pub fn seed(seed: u64) -> Result<()> {
    // SAFETY: plain value argument; MLX reseeds its thread-local key state.
    raw::call("mlx_random_seed", || unsafe {
        mlx_sys::mlx_random_seed(seed)
    })
}

/// A key (`uint32`, shape `[2]`) from a seed, as `mx.random.key(seed)`.
///
/// # Errors
/// [`Error::Mlx`] if MLX reports a failure (it does not in 0.32.2).
#[doc(alias = "mlx_random_key")]
pub fn key(seed: u64) -> Result<Array> {
    Array::build("mlx_random_key", |res| {
        // SAFETY: `res` is a fresh out-param; `seed` is a plain value.
        unsafe { mlx_sys::mlx_random_key(res, seed) }
    })
}

/// mlx-c's samplers between two bounds (uniform, randint, truncated
/// normal): `(res, low, high, shape, shape_num, dtype, key, stream)`.
type BoundedFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    *const i32,
    usize,
    mlx_sys::mlx_dtype,
    mlx_sys::mlx_array,
    mlx_sys::mlx_stream,
) -> i32;

/// Runs a sampler between the bounds `low` and `high`.
#[allow(clippy::too_many_arguments)]
fn bounded(
    op: &'static str,
    f: BoundedFn,
    low: &Array,
    high: &Array,
    shape: &[i32],
    dtype: Dtype,
    key: Option<&Array>,
    stream: &Stream,
) -> Result<Array> {
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c sampler of this exact signature; `res` is
        // a fresh out-param; the bounds, the key (or the empty handle) and
        // the stream are live; `shape` points at `len` ints that outlive the
        // call.
        unsafe {
            f(
                res,
                low.as_raw(),
                high.as_raw(),
                shape.as_ptr(),
                shape.len(),
                dtype.as_raw(),
                opt(key),
                stream.as_raw(),
            )
        }
    })
}

/// mlx-c's samplers with a scalar location and scale (normal, Laplace):
/// `(res, shape, shape_num, dtype, loc, scale, key, stream)`.
type LocScaleFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    *const i32,
    usize,
    mlx_sys::mlx_dtype,
    f32,
    f32,
    mlx_sys::mlx_array,
    mlx_sys::mlx_stream,
) -> i32;

/// Runs a sampler with a scalar location and scale.
#[allow(clippy::too_many_arguments)]
fn loc_scale(
    op: &'static str,
    f: LocScaleFn,
    shape: &[i32],
    dtype: Dtype,
    loc: f32,
    scale: f32,
    key: Option<&Array>,
    stream: &Stream,
) -> Result<Array> {
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c sampler of this exact signature; `res` is
        // a fresh out-param; `shape` points at `len` ints that outlive the
        // call; the key (or the empty handle) and the stream are live.
        unsafe {
            f(
                res,
                shape.as_ptr(),
                shape.len(),
                dtype.as_raw(),
                loc,
                scale,
                opt(key),
                stream.as_raw(),
            )
        }
    })
}

/// The broadcast of two shapes, or `None` when they do not broadcast.
fn broadcast_shapes(a: &[i32], b: &[i32]) -> Option<Vec<i32>> {
    let n = a.len().max(b.len());
    let at = |s: &[i32], i: usize| {
        if i + s.len() >= n {
            s[i + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// The error for permuting an empty axis, which MLX 0.32.2 evaluates with
/// an integer division by zero (`SIGFPE`, ending the process).
fn empty_permutation(shape: &[i32]) -> Error {
    Error::InvalidShape {
        shape: shape.iter().map(|&d| i64::from(d)).collect(),
        reason: "MLX 0.32.2 divides by zero when permuting an axis of length 0",
    }
}

// In the samplers below, a key of `None` travels as the empty handle
// (`opt`), which mlx-c reads as "use the default key state".
op! {
    /// Splits `key` into two new keys.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message when `key` is not a `uint32` array of
    /// shape `[2]`.
    ["mlx_random_split"]
    pub fn split(key: &Array) -> (Array, Array);
    on split_on, stream => {
        Array::build_pair("mlx_random_split", |a, b| {
            // SAFETY: `a` and `b` are fresh out-params; the key and the stream
            // are live handles.
            unsafe { mlx_sys::mlx_random_split(a, b, key.as_raw(), stream.as_raw()) }
        })
    }

    /// Splits `key` into `num` new keys, returned as one `[num, 2]` array (as
    /// `mx.random.split(key, num)`).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a malformed key or a negative
    /// `num`.
    ["mlx_random_split_num"]
    pub fn split_n(key: &Array, num: i32) -> Array;
    on split_n_on, stream => {
        Array::build("mlx_random_split_num", |res| {
            // SAFETY: `res` is a fresh out-param; the key and the stream are
            // live handles.
            unsafe { mlx_sys::mlx_random_split_num(res, key.as_raw(), num, stream.as_raw()) }
        })
    }

    /// Raw random bits: an array of `shape` whose elements are `width` bytes
    /// wide (1, 2 or 4: `uint8`, `uint16` or `uint32`).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for another width, a negative
    /// dimension or a malformed key.
    ["mlx_random_bits"]
    pub fn bits(shape: &[i32], width: i32, key: Option<&Array>) -> Array;
    on bits_on, stream => {
        Array::build("mlx_random_bits", |res| {
            // SAFETY: `res` is a fresh out-param; `shape` points at `len` ints
            // that outlive the call; the key (or the empty handle) and the
            // stream are live.
            unsafe {
                mlx_sys::mlx_random_bits(
                    res,
                    shape.as_ptr(),
                    shape.len(),
                    width,
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Uniform samples in `[low, high)` of `shape` and the floating `dtype`;
    /// `low` and `high` (arrays or scalars) broadcast to `shape`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a non-floating (or `float64`)
    /// dtype, bounds that do not broadcast to `shape`, or a malformed key;
    /// [`Error::ScalarOverflow`] for an integer scalar beyond `i64`.
    ["mlx_random_uniform"]
    pub fn uniform<'a, 'b>(
        low: impl Into<Operand<'a>>,
        high: impl Into<Operand<'b>>,
        shape: &[i32],
        dtype: Dtype,
        key: Option<&Array>,
    ) -> Array;
    on uniform_on, stream => {
        let (low, high) = (operand_array(low)?, operand_array(high)?);
        let f = mlx_sys::mlx_random_uniform;
        bounded("mlx_random_uniform", f, &low, &high, shape, dtype, key, stream)
    }

    /// Normal samples `loc + scale · N(0, 1)` of `shape` and the floating (or
    /// `complex64`) `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for an integer dtype, a negative
    /// dimension or a malformed key.
    ["mlx_random_normal"]
    pub fn normal(
        shape: &[i32],
        dtype: Dtype,
        loc: f32,
        scale: f32,
        key: Option<&Array>,
    ) -> Array;
    on normal_on, stream => {
        let f = mlx_sys::mlx_random_normal;
        loc_scale("mlx_random_normal", f, shape, dtype, loc, scale, key, stream)
    }

    /// Normal samples with array parameters: `loc + scale · N(0, 1)` where
    /// `loc` and `scale` (each optional: 0 and 1) broadcast to `shape`.
    ///
    /// # Errors
    /// As [`normal`]; also MLX's message when `loc` or `scale` does not
    /// broadcast to `shape`.
    ["mlx_random_normal_broadcast"]
    pub fn normal_broadcast(
        shape: &[i32],
        dtype: Dtype,
        loc: Option<&Array>,
        scale: Option<&Array>,
        key: Option<&Array>,
    ) -> Array;
    on normal_broadcast_on, stream => {
        Array::build("mlx_random_normal_broadcast", |res| {
            // SAFETY: `res` is a fresh out-param; `shape` points at `len` ints
            // that outlive the call; the optional arrays are live handles or
            // the empty handle mlx-c reads as absent; the stream is live.
            unsafe {
                mlx_sys::mlx_random_normal_broadcast(
                    res,
                    shape.as_ptr(),
                    shape.len(),
                    dtype.as_raw(),
                    opt(loc),
                    opt(scale),
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Integers drawn uniformly from `[low, high)` of `shape` and the integer
    /// (or `bool`) `dtype`; `low` and `high` broadcast to `shape`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a floating dtype, bounds that do
    /// not broadcast to `shape`, or a malformed key; [`Error::ScalarOverflow`]
    /// for an integer scalar beyond `i64`.
    ["mlx_random_randint"]
    pub fn randint<'a, 'b>(
        low: impl Into<Operand<'a>>,
        high: impl Into<Operand<'b>>,
        shape: &[i32],
        dtype: Dtype,
        key: Option<&Array>,
    ) -> Array;
    on randint_on, stream => {
        let (low, high) = (operand_array(low)?, operand_array(high)?);
        let f = mlx_sys::mlx_random_randint;
        bounded("mlx_random_randint", f, &low, &high, shape, dtype, key, stream)
    }

    /// Booleans that are `true` with probability `p` (a floating array or
    /// scalar), of `shape` (default: the shape of `p`; `p` broadcasts to it).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a non-floating `p`, a `p` that
    /// does not broadcast to `shape`, or a malformed key.
    ["mlx_random_bernoulli"]
    pub fn bernoulli<'a>(
        p: impl Into<Operand<'a>>,
        shape: Option<&[i32]>,
        key: Option<&Array>,
    ) -> Array;
    on bernoulli_on, stream => {
        let p = operand_array(p)?;
        let shape = shape.unwrap_or(p.shape());
        Array::build("mlx_random_bernoulli", |res| {
            // SAFETY: `res` is a fresh out-param; `p`, the key (or the empty
            // handle) and the stream are live; `shape` points at `len` ints
            // that outlive the call.
            unsafe {
                mlx_sys::mlx_random_bernoulli(
                    res,
                    p.as_raw(),
                    shape.as_ptr(),
                    shape.len(),
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Normal samples truncated to `[lower, upper]`, of `shape` (default: the
    /// broadcast shape of `lower` and `upper`) and the floating `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a non-floating dtype, bounds that
    /// do not broadcast (to each other or to `shape`), or a malformed key.
    ["mlx_random_truncated_normal"]
    pub fn truncated_normal<'a, 'b>(
        lower: impl Into<Operand<'a>>,
        upper: impl Into<Operand<'b>>,
        shape: Option<&[i32]>,
        dtype: Dtype,
        key: Option<&Array>,
    ) -> Array;
    on truncated_normal_on, stream => {
        let (lower, upper) = (operand_array(lower)?, operand_array(upper)?);
        // Without a shape, MLX broadcasts the bounds; when they do not
        // broadcast, passing `lower`'s shape lets MLX report it.
        let default;
        let shape = match shape {
            Some(s) => s,
            None => {
                default = broadcast_shapes(lower.shape(), upper.shape())
                    .unwrap_or_else(|| lower.shape().to_vec());
                &default
            }
        };
        let f = mlx_sys::mlx_random_truncated_normal;
        bounded("mlx_random_truncated_normal", f, &lower, &upper, shape, dtype, key, stream)
    }

    /// Samples of the standard Gumbel distribution, of `shape` and the
    /// floating `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a non-floating dtype, a negative
    /// dimension or a malformed key.
    ["mlx_random_gumbel"]
    pub fn gumbel(shape: &[i32], dtype: Dtype, key: Option<&Array>) -> Array;
    on gumbel_on, stream => {
        Array::build("mlx_random_gumbel", |res| {
            // SAFETY: `res` is a fresh out-param; `shape` points at `len` ints
            // that outlive the call; the key (or the empty handle) and the
            // stream are live.
            unsafe {
                mlx_sys::mlx_random_gumbel(
                    res,
                    shape.as_ptr(),
                    shape.len(),
                    dtype.as_raw(),
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// One sample per distribution from the categorical distributions whose
    /// unnormalized log-probabilities lie along `axis` of `logits`: the
    /// `uint32` indices, of the shape of `logits` without `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for an axis out of range, an empty
    /// axis or a malformed key.
    ["mlx_random_categorical"]
    pub fn categorical(logits: &Array, axis: i32, key: Option<&Array>) -> Array;
    on categorical_on, stream => {
        Array::build("mlx_random_categorical", |res| {
            // SAFETY: `res` is a fresh out-param; `logits`, the key (or the
            // empty handle) and the stream are live.
            unsafe {
                mlx_sys::mlx_random_categorical(
                    res,
                    logits.as_raw(),
                    axis,
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// [`categorical`] with an output of `shape`, which must broadcast with the
    /// shape of `logits` without `axis`.
    ///
    /// # Errors
    /// As [`categorical`]; also MLX's message when `shape` does not broadcast.
    ["mlx_random_categorical_shape"]
    pub fn categorical_with_shape(
        logits: &Array,
        axis: i32,
        shape: &[i32],
        key: Option<&Array>,
    ) -> Array;
    on categorical_with_shape_on, stream => {
        Array::build("mlx_random_categorical_shape", |res| {
            // SAFETY: `res` is a fresh out-param; `logits`, the key (or the
            // empty handle) and the stream are live; `shape` points at `len`
            // ints that outlive the call.
            unsafe {
                mlx_sys::mlx_random_categorical_shape(
                    res,
                    logits.as_raw(),
                    axis,
                    shape.as_ptr(),
                    shape.len(),
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// [`categorical`] drawing `num_samples` samples per distribution (a
    /// trailing axis of that length).
    ///
    /// # Errors
    /// As [`categorical`]; also MLX's message for `num_samples < 1`.
    ["mlx_random_categorical_num_samples"]
    pub fn categorical_samples(
        logits: &Array,
        axis: i32,
        num_samples: i32,
        key: Option<&Array>,
    ) -> Array;
    on categorical_samples_on, stream => {
        Array::build("mlx_random_categorical_num_samples", |res| {
            // SAFETY: `res` is a fresh out-param; `logits`, the key (or the
            // empty handle) and the stream are live.
            unsafe {
                mlx_sys::mlx_random_categorical_num_samples(
                    res,
                    logits.as_raw(),
                    axis,
                    num_samples,
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Samples of the Laplace distribution with location `loc` and scale
    /// `scale`, of `shape` and the floating `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a non-floating dtype, a negative
    /// dimension or a malformed key.
    ["mlx_random_laplace"]
    pub fn laplace(
        shape: &[i32],
        dtype: Dtype,
        loc: f32,
        scale: f32,
        key: Option<&Array>,
    ) -> Array;
    on laplace_on, stream => {
        let f = mlx_sys::mlx_random_laplace;
        loc_scale("mlx_random_laplace", f, shape, dtype, loc, scale, key, stream)
    }

    /// `x` with its entries along `axis` randomly permuted (the same
    /// permutation for every position of the other axes).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for an axis out of range (MLX says
    /// "SmallVector out of range") or a malformed key;
    /// [`Error::InvalidShape`] when `axis` has length 0 (MLX 0.32.2 would
    /// divide by zero).
    ["mlx_random_permutation"]
    pub fn permutation(x: &Array, axis: i32, key: Option<&Array>) -> Array;
    on permutation_on, stream => {
        let out = Array::build("mlx_random_permutation", |res| {
            // SAFETY: `res` is a fresh out-param; `x`, the key (or the empty
            // handle) and the stream are live.
            unsafe {
                mlx_sys::mlx_random_permutation(res, x.as_raw(), axis, opt(key), stream.as_raw())
            }
        })?;
        if x.dim(axis) == Some(0) {
            return Err(empty_permutation(x.shape()));
        }
        Ok(out)
    }

    /// A random permutation of `0, 1, …, n − 1` (`uint32`).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a negative `n` or a malformed
    /// key; [`Error::InvalidShape`] for `n == 0` (MLX 0.32.2 would divide by
    /// zero).
    ["mlx_random_permutation_arange"]
    pub fn permutation_range(n: i32, key: Option<&Array>) -> Array;
    on permutation_range_on, stream => {
        let out = Array::build("mlx_random_permutation_arange", |res| {
            // SAFETY: `res` is a fresh out-param; the key (or the empty handle)
            // and the stream are live.
            unsafe { mlx_sys::mlx_random_permutation_arange(res, n, opt(key), stream.as_raw()) }
        })?;
        if n == 0 {
            return Err(empty_permutation(&[0]));
        }
        Ok(out)
    }
}

op! {
    /// Samples of the multivariate normal distribution with mean `mean`
    /// (`[..., n]`) and covariance `cov` (`[..., n, n]`, positive
    /// semi-definite): an array of `shape + [n]` (`shape` must broadcast with
    /// the batch shapes of `mean` and `cov`). `dtype` must be `float32`.
    ///
    /// MLX factors `cov` by an SVD on the stream it is given, and its SVD is
    /// CPU-only (see [`ops::linalg`](crate::ops::linalg)): so this runs on
    /// [`linalg_stream`](crate::ops::linalg::linalg_stream) (the current
    /// stream if it is a CPU stream, else the CPU's default one), and
    /// [`multivariate_normal_on`] with a GPU stream gets MLX's "not yet
    /// supported on the GPU" error.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message for a dtype other than `float32`,
    /// `mean` of fewer than one or `cov` of fewer than two dimensions, a
    /// non-square `cov`, shapes that do not match or broadcast, or a malformed
    /// key.
    ["mlx_random_multivariate_normal"]
    pub fn multivariate_normal(
        mean: &Array,
        cov: &Array,
        shape: &[i32],
        dtype: Dtype,
        key: Option<&Array>,
    ) -> Array;
    on multivariate_normal_on, stream in cpu => {
        Array::build("mlx_random_multivariate_normal", |res| {
            // SAFETY: `res` is a fresh out-param; `mean`, `cov`, the key (or
            // the empty handle) and the stream are live; `shape` points at
            // `len` ints that outlive the call.
            unsafe {
                mlx_sys::mlx_random_multivariate_normal(
                    res,
                    mean.as_raw(),
                    cov.as_raw(),
                    shape.as_ptr(),
                    shape.len(),
                    dtype.as_raw(),
                    opt(key),
                    stream.as_raw(),
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::broadcast_shapes;

    #[test]
    fn broadcast_shapes_follows_numpy() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shapes(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast_shapes(&[3], &[2]), None);
        assert_eq!(broadcast_shapes(&[0], &[1]), Some(vec![0]));
    }
}
