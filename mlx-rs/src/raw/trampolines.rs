//! mlx-c ops of the common signatures, run on borrowed owned handles.
//!
//! Each function here makes the safety argument of one signature once:
//! `f` is an mlx-c function of exactly that signature (the type says so),
//! the result is a fresh out-parameter owned by the runner ([`out`]), and
//! the inputs are live because they are borrowed [`Owned`] handles.

use super::call::out;
use super::handle::Owned;
use crate::error::Result;

type Arr = mlx_sys::mlx_array;
type Str = mlx_sys::mlx_stream;

/// mlx-c's `(res, a, s)`.
pub(crate) type UnaryFn = unsafe extern "C" fn(*mut Arr, Arr, Str) -> i32;
/// mlx-c's `(res, a, b, s)`.
pub(crate) type BinaryFn = unsafe extern "C" fn(*mut Arr, Arr, Arr, Str) -> i32;
/// mlx-c's `(res, a, keepdims, s)`.
pub(crate) type AllFn = unsafe extern "C" fn(*mut Arr, Arr, bool, Str) -> i32;
/// mlx-c's `(res, a, axis, keepdims, s)`.
pub(crate) type AxisFn = unsafe extern "C" fn(*mut Arr, Arr, i32, bool, Str) -> i32;
/// mlx-c's `(res, a, axes, axes_num, keepdims, s)`.
pub(crate) type AxesFn = unsafe extern "C" fn(*mut Arr, Arr, *const i32, usize, bool, Str) -> i32;
/// mlx-c's `(res, a, int, s)`.
pub(crate) type IntFn = unsafe extern "C" fn(*mut Arr, Arr, i32, Str) -> i32;
/// mlx-c's `(res, a, int, int, s)`.
pub(crate) type Int2Fn = unsafe extern "C" fn(*mut Arr, Arr, i32, i32, Str) -> i32;
/// mlx-c's `(res, a, ints, ints_num, s)`.
pub(crate) type IntsFn = unsafe extern "C" fn(*mut Arr, Arr, *const i32, usize, Str) -> i32;

/// Which axes a reduction works on, as the three mlx-c forms take them.
#[derive(Clone, Copy)]
pub(crate) enum Reduce<'a> {
    /// Every axis (`mlx_<op>`).
    All,
    /// One axis (`mlx_<op>_axis`).
    One(i32),
    /// Several axes (`mlx_<op>_axes`).
    Many(&'a [i32]),
}

/// Runs `f(res, a, s)`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op`.
#[inline]
pub(crate) fn unary(
    op: &'static str,
    f: UnaryFn,
    a: &Owned<Arr>,
    s: &Owned<Str>,
) -> Result<Owned<Arr>> {
    // SAFETY: see the module docs (signature, fresh out-param, live inputs).
    out(op, |res| unsafe { f(res, a.get(), s.get()) })
}

/// Runs `f(res, a, b, s)`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op`.
#[inline]
pub(crate) fn array2(
    op: &'static str,
    f: BinaryFn,
    a: &Owned<Arr>,
    b: &Owned<Arr>,
    s: &Owned<Str>,
) -> Result<Owned<Arr>> {
    // SAFETY: see the module docs.
    out(op, |res| unsafe { f(res, a.get(), b.get(), s.get()) })
}

/// Runs `f(res, a, v, s)`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op`.
pub(crate) fn int(
    op: &'static str,
    f: IntFn,
    a: &Owned<Arr>,
    v: i32,
    s: &Owned<Str>,
) -> Result<Owned<Arr>> {
    // SAFETY: see the module docs.
    out(op, |res| unsafe { f(res, a.get(), v, s.get()) })
}

/// Runs `f(res, a, v, w, s)`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op`.
pub(crate) fn int2(
    op: &'static str,
    f: Int2Fn,
    a: &Owned<Arr>,
    v: i32,
    w: i32,
    s: &Owned<Str>,
) -> Result<Owned<Arr>> {
    // SAFETY: see the module docs.
    out(op, |res| unsafe { f(res, a.get(), v, w, s.get()) })
}

/// Runs `f(res, a, v.as_ptr(), v.len(), s)`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op`.
pub(crate) fn ints(
    op: &'static str,
    f: IntsFn,
    a: &Owned<Arr>,
    v: &[i32],
    s: &Owned<Str>,
) -> Result<Owned<Arr>> {
    // SAFETY: see the module docs; `v` points at `v.len()` ints that
    // outlive the call.
    out(op, |res| unsafe {
        f(res, a.get(), v.as_ptr(), v.len(), s.get())
    })
}

/// Runs a reduction in the mlx-c form that `axes` selects (`names` and
/// `fns` in the order all, one axis, several axes).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming the form's C function.
pub(crate) fn reduce(
    names: [&'static str; 3],
    fns: (AllFn, AxisFn, AxesFn),
    a: &Owned<Arr>,
    axes: Reduce<'_>,
    keepdims: bool,
    s: &Owned<Str>,
) -> Result<Owned<Arr>> {
    match axes {
        Reduce::All => out(names[0], |res| {
            // SAFETY: see the module docs.
            unsafe { (fns.0)(res, a.get(), keepdims, s.get()) }
        }),
        Reduce::One(axis) => out(names[1], |res| {
            // SAFETY: see the module docs.
            unsafe { (fns.1)(res, a.get(), axis, keepdims, s.get()) }
        }),
        Reduce::Many(axes) => out(names[2], |res| {
            // SAFETY: see the module docs; `axes` points at `axes.len()`
            // ints that outlive the call.
            unsafe { (fns.2)(res, a.get(), axes.as_ptr(), axes.len(), keepdims, s.get()) }
        }),
    }
}
