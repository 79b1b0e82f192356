//! MLX's CUDA backend (mlx-c's `cuda.h`).

use crate::error::Result;
use crate::raw;

/// Whether MLX's CUDA backend is built in and finds a GPU (false in the
/// CPU-only builds, that is without the `cuda` feature).
///
/// ```
/// if mlx_rs::cuda::is_available()? {
///     assert!(mlx_rs::Device::gpu().is_available()?);
/// }
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to answer.
#[doc(alias = "mlx_cuda_is_available")]
pub fn is_available() -> Result<bool> {
    let mut res = false;
    // SAFETY: `res` is a valid out-param.
    raw::call("mlx_cuda_is_available", || unsafe {
        mlx_sys::mlx_cuda_is_available(&mut res)
    })?;
    Ok(res)
}
