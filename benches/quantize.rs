//! Quantize and dequantize `[4096, 4096]` f32 (affine 4/64, mxfp4, nvfp4).
//!
//! The cases are `mlx_workspace::bench::CASES` (`quantize/…`); the Python MLX
//! counterpart is `benches/python/bench_quantize.py`, and
//! `examples/bench_report.rs` runs both side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::Env;

mod common;

fn benches(c: &mut Criterion) {
    common::bench_family(c, "quantize", &Env::default());
}

criterion_group!(group, benches);
criterion_main!(group);
