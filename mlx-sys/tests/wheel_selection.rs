//! The choice of official MLX wheel per target (the build script's
//! `build/wheel.rs`, compiled here as a module), and one real cross-platform
//! download: the macOS wheel, fetched on this Linux host, has the three files
//! that must stay side by side.

#[allow(dead_code)]
#[path = "../build/wheel.rs"]
mod wheel;

use wheel::{select, Backend, MLX_VERSION};

#[test]
fn linux_defaults_to_the_cpu_wheel() {
    let w = select("linux", "x86_64", false).unwrap();
    assert_eq!((w.dist, w.backend), ("mlx-cpu", Backend::Cpu));
    assert_eq!(w.pip_platform, "manylinux_2_35_x86_64");
    assert_eq!(w.libs, &["libmlx.so"]);
    let w = select("linux", "aarch64", false).unwrap();
    assert_eq!(
        (w.dist, w.pip_platform),
        ("mlx-cpu", "manylinux_2_35_aarch64")
    );
}

#[test]
fn the_cuda_feature_picks_the_cuda_13_wheel() {
    let w = select("linux", "x86_64", true).unwrap();
    assert_eq!((w.dist, w.backend), ("mlx-cuda-13", Backend::Cuda));
    assert!(w
        .files
        .iter()
        .all(|f| f.name.starts_with("mlx_cuda_13-0.32.2-")));
    assert_eq!(
        select("linux", "aarch64", true).unwrap().dist,
        "mlx-cuda-13"
    );
}

#[test]
fn apple_silicon_gets_the_metal_wheel_with_its_side_by_side_files() {
    let w = select("macos", "aarch64", false).unwrap();
    assert_eq!((w.dist, w.backend), ("mlx-metal", Backend::Metal));
    assert_eq!(w.libs, &["libmlx.dylib", "libjaccl.dylib", "mlx.metallib"]);
    assert_eq!(w.files.len(), 3, "macOS 14, 15 and 26 builds are pinned");
}

#[test]
fn unsupported_targets_are_errors_that_say_why() {
    let e = select("macos", "aarch64", true).unwrap_err();
    assert!(e.contains("cuda") && e.contains("Linux"), "{e}");
    let e = select("macos", "x86_64", false).unwrap_err();
    assert!(e.contains("x86_64-macos"), "{e}");
    let e = select("windows", "x86_64", false).unwrap_err();
    assert!(e.contains("no official wheel"), "{e}");
}

#[test]
fn every_pinned_file_matches_its_distribution_and_version() {
    for (os, arch, cuda) in [
        ("linux", "x86_64", false),
        ("linux", "aarch64", false),
        ("linux", "x86_64", true),
        ("linux", "aarch64", true),
        ("macos", "aarch64", false),
    ] {
        let w = select(os, arch, cuda).unwrap();
        let prefix = format!("{}-{MLX_VERSION}-py3-none-", w.dist.replace('-', "_"));
        for f in w.files {
            assert!(f.name.starts_with(&prefix), "{} for {}", f.name, w.dist);
            assert_eq!(f.sha256.len(), 64);
            assert!(f.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert!(w.cache_name.contains(os) && w.cache_name.contains(arch));
    }
}

#[test]
fn a_wheel_with_the_wrong_checksum_is_refused() {
    let w = select("linux", "x86_64", false).unwrap();
    let dir = std::env::temp_dir().join(format!("mlx-sys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join(w.files[0].name);
    std::fs::write(&fake, b"not a wheel").unwrap();
    let e = w.verify(&fake, w.files[0].name).unwrap_err();
    assert!(e.contains("SHA-256") && e.contains("corrupt"), "{e}");
    let e = w
        .verify(&fake, "mlx_cpu-9.9.9-py3-none-any.whl")
        .unwrap_err();
    assert!(e.contains("not one of the pinned"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Downloads the macOS wheel for another platform with pip (into the
/// mlx-rs cache, once), checks its pinned checksum and lists its `mlx/lib`.
#[test]
fn pip_fetches_the_macos_wheel_from_linux() {
    let cache = std::env::var_os("MLX_RS_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("mlx-rs")))
        .expect("a cache dir");
    let w = select("macos", "aarch64", false).unwrap();
    let pinned = w.files[0].name; // pip asks for macosx_14_0_arm64
    let path = cache.join("wheels").join(pinned);
    let path = if path.is_file() && w.verify(&path, pinned).is_ok() {
        path
    } else {
        match w.download("python3", &cache, true) {
            Ok(p) => p,
            Err(e) if e.contains("pip") && std::env::var_os("CI").is_none() => {
                eprintln!("skipping: the package registry is unreachable here: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(path.file_name().unwrap().to_str().unwrap(), pinned);
    let listing = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-l"])
        .arg(&path)
        .output()
        .expect("python3 runs");
    let listing = String::from_utf8_lossy(&listing.stdout);
    for lib in w.libs {
        assert!(
            listing.contains(&format!("mlx/lib/{lib}")),
            "no mlx/lib/{lib}"
        );
    }
    assert!(listing.contains("mlx/include/mlx/mlx.h"));
    assert!(listing.contains("mlx/share/cmake/MLX/MLXConfig.cmake"));
}
