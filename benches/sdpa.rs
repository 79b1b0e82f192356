//! Scaled dot-product attention in f32 with GQA at decode (Tq = 1) and prefill (Tq = 512) shapes.
//!
//! The cases are `mlx_workspace::bench::CASES` (`sdpa/…`); the Python MLX
//! counterpart is `benches/python/bench_sdpa.py`, and
//! `examples/bench_report.rs` runs both side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::Env;

mod common;

fn benches(c: &mut Criterion) {
    common::bench_family(c, "sdpa", &Env::default());
}

criterion_group!(group, benches);
criterion_main!(group);
