//! Gives the workspace's examples, tests and benches a run-time search path to
//! the libmlx that mlx-sys linked, so the binaries run without
//! `LD_LIBRARY_PATH` (cargo only sets that for `cargo run` / `cargo test`).
//!
//! Also compiles the C side of the graph-building benchmark
//! (`benches/c/graph_building.c`, against the mlx-c headers mlx-sys
//! publishes as `DEP_MLX_INCLUDE`) into the workspace library, and records
//! the versions the benchmark report prints.
use std::process::Command;

/// Reads `name`, registering it with `cargo::rerun-if-env-changed`.
fn env_var(name: &str) -> Option<String> {
    println!("cargo::rerun-if-env-changed={name}");
    std::env::var(name).ok()
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if let Some(dir) = env_var("DEP_MLX_LIB_DIR") {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}");
    }
    for arg in env_var("DEP_MLX_LINK_ARGS")
        .unwrap_or_default()
        .split_whitespace()
    {
        println!("cargo::rustc-link-arg={arg}");
    }

    // The mlx-c floor of benches/graph_building.rs. mlx-sys links mlx-c
    // itself; this library only needs its headers.
    let c_bench = "benches/c/graph_building.c";
    println!("cargo::rerun-if-changed={c_bench}");
    let mut build = cc::Build::new();
    build.file(c_bench).flag_if_supported("-std=c11");
    // mlx/c/array.h defines a static `mlx_array_empty` it never uses.
    build.flag_if_supported("-Wno-unused-variable");
    if let Some(include) = env_var("DEP_MLX_INCLUDE") {
        build.include(include);
    }
    build.compile("mlxbench_c");

    // Versions for the benchmark report (tests/support/bench.rs).
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!("cargo::rustc-env=MLX_WS_RUSTC_VERSION={rustc_version}");
    for (dep, var) in [
        ("DEP_MLX_VERSION", "MLX_WS_MLX_VERSION"),
        ("DEP_MLX_MLX_C_VERSION", "MLX_WS_MLX_C_VERSION"),
        ("DEP_MLX_BACKEND", "MLX_WS_MLX_BACKEND"),
    ] {
        let value = env_var(dep).unwrap_or_else(|| "unknown".to_owned());
        println!("cargo::rustc-env={var}={value}");
    }
}
