//! Discrete Fourier transforms (mlx-c's `fft.h`, all 16 functions):
//! complex ([`fft`], [`fft2`], [`fftn`] and their inverses), real-input
//! ([`rfft`], …, and the inverses [`irfft`], … that return real arrays),
//! sample frequencies ([`fftfreq`], [`rfftfreq`]) and the zero-frequency
//! shifts ([`fftshift`], [`ifftshift`]).
//!
//! ```
//! use mlx_rs::ops::fft::{fft, irfft, rfft, FftNorm};
//! use mlx_rs::{Array, Complex32};
//! let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4])?;
//! let y = fft(&x, None, -1, FftNorm::Backward)?;
//! assert_eq!(y.to_vec::<Complex32>()?[0], Complex32::new(10.0, 0.0));
//! let back = irfft(&rfft(&x, None, -1, FftNorm::Backward)?, Some(4), -1, FftNorm::Backward)?;
//! assert_eq!(back.to_vec::<f32>()?, [1.0, 2.0, 3.0, 4.0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! Sizes and axes follow NumPy and Python MLX: a size of `None` keeps the
//! input's length along the axis (for the inverse real transforms, `2·(m −
//! 1)` along the last axis, `m` being the input length); a size smaller
//! than the input truncates it, a larger one zero-pads it. Results are
//! `complex64` (real for the inverse real transforms, `float32`); inputs of
//! any numeric dtype are converted first (`float64` too: MLX 0.32.2 computes
//! FFTs in single precision).
//!
//! Every function runs on [`Stream::current`] by default and has an `_on`
//! form taking a stream. MLX implements FFTs on the CPU (pocketfft) and on
//! CUDA (cuFFT) and Metal.

use std::os::raw::c_int;

use super::support::{ints_op, op};
use crate::error::Result;
use crate::stream::Stream;
use crate::Array;

/// How a transform is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FftNorm {
    /// No scaling forward, `1/n` on the inverse (NumPy's default).
    #[default]
    Backward,
    /// `1/sqrt(n)` both ways (unitary).
    Ortho,
    /// `1/n` forward, none on the inverse.
    Forward,
}

impl FftNorm {
    fn to_raw(self) -> mlx_sys::mlx_fft_norm {
        match self {
            FftNorm::Backward => mlx_sys::MLX_FFT_NORM_BACKWARD,
            FftNorm::Ortho => mlx_sys::MLX_FFT_NORM_ORTHO,
            FftNorm::Forward => mlx_sys::MLX_FFT_NORM_FORWARD,
        }
    }
}

/// mlx-c's one-axis transforms: `(res, a, n, axis, norm, stream)`.
type Fft1Fn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    c_int,
    c_int,
    mlx_sys::mlx_fft_norm,
    mlx_sys::mlx_stream,
) -> c_int;

/// mlx-c's multi-axis transforms: `(res, a, n, n_num, axes, axes_num,
/// norm, stream)`.
type FftNFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    *const c_int,
    usize,
    *const c_int,
    usize,
    mlx_sys::mlx_fft_norm,
    mlx_sys::mlx_stream,
) -> c_int;

/// mlx-c's sample frequencies: `(res, n, d, stream)`.
type FreqFn =
    unsafe extern "C" fn(*mut mlx_sys::mlx_array, c_int, f64, mlx_sys::mlx_stream) -> c_int;

/// The sizes a transform over `axes` takes by default: the input's lengths,
/// with `2·(m − 1)` on the last axis for the inverse real transforms (as
/// MLX does). An axis out of range gets a placeholder size of 1, so that
/// MLX itself reports the invalid axis.
fn default_sizes(a: &Array, axes: &[i32], inverse_real: bool) -> Vec<i32> {
    let mut n: Vec<i32> = axes.iter().map(|&ax| a.dim(ax).unwrap_or(1)).collect();
    if inverse_real && a.ndim() > 0 {
        if let Some(last) = n.last_mut() {
            *last = (*last - 1).saturating_mul(2);
        }
    }
    n
}

/// Runs a one-axis transform.
#[allow(clippy::too_many_arguments)]
fn run1(
    op: &'static str,
    f: Fft1Fn,
    a: &Array,
    n: Option<i32>,
    axis: i32,
    norm: FftNorm,
    inverse_real: bool,
    stream: &Stream,
) -> Result<Array> {
    let n = n.unwrap_or_else(|| default_sizes(a, &[axis], inverse_real)[0]);
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c transform of this exact signature; `res`
        // is a fresh out-param; `a` and the stream are live handles.
        unsafe { f(res, a.as_raw(), n, axis, norm.to_raw(), stream.as_raw()) }
    })
}

/// Runs a multi-axis transform; `default_axes` gives the axes when `axes`
/// is `None` ([`last_two`] or [`all_axes`]).
#[allow(clippy::too_many_arguments)]
fn run_n(
    op: &'static str,
    f: FftNFn,
    a: &Array,
    s: Option<&[i32]>,
    axes: Option<&[i32]>,
    default_axes: fn(&Array, Option<&[i32]>) -> Vec<i32>,
    norm: FftNorm,
    inverse_real: bool,
    stream: &Stream,
) -> Result<Array> {
    let axes: Vec<i32> = axes.map_or_else(|| default_axes(a, s), <[i32]>::to_vec);
    let n: Vec<i32> = s.map_or_else(|| default_sizes(a, &axes, inverse_real), <[i32]>::to_vec);
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c transform of this exact signature; `res`
        // is a fresh out-param; `a` and the stream are live handles; `n`
        // and `axes` point at `len` ints each and outlive the call.
        unsafe {
            f(
                res,
                a.as_raw(),
                n.as_ptr(),
                n.len(),
                axes.as_ptr(),
                axes.len(),
                norm.to_raw(),
                stream.as_raw(),
            )
        }
    })
}

/// Runs a sample-frequency function.
fn run_freq(op: &'static str, f: FreqFn, n: i32, d: f64, stream: &Stream) -> Result<Array> {
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c function of this exact signature; `res`
        // is a fresh out-param and the stream a live handle.
        unsafe { f(res, n, d, stream.as_raw()) }
    })
}

/// The axes of a two-dimensional transform without explicit axes: the
/// last two.
fn last_two(_: &Array, _: Option<&[i32]>) -> Vec<i32> {
    vec![-2, -1]
}

/// The axes of an n-dimensional transform without explicit axes: the last
/// `s.len()` axes when sizes are given, else all axes.
fn all_axes(a: &Array, s: Option<&[i32]>) -> Vec<i32> {
    match s {
        Some(s) => {
            let k = i32::try_from(s.len()).unwrap_or(i32::MAX);
            (-k..0).collect()
        }
        None => (0..i32::try_from(a.ndim()).unwrap_or(i32::MAX)).collect(),
    }
}

op! {
    /// The one-dimensional discrete Fourier transform of `a` along `axis`, of
    /// length `n` (default: the axis's length).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range, a size below 1 or a 0-d input.
    ["mlx_fft_fft"]
    pub fn fft(a: &Array, n: Option<i32>, axis: i32, norm: FftNorm) -> Array;
    on fft_on, stream => {
        run1("mlx_fft_fft", mlx_sys::mlx_fft_fft, a, n, axis, norm, false, stream)
    }

    /// The inverse of [`fft`] along `axis`, of length `n` (default: the axis's
    /// length).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range, a size below 1 or a 0-d input.
    ["mlx_fft_ifft"]
    pub fn ifft(a: &Array, n: Option<i32>, axis: i32, norm: FftNorm) -> Array;
    on ifft_on, stream => {
        run1("mlx_fft_ifft", mlx_sys::mlx_fft_ifft, a, n, axis, norm, false, stream)
    }

    /// The discrete Fourier transform of the real input `a` along `axis`: the
    /// `n/2 + 1` non-negative frequencies of a length-`n` transform (default `n`:
    /// the axis's length). A complex input is taken by its real part.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range, a size below 1 or a 0-d input.
    ["mlx_fft_rfft"]
    pub fn rfft(a: &Array, n: Option<i32>, axis: i32, norm: FftNorm) -> Array;
    on rfft_on, stream => {
        run1("mlx_fft_rfft", mlx_sys::mlx_fft_rfft, a, n, axis, norm, false, stream)
    }

    /// The inverse of [`rfft`]: the real signal of length `n` along `axis`
    /// (default `2·(m − 1)`, `m` the input's length along `axis`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range, a size below 1 or a 0-d input.
    ["mlx_fft_irfft"]
    pub fn irfft(a: &Array, n: Option<i32>, axis: i32, norm: FftNorm) -> Array;
    on irfft_on, stream => {
        run1("mlx_fft_irfft", mlx_sys::mlx_fft_irfft, a, n, axis, norm, true, stream)
    }

    /// The two-dimensional discrete Fourier transform over `axes` (default: the
    /// last two), with sizes `s` (default: the input's lengths).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_fft2"]
    pub fn fft2(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on fft2_on, stream => {
        run_n("mlx_fft_fft2", mlx_sys::mlx_fft_fft2, a, s, axes, last_two, norm, false, stream)
    }

    /// The inverse of [`fft2`] over `axes` (default: the last two), with sizes
    /// `s` (default: the input's lengths).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_ifft2"]
    pub fn ifft2(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on ifft2_on, stream => {
        run_n("mlx_fft_ifft2", mlx_sys::mlx_fft_ifft2, a, s, axes, last_two, norm, false, stream)
    }

    /// The two-dimensional transform of a real input over `axes` (default: the
    /// last two), halved along the last of them as in [`rfft`], with sizes `s`
    /// (default: the input's lengths).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_rfft2"]
    pub fn rfft2(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on rfft2_on, stream => {
        run_n("mlx_fft_rfft2", mlx_sys::mlx_fft_rfft2, a, s, axes, last_two, norm, false, stream)
    }

    /// The inverse of [`rfft2`] over `axes` (default: the last two): a real
    /// output of sizes `s` (default: the input's lengths, `2·(m − 1)` on the last
    /// axis).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_irfft2"]
    pub fn irfft2(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on irfft2_on, stream => {
        run_n("mlx_fft_irfft2", mlx_sys::mlx_fft_irfft2, a, s, axes, last_two, norm, true, stream)
    }

    /// The n-dimensional discrete Fourier transform over `axes` with sizes `s`.
    /// Defaults: `axes` the last `s.len()` axes when `s` is given, else all axes;
    /// `s` the input's lengths.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_fftn"]
    pub fn fftn(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on fftn_on, stream => {
        run_n("mlx_fft_fftn", mlx_sys::mlx_fft_fftn, a, s, axes, all_axes, norm, false, stream)
    }

    /// The inverse of [`fftn`] (same defaults).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_ifftn"]
    pub fn ifftn(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on ifftn_on, stream => {
        run_n("mlx_fft_ifftn", mlx_sys::mlx_fft_ifftn, a, s, axes, all_axes, norm, false, stream)
    }

    /// The n-dimensional transform of a real input, halved along the last
    /// transformed axis as in [`rfft`] (defaults as in [`fftn`]).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_rfftn"]
    pub fn rfftn(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on rfftn_on, stream => {
        run_n("mlx_fft_rfftn", mlx_sys::mlx_fft_rfftn, a, s, axes, all_axes, norm, false, stream)
    }

    /// The inverse of [`rfftn`]: a real output of sizes `s` (default: the input's
    /// lengths, `2·(m − 1)` on the last axis; axes as in [`fftn`]).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range or repeated, sizes and axes of different lengths, a size below 1
    /// or a 0-d input.
    ["mlx_fft_irfftn"]
    pub fn irfftn(a: &Array, s: Option<&[i32]>, axes: Option<&[i32]>, norm: FftNorm) -> Array;
    on irfftn_on, stream => {
        run_n("mlx_fft_irfftn", mlx_sys::mlx_fft_irfftn, a, s, axes, all_axes, norm, true, stream)
    }

    /// The sample frequencies of a length-`n` [`fft`] with sample spacing `d`:
    /// `[0, 1, …, ⌈n/2⌉ − 1, −⌊n/2⌋, …, −1] / (d·n)` (`float32`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `n < 1` or
    /// `d == 0`.
    ["mlx_fft_fftfreq"]
    pub fn fftfreq(n: i32, d: f64) -> Array;
    on fftfreq_on, stream => {
        run_freq("mlx_fft_fftfreq", mlx_sys::mlx_fft_fftfreq, n, d, stream)
    }

    /// The sample frequencies of a length-`n` [`rfft`] with sample spacing `d`:
    /// `[0, 1, …, ⌊n/2⌋] / (d·n)` (`float32`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `n < 1` or
    /// `d == 0`.
    ["mlx_fft_rfftfreq"]
    pub fn rfftfreq(n: i32, d: f64) -> Array;
    on rfftfreq_on, stream => {
        run_freq("mlx_fft_rfftfreq", mlx_sys::mlx_fft_rfftfreq, n, d, stream)
    }

    /// Moves the zero-frequency term to the center: rolls each of `axes`
    /// (default: all) by half its length, as `numpy.fft.fftshift`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range.
    ["mlx_fft_fftshift"]
    pub fn fftshift(a: &Array, axes: Option<&[i32]>) -> Array;
    on fftshift_on, stream => {
        let axes = axes.map_or_else(|| all_axes(a, None), <[i32]>::to_vec);
        ints_op("mlx_fft_fftshift", a, &axes, stream, mlx_sys::mlx_fft_fftshift)
    }

    /// The inverse of [`fftshift`] (they differ for odd lengths) over `axes`
    /// (default: all).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out of
    /// range.
    ["mlx_fft_ifftshift"]
    pub fn ifftshift(a: &Array, axes: Option<&[i32]>) -> Array;
    on ifftshift_on, stream => {
        let axes = axes.map_or_else(|| all_axes(a, None), <[i32]>::to_vec);
        ints_op("mlx_fft_ifftshift", a, &axes, stream, mlx_sys::mlx_fft_ifftshift)
    }
}
