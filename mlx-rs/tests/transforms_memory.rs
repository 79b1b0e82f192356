//! Soak test (ignored by default; run with `cargo test --release -p mlx-rs
//! --test transforms_memory -- --ignored --nocapture`): 100,000
//! `value_and_grad` calls and 100,000 calls of a compiled function, each
//! evaluated, with the process's resident memory and MLX's active memory
//! printed at the start and the end of each loop. Neither may grow: every
//! closure, traced graph and result is freed.

use mlx_rs::ops::{self, Axes};
use mlx_rs::transforms::{compile, value_and_grad};
use mlx_rs::{eval, memory, Array};

const CALLS: usize = 100_000;

/// Resident set size in bytes, from `/proc/self/statm` (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn report(what: &str) -> (usize, usize) {
    let (r, a) = (rss(), memory::active_memory().unwrap());
    println!(
        "{what}: rss {:.1} MiB, active {} bytes",
        r as f64 / 1048576.0,
        a
    );
    (r, a)
}

/// Runs `step` `CALLS` times (after a warm-up) and checks that neither
/// MLX's active memory nor the RSS grew.
fn soak(name: &str, mut step: impl FnMut() -> mlx_rs::Result<()>) {
    for _ in 0..1000 {
        step().unwrap();
    }
    let (r0, a0) = report(&format!("{name} start"));
    for _ in 0..CALLS {
        step().unwrap();
    }
    let (r1, a1) = report(&format!("{name} end"));
    assert!(
        a1 <= a0,
        "{name}: active memory grew from {a0} to {a1} bytes"
    );
    // RSS moves with the allocator's caches; a leak of even 100 bytes per
    // call would show as 10 MB.
    assert!(
        r1 < r0 + 8 * 1048576,
        "{name}: RSS grew from {r0} to {r1} bytes over {CALLS} calls"
    );
}

#[test]
#[ignore = "soak test: 200,000 transform calls"]
fn transforms_do_not_leak() {
    let x = Array::from_slice(&[0.5f32, -1.0, 2.0, 3.0], &[4]).unwrap();
    let w = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]).unwrap();
    let vg = value_and_grad(
        |a: &[Array]| {
            let y = ops::tanh(&ops::multiply(&a[0], &a[1])?)?;
            Ok(vec![ops::sum(&ops::square(&y)?, Axes::All, false)?])
        },
        &[0, 1],
    )
    .unwrap();
    soak("value_and_grad", || {
        let (v, g) = vg.call(&[x.clone(), w.clone()])?;
        eval([&v[0], &g[0], &g[1]])
    });

    let f = compile(
        |a: &[Array]| Ok(vec![ops::exp(&ops::negative(&ops::square(&a[0])?)?)?]),
        false,
    )
    .unwrap();
    soak("compiled", || {
        let y = f.call(std::slice::from_ref(&x))?;
        eval([&y[0]])
    });
}
