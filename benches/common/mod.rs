//! Runs the shared cases of one family (`mlx_workspace::bench::CASES`)
//! under criterion. The side-by-side comparison with Python MLX and mlx-c
//! is `examples/bench_report.rs`; these benches are for `cargo bench`.

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use mlx_workspace::bench::{self, Env};

/// Benchmarks every case whose name starts with `family/`. A case that
/// cannot be set up (no model, no network) is reported and skipped.
pub fn bench_family(c: &mut Criterion, family: &str, env: &Env) {
    let mut group = c.benchmark_group(family);
    for spec in bench::CASES
        .iter()
        .filter(|s| s.name.split('/').next() == Some(family))
    {
        let mut case = match bench::build(spec.name, env) {
            Ok(case) => case,
            Err(e) => {
                eprintln!("skipping {}: {e}", spec.name);
                continue;
            }
        };
        // Slow cases (one call per timed batch in the runner) take
        // criterion's fewest samples, each of the same size.
        if spec.full.batch == 1 {
            group
                .sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(5));
        } else {
            group
                .sample_size(30)
                .sampling_mode(SamplingMode::Auto)
                .warm_up_time(Duration::from_secs(2))
                .measurement_time(Duration::from_secs(5));
        }
        let id = spec.name.split_once('/').map_or(spec.name, |(_, id)| id);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                case.reset().expect("reset");
                let start = Instant::now();
                for _ in 0..iters {
                    case.run().expect("run");
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}
