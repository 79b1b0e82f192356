//! MLX's Metal backend (mlx-c's `metal.h`): availability, the path of the
//! Metal library MLX loads its kernels from, and GPU trace captures.
//!
//! Without Metal (Linux), [`is_available`] answers `false`,
//! [`metallib_path`] is an `Err` and the other functions do nothing (MLX's
//! CPU build defines them so); that is all the tests here exercise. With
//! Metal, the capture functions and the metallib path are untested: they
//! need macOS with a Metal GPU (a capture also needs
//! `MTL_CAPTURE_ENABLED=1` in the environment).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::raw::{self, path_cstring};

/// Whether MLX's Metal backend is built in and finds a GPU.
///
/// ```
/// if mlx_rs::metal::is_available()? {
///     assert!(mlx_rs::Device::gpu().is_available()?);
/// }
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to answer.
#[doc(alias = "mlx_metal_is_available")]
pub fn is_available() -> Result<bool> {
    let mut res = false;
    // SAFETY: `res` is a valid out-param.
    raw::call("mlx_metal_is_available", || unsafe {
        mlx_sys::mlx_metal_is_available(&mut res)
    })?;
    Ok(res)
}

/// The path of the `mlx.metallib` that MLX loads its kernels from.
/// Untested here (no Metal).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) where MLX has no Metal backend or
/// fails to answer.
#[doc(alias = "mlx_metal_get_metallib_path")]
pub fn metallib_path() -> Result<PathBuf> {
    // SAFETY: `res` is a fresh string out-param.
    raw::string_out("mlx_metal_get_metallib_path", |res| unsafe {
        mlx_sys::mlx_metal_get_metallib_path(res)
    })
    .map(PathBuf::from)
}

/// Makes MLX load its kernels from the `mlx.metallib` at `path` (before
/// the first GPU operation). Untested here (no Metal).
///
/// # Errors
/// [`Error::InvalidData`](crate::Error::InvalidData) for a path with a
/// NUL byte; [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_metal_set_metallib_path")]
pub fn set_metallib_path(path: impl AsRef<Path>) -> Result<()> {
    let p = path_cstring(path.as_ref())?;
    // SAFETY: `p` is a NUL-terminated path that MLX copies.
    raw::call("mlx_metal_set_metallib_path", || unsafe {
        mlx_sys::mlx_metal_set_metallib_path(p.as_ptr())
    })
}

/// Starts capturing the GPU's work into a `.gputrace` file at `path`, for
/// Xcode (run with `MTL_CAPTURE_ENABLED=1`). Untested here (no Metal).
///
/// # Errors
/// [`Error::InvalidData`](crate::Error::InvalidData) for a path with a
/// NUL byte; [`Error::Mlx`](crate::Error::Mlx) when MLX cannot capture.
#[doc(alias = "mlx_metal_start_capture")]
pub fn start_capture(path: impl AsRef<Path>) -> Result<()> {
    let p = path_cstring(path.as_ref())?;
    // SAFETY: `p` is a NUL-terminated path that MLX copies.
    raw::call("mlx_metal_start_capture", || unsafe {
        mlx_sys::mlx_metal_start_capture(p.as_ptr())
    })
}

/// Stops the capture [`start_capture`] began. Untested here (no Metal).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_metal_stop_capture")]
pub fn stop_capture() -> Result<()> {
    // SAFETY: takes no arguments.
    raw::call("mlx_metal_stop_capture", || unsafe {
        mlx_sys::mlx_metal_stop_capture()
    })
}
