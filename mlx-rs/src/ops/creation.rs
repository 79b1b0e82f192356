//! Creating arrays (`identity`, `tri`, `linspace`, `*_like` with a
//! dtype, window functions) and the triangular and diagonal views of
//! matrices (`tril`, `triu`, `diag`, `diagonal`, `trace`).
//!
//! `zeros`, `ones`, `full`, `eye`, `arange` and `linspace` without an
//! endpoint choice are constructors of [`Array`] (e.g. [`Array::zeros`]).
//!
//! ```
//! use mlx_rs::ops::{identity, trace, tril};
//! use mlx_rs::{Array, Dtype};
//! let i = identity(3, Dtype::Float32)?;
//! assert_eq!(trace(&i, 0, 0, 1, None)?.item::<f32>()?, 3.0);
//! let a = Array::ones(&[2, 2], Dtype::Int32)?;
//! assert_eq!(tril(&a, 0)?.to_vec::<i32>()?, [1, 0, 1, 1]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{int_op, op};
use crate::{Array, Dtype};

type WindowFn = unsafe extern "C" fn(*mut mlx_sys::mlx_array, i32, mlx_sys::mlx_stream) -> i32;

fn window(op: &'static str, m: i32, s: &crate::Stream, f: WindowFn) -> crate::Result<Array> {
    Array::build(op, |res| {
        // SAFETY: `f` has exactly this signature; fresh out-param; `s` is a
        // live stream.
        unsafe { f(res, m, s.as_raw()) }
    })
}

op! {
    /// The `n × n` identity matrix.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a negative
    /// `n`.
    ["mlx_identity"]
    pub fn identity(n: i32, dtype: Dtype) -> Array;
    on identity_on, s => {
        Array::build("mlx_identity", |res| {
            // SAFETY: fresh out-param; `s` is a live stream.
            unsafe { mlx_sys::mlx_identity(res, n, dtype.as_raw(), s.as_raw()) }
        })
    }

    /// An `n × m` matrix with ones at and below diagonal `k` (0: the main
    /// diagonal, positive: above it) and zeros elsewhere.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for negative
    /// sizes.
    ["mlx_tri"]
    pub fn tri(n: i32, m: i32, k: i32, dtype: Dtype) -> Array;
    on tri_on, s => {
        Array::build("mlx_tri", |res| {
            // SAFETY: fresh out-param; `s` is a live stream.
            unsafe { mlx_sys::mlx_tri(res, n, m, k, dtype.as_raw(), s.as_raw()) }
        })
    }

    /// The lower triangle of the last two axes (at and below diagonal
    /// `k`), zeros above.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an array of
    /// fewer than two dimensions.
    ["mlx_tril"]
    pub fn tril(a: &Array, k: i32) -> Array;
    on tril_on, s => { int_op("mlx_tril", a, k, s, mlx_sys::mlx_tril) }

    /// The upper triangle of the last two axes (at and above diagonal
    /// `k`), zeros below.
    ///
    /// # Errors
    /// As [`tril`].
    ["mlx_triu"]
    pub fn triu(a: &Array, k: i32) -> Array;
    on triu_on, s => { int_op("mlx_triu", a, k, s, mlx_sys::mlx_triu) }

    /// `num` evenly spaced values from `start` to `stop`, including `stop`
    /// when `endpoint` is true.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a negative
    /// `num`.
    ["mlx_linspace", "mlx_linspace_endpoint"]
    pub fn linspace(start: f64, stop: f64, num: i32, endpoint: bool, dtype: Dtype) -> Array;
    on linspace_on, s => {
        if endpoint {
            Array::build("mlx_linspace", |res| {
                // SAFETY: fresh out-param; scalars and a live stream.
                unsafe { mlx_sys::mlx_linspace(res, start, stop, num, dtype.as_raw(), s.as_raw()) }
            })
        } else {
            Array::build("mlx_linspace_endpoint", |res| {
                // SAFETY: fresh out-param; `s` is a live stream.
                unsafe { mlx_sys::mlx_linspace_endpoint(res, start, stop, num, false, dtype.as_raw(), s.as_raw()) }
            })
        }
    }

    /// Zeros of `a`'s shape, of `a`'s dtype or `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_zeros_like", "mlx_zeros_like_dtype"]
    pub fn zeros_like(a: &Array, dtype: Option<Dtype>) -> Array;
    on zeros_like_on, s => {
        Array::build("mlx_zeros_like_dtype", |res| {
            let d = dtype.unwrap_or(a.dtype()).as_raw();
            // SAFETY: fresh out-param; `a` and `s` are live handles.
            unsafe { mlx_sys::mlx_zeros_like_dtype(res, a.as_raw(), d, s.as_raw()) }
        })
    }

    /// Ones of `a`'s shape, of `a`'s dtype or `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_ones_like", "mlx_ones_like_dtype"]
    pub fn ones_like(a: &Array, dtype: Option<Dtype>) -> Array;
    on ones_like_on, s => {
        Array::build("mlx_ones_like_dtype", |res| {
            let d = dtype.unwrap_or(a.dtype()).as_raw();
            // SAFETY: fresh out-param; `a` and `s` are live handles.
            unsafe { mlx_sys::mlx_ones_like_dtype(res, a.as_raw(), d, s.as_raw()) }
        })
    }

    /// The Bartlett (triangular) window of `m` points.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a negative
    /// `m`.
    ["mlx_bartlett"]
    pub fn bartlett(m: i32) -> Array;
    on bartlett_on, s => { window("mlx_bartlett", m, s, mlx_sys::mlx_bartlett) }

    /// The Blackman window of `m` points.
    ///
    /// # Errors
    /// As [`bartlett`].
    ["mlx_blackman"]
    pub fn blackman(m: i32) -> Array;
    on blackman_on, s => { window("mlx_blackman", m, s, mlx_sys::mlx_blackman) }

    /// The Hamming window of `m` points.
    ///
    /// # Errors
    /// As [`bartlett`].
    ["mlx_hamming"]
    pub fn hamming(m: i32) -> Array;
    on hamming_on, s => { window("mlx_hamming", m, s, mlx_sys::mlx_hamming) }

    /// The Hann window of `m` points.
    ///
    /// # Errors
    /// As [`bartlett`].
    ["mlx_hanning"]
    pub fn hanning(m: i32) -> Array;
    on hanning_on, s => { window("mlx_hanning", m, s, mlx_sys::mlx_hanning) }

    /// Diagonal `k` of a matrix, or a square matrix with the vector `a` on
    /// diagonal `k`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message unless `a` has
    /// one or two dimensions.
    ["mlx_diag"]
    pub fn diag(a: &Array, k: i32) -> Array;
    on diag_on, s => { int_op("mlx_diag", a, k, s, mlx_sys::mlx_diag) }

    /// The diagonal at `offset` of the planes spanned by `axis1` and
    /// `axis2` (as a new last axis).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for axes out of
    /// range or equal.
    ["mlx_diagonal"]
    pub fn diagonal(a: &Array, offset: i32, axis1: i32, axis2: i32) -> Array;
    on diagonal_on, s => {
        Array::build("mlx_diagonal", |res| {
            // SAFETY: fresh out-param; `a` and `s` are live handles.
            unsafe { mlx_sys::mlx_diagonal(res, a.as_raw(), offset, axis1, axis2, s.as_raw()) }
        })
    }

    /// The sum of the diagonal at `offset` of the planes spanned by `axis1`
    /// and `axis2`, in `dtype` (default: `a`'s).
    ///
    /// # Errors
    /// As [`diagonal`].
    ["mlx_trace", "mlx_trace_axes"]
    pub fn trace(a: &Array, offset: i32, axis1: i32, axis2: i32, dtype: Option<Dtype>) -> Array;
    on trace_on, s => {
        if (offset, axis1, axis2, dtype) == (0, 0, 1, None) {
            return super::unary("mlx_trace", a, s, mlx_sys::mlx_trace);
        }
        let d = dtype.unwrap_or(a.dtype()).as_raw();
        Array::build("mlx_trace_axes", |res| {
            // SAFETY: fresh out-param; `a` and `s` are live handles.
            unsafe { mlx_sys::mlx_trace_axes(res, a.as_raw(), offset, axis1, axis2, d, s.as_raw()) }
        })
    }
}
