//! MLX's memory accounting and allocator limits.
//!
//! ```
//! let before = mlx_rs::memory::active_memory()?;
//! let a = mlx_rs::Array::ones(&[1024], mlx_rs::Dtype::Float32)?;
//! a.eval()?;
//! assert!(mlx_rs::memory::active_memory()? >= before);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use crate::error::Result;
use crate::raw;

fn read(op: &'static str, f: unsafe extern "C" fn(*mut usize) -> i32) -> Result<usize> {
    let mut v = 0usize;
    // SAFETY: `f` is an mlx-c getter taking one `size_t*` out-param, and
    // `v` is a valid one.
    raw::call(op, || unsafe { f(&mut v) })?;
    Ok(v)
}

fn set(
    op: &'static str,
    f: unsafe extern "C" fn(*mut usize, usize) -> i32,
    limit: usize,
) -> Result<usize> {
    let mut prev = 0usize;
    // SAFETY: `f` is an mlx-c setter writing the previous value to its
    // `size_t*` out-param, and `prev` is a valid one.
    raw::call(op, || unsafe { f(&mut prev, limit) })?;
    Ok(prev)
}

/// Bytes currently held by arrays (not counting the cache).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
#[doc(alias = "mlx_get_active_memory")]
pub fn active_memory() -> Result<usize> {
    read("mlx_get_active_memory", mlx_sys::mlx_get_active_memory)
}

/// The largest [`active_memory`] since start or the last
/// [`reset_peak_memory`].
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
#[doc(alias = "mlx_get_peak_memory")]
pub fn peak_memory() -> Result<usize> {
    read("mlx_get_peak_memory", mlx_sys::mlx_get_peak_memory)
}

/// Bytes held in MLX's buffer cache (freed arrays kept for reuse).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
#[doc(alias = "mlx_get_cache_memory")]
pub fn cache_memory() -> Result<usize> {
    read("mlx_get_cache_memory", mlx_sys::mlx_get_cache_memory)
}

/// The current memory limit in bytes.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
#[doc(alias = "mlx_get_memory_limit")]
pub fn memory_limit() -> Result<usize> {
    read("mlx_get_memory_limit", mlx_sys::mlx_get_memory_limit)
}

/// Resets the peak to the current active memory.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_reset_peak_memory")]
pub fn reset_peak_memory() -> Result<()> {
    // SAFETY: takes no arguments.
    raw::call("mlx_reset_peak_memory", || unsafe {
        mlx_sys::mlx_reset_peak_memory()
    })
}

/// Sets the memory limit (a guideline MLX tries to stay under); returns the
/// previous one.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_set_memory_limit")]
pub fn set_memory_limit(limit: usize) -> Result<usize> {
    set("mlx_set_memory_limit", mlx_sys::mlx_set_memory_limit, limit)
}

/// Sets the buffer-cache limit (0 disables the cache); returns the previous
/// one.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_set_cache_limit")]
pub fn set_cache_limit(limit: usize) -> Result<usize> {
    set("mlx_set_cache_limit", mlx_sys::mlx_set_cache_limit, limit)
}

/// Frees the buffers held in the cache.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_clear_cache")]
pub fn clear_cache() -> Result<()> {
    // SAFETY: takes no arguments.
    raw::call("mlx_clear_cache", || unsafe { mlx_sys::mlx_clear_cache() })
}

/// Sets the wired limit: how many bytes MLX keeps wired (resident, never
/// paged out) for the GPU; returns the previous one. Only Metal on macOS
/// 15+ wires memory; elsewhere MLX ignores the value and returns 0.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX refuses the limit (on Metal:
/// above the device's maximum recommended working set).
#[doc(alias = "mlx_set_wired_limit")]
pub fn set_wired_limit(limit: usize) -> Result<usize> {
    set("mlx_set_wired_limit", mlx_sys::mlx_set_wired_limit, limit)
}
