//! Build script of mlx-sys: finds MLX and mlx-c, builds mlx-c and the shims,
//! generates the raw bindings and tells cargo how to link.
//!
//! Discovery order (documented in mlx-sys/README.md):
//! - MLX: `MLX_DIR` → the cache → the pinned official wheel via `pip download`.
//! - mlx-c: `MLX_C_SRC_DIR` → the cache → the crates-registry package
//!   `mlx-sys` 0.7.0 via `cargo vendor`.
//! - BLAS (Linux): `MLX_RS_BLAS` → OpenBLAS when found → the wheel's
//!   reference BLAS (see `blas.rs`).
//!
//! The cache is `MLX_RS_CACHE_DIR`, else `<user cache dir>/mlx-rs`.

mod bindings;
mod blas;
mod env;
mod fail;
mod mlx;
mod mlx_c;
mod patch;
mod wheel;

use std::path::{Path, PathBuf};

use fail::Failure;

fn main() {
    if let Err(failure) = run() {
        eprintln!("\n{failure}\n");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Failure> {
    let manifest_dir = PathBuf::from(env::cargo("CARGO_MANIFEST_DIR"));
    let out_dir = env::out_dir();
    let target_os = env::cargo("CARGO_CFG_TARGET_OS");
    let target_arch = env::cargo("CARGO_CFG_TARGET_ARCH");
    let cuda = std::env::var_os("CARGO_FEATURE_CUDA").is_some();
    let shims = manifest_dir.join("../shims");
    println!("cargo::rerun-if-changed=build");
    println!("cargo::rerun-if-changed={}", shims.display());

    check_cmake()?;
    let mlx = mlx::discover(&target_os, &target_arch, cuda)?;
    let blas = blas::discover(&target_os, &target_arch)?;
    let pristine = mlx_c::discover(&out_dir)?;
    let mlx_c = mlx_c::patched_copy(&pristine, &manifest_dir.join("patches"), &out_dir)?;

    // Bindings first: they need only the headers, so a missing libclang
    // fails before the minute-long C++ build.
    bindings::generate(&mlx_c, &shims, &out_dir)?;

    // mlx-c, static, against the MLX install.
    let cmake_pkg = mlx::cmake_package_dir(&mlx, &out_dir)?;
    let built = cmake::Config::new(&mlx_c)
        // The issue pins a release build: mlx-c is a thin layer whose debug
        // build buys nothing. The compiler is still cmake's choice.
        .profile("Release")
        .define("MLX_C_USE_SYSTEM_MLX", "ON")
        .define("MLX_C_BUILD_EXAMPLES", "OFF")
        .define("BUILD_SHARED_LIBS", "OFF")
        .define("MLX_DIR", &cmake_pkg)
        .build();

    // The shims, in C, against the same (patched) headers.
    cc::Build::new()
        .file(shims.join("mlxs.c"))
        .include(&mlx_c)
        .include(&shims)
        .flag_if_supported("-std=c11")
        // mlx/c/array.h defines a static `mlx_array_empty` it never uses.
        .flag_if_supported("-Wno-unused-variable")
        .compile("mlxs");

    link(&mlx, &blas, &built, &out_dir, &target_os, &target_arch)?;

    let mlx_c_include = mlx_c.display().to_string();
    println!("cargo::metadata=include={mlx_c_include}");
    println!("cargo::metadata=shims_include={}", shims.display());
    println!(
        "cargo::metadata=mlx_include={}",
        mlx.include_dir().display()
    );
    println!("cargo::metadata=version={}", mlx.version);
    println!("cargo::rustc-env=MLX_SYS_MLX_VERSION={}", mlx.version);
    println!("cargo::metadata=mlx_c_version={}", mlx_c::MLX_C_VERSION);
    println!("cargo::metadata=backend={}", mlx.backend.name());
    println!("cargo::metadata=blas={}", blas.name);
    println!("cargo::rustc-env=MLX_SYS_BLAS={}", blas.name);
    println!("cargo::rustc-check-cfg=cfg(mlx_blas_linked)");
    if !blas.libs.is_empty() {
        // src/lib.rs keeps the library in every final binary.
        println!("cargo::rustc-cfg=mlx_blas_linked");
    }
    println!("cargo::rustc-check-cfg=cfg(mlx_backend, values(\"cpu\", \"cuda\", \"metal\"))");
    println!("cargo::rustc-cfg=mlx_backend=\"{}\"", mlx.backend.name());
    Ok(())
}

/// Emits the link lines: static mlx-c and shims, dynamic libmlx with a
/// run-time search path, the BLAS that goes ahead of the wheel's, the C++
/// runtime.
fn link(
    mlx: &mlx::Mlx,
    blas: &blas::Blas,
    built: &Path,
    out_dir: &Path,
    target_os: &str,
    target_arch: &str,
) -> Result<(), Failure> {
    // Static libraries: the shims call into mlx-c, so they come first.
    println!(
        "cargo::rustc-link-search=native={}",
        built.join("lib").display()
    );
    println!("cargo::rustc-link-lib=static=mlxc");

    // libmlx, dynamically. cargo puts link-search folders that lie inside
    // the target dir on the library path of `cargo run` / `cargo test` for
    // every dependent crate, so the search folder is a link in OUT_DIR to the
    // install; the real folder is also written as an rpath (below) and
    // published as DEP_MLX_LIB_DIR for dependents' own binaries.
    let lib_dir = mlx.lib_dir();
    let staged = out_dir.join("mlx-prefix");
    let _ = std::fs::remove_file(&staged);
    symlink_dir(&mlx.prefix, &staged).map_err(|e| {
        Failure::new(format!(
            "cannot link {} to {}: {e}",
            staged.display(),
            mlx.prefix.display()
        ))
    })?;
    println!(
        "cargo::rustc-link-search=native={}",
        staged.join("lib").display()
    );
    println!("cargo::rustc-link-lib=dylib=mlx");
    // The BLAS, after libmlx. At run time libmlx's cblas_*/LAPACK symbols
    // bind to it, as it loads before libmlx's libblas/liblapack. The binary
    // itself calls none of it, so `--as-needed` would drop it: src/lib.rs
    // anchors it (cfg mlx_blas_linked); tests/blas.rs checks.
    for dir in &blas.dirs {
        println!("cargo::rustc-link-search=native={}", dir.display());
    }
    for lib in &blas.libs {
        println!("cargo::rustc-link-lib=dylib={lib}");
    }
    let where_ = match blas.dirs.first() {
        Some(dir) => format!(" from {}", dir.display()),
        None => String::new(),
    };
    let what = match blas.name {
        "openblas" => format!("OpenBLAS (-l{}){where_}", blas.libs.join(" -l")),
        "system" => format!(
            "the system BLAS/LAPACK (-l{}){where_}",
            blas.libs.join(" -l")
        ),
        "accelerate" => "Accelerate (linked by libmlx)".to_owned(),
        _ => "the wheel's reference BLAS/LAPACK (single-threaded)".to_owned(),
    };
    println!(
        "cargo::warning=mlx-sys: MLX's CPU backend calls {what}; {}=openblas|system|reference \
         chooses",
        env::MLX_RS_BLAS
    );
    let cxx = if target_os == "macos" {
        "c++"
    } else {
        "stdc++"
    };
    println!("cargo::rustc-link-lib=dylib={cxx}");

    let mut link_args = vec![format!("-Wl,-rpath,{}", lib_dir.display())];
    for dir in blas.rpath_dirs(target_arch) {
        link_args.push(format!("-Wl,-rpath,{}", dir.display()));
    }
    if mlx.backend == wheel::Backend::Cuda {
        // The CUDA libmlx needs libcudart, cuBLAS, cuDNN, NCCL, ... at run
        // time only; they need not exist where we link.
        link_args.push("-Wl,--allow-shlib-undefined".to_owned());
    }
    for arg in &link_args {
        println!("cargo::rustc-link-arg={arg}");
    }
    println!("cargo::metadata=lib_dir={}", lib_dir.display());
    println!("cargo::metadata=link_args={}", link_args.join(" "));
    Ok(())
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_dir(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "mlx-sys supports Linux and macOS only",
    ))
}

/// CMake must be on PATH (or named by `CMAKE`) before the cmake crate runs.
fn check_cmake() -> Result<(), Failure> {
    let cmake = env::var("CMAKE").unwrap_or_else(|| "cmake".to_owned());
    match std::process::Command::new(&cmake).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(Failure::missing_tool(
            format!("`{cmake} --version` failed: CMake is needed to build mlx-c"),
            "sudo apt-get install cmake",
            "brew install cmake",
        )
        .fix("or set CMAKE=/path/to/cmake")),
    }
}
