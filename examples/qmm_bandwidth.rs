//! The memory bandwidth that 4-bit `quantized_matmul` reaches at M = 1
//! (the decode shape), against the device's own copy rate.
//!
//! ```text
//! cargo run --release --example qmm_bandwidth -- --device gpu
//! ```
//!
//! For each 4-bit mode (affine 4/64, mxfp4, nvfp4), a `K × N` weight
//! (default 16384 × 16384) is quantized once; then `--batch` products
//! `x_i [1, K] @ ŵᵀ` with distinct `x_i` are evaluated together, so the
//! kernels run back to back and the time per product is the kernel's, not
//! the launch's. The bytes a product must move are the packed weights,
//! scales, biases, `x` and the output; bandwidth = bytes / time. The
//! reference is an elementwise copy (`x + 0`: one read and one write; MLX's
//! own `copy` of a contiguous array only shares the buffer) of a buffer as
//! large as the packed weights, batched the same way. Medians over `--reps`
//! repetitions. A measurement, so an example, not a test.

use std::time::Instant;

use clap::Parser;
use mlx_rs::quantization::{quantize, quantized_matmul, QuantMode};
use mlx_rs::{random, Array, Dtype};
use mlx_workspace::device::DeviceArg;

/// Bandwidth of 4-bit quantized_matmul at M = 1 vs a device copy.
#[derive(Debug, Parser)]
struct Args {
    /// Device
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Input features (K)
    #[arg(long, default_value_t = 16384)]
    k: i32,
    /// Output features (N)
    #[arg(long, default_value_t = 16384)]
    n: i32,
    /// Products (or copies) per evaluation
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Timed repetitions (the median is reported)
    #[arg(long, default_value_t = 15)]
    reps: usize,
    /// Activation dtype [default: float32 on the CPU, bfloat16 on the GPU]
    #[arg(long)]
    dtype: Option<String>,
}

/// Median seconds of `reps` evaluations of `make()`'s outputs, after one
/// warm-up.
fn time_evals(reps: usize, make: impl Fn() -> mlx_rs::Result<Vec<Array>>) -> mlx_rs::Result<f64> {
    mlx_rs::eval(&make()?)?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let outs = make()?;
        let t = Instant::now();
        mlx_rs::eval(&outs)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let device = args.device.make_default()?;
    let dtype = match args.dtype.as_deref() {
        None if args.device == DeviceArg::Cpu => Dtype::Float32,
        None => Dtype::Bfloat16,
        Some("float32") => Dtype::Float32,
        Some("float16") => Dtype::Float16,
        Some("bfloat16") => Dtype::Bfloat16,
        Some(other) => {
            return Err(format!("--dtype {other}: not float32, float16 or bfloat16").into())
        }
    };
    let (k, n, batch) = (args.k, args.n, args.batch);
    let key = random::key(0)?;
    let w = random::normal(&[n, k], dtype, 0.0, 1.0, Some(&key))?;
    let xs: Vec<Array> = (0..batch)
        .map(|i| random::normal(&[1, k], dtype, 0.0, 1.0, Some(&random::key(1 + i as u64)?)))
        .collect::<mlx_rs::Result<_>>()?;
    mlx_rs::eval(xs.iter().chain([&w]))?;

    println!(
        "device: {device:?}; K = {k}, N = {n}, M = 1, activations {dtype}; {batch} per evaluation, median of {} repetitions",
        args.reps
    );
    println!("| kernel | bytes moved per call | time per call | bandwidth |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, bytes: usize, secs: f64| {
        println!(
            "| {name} | {:.1} MiB | {:.1} µs | {:.0} GB/s |",
            bytes as f64 / (1 << 20) as f64,
            secs * 1e6,
            bytes as f64 / secs / 1e9
        );
        bytes as f64 / secs
    };

    // The reference: device copies of a buffer as large as the 4-bit
    // weights (K·N/2 bytes), each reading and writing it once.
    let elems = (i64::from(k) * i64::from(n) / 2 / 4) as i32; // float32 elements
    let src: Vec<Array> = (0..batch)
        .map(|i| Array::full(&[elems], i as f32))
        .collect::<mlx_rs::Result<_>>()?;
    mlx_rs::eval(&src)?;
    let zero = Array::scalar(0.0f32)?;
    let copy_secs =
        time_evals(args.reps, || src.iter().map(|s| s + &zero).collect())? / batch as f64;
    let copy_rate = row(
        "device copy (x + 0: read + write)",
        2 * src[0].nbytes(),
        copy_secs,
    );
    drop(src);

    for (name, mode) in [
        ("affine 4-bit, g64", QuantMode::affine(4, 64)?),
        ("mxfp4", QuantMode::Mxfp4),
        ("nvfp4", QuantMode::Nvfp4 { global_scale: None }),
    ] {
        let q = quantize(&w, mode)?;
        mlx_rs::eval([&q.weights, &q.scales].into_iter().chain(q.biases.as_ref()))?;
        let out = quantized_matmul(&xs[0], &q, true)?;
        out.eval()?;
        let bytes = q.weights.nbytes()
            + q.scales.nbytes()
            + q.biases.as_ref().map_or(0, Array::nbytes)
            + xs[0].nbytes()
            + out.nbytes();
        let secs = time_evals(args.reps, || {
            xs.iter().map(|x| quantized_matmul(x, &q, true)).collect()
        })? / batch as f64;
        let rate = row(&format!("quantized_matmul, {name}"), bytes, secs);
        println!(
            "|   ↳ share of the copy rate | | | {:.0} % |",
            100.0 * rate / copy_rate
        );
    }
    Ok(())
}
