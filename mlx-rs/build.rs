//! Two jobs, nothing built (and the examples' link arguments):
//!
//! 1. Passes the location of the mlx-c headers that mlx-sys built against to
//!    mlx-rs's own tests: `tests/coverage.rs` reads every public header
//!    from there (as `env!("MLX_RS_MLX_C_INCLUDE")`)
//!    to check that every function they declare has a safe wrapper. mlx-sys
//!    publishes the directory as `cargo::metadata=include=...`, which Cargo
//!    hands to this script as `DEP_MLX_INCLUDE`.
//! 2. Re-publishes what a final binary needs to start on its own (mlx-sys's
//!    `DEP_MLX_LINK_ARGS`, `DEP_MLX_LIB_DIR`, `DEP_MLX_BLAS`) for crates that
//!    depend on mlx-rs: Cargo shows `DEP_*` only to direct dependents, so
//!    mlx-rs has `links = "mlx-rs"` and its dependents see
//!    `DEP_MLX_RS_LINK_ARGS` etc. Their one-line build script is in
//!    mlx-sys/README.md ("Shipping a binary"). mlx-rs's own examples get
//!    those link arguments here, so they start without `cargo run` (under
//!    `mlx.launch`, for one).

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
    // mlx-c's version, for `mlx_rs::version::MLX_C_VERSION`.
    let mlx_c = env_var_rerun("DEP_MLX_MLX_C_VERSION").unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=MLX_RS_MLX_C_VERSION={mlx_c}");
    // mlx-rs's own examples start on their own too (they are run by
    //    launchers, `mlx.launch` included, not only by `cargo run`): the
    //    same link arguments (the rpath to libmlx) for them.
    if let Some(args) = env_var_rerun("DEP_MLX_LINK_ARGS") {
        for arg in args.split_whitespace() {
            println!("cargo::rustc-link-arg-examples={arg}");
        }
    }
    for (dep, key) in [
        ("DEP_MLX_LINK_ARGS", "link_args"),
        ("DEP_MLX_LIB_DIR", "lib_dir"),
        ("DEP_MLX_BLAS", "blas"),
        ("DEP_MLX_VERSION", "version"),
    ] {
        if let Some(value) = env_var_rerun(dep) {
            println!("cargo::metadata={key}={value}");
        }
    }
}
