//! Cumulative (scan) operations: `cumsum`, `cumprod`, `cummax`,
//! `cummin` and `logcumsumexp`, over the flattened array (`axis = None`)
//! or along one axis.
//!
//! ```
//! use mlx_rs::ops::{cumsum, Scan};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[1i32, 2, 3, 4], &[4])?;
//! assert_eq!(cumsum(&a, Some(0), Scan::default(), None)?.to_vec::<i32>()?, [1, 3, 6, 10]);
//! let rev_excl = Scan::default().reverse(true).inclusive(false);
//! assert_eq!(cumsum(&a, None, rev_excl, None)?.to_vec::<i32>()?, [9, 7, 4, 0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{empty_safe, op};
use crate::{Array, Dtype, Result, Stream};

/// How a scan runs: from the end (`reverse`) and whether element `i`
/// includes itself (`inclusive`). The default, MLX's, is forward and
/// inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Scan from the last element to the first.
    pub reverse: bool,
    /// Include element `i` in output `i` (otherwise output `i` covers the
    /// elements before it, and output 0 is the identity).
    pub inclusive: bool,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            reverse: false,
            inclusive: true,
        }
    }
}

impl Scan {
    /// Sets [`Scan::reverse`].
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = reverse;
        self
    }

    /// Sets [`Scan::inclusive`].
    pub fn inclusive(mut self, inclusive: bool) -> Self {
        self.inclusive = inclusive;
        self
    }
}

type ScanAllFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    bool,
    bool,
    mlx_sys::mlx_stream,
) -> i32;
type ScanAxisFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    i32,
    bool,
    bool,
    mlx_sys::mlx_stream,
) -> i32;
type DtScanAllFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    bool,
    bool,
    mlx_sys::mlx_dtype,
    bool,
    mlx_sys::mlx_stream,
) -> i32;
type DtScanAxisFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    i32,
    bool,
    bool,
    mlx_sys::mlx_dtype,
    bool,
    mlx_sys::mlx_stream,
) -> i32;

/// The mlx-c functions of a scan, over the flattened array and along an
/// axis.
#[derive(Clone, Copy)]
enum ScanFns {
    /// Plain functions.
    Plain(ScanAllFn, ScanAxisFn),
    /// The `mlxs_` shims of functions that take an optional dtype (as
    /// value + flag).
    WithDtype(DtScanAllFn, DtScanAxisFn, Option<Dtype>),
}

/// Runs a scan: `names[0]` over the flattened array (`axis = None`),
/// `names[1]` along `axis`.
fn run_scan(
    names: [&'static str; 2],
    fns: ScanFns,
    a: &Array,
    axis: Option<i32>,
    sc: Scan,
    s: &Stream,
) -> Result<Array> {
    let (raw, rev, inc, st) = (a.as_raw(), sc.reverse, sc.inclusive, s.as_raw());
    let name = names[usize::from(axis.is_some())];
    let out = Array::build(name, |res| {
        // SAFETY: each function is called with exactly the signature its
        // type names; `res` is a fresh out-param; `a` and `s` are live
        // handles.
        unsafe {
            match (fns, axis) {
                (ScanFns::Plain(all, _), None) => all(res, raw, rev, inc, st),
                (ScanFns::Plain(_, along), Some(ax)) => along(res, raw, ax, rev, inc, st),
                (ScanFns::WithDtype(all, _, d), None) => {
                    let (d, has) = dtype_arg(d);
                    all(res, raw, rev, inc, d, has, st)
                }
                (ScanFns::WithDtype(_, along, d), Some(ax)) => {
                    let (d, has) = dtype_arg(d);
                    along(res, raw, ax, rev, inc, d, has, st)
                }
            }
        }
    })?;
    // MLX's CPU scan kernels divide by zero on empty arrays.
    empty_safe(a.size() == 0, out, s)
}

/// An optional dtype as the shims take it: a value and a flag.
fn dtype_arg(d: Option<Dtype>) -> (mlx_sys::mlx_dtype, bool) {
    (d.unwrap_or(Dtype::Float32).as_raw(), d.is_some())
}

/// Defines the scans through [`op!`], each C function named once: the
/// pair of plain mlx-c functions, or (`shims`) the C names for the aliases
/// and the `mlxs_` shims that take the optional `dtype`.
macro_rules! scans {
    ($(
        $(#[$attr:meta])*
        $name:ident, $name_on:ident, [$all:ident, $along:ident] $(shims $sall:ident, $salong:ident)?;
    )*) => {$(
        scans!(@one $(#[$attr])* $name, $name_on, [$all, $along] $(shims $sall, $salong)?);
    )*};
    (@one $(#[$attr:meta])* $name:ident, $name_on:ident, [$all:ident, $along:ident]) => {
        op! {
            $(#[$attr])*
            [$all, $along]
            pub fn $name(a: &Array, axis: Option<i32>, scan: Scan) -> Array;
            on $name_on, s => {
                let fns = ScanFns::Plain(mlx_sys::$all, mlx_sys::$along);
                run_scan([stringify!($all), stringify!($along)], fns, a, axis, scan, s)
            }
        }
    };
    (@one $(#[$attr:meta])* $name:ident, $name_on:ident, [$all:ident, $along:ident] shims $sall:ident, $salong:ident) => {
        op! {
            $(#[$attr])*
            [$all, $along]
            pub fn $name(a: &Array, axis: Option<i32>, scan: Scan, dtype: Option<Dtype>) -> Array;
            on $name_on, s => {
                let fns = ScanFns::WithDtype(mlx_sys::$sall, mlx_sys::$salong, dtype);
                run_scan([stringify!($all), stringify!($along)], fns, a, axis, scan, s)
            }
        }
    };
}

scans! {
    /// Cumulative sum, over the flattened array (`axis = None`) or along
    /// `axis`, accumulated in `dtype` when given (MLX's default: the input
    /// dtype, `int32` for `bool`; small integers are not widened, so
    /// pass a wider `dtype` where they could overflow).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    cumsum, cumsum_on, [mlx_cumsum, mlx_cumsum_axis] shims mlxs_cumsum, mlxs_cumsum_axis;

    /// Cumulative product, over the flattened array (`axis = None`) or
    /// along `axis`, accumulated in `dtype` when given (MLX's default: the
    /// input dtype; small integers are not widened, so pass a wider
    /// `dtype` where they could overflow).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    cumprod, cumprod_on, [mlx_cumprod, mlx_cumprod_axis] shims mlxs_cumprod, mlxs_cumprod_axis;

    /// Cumulative maximum over the flattened array (`axis = None`) or along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    cummax, cummax_on, [mlx_cummax, mlx_cummax_axis];

    /// Cumulative minimum over the flattened array (`axis = None`) or along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    cummin, cummin_on, [mlx_cummin, mlx_cummin_axis];

    /// Cumulative `log(sum(exp(a)))`, computed stably, over the flattened array (`axis = None`) or along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    logcumsumexp, logcumsumexp_on, [mlx_logcumsumexp, mlx_logcumsumexp_axis];
}
