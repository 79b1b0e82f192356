//! Passes the location of the mlx-c headers that mlx-sys built against to
//! mlx-rs's own tests: `tests/coverage.rs` reads `ops.h`, `linalg.h`,
//! `fft.h` and `random.h` from there (as `env!("MLX_RS_MLX_C_INCLUDE")`)
//! to check that every function they declare has a safe wrapper.
//!
//! mlx-sys publishes the directory as `cargo::metadata=include=...`, which
//! Cargo hands to this script as `DEP_MLX_INCLUDE`. Nothing is built here.

/// Reads an environment variable and tells Cargo to rerun when it changes.
fn env_var_rerun(name: &str) -> Option<String> {
    println!("cargo::rerun-if-env-changed={name}");
    std::env::var(name).ok()
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    match env_var_rerun("DEP_MLX_INCLUDE") {
        Some(dir) => println!("cargo::rustc-env=MLX_RS_MLX_C_INCLUDE={dir}"),
        // Cannot happen with the mlx-sys of this workspace; the coverage
        // test then says what is missing.
        None => println!("cargo::warning=mlx-sys did not publish DEP_MLX_INCLUDE"),
    }
}
