//! What MLX reports about devices, backends and itself: `Device::info`
//! (checked against `/proc/cpuinfo` and `uname`, as MLX 0.32.2 reads them,
//! and against Python MLX's `mx.device_info` when a Python with MLX is
//! present), `metal` / `cuda` availability, the versions, the wired limit,
//! and the default and thread-local streams.

use std::process::Command;
use std::sync::Arc;

use mlx_rs::{
    cuda, memory, metal, version, with_stream, Array, Device, DeviceInfoValue, Dtype, Error,
    Stream, ThreadLocalStream,
};

#[test]
fn cpu_info_names_the_cpu_and_its_architecture() {
    let info = Device::cpu().info().unwrap();
    assert_eq!(
        info.keys().collect::<Vec<_>>(),
        ["architecture", "device_name"]
    );
    assert_eq!(info.memory_size(), None);
    if cfg!(target_os = "linux") {
        let arch = Command::new("uname").arg("-m").output().unwrap();
        assert_eq!(
            info.architecture(),
            Some(String::from_utf8_lossy(&arch.stdout).trim())
        );
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(": "))
            .map(|(_, v)| v);
        if let Some(model) = model {
            assert_eq!(info.name(), Some(model));
            assert_eq!(
                info.get("device_name"),
                Some(&DeviceInfoValue::Text(model.to_owned()))
            );
        }
    }
}

#[test]
fn cpu_info_matches_python() {
    let py = std::env::var_os("MLX_RS_PYTHON").unwrap_or_else(|| "/work/venv/bin/python".into());
    let Ok(out) = Command::new(&py)
        .args([
            "-c",
            "import json, mlx.core as mx; print(json.dumps(mx.device_info(mx.cpu)))",
        ])
        .output()
    else {
        eprintln!("no Python with MLX (set MLX_RS_PYTHON): skipped");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let info = Device::cpu().info().unwrap();
    let want = want.as_object().unwrap();
    assert_eq!(want.len(), info.keys().count());
    for (k, v) in want {
        match info.get(k).unwrap() {
            DeviceInfoValue::Text(s) => assert_eq!(v.as_str(), Some(s.as_str()), "{k}"),
            DeviceInfoValue::Size(n) => assert_eq!(v.as_u64(), Some(*n as u64), "{k}"),
        }
    }
}

#[test]
fn backends_and_missing_devices() {
    let gpu = Device::gpu().is_available().unwrap();
    assert_eq!(
        cuda::is_available().unwrap() || metal::is_available().unwrap(),
        gpu
    );
    if !gpu {
        assert_eq!(
            Device::gpu().info().unwrap_err(),
            Error::DeviceUnavailable(Device::gpu())
        );
        assert_eq!(
            Stream::default_gpu().unwrap_err(),
            Error::DeviceUnavailable(Device::gpu())
        );
        assert!(ThreadLocalStream::new(Device::gpu()).is_err());
    }
    if !metal::is_available().unwrap() {
        // Without Metal the path is an Err; captures do nothing.
        let e = metal::metallib_path().unwrap_err();
        assert!(e.to_string().contains("without metal backend"), "{e}");
        metal::start_capture(std::env::temp_dir().join("never.gputrace")).unwrap();
        metal::stop_capture().unwrap();
    }
    assert!(metal::set_metallib_path("a\0b").is_err());
}

#[test]
fn versions() {
    assert_eq!(version::mlx().unwrap(), "0.32.2");
    assert_eq!(version::MLX_BUILT_VERSION, "0.32.2");
    assert_eq!(version::MLX_C_VERSION, "0.7.0");
}

#[test]
fn wired_limit_returns_the_previous_one() {
    if mlx_rs::metal::is_available().unwrap() {
        let before = memory::set_wired_limit(1 << 20).unwrap();
        assert_eq!(memory::set_wired_limit(before).unwrap(), 1 << 20);
    } else {
        // Without Metal MLX wires nothing and answers 0, as Python's
        // mx.set_wired_limit does on Linux.
        assert_eq!(memory::set_wired_limit(1 << 20).unwrap(), 0);
        assert_eq!(memory::set_wired_limit(0).unwrap(), 0);
    }
}

#[test]
fn default_cpu_stream_and_set_as_default() {
    std::thread::spawn(|| {
        let d = Stream::default_cpu().unwrap();
        assert_eq!(d, Stream::default_for(Device::cpu()).unwrap());
        let s = Stream::new(Device::cpu()).unwrap();
        assert_ne!(s, d);
        s.set_as_default().unwrap();
        assert_eq!(Stream::default_cpu().unwrap(), s);
        if Device::default_device().unwrap() == Device::cpu() {
            // The cached current stream follows (this thread only).
            assert_eq!(Stream::current().unwrap(), s);
        }
        let y = Array::ones(&[3], Dtype::Float32).unwrap();
        assert_eq!(y.to_vec::<f32>().unwrap(), [1.0; 3]);
    })
    .join()
    .unwrap();
}

#[test]
fn a_thread_local_stream_is_one_stream_per_thread() {
    let tls = Arc::new(ThreadLocalStream::new(Device::cpu()).unwrap());
    let mine = tls.stream().unwrap();
    assert_eq!(
        tls.stream().unwrap(),
        mine,
        "the same stream on the same thread"
    );
    let names: Vec<String> = (0..8)
        .map(|t| {
            let tls = Arc::clone(&tls);
            std::thread::spawn(move || {
                let s = tls.stream().unwrap();
                for i in 0..50 {
                    let x = Array::full(&[64], (t * 100 + i) as f32).unwrap();
                    let y = with_stream(&s, || ops_sum(&x)).unwrap();
                    assert_eq!(y.item::<f32>().unwrap(), 64.0 * (t * 100 + i) as f32);
                }
                tls.synchronize().unwrap();
                assert_eq!(tls.stream().unwrap(), s);
                s.to_string()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let mut distinct = names.clone();
    distinct.push(mine.to_string());
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 9, "{names:?}");
}

fn ops_sum(x: &Array) -> mlx_rs::Result<Array> {
    mlx_rs::ops::sum(x, mlx_rs::ops::Axes::All, false)
}
