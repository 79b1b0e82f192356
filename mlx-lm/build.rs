//! The `mlx-lm` binary starts on its own (outside `cargo run`): it gets
//! the link arguments mlx-rs publishes for its dependents' binaries (the
//! run-time path to libmlx and to the BLAS; mlx-sys/README.md, "Shipping
//! a binary").

fn main() {
    for arg in std::env::var("DEP_MLX_RS_LINK_ARGS")
        .unwrap_or_default()
        .split_whitespace()
    {
        println!("cargo::rustc-link-arg={arg}");
    }
}
