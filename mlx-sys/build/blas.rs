//! Which BLAS/LAPACK MLX's CPU backend calls on Linux.
//!
//! The Linux wheels bundle the *reference* netlib BLAS and LAPACK
//! (`mlx_cpu.libs/libblas-*.so`, single-threaded). libmlx leaves
//! `cblas_sgemm`, `sgetrf_`, ... undefined and names those libraries as its
//! dependencies, so the dynamic linker binds each symbol to the first
//! definition in load order, and a library the *executable* needs loads
//! before libmlx's own dependencies. Linking a BLAS into every final binary
//! (`rustc-link-lib` reaches dependents' links too) therefore makes MLX use
//! it, with no change to libmlx.
//!
//! The choice is `MLX_RS_BLAS`, in this fixed order of meaning:
//! - unset: the wheel's reference BLAS (OpenBLAS 0.3.21 can hang a process
//!   at exit; see `discover`);
//! - `auto`: OpenBLAS when found (below), else the wheel's
//!   reference BLAS with a warning saying how to get OpenBLAS;
//! - `openblas`: OpenBLAS, found by pkg-config (`openblas`), else as
//!   `libopenblas.so` in the system library folders; missing is an error;
//! - `system`: whatever pkg-config's `blas` and `lapack` name (on Debian the
//!   `update-alternatives` choice); missing is an error;
//! - `reference`: link nothing, keep the wheel's reference BLAS.
//!
//! On macOS the Metal wheel's libmlx links Accelerate itself; nothing is
//! linked and a value other than `auto`/`reference` gets a warning.

use std::path::{Path, PathBuf};

use crate::env;
use crate::fail::Failure;

/// What the build links ahead of the wheel's BLAS.
#[derive(Debug)]
pub(crate) struct Blas {
    /// `openblas`, `system`, `reference` or `accelerate` (published as
    /// `DEP_MLX_BLAS` and `mlx_sys::BLAS`).
    pub(crate) name: &'static str,
    /// Libraries to link dynamically, in order.
    pub(crate) libs: Vec<String>,
    /// Their folders: link search path, and run-time path unless they are
    /// the system's default folders.
    pub(crate) dirs: Vec<PathBuf>,
}

impl Blas {
    fn none(name: &'static str) -> Self {
        Blas {
            name,
            libs: Vec::new(),
            dirs: Vec::new(),
        }
    }

    /// The folders to give final binaries as run-time search path: those
    /// the dynamic linker would not search by itself.
    pub(crate) fn rpath_dirs(&self, target_arch: &str) -> Vec<&Path> {
        let defaults = default_dirs(target_arch);
        self.dirs
            .iter()
            .filter(|d| !defaults.iter().any(|x| x == *d))
            .map(PathBuf::as_path)
            .collect()
    }
}

const APT: &str = "sudo apt-get install libopenblas-dev";

/// Reads `MLX_RS_BLAS` and finds the library it asks for.
pub(crate) fn discover(target_os: &str, target_arch: &str) -> Result<Blas, Failure> {
    // Unset means the wheel's reference BLAS for now: Debian's OpenBLAS
    // 0.3.21 (pthreads) can hang a process at exit (its destructor joins
    // a worker that never wakes: seen in `mlx-lm generate` under CI), so
    // OpenBLAS is opt-in (`auto` or `openblas`) until that is solved.
    let wanted = env::var(env::MLX_RS_BLAS).unwrap_or_else(|| "reference".to_owned());
    if target_os == "macos" {
        if !matches!(wanted.as_str(), "auto" | "reference") {
            println!(
                "cargo::warning=mlx-sys: {}={wanted} is ignored on macOS: the Metal wheel's \
                 libmlx uses Accelerate",
                env::MLX_RS_BLAS
            );
        }
        return Ok(Blas::none("accelerate"));
    }
    let cross = env::cargo("HOST") != env::cargo("TARGET");
    let blas = match wanted.as_str() {
        "reference" => Blas::none("reference"),
        "auto" => match openblas(target_arch, cross) {
            Ok(blas) => blas,
            Err(looked) => {
                println!(
                    "cargo::warning=mlx-sys: OpenBLAS not found ({looked}); MLX's CPU backend \
                     keeps the wheel's single-threaded reference BLAS, which makes float \
                     matmuls ~20x slower. Install it (`{APT}`) or set {}=reference to silence \
                     this.",
                    env::MLX_RS_BLAS
                );
                Blas::none("reference")
            }
        },
        "openblas" => openblas(target_arch, cross).map_err(|looked| {
            Failure::missing_tool(
                format!(
                    "{}=openblas, but OpenBLAS was not found ({looked})",
                    env::MLX_RS_BLAS
                ),
                APT,
                "not needed: macOS uses Accelerate",
            )
            .fix("for an OpenBLAS elsewhere, add the folder of its openblas.pc to PKG_CONFIG_PATH")
            .fix(format!(
                "or set {}=reference to keep the wheel's reference BLAS",
                env::MLX_RS_BLAS
            ))
        })?,
        "system" => system().map_err(|e| {
            Failure::new(format!(
                "{}=system, but pkg-config found no `blas` and `lapack`: {e}",
                env::MLX_RS_BLAS
            ))
            .fix(
                "Debian/Ubuntu: install a BLAS with its pkg-config files, e.g. `sudo apt-get \
                 install pkg-config libopenblas-dev` (or libblis-dev, libblas-dev liblapack-dev)",
            )
            .fix("or add the folder of your blas.pc and lapack.pc to PKG_CONFIG_PATH")
            .fix(format!(
                "or set {}=openblas or {}=reference",
                env::MLX_RS_BLAS,
                env::MLX_RS_BLAS
            ))
        })?,
        other => {
            return Err(Failure::new(format!(
                "{}={other} is not one of auto, openblas, system, reference",
                env::MLX_RS_BLAS
            ))
            .fix(format!(
                "unset {} (OpenBLAS when installed) or set it to one of those",
                env::MLX_RS_BLAS
            )))
        }
    };
    Ok(blas)
}

/// OpenBLAS: pkg-config `openblas`, then `libopenblas.so` in the default
/// library folders (not when cross-compiling: those are the host's). The
/// `Err` says where it looked.
fn openblas(target_arch: &str, cross: bool) -> Result<Blas, String> {
    let probe = pkg_config::Config::new()
        .cargo_metadata(false)
        .env_metadata(true)
        .probe("openblas");
    let pc_err = match probe {
        Ok(lib) => return Ok(from_pkg_config("openblas", &[lib])),
        Err(e) => first_line(&e.to_string()),
    };
    if cross {
        return Err(format!(
            "pkg-config: {pc_err}; cross-compiling, so no folder search"
        ));
    }
    let dirs = default_dirs(target_arch);
    match dirs.iter().find(|d| d.join("libopenblas.so").exists()) {
        Some(dir) => Ok(Blas {
            name: "openblas",
            libs: vec!["openblas".to_owned()],
            dirs: vec![dir.clone()],
        }),
        None => Err(format!(
            "pkg-config: {pc_err}; no libopenblas.so in {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// pkg-config's `blas` and `lapack`.
fn system() -> Result<Blas, String> {
    let mut found = Vec::new();
    for name in ["blas", "lapack"] {
        let lib = pkg_config::Config::new()
            .cargo_metadata(false)
            .env_metadata(true)
            .probe(name)
            .map_err(|e| format!("{name}: {}", first_line(&e.to_string())))?;
        found.push(lib);
    }
    Ok(from_pkg_config("system", &found))
}

fn from_pkg_config(name: &'static str, found: &[pkg_config::Library]) -> Blas {
    let mut blas = Blas::none(name);
    for lib in found {
        for l in &lib.libs {
            if !blas.libs.contains(l) {
                blas.libs.push(l.clone());
            }
        }
        for d in &lib.link_paths {
            if !blas.dirs.contains(d) {
                blas.dirs.push(d.clone());
            }
        }
    }
    blas
}

/// The folders the dynamic linker searches without being told (glibc's
/// multiarch layout first).
fn default_dirs(target_arch: &str) -> Vec<PathBuf> {
    let multiarch = format!("{target_arch}-linux-gnu");
    [
        format!("/usr/lib/{multiarch}"),
        format!("/lib/{multiarch}"),
        "/usr/lib64".to_owned(),
        "/lib64".to_owned(),
        "/usr/lib".to_owned(),
        "/lib".to_owned(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}
