//! Graph-building cost per op: a chain of small adds, built and never
//! evaluated, through mlx-rs and through mlx-c directly (the binding's
//! floor). `benches/python/graph_building.py` measures the same in Python
//! MLX. Per-op cost = reported time / CHAIN.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mlx_rs::{Array, Dtype};

/// Adds per measured iteration.
const CHAIN: usize = 100;

fn mlx_rs_chain(c: &mut Criterion) {
    let b = Array::ones(&[4], Dtype::Float32).expect("ones");
    let mut group = c.benchmark_group("graph_building");
    group.throughput(Throughput::Elements(CHAIN as u64));
    group.bench_function("mlx-rs add chain (100)", |bench| {
        bench.iter_batched(
            || b.clone(),
            |mut x| {
                for _ in 0..CHAIN {
                    x = (&x + &b).expect("add");
                }
                x
            },
            BatchSize::SmallInput,
        )
    });
    let stream = mlx_rs::Stream::current().expect("stream");
    group.bench_function("mlx-c add chain (100)", |bench| {
        bench.iter(|| raw_chain(&b, &stream));
    });
    group.finish();
}

/// The same chain straight through mlx-sys: what the safe layer costs on top.
fn raw_chain(b: &Array, stream: &mlx_rs::Stream) -> Array {
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
        Array::from_raw(x)
    }
}

criterion_group!(benches, mlx_rs_chain);
criterion_main!(benches);
