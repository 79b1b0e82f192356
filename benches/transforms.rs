//! Function transforms: the gradient of a 2-layer MLP, and an elementwise
//! chain of 100 ops plain and compiled.
//!
//! The cases are `mlx_workspace::bench::CASES` (`transforms/…`); the Python
//! MLX counterpart is `benches/python/bench_transforms.py`, and
//! `examples/bench_report.rs` runs both side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::Env;

mod common;

fn benches(c: &mut Criterion) {
    common::bench_family(c, "transforms", &Env::default());
}

criterion_group!(group, benches);
criterion_main!(group);
