//! Operations on arrays.
//!
//! Each operation has a plain form, which runs on [`Stream::current`], and
//! an `_on` form taking an explicit [`Stream`]. Binary operations accept any
//! [`Operand`]: an `Array`, a `&Array`, or a Rust scalar. Rust scalars are
//! *weakly typed*, exactly like Python scalars in MLX: they take the dtype
//! of the array they meet when they can (`int8 array + 1` stays `int8`,
//! `float16 array * 2.0` stays `float16`, `int32 array + 0.5` becomes
//! `float32`). To make a scalar strongly typed, wrap it in
//! [`Array::scalar`].
//!
//! # Families
//! Every function of mlx-c's `ops.h` (265), `linalg.h` (21), `fft.h` (16)
//! and `random.h` (19) has a safe wrapper; each names the C function(s) it
//! calls with `#[doc(alias)]`, so searching the docs for `mlx_cumsum`
//! finds [`cumsum`]. The glob re-exports below put all of them in `ops`.
//!
//! | module | what |
//! |---|---|
//! | [`arith`], [`compare`], [`binary_more`] | element-wise binary ops, bitwise and shifts, `isclose` |
//! | [`unary`] | element-wise math, rounding, `isnan`…, complex parts, fp8, `nan_to_num`, Hadamard |
//! | [`reduce`] | `sum`, `mean`, `var`, `logsumexp`, `argmax`, `softmax`, … over [`Axes`] |
//! | [`cumulative`] | `cumsum`, `cumprod`, `cummax`, `cummin`, `logcumsumexp` |
//! | [`sort`](mod@sort) | `sort`, `argsort`, `partition`, `topk`, `searchsorted` |
//! | [`creation`] | `identity`, `tri`, `linspace`, windows, `tril`/`triu`, `diag`, `trace` |
//! | [`manipulation`] | `concatenate`, `stack`, `split`, `pad`, `roll`, `tile`, `repeat`, `flip`, `squeeze`, `meshgrid`, … |
//! | [`indexing`] | `take`, `take_along_axis`, `put_along_axis`, `gather`, `scatter`, `slice`, `slice_update`, … |
//! | [`matmul`](mod@matmul) | `matmul`, `addmm`, `einsum`, `tensordot`, `gather_mm`, `segmented_mm`, … |
//! | [`conv`] | `conv1d`…`conv3d`, transposed, `conv_general` |
//! | [`misc`] | `select` (`where`), `clip`, `as_strided`, `view`, `depends` |
//! | [`linalg`], [`fft`], [`crate::random`] | linear algebra, FFTs, random numbers |
//!
//! Shape methods (`reshape`, `transpose`, `broadcast_to`, …) are on
//! [`Array`]; quantization ops are in [`crate::quantization`].
//!
//! Where a C function has forms for all axes, one axis or several
//! (`mlx_sum`, `mlx_sum_axis`, `mlx_sum_axes`), one Rust function takes an
//! [`Axes`] (or an `Option<i32>` when there is no several-axes form) and
//! calls the matching C function. Ops with many parameters take a small
//! struct with MLX's defaults ([`Scan`], [`Conv`], [`ConvTranspose`],
//! [`ConvGeneral`], [`Tolerance`]).
//!
//! # Exclusions
//! None: the coverage test (`tests/coverage.rs`) fails for any function of
//! the four headers without a wrapper unless it is listed there, with a
//! reason, and here. The list is empty.
//!
//! # What mlx-rs checks that MLX does not
//! MLX 0.32.2 leaves some invalid arguments unchecked; in Python MLX they
//! crash the process. Here they are errors, found before anything runs:
//! - index values of [`take`], [`take_along_axis`], [`put_along_axis`],
//!   [`scatter_add_axis`], [`gather`], [`scatter`], [`gather_mm`],
//!   [`segmented_mm`], [`gather_qqmm`], the source size of
//!   [`masked_scatter`], and the windows of [`slice_dynamic`] and
//!   [`slice_update_dynamic`] (MLX reads and writes out of bounds); the
//!   index arrays are evaluated to check them
//!   ([`Error::InvalidIndex`]); under `vmap` and `compile`, where a traced
//!   index cannot be evaluated, it is clamped into range instead (and the
//!   source of [`masked_scatter`] padded with zeros);
//! - [`as_strided`] views that reach outside the data, `groups < 1` in the
//!   convolutions, a `-1` next to a `0` in [`unflatten`], axes out of range
//!   in [`number_of_elements`], and integer [`floor_divide`], [`remainder`]
//!   and [`divmod`] by zero or `MIN / -1` (SIGFPE); the operands of an
//!   integer division are evaluated to check
//!   ([`Error::InvalidArgument`]; traced operands cannot be, and there a
//!   trapping divisor is replaced by 1);
//! - results whose size in bytes exceeds `isize::MAX` (MLX computes it
//!   without overflow checks, so a lazy broadcast of shape
//!   `[2^31 - 1; 3]` fed to `exp` or `+` would get a wrapped-around
//!   buffer): [`Error::InvalidShape`], without evaluating anything.
//!
//! Sorting, scans and convolutions of *empty* arrays (which divide by zero
//! in MLX's CPU kernels) return their empty or all-zero result without
//! running the kernel.
//!
//! # Backends
//! On the CPU backend MLX 0.32.2 does not implement
//! [`gather_qqmm`] (`[GatherQQMM] NYI`) nor
//! [`qqmm`](crate::quantization::qqmm) with more than one row of `x`;
//! those fail with MLX's message when the result is evaluated. The CUDA
//! backend lacks the factorizations of [`linalg`] (LU, QR, SVD, inverse,
//! Cholesky, `eig`/`eigh`), which run on the CPU stream only (see
//! [`linalg`]).

use std::borrow::Cow;

use half::{bf16, f16};
use num_complex::Complex32;

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::raw;
use crate::stream::Stream;
use crate::Array;

pub mod arith;
pub mod binary_more;
pub mod compare;
pub mod conv;
pub mod creation;
pub mod cumulative;
pub mod fft;
pub mod indexing;
pub mod linalg;
pub mod manipulation;
pub mod matmul;
pub mod misc;
pub mod reduce;
pub mod shape;
pub mod sort;
pub(crate) mod support;
pub mod unary;

pub use arith::*;
pub use binary_more::*;
pub use compare::*;
pub use conv::*;
pub use creation::*;
pub use cumulative::*;
pub use indexing::*;
pub use manipulation::*;
pub use matmul::*;
pub use misc::*;
pub use reduce::*;
pub use shape::{
    broadcast_to, broadcast_to_on, reshape, reshape_on, transpose, transpose_axes,
    transpose_axes_on, transpose_on,
};
pub use sort::*;
pub use support::Axes;
pub use unary::*;

/// A Rust scalar used as a weakly typed operand (see the [module
/// docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Scalar {
    /// A boolean (Python `bool`).
    Bool(bool),
    /// An integer of any Rust integer type (Python `int`).
    Int(i128),
    /// A real float of any Rust float type (Python `float`).
    Float(f64),
    /// A complex number (Python `complex`).
    Complex(Complex32),
}

/// One side of a binary operation: an array (owned or borrowed) or a
/// weakly typed Rust scalar.
#[derive(Debug)]
pub enum Operand<'a> {
    /// A borrowed array.
    Ref(&'a Array),
    /// An owned array.
    Owned(Array),
    /// A weakly typed scalar.
    Scalar(Scalar),
}

impl Operand<'_> {
    /// The array, unless this is a scalar.
    #[inline]
    fn array(&self) -> Option<&Array> {
        match self {
            Operand::Ref(a) => Some(a),
            Operand::Owned(a) => Some(a),
            Operand::Scalar(_) => None,
        }
    }
}

impl<'a> From<&'a Array> for Operand<'a> {
    fn from(a: &'a Array) -> Self {
        Operand::Ref(a)
    }
}

impl From<Array> for Operand<'_> {
    fn from(a: Array) -> Self {
        Operand::Owned(a)
    }
}

impl From<Scalar> for Operand<'_> {
    fn from(s: Scalar) -> Self {
        Operand::Scalar(s)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust scalar type usable as a weakly typed operand: `bool`, the
/// integers, `f16`, `bf16`, `f32`, `f64` and `Complex32` (sealed).
pub trait ScalarOperand: Into<Scalar> + Copy + sealed::Sealed {}

macro_rules! scalar_from {
    ($variant:ident: $($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl ScalarOperand for $t {}
        impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar::$variant(v.into())
            }
        }
        impl From<$t> for Operand<'_> {
            fn from(v: $t) -> Self {
                Operand::Scalar(Scalar::from(v))
            }
        }
    )*};
}

scalar_from!(Bool: bool);
scalar_from!(Int: i8, i16, i32, i64, u8, u16, u32, u64);
scalar_from!(Float: f32, f64, f16, bf16);
scalar_from!(Complex: Complex32);

impl Scalar {
    /// The array this scalar becomes next to an array of dtype `other`
    /// (MLX's Python rules), or alone when `other` is `None`.
    ///
    /// # Errors
    /// [`Error::ScalarOverflow`] when an integer does not fit the dtype it
    /// has to take.
    pub(crate) fn to_array(self, other: Option<Dtype>) -> Result<Array> {
        match self {
            Scalar::Bool(b) => match other {
                Some(d) => cast_scalar(if b { 1 } else { 0 }, f64::from(u8::from(b)), d),
                None => Array::scalar(b),
            },
            Scalar::Int(v) => {
                let default = if i32::try_from(v).is_ok() {
                    Dtype::Int32
                } else {
                    Dtype::Int64
                };
                match other {
                    // bool is the exception: it is always promoted, to
                    // int32, wrapping like Python MLX's `static_cast`.
                    Some(Dtype::Bool) => Array::scalar(v as i64 as i32),
                    None => cast_scalar(v, v as f64, default),
                    Some(d) => cast_scalar(v, v as f64, d),
                }
            }
            Scalar::Float(x) => match other {
                Some(d) if d.is_floating() => cast_scalar(0, x, d),
                _ => Array::scalar(x as f32),
            },
            Scalar::Complex(c) => Array::scalar(c),
        }
    }
}

/// A 0-d array of dtype `d` holding `int` (for integer dtypes) or `float`
/// (for the others); integers are range-checked as MLX's Python binding
/// does (`uint64` wraps negative values, like Python).
fn cast_scalar(int: i128, float: f64, d: Dtype) -> Result<Array> {
    let overflow = || Error::ScalarOverflow {
        value: int.to_string(),
        dtype: d,
    };
    macro_rules! int {
        ($t:ty) => {
            Array::scalar(<$t>::try_from(int).map_err(|_| overflow())?)
        };
    }
    match d {
        Dtype::Bool => Array::scalar(int != 0 || float != 0.0),
        Dtype::Uint8 => int!(u8),
        Dtype::Uint16 => int!(u16),
        Dtype::Uint32 => int!(u32),
        Dtype::Uint64 => {
            if int < 0 {
                let v = i64::try_from(int).map_err(|_| overflow())?;
                Array::scalar(v as u64)
            } else {
                int!(u64)
            }
        }
        Dtype::Int8 => int!(i8),
        Dtype::Int16 => int!(i16),
        Dtype::Int32 => int!(i32),
        Dtype::Int64 => int!(i64),
        // Python MLX passes float scalars through `float` (f32) first; keep
        // f64 precision only where the array itself is float64.
        Dtype::Float16 => Array::scalar(f16::from_f32(float as f32)),
        Dtype::Bfloat16 => Array::scalar(bf16::from_f32(float as f32)),
        Dtype::Float32 => Array::scalar(float as f32),
        Dtype::Float64 => Array::scalar(float),
        Dtype::Complex64 => Array::scalar(Complex32::new(float as f32, 0.0)),
    }
}

/// Turns two operands into arrays, applying the weak-scalar rules.
pub(crate) fn resolve<'a, 'b>(
    lhs: Operand<'a>,
    rhs: Operand<'b>,
) -> Result<(Cow<'a, Array>, Cow<'b, Array>)> {
    fn split(o: Operand<'_>) -> std::result::Result<Cow<'_, Array>, Scalar> {
        match o {
            Operand::Ref(a) => Ok(Cow::Borrowed(a)),
            Operand::Owned(a) => Ok(Cow::Owned(a)),
            Operand::Scalar(s) => Err(s),
        }
    }
    Ok(match (split(lhs), split(rhs)) {
        (Ok(a), Ok(b)) => (a, b),
        (Ok(a), Err(s)) => {
            let b = s.to_array(Some(a.dtype()))?;
            (a, Cow::Owned(b))
        }
        (Err(s), Ok(b)) => {
            let a = s.to_array(Some(b.dtype()))?;
            (Cow::Owned(a), b)
        }
        (Err(x), Err(y)) => (Cow::Owned(x.to_array(None)?), Cow::Owned(y.to_array(None)?)),
    })
}

/// Runs a one-input op on `stream`.
pub(crate) fn unary(
    op: &'static str,
    a: &Array,
    stream: &Stream,
    f: raw::UnaryFn,
) -> Result<Array> {
    let out = Array::from(raw::unary(op, f, a.handle(), stream.handle())?);
    // A lazy broadcast can claim more bytes than exist (see `Outputs`).
    support::Outputs::checked(out)
}

/// Runs a two-input op on `stream`, after applying the weak-scalar rules.
pub(crate) fn binary<'a, 'b>(
    op: &'static str,
    lhs: impl Into<Operand<'a>>,
    rhs: impl Into<Operand<'b>>,
    stream: &Stream,
    f: raw::BinaryFn,
) -> Result<Array> {
    let (lhs, rhs) = (lhs.into(), rhs.into());
    if let (Some(a), Some(b)) = (lhs.array(), rhs.array()) {
        // Two arrays, the common case: no scalar to resolve, and no `Cow`s
        // moved through memory (this runs for every `a + b`; see the
        // graph_building rows of docs/benchmarks).
        return binary_arrays(op, a, b, stream, f);
    }
    let (a, b) = resolve(lhs, rhs)?;
    binary_arrays(op, &a, &b, stream, f)
}

/// [`binary`] once both operands are arrays.
#[inline]
fn binary_arrays(
    op: &'static str,
    a: &Array,
    b: &Array,
    stream: &Stream,
    f: raw::BinaryFn,
) -> Result<Array> {
    let out = Array::from(raw::array2(op, f, a.handle(), b.handle(), stream.handle())?);
    if matches!(op, "mlx_floor_divide" | "mlx_remainder") {
        // MLX's CPU kernels trap (SIGFPE) on integer division by zero.
        if let Some(b) = support::check_int_division(op, a, b, &out, stream)? {
            return Ok(Array::from(raw::array2(
                op,
                f,
                a.handle(),
                b.handle(),
                stream.handle(),
            )?));
        }
    }
    // Broadcasting can give a result of more bytes than exist: checked by
    // `op!` (see `Outputs`).
    Ok(out)
}

/// Defines a binary op through [`op!`](support::op), so that it gets the
/// same output checks and `_on` form as every other op.
macro_rules! binary_fns {
    ($(#[doc = $doc:literal])* $name:ident, $name_on:ident, $cfn:ident) => {
        $crate::ops::support::op! {
            $(#[doc = $doc])*
            ///
            /// Operands may be arrays or weakly typed scalars; shapes broadcast
            /// and dtypes promote as in MLX.
            ///
            /// # Errors
            /// [`Error::Mlx`](crate::Error::Mlx) when the shapes do not broadcast
            /// or MLX rejects the dtypes; [`Error::ScalarOverflow`](crate::Error::ScalarOverflow)
            /// when a scalar does not fit the array's dtype.
            [$cfn]
            pub fn $name<'a, 'b>(
                lhs: impl Into<$crate::ops::Operand<'a>>,
                rhs: impl Into<$crate::ops::Operand<'b>>
            ) -> $crate::Array;
            on $name_on, s => { $crate::ops::binary(stringify!($cfn), lhs, rhs, s, mlx_sys::$cfn) }
        }
    };
}
pub(crate) use binary_fns;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_int_takes_the_array_dtype() {
        for (d, expect) in [
            (Dtype::Int8, Dtype::Int8),
            (Dtype::Uint16, Dtype::Uint16),
            (Dtype::Bool, Dtype::Int32),
            (Dtype::Int64, Dtype::Int64),
            (Dtype::Float16, Dtype::Float16),
            (Dtype::Complex64, Dtype::Complex64),
        ] {
            assert_eq!(Scalar::Int(3).to_array(Some(d)).unwrap().dtype(), expect);
        }
        assert_eq!(
            Scalar::Int(i128::from(i64::MAX))
                .to_array(None)
                .unwrap()
                .dtype(),
            Dtype::Int64
        );
    }

    #[test]
    fn weak_int_overflow_is_an_error() {
        let err = Scalar::Int(300).to_array(Some(Dtype::Uint8)).unwrap_err();
        assert_eq!(
            err,
            Error::ScalarOverflow {
                value: "300".into(),
                dtype: Dtype::Uint8
            }
        );
        assert!(Scalar::Int(-1).to_array(Some(Dtype::Uint32)).is_err());
        assert!(Scalar::Int(i128::from(u64::MAX) + 1)
            .to_array(Some(Dtype::Uint64))
            .is_err());
        // Like Python, uint64 wraps negative values.
        let w = Scalar::Int(-1).to_array(Some(Dtype::Uint64)).unwrap();
        assert_eq!(w.item::<u64>().unwrap(), u64::MAX);
    }
}
