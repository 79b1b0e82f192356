//! Which official MLX wheel serves which target, and how to fetch and unpack
//! it with `python3 -m pip download`.
//!
//! This file is shared by the build script and by `tests/wheel_selection.rs`,
//! so it depends on nothing but `std` and `sha2`, and prints nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The MLX release every wheel below belongs to.
pub const MLX_VERSION: &str = "0.32.2";

/// The MLX backend a wheel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Linux CPU (`mlx-cpu`).
    Cpu,
    /// NVIDIA GPUs through CUDA 13 (`mlx-cuda-13`).
    Cuda,
    /// Apple silicon GPUs through Metal (`mlx-metal`).
    Metal,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Cuda => "cuda",
            Backend::Metal => "metal",
        }
    }
}

/// One pinned wheel file and its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedFile {
    pub name: &'static str,
    pub sha256: &'static str,
}

/// The wheel distribution chosen for a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wheel {
    /// The PyPI distribution, e.g. `mlx-cpu`.
    pub dist: &'static str,
    pub backend: Backend,
    /// The platform tag asked for when the target is not the host (pip
    /// picks the best tag for the host by itself otherwise).
    pub pip_platform: &'static str,
    /// The files pip may return for this target, with their checksums.
    pub files: &'static [PinnedFile],
    /// Files that must sit side by side in the wheel's `mlx/lib`.
    pub libs: &'static [&'static str],
    /// The cache folder name: dist, version, os and arch.
    pub cache_name: String,
}

const CPU_X86_64: &[PinnedFile] = &[PinnedFile {
    name: "mlx_cpu-0.32.2-py3-none-manylinux_2_35_x86_64.whl",
    sha256: "fc5d31b90fc4f457b2f9614ed45651a567d22a6a11a03d114a90a4e10bdd8878",
}];
const CPU_AARCH64: &[PinnedFile] = &[PinnedFile {
    name: "mlx_cpu-0.32.2-py3-none-manylinux_2_35_aarch64.whl",
    sha256: "d0f94625588b51a878786dd51cec5617894ce586cf3c94645ce1b64e24c27c0b",
}];
const CUDA_X86_64: &[PinnedFile] = &[PinnedFile {
    name: "mlx_cuda_13-0.32.2-py3-none-manylinux_2_35_x86_64.whl",
    sha256: "335094ccd1c0c6dc3e09c8caba207c8180602bacc0c38ba20c1d81e9456ab394",
}];
const CUDA_AARCH64: &[PinnedFile] = &[PinnedFile {
    name: "mlx_cuda_13-0.32.2-py3-none-manylinux_2_35_aarch64.whl",
    sha256: "49b1a25df9021f3b519a534fd39a32a5cdbf93a1b265a31e59671c2d9fc9f4a2",
}];
const METAL_ARM64: &[PinnedFile] = &[
    PinnedFile {
        name: "mlx_metal-0.32.2-py3-none-macosx_14_0_arm64.whl",
        sha256: "3825fff379dbc107dd3413e564a06caeaa24819910ec49c0439e454c06a1b9b8",
    },
    PinnedFile {
        name: "mlx_metal-0.32.2-py3-none-macosx_15_0_arm64.whl",
        sha256: "55a369250d220b2cf10213a87a2ac1b1a420608c5b35b1df4e7147ac8e32f121",
    },
    PinnedFile {
        name: "mlx_metal-0.32.2-py3-none-macosx_26_0_arm64.whl",
        sha256: "e6abeac9ac5265830c9c1541b6f96e9be37a85c2446763a46ad466c63a3837ab",
    },
];

/// Picks the wheel for a target, given cargo's `CARGO_CFG_TARGET_OS` and
/// `CARGO_CFG_TARGET_ARCH` and whether the `cuda` feature is on.
pub fn select(target_os: &str, target_arch: &str, cuda: bool) -> Result<Wheel, String> {
    let (dist, backend, pip_platform, files, libs): (_, _, _, _, &'static [&'static str]) =
        match (target_os, target_arch, cuda) {
            ("linux", "x86_64", false) => (
                "mlx-cpu",
                Backend::Cpu,
                "manylinux_2_35_x86_64",
                CPU_X86_64,
                &["libmlx.so"],
            ),
            ("linux", "aarch64", false) => (
                "mlx-cpu",
                Backend::Cpu,
                "manylinux_2_35_aarch64",
                CPU_AARCH64,
                &["libmlx.so"],
            ),
            ("linux", "x86_64", true) => (
                "mlx-cuda-13",
                Backend::Cuda,
                "manylinux_2_35_x86_64",
                CUDA_X86_64,
                &["libmlx.so"],
            ),
            ("linux", "aarch64", true) => (
                "mlx-cuda-13",
                Backend::Cuda,
                "manylinux_2_35_aarch64",
                CUDA_AARCH64,
                &["libmlx.so"],
            ),
            ("macos", "aarch64", false) => (
                "mlx-metal",
                Backend::Metal,
                "macosx_14_0_arm64",
                METAL_ARM64,
                // libmlx loads mlx.metallib (and libjaccl) from its own folder.
                &["libmlx.dylib", "libjaccl.dylib", "mlx.metallib"],
            ),
            ("macos", _, true) => {
                return Err("the `cuda` feature needs Linux: MLX's CUDA backend is not \
                            published for macOS"
                    .into())
            }
            (os, arch, _) => {
                return Err(format!(
                    "MLX {MLX_VERSION} publishes no official wheel for {arch}-{os} \
                     (there are wheels for x86_64/aarch64 Linux and arm64 macOS)"
                ))
            }
        };
    Ok(Wheel {
        dist,
        backend,
        pip_platform,
        files,
        libs,
        cache_name: format!("{dist}-{MLX_VERSION}-{target_os}-{target_arch}"),
    })
}

impl Wheel {
    /// The unpacked wheel in `cache`, if an earlier build completed it.
    pub fn cached(&self, cache: &Path) -> Option<PathBuf> {
        let root = cache.join("mlx").join(&self.cache_name);
        root.join(STAMP).is_file().then_some(root)
    }

    /// Downloads the wheel with `python -m pip download` into a fresh folder
    /// under `cache/wheels`, checks its SHA-256 against the pinned list and
    /// returns its path. `cross` asks pip for `pip_platform` explicitly.
    pub fn download(&self, python: &str, cache: &Path, cross: bool) -> Result<PathBuf, String> {
        let wheels = cache.join("wheels");
        let tmp = wheels.join(format!("tmp-{}-{}", self.cache_name, std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let mut cmd = Command::new(python);
        cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .args(["--disable-pip-version-check", "--quiet", "--dest"])
            .arg(&tmp)
            .arg(format!("{}=={MLX_VERSION}", self.dist));
        if cross {
            cmd.args(["--platform", self.pip_platform]);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run `{python} -m pip`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{python} -m pip download {}=={MLX_VERSION}` failed:\n{}",
                self.dist,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let got = single_wheel_in(&tmp)?;
        let name = got
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        self.verify(&got, &name)?;
        let dest = wheels.join(&name);
        fs::rename(&got, &dest).map_err(|e| format!("cannot move {name} into the cache: {e}"))?;
        let _ = fs::remove_dir_all(&tmp);
        Ok(dest)
    }

    /// Checks a wheel file against the pinned checksums.
    pub fn verify(&self, path: &Path, name: &str) -> Result<(), String> {
        let pinned = self.files.iter().find(|f| f.name == name).ok_or_else(|| {
            format!(
                "pip returned {name}, which is not one of the pinned {} wheels",
                self.dist
            )
        })?;
        let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let actual = hex(&Sha256::digest(&bytes));
        if actual != pinned.sha256 {
            return Err(format!(
                "{name} has SHA-256 {actual}, but {} was pinned: the download is corrupt \
                 or not the official release",
                pinned.sha256
            ));
        }
        Ok(())
    }

    /// Unpacks `wheel` into `cache/mlx/<cache_name>` (atomically: into a
    /// temporary folder first, renamed once complete) and checks that the
    /// files MLX needs are there. Returns the unpacked root.
    pub fn unpack(&self, python: &str, wheel: &Path, cache: &Path) -> Result<PathBuf, String> {
        let root = cache.join("mlx").join(&self.cache_name);
        let tmp = cache
            .join("mlx")
            .join(format!("{}.tmp-{}", self.cache_name, std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let out = Command::new(python)
            .args(["-m", "zipfile", "-e"])
            .arg(wheel)
            .arg(&tmp)
            .output()
            .map_err(|e| format!("cannot run `{python} -m zipfile`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "unpacking {} failed: {}",
                wheel.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        self.check_layout(&tmp)?;
        let name = wheel
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        fs::write(tmp.join(STAMP), name).map_err(|e| format!("cannot write the stamp: {e}"))?;
        if root.join(STAMP).is_file() {
            // Another build finished first; keep its copy.
            let _ = fs::remove_dir_all(&tmp);
        } else {
            let _ = fs::remove_dir_all(&root);
            fs::rename(&tmp, &root).map_err(|e| format!("cannot move the unpacked wheel: {e}"))?;
        }
        Ok(root)
    }

    /// The wheel layout mlx-sys relies on: `mlx/lib/<libs>`, `mlx/include`,
    /// `mlx/share/cmake/MLX/MLXConfig.cmake`.
    pub fn check_layout(&self, root: &Path) -> Result<(), String> {
        let mlx = root.join("mlx");
        let mut needed: Vec<PathBuf> = self.libs.iter().map(|l| mlx.join("lib").join(l)).collect();
        needed.push(mlx.join("include/mlx/mlx.h"));
        needed.push(mlx.join("share/cmake/MLX/MLXConfig.cmake"));
        match needed.iter().find(|p| !p.exists()) {
            Some(missing) => Err(format!(
                "the {} wheel has no {}",
                self.dist,
                missing.display()
            )),
            None => Ok(()),
        }
    }
}

/// Marks an unpacked wheel as complete.
pub const STAMP: &str = ".mlx-rs-complete";

fn single_wheel_in(dir: &Path) -> Result<PathBuf, String> {
    let mut wheels: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    wheels.sort();
    match wheels.len() {
        1 => Ok(wheels.remove(0)),
        n => Err(format!(
            "expected one wheel from pip in {}, found {n}",
            dir.display()
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
