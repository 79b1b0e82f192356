//! Helpers shared by the workspace tests, examples and benches.

pub mod bench;
pub mod device;
pub mod digits;

/// Test models fetched on demand and cached (re-exported from `mlx-lm`).
pub use mlx_lm::models;
