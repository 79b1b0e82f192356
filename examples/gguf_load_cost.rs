//! How long loading the SmolLM2-135M-Instruct GGUF takes and how much
//! memory it needs: wall time of `load_gguf` + eval (first and again, with
//! the page cache warm), the header validation alone, MLX's peak memory and
//! the process's peak RSS. A measurement, so an example, not a test.
//!
//! Run: `cargo run --release --example gguf_load_cost`

use std::time::Instant;

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let path = match mlx_workspace::models::smollm2_gguf() {
        Ok(p) => p,
        Err(mlx_workspace::models::FetchError::Unreachable(m)) => {
            eprintln!("cannot fetch the model (registry unreachable): {m}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    // Start MLX (allocator, default stream) before the baseline.
    mlx_rs::Array::zeros(&[1], mlx_rs::Dtype::Float32)
        .unwrap()
        .eval()
        .unwrap();
    mlx_rs::memory::reset_peak_memory().unwrap();
    let rss_before = vm_hwm_kib();
    let t = Instant::now();
    let g = mlx_rs::io::load_gguf(&path).unwrap();
    mlx_rs::eval(g.arrays.values()).unwrap();
    let t_first = t.elapsed();
    let rss_after = vm_hwm_kib();
    let peak = mlx_rs::memory::peak_memory().unwrap();
    drop(g);
    // Again, with MLX's buffer cache and the page cache warm.
    let t = Instant::now();
    let inspect = mlx_rs::io::inspect_gguf(&path).unwrap();
    let t_inspect = t.elapsed();
    let g = mlx_rs::io::load_gguf(&path).unwrap();
    mlx_rs::eval(g.arrays.values()).unwrap();
    let t_total = t.elapsed();
    let bytes: usize = g.arrays.values().map(|a| a.nbytes()).sum();
    eprintln!(
        "SmolLM2 GGUF {} bytes, {} tensors in the file, {} arrays loaded ({} bytes)",
        std::fs::metadata(&path).unwrap().len(),
        inspect.tensors.len(),
        g.arrays.len(),
        bytes
    );
    eprintln!(
        "load_gguf + eval: first {:.1} ms, again {:.1} ms (of which header validation {:.1} ms)",
        t_first.as_secs_f64() * 1e3,
        t_total.as_secs_f64() * 1e3,
        t_inspect.as_secs_f64() * 1e3
    );
    eprintln!(
        "MLX peak memory {:.1} MB; process peak RSS {:?} KiB before, {:?} KiB after the first load",
        peak as f64 / 1e6,
        rss_before,
        rss_after
    );
}
