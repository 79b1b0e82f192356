//! Arithmetic: `+ - * / %`, negation, and their named functions.
//!
//! # Why the operators return `Result`
//! An MLX operation can fail on valid Rust values: shapes that do not
//! broadcast, a dtype MLX rejects, a scalar that overflows the array's
//! dtype. This crate never panics on bad input, so `&a + &b` has
//! `Output = Result<Array>` and is written `(&a + &b)?`. The operators are
//! implemented for `Array` and `&Array` on both sides, and for Rust
//! scalars with MLX's broadcasting and type promotion and Python's
//! weak-scalar rules (see [`crate::ops`]). On the right any
//! [`ScalarOperand`] works (`bool`, every integer type, `f16`, `bf16`,
//! `f32`, `f64`, `Complex32`). On the left only `bool`, `i32`, `f64` and
//! `Complex32` do: one type per kind keeps literals like `2 * &a` and
//! `1.0 - &a` unambiguous, and a weak scalar's value, not its Rust type,
//! is what counts. For another type on the left, convert it or call the
//! function (`ops::subtract(x, &a)`).
//!
//! ```
//! use mlx_rs::{Array, Dtype};
//! let a = Array::from_slice(&[1i8, 2, 3], &[3])?;
//! let b = (2 * &a)?;                 // weak scalar: stays int8
//! assert_eq!(b.dtype(), Dtype::Int8);
//! let c = (&b / 4)?;                  // true division: float32
//! assert_eq!(c.to_vec::<f32>()?, [0.5, 1.0, 1.5]);
//! let bad = Array::from_slice(&[1i8, 2], &[2])?;
//! assert!((&a + &bad).is_err());      // shapes [3] and [2] don't broadcast
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

use num_complex::Complex32;

use super::{binary_fns, unary, ScalarOperand};
use crate::{Array, Result, Stream};

binary_fns!(
    /// Element-wise `lhs + rhs`.
    add, add_on, mlx_add
);
binary_fns!(
    /// Element-wise `lhs - rhs`.
    subtract, subtract_on, mlx_subtract
);
binary_fns!(
    /// Element-wise `lhs * rhs`.
    multiply, multiply_on, mlx_multiply
);
binary_fns!(
    /// Element-wise true division `lhs / rhs` (integers give a float).
    divide, divide_on, mlx_divide
);
binary_fns!(
    /// Element-wise remainder with the sign of `rhs` (Python's `%`).
    ///
    /// Integer division by zero, and `MIN % -1`, are
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument): MLX's CPU
    /// kernel traps on them, so for integer results the operands are
    /// evaluated and checked first.
    remainder, remainder_on, mlx_remainder
);
binary_fns!(
    /// Element-wise floor division `lhs // rhs`.
    ///
    /// Integer division by zero, and `MIN // -1`, are
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument), as for
    /// [`remainder`].
    floor_divide, floor_divide_on, mlx_floor_divide
);

/// Element-wise negation.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) for a `bool` array, which MLX refuses
/// to negate.
#[doc(alias = "mlx_negative")]
pub fn negative(a: &Array) -> Result<Array> {
    negative_on(a, &Stream::current()?)
}

/// [`negative`] on an explicit stream.
///
/// # Errors
/// As [`negative`].
#[doc(alias = "mlx_negative")]
pub fn negative_on(a: &Array, stream: &Stream) -> Result<Array> {
    unary("mlx_negative", a, stream, mlx_sys::mlx_negative)
}

macro_rules! operator {
    ($Trait:ident, $method:ident, $func:ident) => {
        impl $Trait<&Array> for &Array {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`].")]
            fn $method(self, rhs: &Array) -> Result<Array> {
                $func(self, rhs)
            }
        }
        impl $Trait<Array> for &Array {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`].")]
            fn $method(self, rhs: Array) -> Result<Array> {
                $func(self, rhs)
            }
        }
        impl $Trait<&Array> for Array {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`].")]
            fn $method(self, rhs: &Array) -> Result<Array> {
                $func(self, rhs)
            }
        }
        impl $Trait<Array> for Array {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`].")]
            fn $method(self, rhs: Array) -> Result<Array> {
                $func(self, rhs)
            }
        }
        operator!(@scalars $Trait, $method, $func: bool, i32, f64, Complex32);
    };
    (@scalars $Trait:ident, $method:ident, $func:ident: $($s:ty),*) => {
        impl<T: ScalarOperand> $Trait<T> for &Array {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`] with a weakly typed scalar.")]
            fn $method(self, rhs: T) -> Result<Array> {
                $func(self, rhs.into())
            }
        }
        impl<T: ScalarOperand> $Trait<T> for Array {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`] with a weakly typed scalar.")]
            fn $method(self, rhs: T) -> Result<Array> {
                $func(self, rhs.into())
            }
        }
        $(
        impl $Trait<&Array> for $s {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`] with a weakly typed scalar.")]
            fn $method(self, rhs: &Array) -> Result<Array> {
                $func(self, rhs)
            }
        }
        impl $Trait<Array> for $s {
            type Output = Result<Array>;
            #[doc = concat!("Calls [`", stringify!($func), "`] with a weakly typed scalar.")]
            fn $method(self, rhs: Array) -> Result<Array> {
                $func(self, rhs)
            }
        }
    )*};
}

operator!(Add, add, add);
operator!(Sub, sub, subtract);
operator!(Mul, mul, multiply);
operator!(Div, div, divide);
operator!(Rem, rem, remainder);

impl Neg for &Array {
    type Output = Result<Array>;
    /// Calls [`negative`].
    fn neg(self) -> Result<Array> {
        negative(self)
    }
}

impl Neg for Array {
    type Output = Result<Array>;
    /// Calls [`negative`].
    fn neg(self) -> Result<Array> {
        negative(&self)
    }
}
