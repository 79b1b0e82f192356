//! Making arrays: from Rust data, and MLX's constructors.

use crate::dtype::{ArrayElement, Dtype};
use crate::error::{Error, Result};
use crate::stream::Stream;
use crate::Array;

/// Number of elements of `shape`, or an error for a negative dimension or
/// an element count that overflows.
pub(crate) fn checked_size(shape: &[i32]) -> Result<usize> {
    let invalid = |reason| Error::InvalidShape {
        shape: shape.iter().map(|&d| i64::from(d)).collect(),
        reason,
    };
    shape.iter().try_fold(1usize, |acc, &d| {
        let d = usize::try_from(d).map_err(|_| invalid("negative dimension"))?;
        acc.checked_mul(d)
            .ok_or_else(|| invalid("too many elements"))
    })
}

impl Array {
    /// An array of `shape` holding a copy of `data` (row-major); the dtype
    /// is exactly `T`'s.
    ///
    /// ```
    /// use mlx_rs::{Array, Dtype};
    /// let a = Array::from_slice(&[1u8, 2, 3, 4, 5, 6], &[2, 3])?;
    /// assert_eq!((a.shape(), a.dtype()), (&[2, 3][..], Dtype::Uint8));
    /// assert!(Array::from_slice(&[1u8, 2, 3], &[2, 2]).is_err());
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `data.len()` is not the number of
    /// elements of `shape`; [`Error::InvalidShape`] for a negative
    /// dimension; [`Error::Mlx`] if MLX fails to allocate.
    #[doc(alias = "mlx_array_new_data")]
    pub fn from_slice<T: ArrayElement>(data: &[T], shape: &[i32]) -> Result<Array> {
        let expected = checked_size(shape)?;
        if expected != data.len() {
            return Err(Error::LengthMismatch {
                len: data.len(),
                shape: shape.to_vec(),
                expected,
            });
        }
        let ndim = i32::try_from(shape.len()).map_err(|_| Error::InvalidShape {
            shape: shape.iter().map(|&d| i64::from(d)).collect(),
            reason: "too many dimensions",
        })?;
        // An empty slice may dangle; MLX reads nothing from it then, but
        // give it a real address anyway.
        let dummy = [0u64; 2];
        let ptr = if data.is_empty() {
            dummy.as_ptr().cast()
        } else {
            data.as_ptr().cast()
        };
        // SAFETY: `ptr` points at `expected` elements laid out as
        // `T::DTYPE` (ArrayElement's contract), `shape` at `ndim` ints; MLX
        // copies both before returning.
        Array::from_constructor("mlx_array_new_data", || unsafe {
            mlx_sys::mlx_array_new_data(ptr, shape.as_ptr(), ndim, T::DTYPE.as_raw())
        })
    }

    /// An array of `shape` filled from an iterator (row-major).
    ///
    /// # Errors
    /// As [`Array::from_slice`]: the iterator must yield exactly as many
    /// elements as `shape` holds.
    #[doc(alias = "mlx_array_new_data")]
    pub fn from_iter_shaped<T: ArrayElement>(
        iter: impl IntoIterator<Item = T>,
        shape: &[i32],
    ) -> Result<Array> {
        let data: Vec<T> = iter.into_iter().collect();
        Array::from_slice(&data, shape)
    }

    /// A 0-dimensional array holding `value`, with `T`'s exact dtype.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails to allocate.
    #[doc(alias = "mlx_array_new_data")]
    pub fn scalar<T: ArrayElement>(value: T) -> Result<Array> {
        Array::from_slice(&[value], &[])
    }

    /// Zeros of `shape` and `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`] for an invalid shape.
    #[doc(alias = "mlx_zeros")]
    pub fn zeros(shape: &[i32], dtype: Dtype) -> Result<Array> {
        Array::zeros_on(shape, dtype, &Stream::current()?)
    }

    /// [`Array::zeros`] on an explicit stream.
    ///
    /// # Errors
    /// [`Error::Mlx`] for an invalid shape.
    #[doc(alias = "mlx_zeros")]
    pub fn zeros_on(shape: &[i32], dtype: Dtype, stream: &Stream) -> Result<Array> {
        Array::build("mlx_zeros", |res| {
            // SAFETY: `res` is a fresh out-param; `shape` holds len ints.
            unsafe {
                mlx_sys::mlx_zeros(
                    res,
                    shape.as_ptr(),
                    shape.len(),
                    dtype.as_raw(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Ones of `shape` and `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`] for an invalid shape.
    #[doc(alias = "mlx_ones")]
    pub fn ones(shape: &[i32], dtype: Dtype) -> Result<Array> {
        Array::ones_on(shape, dtype, &Stream::current()?)
    }

    /// [`Array::ones`] on an explicit stream.
    ///
    /// # Errors
    /// [`Error::Mlx`] for an invalid shape.
    #[doc(alias = "mlx_ones")]
    pub fn ones_on(shape: &[i32], dtype: Dtype, stream: &Stream) -> Result<Array> {
        Array::build("mlx_ones", |res| {
            // SAFETY: `res` is a fresh out-param; `shape` holds len ints.
            unsafe {
                mlx_sys::mlx_ones(
                    res,
                    shape.as_ptr(),
                    shape.len(),
                    dtype.as_raw(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// An array of `shape` filled with `value` (dtype exactly `T`'s).
    ///
    /// # Errors
    /// [`Error::Mlx`] for an invalid shape.
    #[doc(alias = "mlx_full")]
    pub fn full<T: ArrayElement>(shape: &[i32], value: T) -> Result<Array> {
        Array::full_on(shape, value, &Stream::current()?)
    }

    /// [`Array::full`] on an explicit stream.
    ///
    /// # Errors
    /// [`Error::Mlx`] for an invalid shape.
    #[doc(alias = "mlx_full")]
    pub fn full_on<T: ArrayElement>(shape: &[i32], value: T, stream: &Stream) -> Result<Array> {
        let v = Array::scalar(value)?;
        Array::build("mlx_full", |res| {
            // SAFETY: `res` is a fresh out-param; `shape` holds len ints;
            // `v` and the stream are live.
            unsafe {
                mlx_sys::mlx_full(
                    res,
                    shape.as_ptr(),
                    shape.len(),
                    v.as_raw(),
                    T::DTYPE.as_raw(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Zeros with the shape and dtype of `self`.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails.
    #[doc(alias = "mlx_zeros_like")]
    pub fn zeros_like(&self) -> Result<Array> {
        let s = Stream::current()?;
        Array::build("mlx_zeros_like", |res| {
            // SAFETY: `res` is a fresh out-param; input and stream are live.
            unsafe { mlx_sys::mlx_zeros_like(res, self.as_raw(), s.as_raw()) }
        })
    }

    /// Ones with the shape and dtype of `self`.
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails.
    #[doc(alias = "mlx_ones_like")]
    pub fn ones_like(&self) -> Result<Array> {
        let s = Stream::current()?;
        Array::build("mlx_ones_like", |res| {
            // SAFETY: `res` is a fresh out-param; input and stream are live.
            unsafe { mlx_sys::mlx_ones_like(res, self.as_raw(), s.as_raw()) }
        })
    }

    /// An array with the shape and dtype of `self`, filled with `value`
    /// (converted to `self`'s dtype).
    ///
    /// # Errors
    /// [`Error::Mlx`] if MLX fails.
    #[doc(alias = "mlx_full_like")]
    pub fn full_like<T: ArrayElement>(&self, value: T) -> Result<Array> {
        let s = Stream::current()?;
        let v = Array::scalar(value)?;
        let dtype = self.dtype();
        Array::build("mlx_full_like", |res| {
            // SAFETY: `res` is a fresh out-param; inputs and stream are live.
            unsafe {
                mlx_sys::mlx_full_like(res, self.as_raw(), v.as_raw(), dtype.as_raw(), s.as_raw())
            }
        })
    }

    /// Values from `start` up to (not including) `stop` in steps of `step`,
    /// as `dtype`.
    ///
    /// ```
    /// use mlx_rs::{Array, Dtype};
    /// let a = Array::arange(0.0, 5.0, 2.0, Dtype::Int32)?;
    /// assert_eq!(a.to_vec::<i32>()?, [0, 2, 4]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`] for a zero step or a dtype MLX cannot produce.
    #[doc(alias = "mlx_arange")]
    pub fn arange(start: f64, stop: f64, step: f64, dtype: Dtype) -> Result<Array> {
        Array::arange_on(start, stop, step, dtype, &Stream::current()?)
    }

    /// [`Array::arange`] on an explicit stream.
    ///
    /// # Errors
    /// [`Error::Mlx`] for a zero step or a dtype MLX cannot produce.
    #[doc(alias = "mlx_arange")]
    pub fn arange_on(
        start: f64,
        stop: f64,
        step: f64,
        dtype: Dtype,
        stream: &Stream,
    ) -> Result<Array> {
        Array::build("mlx_arange", |res| {
            // SAFETY: `res` is a fresh out-param; scalars and a live stream.
            unsafe { mlx_sys::mlx_arange(res, start, stop, step, dtype.as_raw(), stream.as_raw()) }
        })
    }
    /// An `n` x `m` matrix with ones on diagonal `k` (0: main, positive:
    /// above) and zeros elsewhere; `m` defaults to `n`.
    ///
    /// # Errors
    /// [`Error::Mlx`] for negative sizes.
    #[doc(alias = "mlx_eye")]
    pub fn eye(n: i32, m: Option<i32>, k: i32, dtype: Dtype) -> Result<Array> {
        Array::eye_on(n, m, k, dtype, &Stream::current()?)
    }

    /// [`Array::eye`] on an explicit stream.
    ///
    /// # Errors
    /// [`Error::Mlx`] for negative sizes.
    #[doc(alias = "mlx_eye")]
    pub fn eye_on(n: i32, m: Option<i32>, k: i32, dtype: Dtype, stream: &Stream) -> Result<Array> {
        let m = m.unwrap_or(n);
        Array::build("mlx_eye", |res| {
            // SAFETY: `res` is a fresh out-param; scalars and a live stream.
            unsafe { mlx_sys::mlx_eye(res, n, m, k, dtype.as_raw(), stream.as_raw()) }
        })
    }
}
