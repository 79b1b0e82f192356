//! Comparisons and logical operations (as functions and `Array` methods).
//!
//! ```
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[1i32, 5, 3], &[3])?;
//! let m = a.greater(2)?.logical_and(a.less(5)?)?;
//! assert_eq!(m.to_vec::<bool>()?, [false, false, true]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::{binary_fns, unary, Operand};
use crate::{Array, Result, Stream};

binary_fns!(
    /// Element-wise `lhs == rhs` (a `bool` array).
    equal, equal_on, mlx_equal
);
binary_fns!(
    /// Element-wise `lhs != rhs` (a `bool` array).
    not_equal, not_equal_on, mlx_not_equal
);
binary_fns!(
    /// Element-wise `lhs < rhs` (a `bool` array).
    less, less_on, mlx_less
);
binary_fns!(
    /// Element-wise `lhs <= rhs` (a `bool` array).
    less_equal, less_equal_on, mlx_less_equal
);
binary_fns!(
    /// Element-wise `lhs > rhs` (a `bool` array).
    greater, greater_on, mlx_greater
);
binary_fns!(
    /// Element-wise `lhs >= rhs` (a `bool` array).
    greater_equal, greater_equal_on, mlx_greater_equal
);
binary_fns!(
    /// Element-wise logical and (inputs are converted to `bool`).
    logical_and, logical_and_on, mlx_logical_and
);
binary_fns!(
    /// Element-wise logical or (inputs are converted to `bool`).
    logical_or, logical_or_on, mlx_logical_or
);

/// Element-wise logical not.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_logical_not")]
pub fn logical_not(a: &Array) -> Result<Array> {
    logical_not_on(a, &Stream::current()?)
}

/// [`logical_not`] on an explicit stream.
///
/// # Errors
/// As [`logical_not`].
#[doc(alias = "mlx_logical_not")]
pub fn logical_not_on(a: &Array, stream: &Stream) -> Result<Array> {
    unary("mlx_logical_not", a, stream, mlx_sys::mlx_logical_not)
}

/// Whether two arrays have the same shape and equal elements (a scalar
/// `bool` array). Dtypes may differ; NaNs are equal only if `equal_nan`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_array_equal")]
pub fn array_equal(a: &Array, b: &Array, equal_nan: bool) -> Result<Array> {
    let s = Stream::current()?;
    Array::build("mlx_array_equal", |res| {
        // SAFETY: `res` is a fresh out-param; inputs and stream are live.
        unsafe { mlx_sys::mlx_array_equal(res, a.as_raw(), b.as_raw(), equal_nan, s.as_raw()) }
    })
}

macro_rules! methods {
    ($($(#[doc = $doc:literal])* $name:ident = $cname:literal),*) => {
        impl Array {$(
            $(#[doc = $doc])*
            #[doc(alias = $cname)]
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($name), "`](crate::ops::", stringify!($name), ").")]
            pub fn $name<'b>(&self, other: impl Into<Operand<'b>>) -> Result<Array> {
                $name(self, other)
            }
        )*}
    };
}

methods!(
    /// Element-wise `self == other`; see [`equal`].
    equal = "mlx_equal",
    /// Element-wise `self != other`; see [`not_equal`].
    not_equal = "mlx_not_equal",
    /// Element-wise `self < other`; see [`less`].
    less = "mlx_less",
    /// Element-wise `self <= other`; see [`less_equal`].
    less_equal = "mlx_less_equal",
    /// Element-wise `self > other`; see [`greater`].
    greater = "mlx_greater",
    /// Element-wise `self >= other`; see [`greater_equal`].
    greater_equal = "mlx_greater_equal",
    /// Element-wise logical and; see [`logical_and`].
    logical_and = "mlx_logical_and",
    /// Element-wise logical or; see [`logical_or`].
    logical_or = "mlx_logical_or"
);

impl Array {
    /// Element-wise logical not; see [`logical_not`].
    ///
    /// # Errors
    /// As [`logical_not`].
    #[doc(alias = "mlx_logical_not")]
    pub fn logical_not(&self) -> Result<Array> {
        logical_not(self)
    }

    /// Whether `self` and `other` have the same shape and values; see
    /// [`array_equal`]. Returns a scalar `bool` array.
    ///
    /// # Errors
    /// As [`array_equal`].
    #[doc(alias = "mlx_array_equal")]
    pub fn array_equal(&self, other: &Array, equal_nan: bool) -> Result<Array> {
        array_equal(self, other, equal_nan)
    }
}
