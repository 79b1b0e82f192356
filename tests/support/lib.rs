//! Helpers shared by the workspace tests, examples and benches.

/// Test models fetched on demand and cached (re-exported from `mlx-lm`).
pub use mlx_lm::models;
