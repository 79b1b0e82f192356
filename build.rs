//! Gives the workspace's examples, tests and benches a run-time search path to
//! the libmlx that mlx-sys linked, so the binaries run without
//! `LD_LIBRARY_PATH` (cargo only sets that for `cargo run` / `cargo test`).
fn main() {
    if let Ok(dir) = std::env::var("DEP_MLX_LIB_DIR") {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}");
    }
    for arg in std::env::var("DEP_MLX_LINK_ARGS")
        .unwrap_or_default()
        .split_whitespace()
    {
        println!("cargo::rustc-link-arg={arg}");
    }
}
