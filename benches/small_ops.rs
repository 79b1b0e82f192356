//! One small op, then eval: `[4]` f32 add and `[64, 64]` f32 matmul.
//!
//! The cases are `mlx_workspace::bench::CASES` (`small_ops/…`); the Python MLX
//! counterpart is `benches/python/bench_small_ops.py`, and
//! `examples/bench_report.rs` runs both side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::Env;

mod common;

fn benches(c: &mut Criterion) {
    common::bench_family(c, "small_ops", &Env::default());
}

criterion_group!(group, benches);
criterion_main!(group);
