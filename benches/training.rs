//! One training step (value_and_grad, Adam update, eval) of the digits MLP
//! and CNN of `examples/train_digits.rs` on a fixed batch of 32.
//!
//! The cases are `mlx_workspace::bench::CASES` (`training/…`); the Python MLX
//! counterpart is `benches/python/bench_training.py`, and
//! `examples/bench_report.rs` runs both side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use mlx_workspace::bench::Env;

mod common;

fn benches(c: &mut Criterion) {
    common::bench_family(c, "training", &Env::default());
}

criterion_group!(group, benches);
criterion_main!(group);
