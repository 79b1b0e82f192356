//! Test models fetched on demand and cached.
//!
//! The code lives in `mlx-lm/src/models/fetch.rs` (`mlx_lm::models`, which the
//! workspace's tests and examples use through `mlx_workspace::models`);
//! this file includes it so that `mlx-rs`'s own tests can keep including
//! it with `#[path]` without depending on `mlx-lm`. Uses only `std` and
//! the `python3 -m pip` of the machine: no committed model files.
//!
//! The cache directory is `$MLX_RS_CACHE_DIR`, else `~/.cache/mlx-rs`.

include!("../../mlx-lm/src/models/fetch.rs");
