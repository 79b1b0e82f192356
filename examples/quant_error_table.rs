//! Measures how much each MLX quantization mode loses on N(0, 1) weights:
//! the relative error ‖w − ŵ‖ / ‖w‖ of `dequantize(quantize(w))`, and the
//! storage per weight. This produces the table in `docs/quantization.md`.
//!
//! ```text
//! cargo run --release --example quant_error_table [rows cols seed]
//! ```
//!
//! The weights come from a fixed-seed generator (SplitMix64 + Box–Muller),
//! so the table is reproducible; they are `f32`, and the bits per weight
//! are given for `bf16`/`f16` weights (affine scales and biases take the
//! weights' dtype; `f32` weights add 32/group bits more).

use mlx_rs::quantization::{quantize, AffineBits, GroupSize, QuantMode};
use mlx_rs::{Array, Dtype};

/// SplitMix64: a small, well-mixed, seedable generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal pairs (Box–Muller).
    fn normal_pair(&mut self) -> (f64, f64) {
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let t = std::f64::consts::TAU * v;
        (r * t.cos(), r * t.sin())
    }
}

fn main() -> mlx_rs::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments: rows cols seed"))
        .collect();
    let (rows, cols, seed) = match args[..] {
        [r, c, s] => (r, c, s as u64),
        [] => (256, 4096, 0),
        _ => panic!("arguments: rows cols seed"),
    };
    assert_eq!(cols % 128, 0, "cols must be a multiple of 128");

    let mut rng = SplitMix64(seed);
    let mut data = Vec::with_capacity(rows * cols);
    while data.len() < rows * cols {
        let (a, b) = rng.normal_pair();
        data.push(a as f32);
        data.push(b as f32);
    }
    data.truncate(rows * cols);
    let w = Array::from_slice(&data, &[rows as i32, cols as i32])?;
    let amax = data.iter().fold(0.0f32, |m, x| m.max(x.abs()));

    let mut modes = Vec::new();
    for bits in AffineBits::ALL {
        for group_size in GroupSize::ALL {
            modes.push(QuantMode::Affine { bits, group_size });
        }
    }
    modes.push(QuantMode::Mxfp4);
    modes.push(QuantMode::Mxfp8);
    modes.push(QuantMode::Nvfp4 { global_scale: None });
    // MLX's nvfp4 global scale is the encode factor 448 · 6 / max|w|
    modes.push(QuantMode::Nvfp4 {
        global_scale: Some(448.0 * 6.0 / amax),
    });

    println!("N(0, 1) weights, {rows} × {cols}, seed {seed}, f32; MLX on the default device\n");
    println!(
        "| mode | bits | group | bits/weight (bf16) | relative error ‖w − ŵ‖/‖w‖ | max |w − ŵ| |"
    );
    println!(
        "|------|-----:|------:|-------------------:|---------------------------:|------------:|"
    );
    for mode in modes {
        let q = quantize(&w, mode)?;
        let w_hat = q.dequantize(Some(Dtype::Float32))?.to_vec::<f32>()?;
        let (mut err2, mut norm2, mut max_err) = (0.0f64, 0.0f64, 0.0f64);
        for (&a, &b) in data.iter().zip(&w_hat) {
            let d = f64::from(a) - f64::from(b);
            err2 += d * d;
            norm2 += f64::from(a) * f64::from(a);
            max_err = max_err.max(d.abs());
        }
        let name = match mode {
            QuantMode::Nvfp4 {
                global_scale: Some(_),
            } => "nvfp4 + global scale".to_owned(),
            other => other.name().to_owned(),
        };
        println!(
            "| {name} | {} | {} | {:.3} | {:.4} | {:.4} |",
            mode.bits(),
            mode.group_size(),
            mode.bits_per_weight(Dtype::Bfloat16),
            (err2 / norm2).sqrt(),
            max_err,
        );
    }
    Ok(())
}
