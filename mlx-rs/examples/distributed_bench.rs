//! `all_sum` over MLX's ring backend: time per call against message size.
//!
//! Run under a launcher (rank 0 prints one JSON line per size):
//!
//! ```text
//! cargo build --release -p mlx-rs --example distributed_bench
//! mlx.launch --backend ring -n 2 -- target/release/examples/distributed_bench
//! ```
//!
//! `scripts/bench_distributed.py` runs it and the Python twin
//! (`benches/python/bench_distributed.py`, same sizes and protocol) side by
//! side and writes `docs/benchmarks/distributed-allsum.{md,svg,json}`.
//! Protocol: for each size (float32, 1 KiB to 64 MiB), 2 untimed calls,
//! then `samples` timed calls (each `all_sum` + eval); the median.

use std::time::Instant;

use mlx_rs::distributed::{all_sum, Backend, Group};
use mlx_rs::{Array, Dtype};

fn main() -> mlx_rs::Result<()> {
    let g = Group::init(Backend::Ring, true)?;
    for log2 in (10..=26).step_by(2) {
        let bytes = 1usize << log2;
        let x = Array::ones(&[(bytes / 4) as i32], Dtype::Float32)?;
        x.eval()?;
        let samples = if bytes >= 1 << 24 { 5 } else { 15 };
        for _ in 0..2 {
            all_sum(&x, &g)?.eval()?;
        }
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let t = Instant::now();
            all_sum(&x, &g)?.eval()?;
            times.push(t.elapsed().as_nanos() as u64);
        }
        times.sort_unstable();
        if g.rank() == 0 {
            println!(
                "{{\"impl\": \"rust\", \"ranks\": {}, \"bytes\": {bytes}, \"median_ns\": {}, \"samples_ns\": {times:?}}}",
                g.size(),
                times[times.len() / 2]
            );
        }
    }
    Ok(())
}
