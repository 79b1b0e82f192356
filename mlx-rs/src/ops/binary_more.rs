//! More element-wise binary functions: bitwise and shift operations,
//! `maximum`/`minimum`, `power`, `arctan2`, `logaddexp`, `logical_xor`,
//! `divmod`, and the closeness tests `isclose`/`allclose`.
//!
//! Like the arithmetic in [`arith`](super::arith), every binary function
//! takes arrays or weakly typed Rust scalars (see [`Operand`]).
//!
//! ```
//! use mlx_rs::ops::{bitwise_and, left_shift, maximum};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[0b1100u8, 0b1010], &[2])?;
//! assert_eq!(bitwise_and(&a, 0b0110u8)?.to_vec::<u8>()?, [0b0100, 0b0010]);
//! assert_eq!(left_shift(&a, 1)?.to_vec::<u8>()?, [24, 20]);
//! assert_eq!(maximum(&a, 11)?.to_vec::<u8>()?, [12, 11]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{check_int_division, op};
use super::{binary_fns, resolve, Operand};
use crate::Array;

binary_fns!(
    /// Element-wise four-quadrant inverse tangent of `lhs / rhs`.
    arctan2, arctan2_on, mlx_arctan2
);
binary_fns!(
    /// Element-wise bitwise and of integer or `bool` arrays.
    bitwise_and, bitwise_and_on, mlx_bitwise_and
);
binary_fns!(
    /// Element-wise bitwise or of integer or `bool` arrays.
    bitwise_or, bitwise_or_on, mlx_bitwise_or
);
binary_fns!(
    /// Element-wise bitwise exclusive or of integer or `bool` arrays.
    bitwise_xor, bitwise_xor_on, mlx_bitwise_xor
);
binary_fns!(
    /// Element-wise `lhs << rhs` of integer arrays.
    left_shift, left_shift_on, mlx_left_shift
);
binary_fns!(
    /// Element-wise `lhs >> rhs` of integer arrays (arithmetic for signed
    /// types).
    right_shift, right_shift_on, mlx_right_shift
);
binary_fns!(
    /// Element-wise `log(exp(lhs) + exp(rhs))`, computed stably.
    logaddexp, logaddexp_on, mlx_logaddexp
);
binary_fns!(
    /// Element-wise logical exclusive or (inputs are converted to `bool`).
    logical_xor, logical_xor_on, mlx_logical_xor
);
binary_fns!(
    /// Element-wise maximum (NaN propagates).
    maximum, maximum_on, mlx_maximum
);
binary_fns!(
    /// Element-wise minimum (NaN propagates).
    minimum, minimum_on, mlx_minimum
);
binary_fns!(
    /// Element-wise `lhs` raised to the power `rhs`.
    power, power_on, mlx_power
);

/// Tolerances of [`isclose`] and [`allclose`]: `|a - b| <= atol + rtol *
/// |b|`. The default is NumPy's and MLX's (`rtol = 1e-5`, `atol = 1e-8`,
/// NaNs unequal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Whether two NaNs count as close.
    pub equal_nan: bool,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            rtol: 1e-5,
            atol: 1e-8,
            equal_nan: false,
        }
    }
}

op! {
    /// Floor division and remainder at once: `[lhs // rhs, lhs % rhs]`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the shapes do not broadcast
    /// or MLX rejects the dtypes (complex); [`Error::ScalarOverflow`](crate::Error::ScalarOverflow)
    /// when a scalar does not fit the array's dtype;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an
    /// integer division by zero or `MIN / -1` (which trap in MLX's CPU
    /// kernels; the operands are evaluated to check).
    ["mlx_divmod"]
    pub fn divmod<'a, 'b>(lhs: impl Into<Operand<'a>>, rhs: impl Into<Operand<'b>>) -> Vec<Array>;
    on divmod_on, s => {
        let (a, b) = resolve(lhs.into(), rhs.into())?;
        let build = |b: &Array| Array::build_vec("mlx_divmod", |res| {
            // SAFETY: `res` is a live vector out-param; inputs and stream
            // are live handles.
            unsafe { mlx_sys::mlx_divmod(res, a.as_raw(), b.as_raw(), s.as_raw()) }
        });
        let out = build(&b)?;
        if let Some(q) = out.first() {
            if let Some(b) = check_int_division("mlx_divmod", &a, &b, q, s)? {
                return build(&b);
            }
        }
        Ok(out)
    }

    /// Element-wise closeness within `tol` (a `bool` array).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the shapes do not broadcast.
    ["mlx_isclose"]
    pub fn isclose(a: &Array, b: &Array, tol: Tolerance) -> Array;
    on isclose_on, s => {
        Array::build("mlx_isclose", |res| {
            // SAFETY: fresh out-param; inputs and stream are live handles.
            unsafe {
                mlx_sys::mlx_isclose(res, a.as_raw(), b.as_raw(), tol.rtol, tol.atol, tol.equal_nan, s.as_raw())
            }
        })
    }

    /// Whether all elements are close within `tol` (a scalar `bool` array).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the shapes do not broadcast.
    ["mlx_allclose"]
    pub fn allclose(a: &Array, b: &Array, tol: Tolerance) -> Array;
    on allclose_on, s => {
        Array::build("mlx_allclose", |res| {
            // SAFETY: fresh out-param; inputs and stream are live handles.
            unsafe {
                mlx_sys::mlx_allclose(res, a.as_raw(), b.as_raw(), tol.rtol, tol.atol, tol.equal_nan, s.as_raw())
            }
        })
    }
}
