//! Reading the environment: every variable the build script consults goes
//! through [`var`], which also tells cargo to rerun when it changes.

use std::path::PathBuf;

/// Environment variables a user may set, in one place so the docs and the
/// build agree. (`MLX_DIR` etc. are documented in mlx-sys's README.)
pub(crate) const MLX_DIR: &str = "MLX_DIR";
pub(crate) const MLX_C_SRC_DIR: &str = "MLX_C_SRC_DIR";
pub(crate) const MLX_RS_CACHE_DIR: &str = "MLX_RS_CACHE_DIR";
pub(crate) const MLX_RS_PYTHON: &str = "MLX_RS_PYTHON";
pub(crate) const MLX_RS_BLAS: &str = "MLX_RS_BLAS";

/// Reads `name`, registering it with `cargo::rerun-if-env-changed`.
/// An empty value counts as unset.
pub(crate) fn var(name: &str) -> Option<String> {
    println!("cargo::rerun-if-env-changed={name}");
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A variable cargo always sets for build scripts.
pub(crate) fn cargo(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo did not set {name} for the build script"))
}

pub(crate) fn out_dir() -> PathBuf {
    PathBuf::from(cargo("OUT_DIR"))
}

/// The cache root: `MLX_RS_CACHE_DIR`, else the user's cache dir + `mlx-rs`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    var(MLX_RS_CACHE_DIR)
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("mlx-rs")))
}
