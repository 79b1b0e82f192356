//! Plumbing shared by the op families: the `op!` macro that defines an op
//! and its `_on` twin, typed trampolines for the common mlx-c signatures,
//! vectors of arrays in and out, optional arrays, and index checks.

use crate::error::{Error, Result};
use crate::raw;
use crate::{Array, Dtype, Stream};

/// Defines ops as pairs: `name(args)` on [`Stream::current`] and
/// `name_on(args, stream)`, both carrying `#[doc(alias)]` for every mlx-c
/// function they can call, listed as string literals or as the
/// identifiers the body calls (the coverage test reads those names from
/// this macro's invocations). Every result passes [`Outputs::checked`]. Ops
/// that MLX runs on the CPU only write `on name_on, s in cpu => ...`: their
/// plain form runs on [`linalg_stream`](crate::ops::linalg::linalg_stream).
/// Ops whose plain form picks its stream otherwise write
/// `on name_on, s via <expression giving Result<Stream>> => ...`.
///
/// ```text
/// op! {
///     /// Docs, with an `# Errors` section.
///     ["mlx_abs"]
///     pub fn abs(a: &Array) -> Array;
///     on abs_on, s => { unary("mlx_abs", a, s, mlx_sys::mlx_abs) }
/// }
/// ```
macro_rules! op {
    ($(
        $(#[$attr:meta])*
        [$($cname:tt),+ $(,)?]
        pub fn $name:ident $(<$($lt:lifetime),+>)? ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty;
        on $name_on:ident, $s:ident $(in $dev:ident)? $(via $pick:expr)? => $body:block
    )*) => {$(
        $(#[$attr])*
        $(#[::mlx_macros::c_alias($cname)])+
        pub fn $name $(<$($lt),+>)? ($($arg: $ty),*) -> $crate::Result<$ret> {
            $name_on($($arg,)* &$crate::ops::support::op!(@stream $($dev)? $(; $pick)?))
        }

        #[doc = concat!("[`", stringify!($name), "`](fn@", stringify!($name), ") on an explicit stream", $crate::ops::support::op!(@which $($dev)?), ".")]
        ///
        /// # Errors
        #[doc = concat!("As [`", stringify!($name), "`](fn@", stringify!($name), ")", $crate::ops::support::op!(@errors $($dev)?), ".")]
        $(#[::mlx_macros::c_alias($cname)])+
        // The stream is one argument more than the plain form has.
        #[allow(clippy::too_many_arguments)]
        pub fn $name_on $(<$($lt),+>)? ($($arg: $ty,)* $s: &$crate::Stream) -> $crate::Result<$ret> {
            // A closure, so that `return` in a body ends the body only.
            #[allow(clippy::redundant_closure_call)]
            let out: $crate::Result<$ret> = (move || $body)();
            $crate::ops::support::Outputs::checked(out?)
        }
    )*};
    // The plain form's stream: the current one, or for CPU-only ops (`in
    // cpu`) `linalg_stream` (the current stream if it is on the CPU, else
    // the CPU's default stream).
    (@stream) => { $crate::Stream::current()? };
    (@stream cpu) => { $crate::ops::linalg::linalg_stream()? };
    (@stream ; $pick:expr) => { $pick? };
    (@which) => { "" };
    (@which cpu) => { " (a CPU stream)" };
    (@errors) => { "" };
    (@errors cpu) => { "; MLX's error on a GPU stream" };
}
pub(crate) use op;

/// Which axes an op works on: all of them (the flattened array), one, or
/// several. Converts from `i32`, `&[i32]`, `&[i32; N]` and `&Vec<i32>`.
///
/// ```
/// use mlx_rs::ops::{sum, Axes};
/// use mlx_rs::Array;
/// let a = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2])?;
/// assert_eq!(sum(&a, Axes::All, false)?.item::<i32>()?, 10);
/// assert_eq!(sum(&a, 0, false)?.to_vec::<i32>()?, [4, 6]);
/// assert_eq!(sum(&a, &[0, 1], true)?.shape(), [1, 1]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axes<'a> {
    /// Every axis.
    All,
    /// One axis (negative counts from the end).
    One(i32),
    /// Several axes.
    Many(&'a [i32]),
}

impl From<i32> for Axes<'_> {
    fn from(a: i32) -> Self {
        Axes::One(a)
    }
}

impl<'a> From<&'a [i32]> for Axes<'a> {
    fn from(a: &'a [i32]) -> Self {
        Axes::Many(a)
    }
}

impl<'a, const N: usize> From<&'a [i32; N]> for Axes<'a> {
    fn from(a: &'a [i32; N]) -> Self {
        Axes::Many(a)
    }
}

impl<'a> From<&'a Vec<i32>> for Axes<'a> {
    fn from(a: &'a Vec<i32>) -> Self {
        Axes::Many(a)
    }
}

/// Runs a reduction in its three mlx-c forms (all axes, one, several).
pub(crate) fn reduce(
    names: [&'static str; 3],
    fns: (raw::AllFn, raw::AxisFn, raw::AxesFn),
    a: &Array,
    axes: Axes<'_>,
    keepdims: bool,
    s: &Stream,
) -> Result<Array> {
    let axes = match axes {
        Axes::All => raw::Reduce::All,
        Axes::One(axis) => raw::Reduce::One(axis),
        Axes::Many(axes) => raw::Reduce::Many(axes),
    };
    raw::reduce(names, fns, a.handle(), axes, keepdims, s.handle()).map(Array::from)
}

/// Runs an mlx-c `(res, a, int, s)` function.
pub(crate) fn int_op(
    op: &'static str,
    a: &Array,
    v: i32,
    s: &Stream,
    f: raw::IntFn,
) -> Result<Array> {
    raw::int(op, f, a.handle(), v, s.handle()).map(Array::from)
}

/// Runs an mlx-c `(res, a, int, int, s)` function.
pub(crate) fn int2_op(
    op: &'static str,
    a: &Array,
    v: i32,
    w: i32,
    s: &Stream,
    f: raw::Int2Fn,
) -> Result<Array> {
    raw::int2(op, f, a.handle(), v, w, s.handle()).map(Array::from)
}

/// Runs an mlx-c `(res, a, ints, ints_num, s)` function.
pub(crate) fn ints_op(
    op: &'static str,
    a: &Array,
    v: &[i32],
    s: &Stream,
    f: raw::IntsFn,
) -> Result<Array> {
    raw::ints(op, f, a.handle(), v, s.handle()).map(Array::from)
}

/// Runs an mlx-c `(res, a, b, s)` function on two arrays (no weak-scalar
/// rules; see [`super::binary`] for those).
pub(crate) fn array2_op(
    op: &'static str,
    a: &Array,
    b: &Array,
    s: &Stream,
    f: raw::BinaryFn,
) -> Result<Array> {
    raw::array2(op, f, a.handle(), b.handle(), s.handle()).map(Array::from)
}

/// The handle of `a`, or the empty handle that mlx-c reads as "absent" for
/// the arguments its header marks `/* may be null */`.
pub(crate) fn opt(a: Option<&Array>) -> mlx_sys::mlx_array {
    a.map_or(
        mlx_sys::mlx_array {
            ctx: std::ptr::null_mut(),
        },
        Array::as_raw,
    )
}

/// An [`Error::InvalidArgument`] for `op`.
pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        reason: reason.into(),
    }
}

/// `axis` made absolute for `ndim` dimensions, or `None` when out of range.
pub(crate) fn norm_axis(axis: i32, ndim: usize) -> Option<usize> {
    let n = ndim as i64;
    let ax = if axis < 0 {
        i64::from(axis) + n
    } else {
        i64::from(axis)
    };
    (0..n).contains(&ax).then_some(ax as usize)
}

/// The product of the batch dimensions (all but the last two) of `a`.
pub(crate) fn batch_size(a: &Array) -> i64 {
    let s = a.shape();
    s[..s.len().saturating_sub(2)]
        .iter()
        .map(|&d| i64::from(d))
        .product()
}

/// What an index check found: the indices as given are in range, or
/// (under a function transformation, where their values cannot be read)
/// the indices clamped into range, to build the op with instead.
#[derive(Debug)]
pub(crate) enum Checked {
    /// The values were read and are in range.
    Valid,
    /// The values could not be read (a tracer of `vmap` or `compile`):
    /// these are the indices clamped into range, built lazily.
    Clamped(Array),
}

impl Checked {
    /// The indices to build the op with: `given`, or their clamped form.
    pub(crate) fn or<'a>(&'a self, given: &'a Array) -> &'a Array {
        match self {
            Checked::Valid => given,
            Checked::Clamped(c) => c,
        }
    }
}

/// Whether `e` is MLX refusing to evaluate an array while a function
/// transformation (`vmap`, `compile`, `grad`) traces it.
pub(crate) fn is_trace_refusal(e: &Error) -> bool {
    matches!(e, Error::Mlx { message, .. } if message.contains("during function transformations"))
}

/// `Some(value)` of a read of array values, `None` when MLX refused the
/// read because the array is being traced, other errors as they are.
pub(crate) fn unless_traced<T>(read: Result<T>) -> Result<Option<T>> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_trace_refusal(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The values an integer dtype can hold.
fn int_range(d: Dtype) -> (i128, i128) {
    match d {
        Dtype::Bool => (0, 1),
        Dtype::Uint8 => (0, i128::from(u8::MAX)),
        Dtype::Uint16 => (0, i128::from(u16::MAX)),
        Dtype::Uint32 => (0, i128::from(u32::MAX)),
        Dtype::Uint64 => (0, i128::from(u64::MAX)),
        Dtype::Int8 => (i128::from(i8::MIN), i128::from(i8::MAX)),
        Dtype::Int16 => (i128::from(i16::MIN), i128::from(i16::MAX)),
        Dtype::Int32 => (i128::from(i32::MIN), i128::from(i32::MAX)),
        _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
    }
}

/// A scalar of dtype `d` holding `v`, which `d` can hold.
fn int_scalar(v: i128, d: Dtype, s: &Stream) -> Result<Array> {
    let a = if v < 0 {
        Array::scalar(v as i64)?
    } else {
        Array::scalar(v as u64)?
    };
    a.astype_on(d, s)
}

/// Checks that every value of the integer array `idx` lies in `lo..=hi`
/// (the error says `what`); under a transformation, clamps instead.
fn check_range(
    op: &'static str,
    idx: &Array,
    (lo, hi): (i64, i64),
    what: impl Fn(i128) -> String,
    s: &Stream,
) -> Result<Checked> {
    let d = idx.dtype();
    if !(d.is_integer() || d == Dtype::Bool) {
        // Non-integer indices are left to MLX, which rejects them.
        return Ok(Checked::Valid);
    }
    let bad = |v: i128| {
        Err(Error::InvalidIndex {
            op,
            reason: what(v),
        })
    };
    let values: Option<Vec<i128>> = if d.is_unsigned() || d == Dtype::Bool {
        unless_traced(idx.astype(Dtype::Uint64).and_then(|a| a.to_vec::<u64>()))?
            .map(|v| v.into_iter().map(i128::from).collect())
    } else {
        unless_traced(idx.astype(Dtype::Int64).and_then(|a| a.to_vec::<i64>()))?
            .map(|v| v.into_iter().map(i128::from).collect())
    };
    if let Some(values) = values {
        return match values
            .into_iter()
            .find(|&v| v < i128::from(lo) || v > i128::from(hi))
        {
            Some(v) => bad(v),
            None => Ok(Checked::Valid),
        };
    }
    // Traced: the values are not known until the transformed function
    // runs. Out-of-range values are clamped into range (as JAX does), in
    // the index's own dtype, so MLX never reads outside the array.
    if idx.size() == 0 {
        return Ok(Checked::Valid);
    }
    if lo > hi {
        return Err(Error::InvalidIndex {
            op,
            reason: "cannot index into an empty axis".to_owned(),
        });
    }
    let (dmin, dmax) = int_range(d);
    let (lo, hi) = (i128::from(lo).max(dmin), i128::from(hi).min(dmax));
    let lo = int_scalar(lo, d, s)?;
    let hi = int_scalar(hi, d, s)?;
    super::clip_on(idx, Some(&lo), Some(&hi), s).map(Checked::Clamped)
}

/// Checks that every value of the integer array `idx` addresses an element
/// of an axis of `size` (negative values count from the end).
///
/// MLX does not check gather and scatter indices: out-of-range values read
/// or write outside the array. A safe API cannot allow that, so index
/// arrays are evaluated and checked before they reach MLX (the arrays they
/// index stay lazy). Non-integer indices are left to MLX, which rejects
/// them with its own message. Under a function transformation (`vmap`,
/// `compile`) a traced index cannot be evaluated: it is clamped into
/// range instead ([`Checked::Clamped`]).
pub(crate) fn check_indices(
    op: &'static str,
    idx: &Array,
    size: i64,
    s: &Stream,
) -> Result<Checked> {
    check_range(
        op,
        idx,
        (-size, size - 1),
        |v| format!("index {v} is out of bounds for an axis of size {size}"),
        s,
    )
}

/// Like [`check_indices`] for indices that MLX does *not* wrap (negative
/// values are out of range too): gathered matrix products and segments.
pub(crate) fn check_nonneg_indices(
    op: &'static str,
    idx: &Array,
    size: i64,
    s: &Stream,
) -> Result<Checked> {
    check_range(
        op,
        idx,
        (0, size - 1),
        |v| format!("index {v} is out of bounds for a size of {size}"),
        s,
    )
}

/// For ops whose MLX CPU kernels divide by a size that is zero for empty
/// inputs (sorting and scans along an empty axis, convolutions with no
/// input channels: SIGFPE in MLX 0.32.2): `out`, built lazily (so MLX has
/// already validated the arguments), is replaced by zeros of its shape and
/// dtype when `empty`. Every such result has no elements or is an empty
/// sum, so zeros are its exact value.
pub(crate) fn empty_safe(empty: bool, out: Array, s: &Stream) -> Result<Array> {
    if empty {
        Array::zeros_on(out.shape(), out.dtype(), s)
    } else {
        Ok(out)
    }
}

/// Integer floor division and remainder trap in MLX's CPU kernels (SIGFPE)
/// on a zero divisor and on `MIN / -1`. When `out` (the lazily built
/// result of `a op b`) is an integer array, evaluates the operands and
/// rejects those values.
///
/// Under a function transformation the operands may be tracers that cannot
/// be evaluated: then the divisor to build the op with instead comes back,
/// `b` with 1 in place of each zero and of each `-1` under a `MIN`
/// (`x / 0` gives `x`, `MIN / -1` gives `MIN`, its wrapped value).
///
/// # Errors
/// [`Error::InvalidArgument`] for a zero divisor or `MIN / -1`.
pub(crate) fn check_int_division(
    op: &'static str,
    a: &Array,
    b: &Array,
    out: &Array,
    s: &Stream,
) -> Result<Option<Array>> {
    let d = out.dtype();
    if !d.is_integer() {
        return Ok(None);
    }
    let any = |m: &Array| -> Result<bool> {
        let r = Array::build("mlx_any", |res| {
            // SAFETY: fresh out-param; `m` and `s` are live handles.
            unsafe { mlx_sys::mlx_any(res, m.as_raw(), false, s.as_raw()) }
        })?;
        r.item::<bool>()
    };
    let b = b.astype_on(d, s)?;
    let zero = Array::scalar(0i32)?.astype_on(d, s)?;
    let mut unsafe_divisor = super::equal_on(&b, &zero, s)?;
    let Some(zero_found) = unless_traced(any(&unsafe_divisor))? else {
        return safe_divisor(a, &b, unsafe_divisor, d, s).map(Some);
    };
    if zero_found {
        return Err(invalid(op, "integer division by zero"));
    }
    let (min, _) = int_range(d);
    if d.is_unsigned() {
        return Ok(None);
    }
    let a = a.astype_on(d, s)?;
    let min_a = int_scalar(min, d, s)?;
    let minus_one = Array::scalar(-1i32)?.astype_on(d, s)?;
    unsafe_divisor = super::logical_and_on(
        super::equal_on(&a, &min_a, s)?,
        super::equal_on(&b, &minus_one, s)?,
        s,
    )?;
    match unless_traced(any(&unsafe_divisor))? {
        None => safe_divisor(&a, &b, unsafe_divisor, d, s).map(Some),
        Some(true) => Err(invalid(
            op,
            format!("integer overflow: {min} divided by -1"),
        )),
        Some(false) => Ok(None),
    }
}

/// `b` with 1 where `a / b` would trap: a zero divisor, or `MIN / -1`
/// (`zeros` marks the zero divisors, or every trapping place).
fn safe_divisor(a: &Array, b: &Array, zeros: Array, d: Dtype, s: &Stream) -> Result<Array> {
    let one = Array::scalar(1i32)?.astype_on(d, s)?;
    let mut trap = zeros;
    if !d.is_unsigned() {
        let (min, _) = int_range(d);
        let a = a.astype_on(d, s)?;
        let min_a = int_scalar(min, d, s)?;
        let minus_one = Array::scalar(-1i32)?.astype_on(d, s)?;
        let overflow = super::logical_and_on(
            super::equal_on(&a, &min_a, s)?,
            super::equal_on(b, &minus_one, s)?,
            s,
        )?;
        trap = super::logical_or_on(&trap, &overflow, s)?;
    }
    super::select_on(&trap, &one, b, s)
}

/// Results of ops: checked, before anyone can evaluate them, for a size in
/// bytes that no allocation can have.
///
/// MLX computes an array's byte size in a `size_t` without checking for
/// overflow: a broadcast or `as_strided` view of shape
/// `[2^31 - 1; 3]` claims 25 GB where it needs 2^64 bytes and more, and
/// evaluating it writes past the buffer. Anything above `isize::MAX` bytes
/// (Rust's own limit for one allocation) is refused here.
pub(crate) trait Outputs: Sized {
    /// `self`, or [`Error::InvalidShape`] for an output too large to exist.
    fn checked(self) -> Result<Self>;
}

impl Outputs for Array {
    fn checked(self) -> Result<Self> {
        // Every op result passes here, so the common case is cheap: with at
        // most one dimension (below 2^31) no array can be too large.
        if self.ndim() <= 1 || fits_in_memory(&self) {
            Ok(self)
        } else {
            Err(too_large(&self))
        }
    }
}

/// The error for an array of more than `isize::MAX` bytes.
#[cold]
fn too_large(a: &Array) -> Error {
    Error::InvalidShape {
        shape: a.shape().iter().map(|&d| i64::from(d)).collect(),
        reason: "the result would have more bytes than any allocation can hold",
    }
}

/// Whether `a` has at most `isize::MAX` bytes.
fn fits_in_memory(a: &Array) -> bool {
    /// Wider than any MLX dtype (the widest take 8 bytes).
    const WIDEST: u64 = 16;
    let elems = a
        .shape()
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(u64::from(d.max(0) as u32)));
    match elems {
        // Only near the limit is the dtype (an mlx-c call) needed.
        Some(n) if n <= isize::MAX as u64 / WIDEST => true,
        Some(n) => n
            .checked_mul(a.dtype().size() as u64)
            .is_some_and(|b| b <= isize::MAX as u64),
        None => false,
    }
}

impl Outputs for Vec<Array> {
    fn checked(self) -> Result<Self> {
        self.into_iter().map(Outputs::checked).collect()
    }
}

impl Outputs for (Array, Array) {
    fn checked(self) -> Result<Self> {
        Ok((self.0.checked()?, self.1.checked()?))
    }
}

impl Outputs for (Array, Array, Array) {
    fn checked(self) -> Result<Self> {
        Ok((self.0.checked()?, self.1.checked()?, self.2.checked()?))
    }
}
