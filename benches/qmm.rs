//! `quantized_matmul` of `[M, 4096]` f32 with `[4096, 4096]` affine 4/64 weights, M = 1 and 32.
//!
//! The cases are `mlx_workspace::bench::CASES` (`qmm/…`); the Python MLX
//! counterpart is `benches/python/bench_qmm.py`, and
//! `examples/bench_report.rs` runs both side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::Env;

mod common;

fn benches(c: &mut Criterion) {
    common::bench_family(c, "qmm", &Env::default());
}

criterion_group!(group, benches);
criterion_main!(group);
