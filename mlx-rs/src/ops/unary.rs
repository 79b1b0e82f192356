//! Element-wise unary functions: trigonometry, exponentials and
//! logarithms, rounding, classification (`isnan`, ...), complex parts,
//! float8 conversion, `nan_to_num` and the Hadamard transform.
//!
//! ```
//! use mlx_rs::ops::{exp, log, round};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[0.5f32, 1.25, 2.0], &[3])?;
//! let b = log(&exp(&a)?)?;
//! assert_eq!(round(&b, 2)?.to_vec::<f32>()?, [0.5, 1.25, 2.0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::op;
use super::unary;
use crate::{Array, Dtype};

/// Defines element-wise one-array ops through [`op!`].
macro_rules! unary_ops {
    ($($name:ident, $name_on:ident, $cfn:ident, $doc:literal;)*) => {
        op! {$(
            #[doc = $doc]
            ///
            /// # Errors
            /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when MLX
            /// does not support the array's dtype for this op.
            [$cfn]
            pub fn $name(a: &Array) -> Array;
            on $name_on, s => { unary(stringify!($cfn), a, s, mlx_sys::$cfn) }
        )*}
    };
}

unary_ops! {
    abs, abs_on, mlx_abs, "Element-wise absolute value.";
    arccos, arccos_on, mlx_arccos, "Element-wise inverse cosine.";
    arccosh, arccosh_on, mlx_arccosh, "Element-wise inverse hyperbolic cosine.";
    arcsin, arcsin_on, mlx_arcsin, "Element-wise inverse sine.";
    arcsinh, arcsinh_on, mlx_arcsinh, "Element-wise inverse hyperbolic sine.";
    arctan, arctan_on, mlx_arctan, "Element-wise inverse tangent.";
    arctanh, arctanh_on, mlx_arctanh, "Element-wise inverse hyperbolic tangent.";
    bitwise_invert, bitwise_invert_on, mlx_bitwise_invert, "Element-wise bitwise not of an integer or `bool` array.";
    ceil, ceil_on, mlx_ceil, "Element-wise ceiling (integers are returned unchanged).";
    conjugate, conjugate_on, mlx_conjugate, "Element-wise complex conjugate (real arrays are returned unchanged).";
    copy, copy_on, mlx_copy, "A copy of the array (a new node in the graph).";
    cos, cos_on, mlx_cos, "Element-wise cosine.";
    cosh, cosh_on, mlx_cosh, "Element-wise hyperbolic cosine.";
    degrees, degrees_on, mlx_degrees, "Element-wise conversion from radians to degrees.";
    erf, erf_on, mlx_erf, "Element-wise error function.";
    erfinv, erfinv_on, mlx_erfinv, "Element-wise inverse of the error function.";
    exp, exp_on, mlx_exp, "Element-wise exponential.";
    expm1, expm1_on, mlx_expm1, "Element-wise `exp(x) - 1`, accurate near zero.";
    floor, floor_on, mlx_floor, "Element-wise floor (integers are returned unchanged).";
    imag, imag_on, mlx_imag, "The imaginary part of a complex array.";
    isfinite, isfinite_on, mlx_isfinite, "Element-wise test for finite values (a `bool` array).";
    isinf, isinf_on, mlx_isinf, "Element-wise test for infinities of either sign (a `bool` array).";
    isnan, isnan_on, mlx_isnan, "Element-wise test for NaN (a `bool` array).";
    isneginf, isneginf_on, mlx_isneginf, "Element-wise test for negative infinity (a `bool` array).";
    isposinf, isposinf_on, mlx_isposinf, "Element-wise test for positive infinity (a `bool` array).";
    log, log_on, mlx_log, "Element-wise natural logarithm.";
    log10, log10_on, mlx_log10, "Element-wise base-10 logarithm.";
    log1p, log1p_on, mlx_log1p, "Element-wise `ln(1 + x)`, accurate near zero.";
    log2, log2_on, mlx_log2, "Element-wise base-2 logarithm.";
    positive, positive_on, mlx_positive, "Element-wise identity (`+x`).";
    radians, radians_on, mlx_radians, "Element-wise conversion from degrees to radians.";
    real, real_on, mlx_real, "The real part of a complex array.";
    reciprocal, reciprocal_on, mlx_reciprocal, "Element-wise `1 / x`.";
    rsqrt, rsqrt_on, mlx_rsqrt, "Element-wise reciprocal square root.";
    sigmoid, sigmoid_on, mlx_sigmoid, "Element-wise logistic sigmoid `1 / (1 + exp(-x))`.";
    sign, sign_on, mlx_sign, "Element-wise sign (-1, 0 or 1).";
    sin, sin_on, mlx_sin, "Element-wise sine.";
    sinh, sinh_on, mlx_sinh, "Element-wise hyperbolic sine.";
    sqrt, sqrt_on, mlx_sqrt, "Element-wise square root.";
    square, square_on, mlx_square, "Element-wise square.";
    stop_gradient, stop_gradient_on, mlx_stop_gradient, "The same values, with gradients stopped from flowing through.";
    tan, tan_on, mlx_tan, "Element-wise tangent.";
    tanh, tanh_on, mlx_tanh, "Element-wise hyperbolic tangent.";
    trunc, trunc_on, mlx_trunc, "Element-wise rounding toward zero.";
    to_fp8, to_fp8_on, mlx_to_fp8, "Converts to E4M3 float8, stored as `uint8`.";
}

op! {
    /// Rounds to `decimals` decimal places (negative: to tens, hundreds,
    /// ...), halves to even, as NumPy does.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when MLX
    /// rejects the dtype.
    ["mlx_round"]
    pub fn round(a: &Array, decimals: i32) -> Array;
    on round_on, s => {
        super::support::int_op("mlx_round", a, decimals, s, mlx_sys::mlx_round)
    }

    /// Converts an E4M3 float8 array (stored as `uint8`, see [`to_fp8`])
    /// to the floating dtype `dtype`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `a` is not
    /// `uint8` or `dtype` is not a floating dtype.
    ["mlx_from_fp8"]
    pub fn from_fp8(a: &Array, dtype: Dtype) -> Array;
    on from_fp8_on, s => {
        Array::build("mlx_from_fp8", |res| {
            // SAFETY: fresh out-param; `a` and `s` are live handles.
            unsafe { mlx_sys::mlx_from_fp8(res, a.as_raw(), dtype.as_raw(), s.as_raw()) }
        })
    }

    /// Replaces NaN with `nan`, and positive and negative infinity with
    /// `posinf` and `neginf` (by default the largest and lowest finite
    /// values of the dtype). Integer arrays are returned unchanged.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_nan_to_num"]
    pub fn nan_to_num(a: &Array, nan: f32, posinf: Option<f32>, neginf: Option<f32>) -> Array;
    on nan_to_num_on, s => {
        Array::build("mlx_nan_to_num", |res| {
            // SAFETY: fresh out-param; `a` and `s` are live handles; the
            // optionals travel as value + flag through the shim.
            unsafe {
                mlx_sys::mlxs_nan_to_num(
                    res,
                    a.as_raw(),
                    nan,
                    posinf.unwrap_or(0.0),
                    posinf.is_some(),
                    neginf.unwrap_or(0.0),
                    neginf.is_some(),
                    s.as_raw(),
                )
            }
        })
    }

    /// Multiplies the last axis by the Hadamard matrix of its size (a
    /// power of two times 1, 12, 20 or 28), scaled by `scale` (default
    /// `1/sqrt(n)`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a size MLX
    /// has no Hadamard matrix for, or a non-floating dtype.
    ["mlx_hadamard_transform"]
    pub fn hadamard_transform(a: &Array, scale: Option<f32>) -> Array;
    on hadamard_transform_on, s => {
        Array::build("mlx_hadamard_transform", |res| {
            // SAFETY: fresh out-param; `a` and `s` are live handles; the
            // optional scale travels as value + flag through the shim.
            unsafe {
                mlx_sys::mlxs_hadamard_transform(
                    res,
                    a.as_raw(),
                    scale.unwrap_or(0.0),
                    scale.is_some(),
                    s.as_raw(),
                )
            }
        })
    }
}
