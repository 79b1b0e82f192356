//! Shape operations: reshape, transpose, broadcast, add and remove axes.

use crate::{Array, Result, Stream};

impl Array {
    /// The same elements in a new shape (one dimension may be `-1`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the sizes differ.
    #[doc(alias = "mlx_reshape")]
    pub fn reshape(&self, shape: &[i32]) -> Result<Array> {
        self.reshape_on(shape, &Stream::current()?)
    }

    /// [`Array::reshape`] on an explicit stream.
    ///
    /// # Errors
    /// As [`Array::reshape`].
    #[doc(alias = "mlx_reshape")]
    pub fn reshape_on(&self, shape: &[i32], stream: &Stream) -> Result<Array> {
        Array::build("mlx_reshape", |res| {
            // SAFETY: fresh out-param; `shape` holds len ints; live handles.
            unsafe {
                mlx_sys::mlx_reshape(
                    res,
                    self.as_raw(),
                    shape.as_ptr(),
                    shape.len(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// The array with its axes reversed (a view).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    #[doc(alias = "mlx_transpose")]
    pub fn transpose(&self) -> Result<Array> {
        let s = Stream::current()?;
        Array::build("mlx_transpose", |res| {
            // SAFETY: fresh out-param; live input and stream.
            unsafe { mlx_sys::mlx_transpose(res, self.as_raw(), s.as_raw()) }
        })
    }

    /// The array with its axes permuted as `axes` says (a view).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when `axes` is not a permutation.
    #[doc(alias = "mlx_transpose_axes")]
    pub fn transpose_axes(&self, axes: &[i32]) -> Result<Array> {
        self.transpose_axes_on(axes, &Stream::current()?)
    }

    /// [`Array::transpose_axes`] on an explicit stream.
    ///
    /// # Errors
    /// As [`Array::transpose_axes`].
    #[doc(alias = "mlx_transpose_axes")]
    pub fn transpose_axes_on(&self, axes: &[i32], stream: &Stream) -> Result<Array> {
        Array::build("mlx_transpose_axes", |res| {
            // SAFETY: fresh out-param; `axes` holds len ints; live handles.
            unsafe {
                mlx_sys::mlx_transpose_axes(
                    res,
                    self.as_raw(),
                    axes.as_ptr(),
                    axes.len(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// The array broadcast to `shape` (a view).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the shapes do not broadcast.
    #[doc(alias = "mlx_broadcast_to")]
    pub fn broadcast_to(&self, shape: &[i32]) -> Result<Array> {
        self.broadcast_to_on(shape, &Stream::current()?)
    }

    /// [`Array::broadcast_to`] on an explicit stream.
    ///
    /// # Errors
    /// As [`Array::broadcast_to`].
    #[doc(alias = "mlx_broadcast_to")]
    pub fn broadcast_to_on(&self, shape: &[i32], stream: &Stream) -> Result<Array> {
        Array::build("mlx_broadcast_to", |res| {
            // SAFETY: fresh out-param; `shape` holds len ints; live handles.
            unsafe {
                mlx_sys::mlx_broadcast_to(
                    res,
                    self.as_raw(),
                    shape.as_ptr(),
                    shape.len(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Inserts size-1 axes at `axes` (positions in the result).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) for invalid axes.
    #[doc(alias = "mlx_expand_dims_axes")]
    pub fn expand_dims(&self, axes: &[i32]) -> Result<Array> {
        self.expand_dims_on(axes, &Stream::current()?)
    }

    /// [`Array::expand_dims`] on an explicit stream.
    ///
    /// # Errors
    /// As [`Array::expand_dims`].
    #[doc(alias = "mlx_expand_dims_axes")]
    pub fn expand_dims_on(&self, axes: &[i32], stream: &Stream) -> Result<Array> {
        Array::build("mlx_expand_dims_axes", |res| {
            // SAFETY: fresh out-param; `axes` holds len ints; live handles.
            unsafe {
                mlx_sys::mlx_expand_dims_axes(
                    res,
                    self.as_raw(),
                    axes.as_ptr(),
                    axes.len(),
                    stream.as_raw(),
                )
            }
        })
    }

    /// Removes the size-1 axes `axes`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when an axis is not of size 1.
    #[doc(alias = "mlx_squeeze_axes")]
    pub fn squeeze(&self, axes: &[i32]) -> Result<Array> {
        let s = Stream::current()?;
        Array::build("mlx_squeeze_axes", |res| {
            // SAFETY: fresh out-param; `axes` holds len ints; live handles.
            unsafe {
                mlx_sys::mlx_squeeze_axes(res, self.as_raw(), axes.as_ptr(), axes.len(), s.as_raw())
            }
        })
    }

    /// A row-contiguous copy of the array (or the array itself when it
    /// already is).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    #[doc(alias = "mlx_contiguous")]
    pub fn contiguous(&self) -> Result<Array> {
        let s = Stream::current()?;
        Array::build("mlx_contiguous", |res| {
            // SAFETY: fresh out-param; live input and stream.
            unsafe { mlx_sys::mlx_contiguous(res, self.as_raw(), false, s.as_raw()) }
        })
    }
}
