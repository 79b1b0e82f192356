//! Finding the mlx-c 0.7.0 source and preparing a patched copy of it.
//!
//! Order: 1. `MLX_C_SRC_DIR`; 2. the copy in the cache from an earlier build;
//! 3. the source that ships inside the crates-registry package `mlx-sys`
//! 0.7.0 (`src/mlx-c`), fetched with a nested `cargo vendor` of a throwaway
//! manifest, so the registry's checksum vouches for it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env;
use crate::fail::Failure;
use crate::wheel::STAMP;

pub(crate) const MLX_C_VERSION: &str = "0.7.0";

/// The pristine mlx-c source tree (never modified).
pub(crate) fn discover(out_dir: &Path) -> Result<PathBuf, Failure> {
    if let Some(dir) = env::var(env::MLX_C_SRC_DIR) {
        let dir = PathBuf::from(dir);
        check_tree(&dir).map_err(|e| {
            Failure::new(format!("{}={}: {e}", env::MLX_C_SRC_DIR, dir.display())).fix(format!(
                "point {} at a checkout of mlx-c v{MLX_C_VERSION} (the folder with \
                 CMakeLists.txt and mlx/c/)",
                env::MLX_C_SRC_DIR
            ))
        })?;
        return Ok(dir);
    }
    let cache = env::cache_dir().ok_or_else(|| {
        Failure::new("no cache folder: the user's cache dir is unknown").fix(format!(
            "set {}=/some/writable/folder",
            env::MLX_RS_CACHE_DIR
        ))
    })?;
    let cached = cache.join("mlx-c").join(MLX_C_VERSION);
    if cached.join(STAMP).is_file() {
        return Ok(cached);
    }
    vendor_from_registry(out_dir, &cached)?;
    Ok(cached)
}

fn check_tree(dir: &Path) -> Result<(), String> {
    let cmake = fs::read_to_string(dir.join("CMakeLists.txt"))
        .map_err(|e| format!("no readable CMakeLists.txt ({e})"))?;
    if !dir.join("mlx/c/mlx.h").is_file() {
        return Err("no mlx/c/mlx.h".into());
    }
    if !cmake.contains(&format!("set(MLX_C_VERSION {MLX_C_VERSION})")) {
        println!(
            "cargo::warning=mlx-c at {} does not declare version {MLX_C_VERSION}; the \
             shims and patches are written for {MLX_C_VERSION}",
            dir.display()
        );
    }
    Ok(())
}

/// Runs `cargo vendor` on a throwaway manifest that depends on `mlx-sys =
/// "=0.7.0"` and copies its `src/mlx-c` into `dest` (atomically).
fn vendor_from_registry(out_dir: &Path, dest: &Path) -> Result<(), Failure> {
    let work = out_dir.join("fetch-mlx-c");
    let _ = fs::remove_dir_all(&work);
    let manifest = format!(
        "# Throwaway manifest: only here so `cargo vendor` fetches mlx-sys {v}.\n\
         [package]\nname = \"mlx-rs-fetch-mlx-c\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n[lib]\npath = \"lib.rs\"\n\
         [dependencies]\nmlx-sys = \"={v}\"\n\
         # Keep it out of any enclosing workspace.\n[workspace]\n",
        v = MLX_C_VERSION
    );
    let io = |e: std::io::Error| Failure::new(format!("cannot write {}: {e}", work.display()));
    fs::create_dir_all(&work).map_err(io)?;
    fs::write(work.join("Cargo.toml"), manifest).map_err(io)?;
    fs::write(work.join("lib.rs"), "").map_err(io)?;

    println!(
        "cargo::warning=mlx-sys: fetching the mlx-c {MLX_C_VERSION} source (crate mlx-sys \
         {MLX_C_VERSION}) with `cargo vendor` (once; later builds use the cache)"
    );
    let cargo = env::cargo("CARGO");
    let vendor = work.join("vendor");
    let out = Command::new(&cargo)
        .current_dir(&work)
        .args(["vendor", "--versioned-dirs", "--manifest-path"])
        .arg(work.join("Cargo.toml"))
        .arg(&vendor)
        // Settings of the outer build that must not leak into this one.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .output()
        .map_err(|e| Failure::new(format!("cannot run {cargo} vendor: {e}")))?;
    let src = vendor.join(format!("mlx-sys-{MLX_C_VERSION}/src/mlx-c"));
    if !out.status.success() || !src.is_dir() {
        return Err(Failure::new(format!(
            "`cargo vendor` could not fetch the mlx-c {MLX_C_VERSION} source from the crates \
             registry:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .fix(
            "check that the crates registry is reachable (it is also where this build's \
              other dependencies come from)",
        )
        .fix(format!(
            "or set {}=/path/to/mlx-c (a checkout of mlx-c v{MLX_C_VERSION})",
            env::MLX_C_SRC_DIR
        )));
    }
    let tmp = dest.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    copy_tree(&src, &tmp)
        .and_then(|()| {
            fs::write(
                tmp.join(STAMP),
                format!("mlx-sys {MLX_C_VERSION} src/mlx-c"),
            )
        })
        .map_err(|e| Failure::new(format!("cannot copy mlx-c into the cache: {e}")))?;
    if dest.join(STAMP).is_file() {
        let _ = fs::remove_dir_all(&tmp);
    } else {
        let _ = fs::remove_dir_all(dest);
        fs::create_dir_all(dest.parent().unwrap_or(dest))
            .and_then(|()| fs::rename(&tmp, dest))
            .map_err(|e| Failure::new(format!("cannot move mlx-c into the cache: {e}")))?;
    }
    let _ = fs::remove_dir_all(&work);
    Ok(())
}

/// Copies `pristine` to `out_dir/mlx-c` and applies every `patches/*.patch`
/// in name order. Applying is idempotent: a patch whose result is already
/// there (a pre-patched `MLX_C_SRC_DIR`) is skipped. The copy is staged and
/// then synced, so a file is rewritten only when its content changed and
/// CMake does not rebuild mlx-c on every run of this script.
pub(crate) fn patched_copy(
    pristine: &Path,
    patches: &Path,
    out_dir: &Path,
) -> Result<PathBuf, Failure> {
    println!("cargo::rerun-if-changed={}", pristine.display());
    println!("cargo::rerun-if-changed={}", patches.display());
    let stage = out_dir.join("mlx-c.stage");
    let dest = out_dir.join("mlx-c");
    let _ = fs::remove_dir_all(&stage);
    copy_tree(pristine, &stage)
        .map_err(|e| Failure::new(format!("cannot copy mlx-c to {}: {e}", stage.display())))?;
    let mut files: Vec<PathBuf> = fs::read_dir(patches)
        .map_err(|e| Failure::new(format!("cannot list {}: {e}", patches.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    files.sort();
    for file in files {
        crate::patch::apply_file(&file, &stage).map_err(|e| {
            Failure::new(format!("patch {} does not apply: {e}", file.display())).fix(format!(
                "the patches are for mlx-c {MLX_C_VERSION}; check {}",
                env::MLX_C_SRC_DIR
            ))
        })?;
    }
    sync_tree(&stage, &dest)
        .map_err(|e| Failure::new(format!("cannot update {}: {e}", dest.display())))?;
    let _ = fs::remove_dir_all(&stage);
    Ok(dest)
}

/// Makes `to` hold exactly the files of `from`, writing only what differs.
fn sync_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    let mut keep = std::collections::BTreeSet::new();
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        keep.insert(entry.file_name());
        if entry.file_type()?.is_dir() {
            sync_tree(&src, &dst)?;
        } else {
            let new = fs::read(&src)?;
            if fs::read(&dst).ok().as_deref() != Some(&new[..]) {
                fs::write(&dst, new)?;
            }
        }
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        if !keep.contains(&entry.file_name()) {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                fs::remove_dir_all(path)?;
            } else {
                fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// Recursively copies a folder, skipping build stamps. Entries are visited
/// in sorted order so the copy is the same on every run.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    let mut entries: Vec<_> = fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_name() == STAMP {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}
