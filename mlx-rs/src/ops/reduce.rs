//! Reductions over axes (`sum`, `mean`, `max`, `logsumexp`, `var`, ...),
//! `argmax`/`argmin` and `softmax`.
//!
//! Each reduction takes its axes as an [`Axes`]: [`Axes::All`] (the whole
//! array), one axis (`1`, `-1`) or several (`&[0, 2]`); each of the three
//! calls its own mlx-c function. `keepdims` keeps the reduced axes with
//! size 1.
//!
//! ```
//! use mlx_rs::ops::{argmax, mean, var, Axes};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 5.0], &[2, 2])?;
//! assert_eq!(mean(&a, -1, false)?.to_vec::<f32>()?, [1.5, 4.0]);
//! assert_eq!(var(&a, Axes::All, false, 0)?.item::<f32>()?, 2.1875);
//! assert_eq!(argmax(&a, Some(0), false)?.to_vec::<u32>()?, [1, 1]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{op, reduce, Axes};
use crate::Array;

/// Defines reductions with the `(Axes, keepdims)` signature through
/// [`op!`].
macro_rules! reductions {
    ($($name:ident, $name_on:ident, [$f0:ident, $f1:ident, $f2:ident], $doc:literal;)*) => {
        op! {$(
            #[doc = $doc]
            ///
            /// # Errors
            /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis
            /// out of range or repeated, or a dtype MLX does not reduce.
            [$f0, $f1, $f2]
            pub fn $name<'x>(a: &Array, axes: impl Into<Axes<'x>>, keepdims: bool) -> Array;
            on $name_on, s => {
                reduce(
                    [stringify!($f0), stringify!($f1), stringify!($f2)],
                    (mlx_sys::$f0, mlx_sys::$f1, mlx_sys::$f2),
                    a,
                    axes.into(),
                    keepdims,
                    s,
                )
            }
        )*}
    };
}

reductions! {
    all, all_on, [mlx_all, mlx_all_axis, mlx_all_axes], "Whether all elements are true (non-zero), over `axes` (a `bool` array).";
    any, any_on, [mlx_any, mlx_any_axis, mlx_any_axes], "Whether any element is true (non-zero), over `axes` (a `bool` array).";
    max, max_on, [mlx_max, mlx_max_axis, mlx_max_axes], "The maximum over `axes`.";
    min, min_on, [mlx_min, mlx_min_axis, mlx_min_axes], "The minimum over `axes`.";
    mean, mean_on, [mlx_mean, mlx_mean_axis, mlx_mean_axes], "The arithmetic mean over `axes` (integers give `float32`).";
    sum, sum_on, [mlx_sum, mlx_sum_axis, mlx_sum_axes], "The sum over `axes`.";
    prod, prod_on, [mlx_prod, mlx_prod_axis, mlx_prod_axes], "The product over `axes`.";
    logsumexp, logsumexp_on, [mlx_logsumexp, mlx_logsumexp_axis, mlx_logsumexp_axes], "`log(sum(exp(a)))` over `axes`, computed stably.";
    median, median_on, [mlx_median, mlx_median_axis, mlx_median_axes], "The median over `axes` (integers give `float32`).";
    count_nonzero, count_nonzero_on, [mlx_count_nonzero, mlx_count_nonzero_axis, mlx_count_nonzero_axes], "The number of non-zero elements over `axes` (an `int32` array).";
}

op! {
    /// Softmax over `axes` (`exp(a - max) / sum(exp(a - max))`). With
    /// `precise`, a half-precision input is accumulated in `float32`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range or a non-floating dtype.
    ["mlx_softmax", "mlx_softmax_axis", "mlx_softmax_axes"]
    pub fn softmax<'x>(a: &Array, axes: impl Into<Axes<'x>>, precise: bool) -> Array;
    on softmax_on, s => {
        reduce(
            ["mlx_softmax", "mlx_softmax_axis", "mlx_softmax_axes"],
            (mlx_sys::mlx_softmax, mlx_sys::mlx_softmax_axis, mlx_sys::mlx_softmax_axes),
            a,
            axes.into(),
            precise,
            s,
        )
    }

    /// The index of the maximum (the first one on ties), over the
    /// flattened array (`axis = None`) or along `axis` (a `uint32` array).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range or an empty array.
    ["mlx_argmax", "mlx_argmax_axis"]
    pub fn argmax(a: &Array, axis: Option<i32>, keepdims: bool) -> Array;
    on argmax_on, s => {
        arg_reduce(["mlx_argmax", "mlx_argmax_axis"], (mlx_sys::mlx_argmax, mlx_sys::mlx_argmax_axis), a, axis, keepdims, s)
    }

    /// The index of the minimum (the first one on ties), over the
    /// flattened array (`axis = None`) or along `axis` (a `uint32` array).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range or an empty array.
    ["mlx_argmin", "mlx_argmin_axis"]
    pub fn argmin(a: &Array, axis: Option<i32>, keepdims: bool) -> Array;
    on argmin_on, s => {
        arg_reduce(["mlx_argmin", "mlx_argmin_axis"], (mlx_sys::mlx_argmin, mlx_sys::mlx_argmin_axis), a, axis, keepdims, s)
    }

    /// The variance over `axes`, dividing by `n - ddof`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range or repeated.
    ["mlx_var", "mlx_var_axis", "mlx_var_axes"]
    pub fn var<'x>(a: &Array, axes: impl Into<Axes<'x>>, keepdims: bool, ddof: i32) -> Array;
    on var_on, s => {
        moment(["mlx_var", "mlx_var_axis", "mlx_var_axes"], (mlx_sys::mlx_var, mlx_sys::mlx_var_axis, mlx_sys::mlx_var_axes), a, axes.into(), keepdims, ddof, s)
    }

    /// The standard deviation over `axes`, dividing by `n - ddof`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range or repeated.
    ["mlx_std", "mlx_std_axis", "mlx_std_axes"]
    pub fn std<'x>(a: &Array, axes: impl Into<Axes<'x>>, keepdims: bool, ddof: i32) -> Array;
    on std_on, s => {
        moment(["mlx_std", "mlx_std_axis", "mlx_std_axes"], (mlx_sys::mlx_std, mlx_sys::mlx_std_axis, mlx_sys::mlx_std_axes), a, axes.into(), keepdims, ddof, s)
    }
}

type ArgAllFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    bool,
    mlx_sys::mlx_stream,
) -> i32;
type ArgAxisFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    i32,
    bool,
    mlx_sys::mlx_stream,
) -> i32;

fn arg_reduce(
    names: [&'static str; 2],
    fns: (ArgAllFn, ArgAxisFn),
    a: &Array,
    axis: Option<i32>,
    keepdims: bool,
    s: &crate::Stream,
) -> crate::Result<Array> {
    match axis {
        None => Array::build(names[0], |res| {
            // SAFETY: `fns.0` has exactly this signature; fresh out-param;
            // `a` and `s` are live handles.
            unsafe { (fns.0)(res, a.as_raw(), keepdims, s.as_raw()) }
        }),
        Some(axis) => Array::build(names[1], |res| {
            // SAFETY: as above, for `fns.1`.
            unsafe { (fns.1)(res, a.as_raw(), axis, keepdims, s.as_raw()) }
        }),
    }
}

type MomentAllFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    bool,
    i32,
    mlx_sys::mlx_stream,
) -> i32;
type MomentAxisFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    i32,
    bool,
    i32,
    mlx_sys::mlx_stream,
) -> i32;
type MomentAxesFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    *const i32,
    usize,
    bool,
    i32,
    mlx_sys::mlx_stream,
) -> i32;

fn moment(
    names: [&'static str; 3],
    fns: (MomentAllFn, MomentAxisFn, MomentAxesFn),
    a: &Array,
    axes: Axes<'_>,
    keepdims: bool,
    ddof: i32,
    s: &crate::Stream,
) -> crate::Result<Array> {
    match axes {
        Axes::All => Array::build(names[0], |res| {
            // SAFETY: `fns.0` has exactly this signature; fresh out-param;
            // `a` and `s` are live handles.
            unsafe { (fns.0)(res, a.as_raw(), keepdims, ddof, s.as_raw()) }
        }),
        Axes::One(axis) => Array::build(names[1], |res| {
            // SAFETY: as above, for `fns.1`.
            unsafe { (fns.1)(res, a.as_raw(), axis, keepdims, ddof, s.as_raw()) }
        }),
        Axes::Many(v) => Array::build(names[2], |res| {
            // SAFETY: as above, for `fns.2`; `v` holds `v.len()` ints that
            // outlive the call.
            unsafe {
                (fns.2)(
                    res,
                    a.as_raw(),
                    v.as_ptr(),
                    v.len(),
                    keepdims,
                    ddof,
                    s.as_raw(),
                )
            }
        }),
    }
}
