//! Procedural macros for mlx-rs.
