//! The versions of MLX and mlx-c this crate runs on (mlx-c's `version.h`).
//!
//! ```
//! let v = mlx_rs::version::mlx()?;
//! assert_eq!(v, mlx_rs::version::MLX_BUILT_VERSION);
//! assert_eq!(mlx_rs::version::MLX_C_VERSION, "0.7.0");
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use crate::error::Result;
use crate::raw;

/// The mlx-c version this crate was built against (from mlx-sys's build).
pub const MLX_C_VERSION: &str = env!("MLX_RS_MLX_C_VERSION");

/// The MLX version this crate was built against (from MLX's CMake
/// package, as mlx-sys found it); [`mlx`] asks the loaded library.
pub const MLX_BUILT_VERSION: &str = mlx_sys::MLX_VERSION;

/// The version of the MLX library loaded at run time (e.g. `"0.32.2"`),
/// as Python's `mx.__version__`.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails to report it.
#[doc(alias = "mlx_version")]
pub fn mlx() -> Result<String> {
    // SAFETY: `res` is a fresh string out-param.
    raw::string_out("mlx_version", |res| unsafe { mlx_sys::mlx_version(res) })
}
