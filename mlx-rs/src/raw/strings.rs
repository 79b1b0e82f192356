//! C strings in both directions, and mlx-c's string containers.

use std::ffi::{c_char, CStr, CString};
use std::path::Path;

use super::call::{call, out};
use super::handle::Owned;
use crate::error::{Error, Result};

/// A name or string value as a C string.
///
/// # Errors
/// [`Error::InvalidData`] when `s` holds a NUL byte.
pub(crate) fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidData {
        reason: "names and string values must not contain NUL bytes",
    })
}

/// An argument string of `op` (a mode, a subscript) as a C string.
///
/// # Errors
/// [`Error::InvalidArgument`] naming `op` when `s` holds a NUL byte.
pub(crate) fn c_string_arg(op: &'static str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidArgument {
        op,
        reason: format!("{s:?} contains a NUL byte"),
    })
}

/// A path as the C string MLX opens.
/// # Errors
/// [`Error::InvalidData`] for a path with a NUL byte (or, off Unix, one
/// that is not Unicode).
pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or(Error::InvalidData {
            reason: "the path is not valid Unicode",
        })?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| Error::InvalidData {
        reason: "paths must not contain NUL bytes",
    })
}

/// Copies a C string out as UTF-8.
///
/// # Safety
/// `p` is null or points at a NUL-terminated string alive for the call.
///
/// # Errors
/// [`Error::InvalidData`] with `what` for a null pointer or bytes that are
/// not UTF-8.
pub(crate) unsafe fn string_from_c(p: *const c_char, what: &'static str) -> Result<String> {
    if p.is_null() {
        return Err(Error::InvalidData { reason: what });
    }
    // SAFETY: per the contract, `p` is a live NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(str::to_owned)
        .map_err(|_| Error::InvalidData { reason: what })
}

/// Runs an mlx-c function that writes an `mlx_string` and returns its text
/// (invalid UTF-8 replaced, as MLX's own printers may produce).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) naming `op` when the call fails.
#[doc(alias = "mlx_string_data")]
pub(crate) fn string_out(
    op: &'static str,
    f: impl FnOnce(*mut mlx_sys::mlx_string) -> i32,
) -> Result<String> {
    let s = out(op, f)?;
    // SAFETY: `s` is a live string; mlx_string_data returns its
    // NUL-terminated buffer (or null), copied out at once.
    let p = unsafe { mlx_sys::mlx_string_data(s.get()) };
    Ok(if p.is_null() {
        String::new()
    } else {
        // SAFETY: non-null, NUL-terminated, owned by `s`, alive here.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    })
}

/// An `mlx_vector_string` holding copies of `items`.
///
/// # Errors
/// [`Error::InvalidData`] when an item holds a NUL byte;
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails.
#[doc(alias = "mlx_vector_string_append_value")]
pub(crate) fn strings_in<S: AsRef<str>>(items: &[S]) -> Result<Owned<mlx_sys::mlx_vector_string>> {
    let v = Owned::<mlx_sys::mlx_vector_string>::new();
    for item in items {
        let c = cstring(item.as_ref())?;
        // SAFETY: `v` is live; `c` is NUL-terminated and alive for the
        // call; mlx-c copies it into a std::string.
        call("mlx_vector_string_append_value", || unsafe {
            mlx_sys::mlx_vector_string_append_value(v.get(), c.as_ptr())
        })?;
    }
    Ok(v)
}

/// Copies the strings of an `mlx_vector_string` out.
///
/// # Errors
/// [`Error::InvalidData`] for a string that is not UTF-8;
/// [`Error::Mlx`](crate::Error::Mlx) if mlx-c fails.
#[doc(alias = "mlx_vector_string_get")]
pub(crate) fn strings_out(v: &Owned<mlx_sys::mlx_vector_string>) -> Result<Vec<String>> {
    // SAFETY: `v` is a live vector.
    let n = unsafe { mlx_sys::mlx_vector_string_size(v.get()) };
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let mut p: *mut c_char = std::ptr::null_mut();
        // SAFETY: `p` is a valid out-param, `i < size`.
        call("mlx_vector_string_get", || unsafe {
            mlx_sys::mlx_vector_string_get(&mut p, v.get(), i)
        })?;
        // SAFETY: `p` points at the element's characters, alive while the
        // vector is; copied at once.
        items.push(unsafe { string_from_c(p, "a string from MLX is not valid UTF-8") }?);
    }
    Ok(items)
}
