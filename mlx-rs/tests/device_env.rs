//! `MLX_RS_DEFAULT_DEVICE` picks MLX's default device at initialisation.
//! Each case re-runs this test binary as a child with the variable set and
//! reads what the child's `probe` test reports.

use mlx_rs::{Device, DeviceType, DEFAULT_DEVICE_ENV};

/// Run by the parent in a child process only (hence ignored in a normal
/// run): prints the default device.
#[test]
#[ignore = "runs in the child process of the tests below"]
fn probe() {
    assert!(
        std::env::var_os("MLX_RS_DEVICE_ENV_CHILD").is_some(),
        "run only as a child"
    );
    let d = Device::default_device().unwrap();
    println!("DEFAULT={:?}", d.kind());
}

/// Runs `probe` with `DEFAULT_DEVICE_ENV=value`; returns (stdout, stderr).
fn child(value: &str) -> (String, String) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "probe",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MLX_RS_DEVICE_ENV_CHILD", "1")
        .env(DEFAULT_DEVICE_ENV, value)
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cpu_selects_the_cpu() {
    let (stdout, _) = child("cpu");
    assert!(
        stdout.contains(&format!("DEFAULT={:?}", DeviceType::Cpu)),
        "{stdout}"
    );
}

#[test]
fn gpu_selects_the_gpu_where_there_is_one_and_warns_otherwise() {
    let (stdout, stderr) = child("gpu");
    if Device::gpu().is_available().unwrap() {
        assert!(
            stdout.contains(&format!("DEFAULT={:?}", DeviceType::Gpu)),
            "{stdout}"
        );
    } else {
        assert!(stderr.contains("not available"), "{stderr}");
        assert!(
            stdout.contains(&format!("DEFAULT={:?}", DeviceType::Cpu)),
            "{stdout}"
        );
    }
}

#[test]
fn an_unknown_value_is_ignored_with_a_warning() {
    let (stdout, stderr) = child("tpu");
    assert!(
        stderr.contains("ignoring MLX_RS_DEFAULT_DEVICE=\"tpu\""),
        "{stderr}"
    );
    assert!(stdout.contains("DEFAULT="), "{stdout}");
}
