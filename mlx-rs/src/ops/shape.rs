//! Shape operations: reshape, transpose, broadcast; and the `Array`
//! methods that forward to the shape ops of [`ops`](crate::ops), one front
//! door each (`a.reshape(s)` is [`reshape(&a, s)`](reshape)).

use super::support::{ints_op, op};
use super::unary;
use crate::ops::Axes;
use crate::{Array, Result, Stream};

op! {
    /// The same elements in a new shape (one dimension may be `-1`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the sizes differ.
    ["mlx_reshape"]
    pub fn reshape(a: &Array, shape: &[i32]) -> Array;
    on reshape_on, s => { ints_op("mlx_reshape", a, shape, s, mlx_sys::mlx_reshape) }

    /// The array with its axes reversed (a view).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_transpose"]
    pub fn transpose(a: &Array) -> Array;
    on transpose_on, s => { unary("mlx_transpose", a, s, mlx_sys::mlx_transpose) }

    /// The array with its axes permuted as `axes` says (a view).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when `axes` is not a permutation.
    ["mlx_transpose_axes"]
    pub fn transpose_axes(a: &Array, axes: &[i32]) -> Array;
    on transpose_axes_on, s => { ints_op("mlx_transpose_axes", a, axes, s, mlx_sys::mlx_transpose_axes) }

    /// The array broadcast to `shape` (a view).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the shapes do not broadcast.
    ["mlx_broadcast_to"]
    pub fn broadcast_to(a: &Array, shape: &[i32]) -> Array;
    on broadcast_to_on, s => { ints_op("mlx_broadcast_to", a, shape, s, mlx_sys::mlx_broadcast_to) }
}

/// Defines `Array` methods that forward to the ops of the same names and
/// signatures (the array as the first argument), with their `_on` forms.
macro_rules! forward {
    ($($name:ident, $name_on:ident ($($arg:ident : $ty:ty),*);)*) => {
        impl Array {$(
            #[doc = concat!("[`ops::", stringify!($name), "`](fn@crate::ops::", stringify!($name), ") of `self`.")]
            ///
            /// # Errors
            #[doc = concat!("As [`ops::", stringify!($name), "`](fn@crate::ops::", stringify!($name), ").")]
            pub fn $name(&self, $($arg: $ty),*) -> Result<Array> {
                crate::ops::$name(self, $($arg),*)
            }

            #[doc = concat!("[`ops::", stringify!($name_on), "`](fn@crate::ops::", stringify!($name_on), ") of `self`.")]
            ///
            /// # Errors
            #[doc = concat!("As [`ops::", stringify!($name), "`](fn@crate::ops::", stringify!($name), ").")]
            pub fn $name_on(&self, $($arg: $ty,)* stream: &Stream) -> Result<Array> {
                crate::ops::$name_on(self, $($arg,)* stream)
            }
        )*}
    };
}

forward! {
    reshape, reshape_on(shape: &[i32]);
    transpose, transpose_on();
    transpose_axes, transpose_axes_on(axes: &[i32]);
    broadcast_to, broadcast_to_on(shape: &[i32]);
    expand_dims, expand_dims_on(axes: &[i32]);
    contiguous, contiguous_on(allow_col_major: bool);
}

impl Array {
    /// [`ops::squeeze`](fn@crate::ops::squeeze) of `self`.
    ///
    /// # Errors
    /// As [`ops::squeeze`](fn@crate::ops::squeeze).
    pub fn squeeze<'x>(&self, axes: impl Into<Axes<'x>>) -> Result<Array> {
        crate::ops::squeeze(self, axes)
    }

    /// [`ops::squeeze_on`](fn@crate::ops::squeeze_on) of `self`.
    ///
    /// # Errors
    /// As [`ops::squeeze`](fn@crate::ops::squeeze).
    pub fn squeeze_on<'x>(&self, axes: impl Into<Axes<'x>>, stream: &Stream) -> Result<Array> {
        crate::ops::squeeze_on(self, axes, stream)
    }
}
