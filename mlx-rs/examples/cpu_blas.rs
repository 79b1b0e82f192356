//! Times the float ops that MLX's CPU backend hands to BLAS/LAPACK, to
//! compare builds: `MLX_RS_BLAS=reference` (the wheel's netlib BLAS) against
//! the default (OpenBLAS when installed). Prints which BLAS this binary was
//! built with, then the median of several timed runs of each case.
//!
//! Run: `cargo run -p mlx-rs --release --example cpu_blas [-- ROUNDS]`
//! (`benches/python/cpu_blas.py` runs the same cases in Python MLX and
//! NumPy; numbers are in docs/benchmarks/cpu-blas.md.)

use std::time::Instant;

use mlx_rs::{ops, random, Array, Dtype, Error};

fn normal(shape: &[i32], seed: u64) -> Result<Array, Error> {
    let key = random::key(seed)?;
    let a = random::normal(shape, Dtype::Float32, 0.0, 1.0, Some(&key))?;
    a.eval()?;
    Ok(a)
}

/// Median seconds of `rounds` runs of `f` (each ends in an eval), after one
/// untimed run.
fn median(rounds: usize, mut f: impl FnMut() -> Result<Array, Error>) -> Result<f64, Error> {
    f()?.eval()?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        f()?.eval()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn main() -> Result<(), Error> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    println!("BLAS: {} (mlx_sys::BLAS), {rounds} rounds", mlx_sys::BLAS);
    for (m, k, n) in [(1792, 384, 1536), (1024, 1024, 1024)] {
        let a = normal(&[m, k], 1)?;
        let b = normal(&[k, n], 2)?;
        let t = median(rounds, || ops::matmul(&a, &b))?;
        let gflops = 2.0 * f64::from(m) * f64::from(k) * f64::from(n) / t / 1e9;
        println!(
            "matmul f32 {m}x{k} @ {k}x{n}: {:.2} ms ({gflops:.1} GFLOP/s)",
            t * 1e3
        );
    }
    // LAPACK: sgetrf_ + sgetri_.
    let a = normal(&[512, 512], 3)?;
    let t = median(rounds, || ops::linalg::inv(&a))?;
    println!("linalg inv f32 512x512: {:.2} ms", t * 1e3);
    Ok(())
}
