//! Finding MLX: `MLX_DIR`, then the cache, then the pinned official wheel.

use std::fs;
use std::path::{Path, PathBuf};

use crate::env;
use crate::fail::Failure;
use crate::wheel::{self, Backend, Wheel, MLX_VERSION};

/// An MLX install with headers, library and CMake package.
#[derive(Debug)]
pub(crate) struct Mlx {
    /// The prefix holding `include/`, `lib/` and `share/cmake/MLX/`.
    pub(crate) prefix: PathBuf,
    /// The folder with `MLXConfig.cmake`.
    pub(crate) cmake_dir: PathBuf,
    pub(crate) version: String,
    pub(crate) backend: Backend,
}

impl Mlx {
    pub(crate) fn include_dir(&self) -> PathBuf {
        self.prefix.join("include")
    }
    pub(crate) fn lib_dir(&self) -> PathBuf {
        self.prefix.join("lib")
    }
}

/// The fixed discovery order: 1. `MLX_DIR`; 2. the wheel unpacked in the
/// cache by an earlier build; 3. the pinned wheel, fetched with pip.
pub(crate) fn discover(target_os: &str, target_arch: &str, cuda: bool) -> Result<Mlx, Failure> {
    let backend = match (cuda, target_os) {
        (true, _) => Backend::Cuda,
        (false, "macos") => Backend::Metal,
        (false, _) => Backend::Cpu,
    };
    if let Some(dir) = env::var(env::MLX_DIR) {
        return from_mlx_dir(Path::new(&dir), backend);
    }
    let wheel = wheel::select(target_os, target_arch, cuda).map_err(|e| {
        Failure::new(e).fix(format!(
            "set {}=/path/to/an/mlx/install (a prefix or its share/cmake/MLX folder)",
            env::MLX_DIR
        ))
    })?;
    let cache = env::cache_dir().ok_or_else(|| {
        Failure::new("no cache folder: the user's cache dir is unknown").fix(format!(
            "set {}=/some/writable/folder",
            env::MLX_RS_CACHE_DIR
        ))
    })?;
    let root = match wheel.cached(&cache) {
        Some(root) => root,
        None => provision(&wheel, &cache, target_os, target_arch)?,
    };
    let prefix = root.join("mlx");
    Ok(Mlx {
        cmake_dir: prefix.join("share/cmake/MLX"),
        version: read_version(&prefix.join("share/cmake/MLX"))
            .unwrap_or_else(|| MLX_VERSION.to_owned()),
        prefix,
        backend: wheel.backend,
    })
}

fn from_mlx_dir(dir: &Path, backend: Backend) -> Result<Mlx, Failure> {
    let candidates = [
        dir.to_path_buf(),
        dir.join("share/cmake/MLX"),
        dir.join("lib/cmake/MLX"),
        dir.join("mlx/share/cmake/MLX"),
    ];
    let cmake_dir = candidates
        .iter()
        .find(|d| d.join("MLXConfig.cmake").is_file())
        .cloned()
        .ok_or_else(|| {
            Failure::new(format!(
                "{}={} holds no MLXConfig.cmake (looked in {}, share/cmake/MLX, \
                 lib/cmake/MLX and mlx/share/cmake/MLX)",
                env::MLX_DIR,
                dir.display(),
                dir.display()
            ))
            .fix(format!(
                "point {} at an MLX install prefix, e.g. the `mlx` folder of an \
                 installed mlx-cpu wheel (site-packages/mlx)",
                env::MLX_DIR
            ))
            .fix(format!(
                "or unset {} to use the pinned official wheel",
                env::MLX_DIR
            ))
        })?;
    // <prefix>/share/cmake/MLX or <prefix>/lib/cmake/MLX
    let prefix = cmake_dir
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| Failure::new(format!("{} is too shallow", cmake_dir.display())))?;
    if !prefix.join("include/mlx/mlx.h").is_file() {
        return Err(Failure::new(format!(
            "the MLX install at {} has no include/mlx/mlx.h",
            prefix.display()
        ))
        .fix("install MLX with its headers (the official wheels have them)"));
    }
    let version = read_version(&cmake_dir).unwrap_or_else(|| "unknown".to_owned());
    if version != MLX_VERSION {
        println!(
            "cargo::warning=MLX at {} is version {version}; mlx-c 0.7.0 is pinned to MLX \
             {MLX_VERSION} and may not compile against another",
            prefix.display()
        );
    }
    Ok(Mlx {
        prefix,
        cmake_dir,
        version,
        backend,
    })
}

fn provision(wheel: &Wheel, cache: &Path, os: &str, arch: &str) -> Result<PathBuf, Failure> {
    let python = env::var(env::MLX_RS_PYTHON).unwrap_or_else(|| "python3".to_owned());
    let host = env::cargo("HOST");
    let cross = !(host.contains(os) || (os == "macos" && host.contains("darwin")))
        || !host.starts_with(arch);
    println!(
        "cargo::warning=mlx-sys: downloading {}=={MLX_VERSION} into {} (once; later builds \
         use the cache)",
        wheel.dist,
        cache.display()
    );
    let fetched = wheel.download(&python, cache, cross).map_err(|e| {
        Failure::missing_tool(
            format!("could not fetch the official MLX wheel: {e}"),
            "sudo apt-get install python3 python3-pip",
            "python3 ships with the Xcode command line tools (`xcode-select --install`); \
             then `python3 -m ensurepip --upgrade`",
        )
        .fix(format!(
            "set {}=/path/to/python3 if pip lives elsewhere",
            env::MLX_RS_PYTHON
        ))
        .fix(format!(
            "without network: `pip download {}=={MLX_VERSION}` on another machine, unpack \
             it and set {}=<unpacked>/mlx",
            wheel.dist,
            env::MLX_DIR
        ))
    })?;
    wheel
        .unpack(&python, &fetched, cache)
        .map_err(|e| Failure::new(format!("could not unpack the MLX wheel: {e}")))
}

/// Reads `PACKAGE_VERSION` from `MLXConfigVersion.cmake`.
fn read_version(cmake_dir: &Path) -> Option<String> {
    let text = fs::read_to_string(cmake_dir.join("MLXConfigVersion.cmake")).ok()?;
    let start = text.find("set(PACKAGE_VERSION \"")? + "set(PACKAGE_VERSION \"".len();
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_owned())
}

/// The CMake package mlx-c's `find_package(MLX)` should see. For CUDA that is
/// a small one written here: the wheel's own MLXConfig.cmake requires the
/// CUDA toolkit and cuDNN, but mlx-c only needs MLX's headers (the library is
/// linked by cargo, not CMake), so building needs no CUDA toolkit.
pub(crate) fn cmake_package_dir(mlx: &Mlx, out_dir: &Path) -> Result<PathBuf, Failure> {
    if mlx.backend != Backend::Cuda {
        return Ok(mlx.cmake_dir.clone());
    }
    let dir = out_dir.join("mlx-cmake-headers-only");
    let config = format!(
        "# Written by mlx-sys's build script: MLX's headers only, no CUDA toolkit needed.\n\
         add_library(mlx SHARED IMPORTED)\n\
         set_target_properties(mlx PROPERTIES\n\
         \x20 IMPORTED_LOCATION \"{lib}\"\n\
         \x20 INTERFACE_INCLUDE_DIRECTORIES \"{inc}\"\n\
         \x20 INTERFACE_COMPILE_FEATURES cxx_std_20)\n\
         set(MLX_FOUND TRUE)\n",
        lib = mlx.lib_dir().join("libmlx.so").display(),
        inc = mlx.include_dir().display(),
    );
    fs::create_dir_all(&dir)
        .and_then(|()| fs::write(dir.join("MLXConfig.cmake"), config))
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", dir.display())))?;
    Ok(dir)
}
