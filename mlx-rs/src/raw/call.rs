//! The one entry into mlx-c and the out-parameter runners.

use std::sync::Once;

use super::handle::{Handle, Owned};
use crate::error::{self, check, Result};

/// Runs `f` (which calls mlx-c) once the crate's error handler is
/// installed.
///
/// Every mlx-c call of this crate passes through here: directly, through
/// [`call`] and [`out`], or through [`Owned::new`] / [`Owned::from_raw`],
/// which every handle is made by. mlx-c's default handler calls `exit`, so
/// it is replaced before the first call (a `Once`: one atomic load after
/// that).
#[inline]
pub(crate) fn enter<R>(f: impl FnOnce() -> R) -> R {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(error::install_handler);
    f()
}

/// Runs an mlx-c function that returns a status, and checks it.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op` when the status is not 0.
#[inline]
pub(crate) fn call(op: &'static str, f: impl FnOnce() -> i32) -> Result<()> {
    check(op, enter(f))
}

/// Runs an mlx-c function that writes one handle through an out-parameter
/// and returns the handle, owned, once the status is 0 and the handle is
/// not empty.
///
/// `f` gets a pointer to a fresh handle that the guard owns whatever
/// happens, so a failing call leaks nothing.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op` for a non-zero status or
/// an empty result.
#[inline]
pub(crate) fn out<H: Handle>(op: &'static str, f: impl FnOnce(*mut H) -> i32) -> Result<Owned<H>> {
    let mut res = Owned::<H>::new();
    let status = f(res.as_mut_ptr());
    // One check for both ways to fail (`check` takes any pending message).
    check(op, failed(status, res.is_empty()))?;
    Ok(res)
}

/// [`out`] for a function with two out-parameters.
///
/// # Errors
/// As [`out`], for either result.
pub(crate) fn out2<A: Handle, B: Handle>(
    op: &'static str,
    f: impl FnOnce(*mut A, *mut B) -> i32,
) -> Result<(Owned<A>, Owned<B>)> {
    let mut a = Owned::<A>::new();
    let mut b = Owned::<B>::new();
    let status = f(a.as_mut_ptr(), b.as_mut_ptr());
    check(op, failed(status, a.is_empty() || b.is_empty()))?;
    Ok((a, b))
}

/// The status that counts: a success that left a result empty is a
/// failure too.
#[inline]
fn failed(status: i32, empty: bool) -> i32 {
    if status == 0 && empty {
        1
    } else {
        status
    }
}

/// Takes a handle that an mlx-c function returned by value (constructors
/// such as `mlx_array_new_data`), which report failure only through the
/// error handler or an empty handle.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op` when a message is pending
/// or the handle is empty.
pub(crate) fn returned<H: Handle>(op: &'static str, f: impl FnOnce() -> H) -> Result<Owned<H>> {
    // SAFETY: a handle returned by value belongs to the caller of the
    // constructor, which hands it to the guard at once.
    let res = unsafe { Owned::from_raw(enter(f)) };
    error::check_handle(op, res.is_empty())?;
    Ok(res)
}

/// A fresh handle of a kind whose constructor allocates (a vector, a map,
/// a kernel configuration), checked for the empty handle that means the
/// allocation failed.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op` when the constructor
/// failed.
pub(crate) fn fresh<H: Handle>(op: &'static str) -> Result<Owned<H>> {
    returned(op, H::empty)
}
