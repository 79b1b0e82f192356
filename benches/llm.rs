//! SmolLM2-135M through mlx-lm: greedy decode steps after a 32-token
//! prompt, and the 128-token prefill, with the model quantized affine 4/64
//! and its float parts in f32.
//!
//! The model directory is `$MLX_BENCH_MODEL_DIR`, else the one the runner
//! uses (`mlx_workspace::bench::smollm2_bench_dir`: fetched with pip and
//! converted the first time). The Python MLX counterpart is
//! `benches/python/bench_llm.py`; `examples/bench_report.rs` runs both side
//! by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::{smollm2_bench_dir, Env};

mod common;

fn benches(c: &mut Criterion) {
    let explicit = std::env::var_os("MLX_BENCH_MODEL_DIR").map(std::path::PathBuf::from);
    match smollm2_bench_dir(explicit.as_deref(), true) {
        Ok(dir) => common::bench_family(
            c,
            "llm",
            &Env {
                model_dir: Some(dir),
            },
        ),
        Err(e) => eprintln!("skipping the llm benches: no model ({e})"),
    }
}

criterion_group!(group, benches);
criterion_main!(group);
