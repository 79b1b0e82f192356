//! Graph-building cost per op: a chain of 100 small adds, built and never
//! evaluated, through mlx-rs (the shared case
//! `graph_building/add_chain_100`) and straight through mlx-sys (what the
//! safe layer costs on top). Per-op cost = reported time / 100.
//!
//! The Python MLX counterpart is `benches/python/bench_graph_building.py`,
//! the C one (mlx-c alone, the binding's floor) `benches/c/graph_building.c`;
//! `examples/bench_report.rs` runs all three side by side.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mlx_workspace::bench::{Env, CHAIN};

mod common;

fn add_chains(c: &mut Criterion) {
    common::bench_family(c, "graph_building", &Env::default());

    let ones = mlx_rs::Array::ones(&[4], mlx_rs::Dtype::Float32).expect("ones");
    let stream = mlx_rs::Stream::current().expect("stream");
    let mut group = c.benchmark_group("graph_building");
    group.throughput(Throughput::Elements(CHAIN as u64));
    group.bench_function("mlx-sys add_chain_100", |bench| {
        bench.iter(|| raw_chain(&ones, &stream));
    });
    group.finish();
}

/// The chain straight through mlx-sys.
fn raw_chain(b: &mlx_rs::Array, stream: &mlx_rs::Stream) -> mlx_rs::Array {
    // SAFETY: `b` and `stream` are live handles for the whole loop; each
    // intermediate handle is freed once, after the next op has taken its own
    // reference; the last one is handed to `Array::from_raw`, which owns it.
    unsafe {
        let mut x = mlx_sys::mlx_array_new();
        mlx_sys::mlx_array_set(&mut x, b.as_raw());
        for _ in 0..CHAIN {
            let mut y = mlx_sys::mlx_array_new();
            let status = mlx_sys::mlx_add(&mut y, x, b.as_raw(), stream.as_raw());
            assert_eq!(status, 0);
            mlx_sys::mlx_array_free(x);
            x = y;
        }
        mlx_rs::Array::from_raw(x)
    }
}

criterion_group!(benches, add_chains);
criterion_main!(benches);
