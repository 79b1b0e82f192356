//! Safe bindings to MLX.
