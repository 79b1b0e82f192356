//! The quality table of the docs: for each quantization mode, the mean
//! log-likelihood of a fixed paragraph under SmolLM2-135M-Instruct
//! converted natively from its GGUF file, against the GGUF weights
//! themselves (dequantized, in float32), and the size on disk.
//!
//! Run: `cargo run --release --example quant_quality`

use std::time::Instant;

use mlx_lm::convert::{convert_gguf, load_gguf_float, ConvertOptions};
use mlx_lm::{models, Llama};
use mlx_rs::quantization::QuantMode;
use mlx_rs::{Device, Dtype};

/// The scored text (not from the model's training data as far as we know;
/// any fixed paragraph will do).
const PARAGRAPH: &str = "The lighthouse stood at the end of a narrow spit of rock, \
and for most of the year its keeper saw no one but the supply boat that came on the \
first Monday of every month. She kept a logbook of the weather, the ships that passed, \
and the birds that rested on the railing during storms. Over twenty years the entries \
grew shorter, but she never missed a day. When the light was finally automated, she \
donated the logbooks to the town library, where they are still read by students who \
want to know how the coast has changed.";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    Device::cpu().set_as_default()?;
    let gguf = models::smollm2_gguf()?;
    let (base, tokenizer) = load_gguf_float(&gguf, Dtype::Float32)?;
    let ids = tokenizer.encode(PARAGRAPH, true)?;
    let base_ll = base.mean_log_likelihood(&ids)?;
    let gguf_mb = std::fs::metadata(&gguf)?.len() as f64 / 1e6;
    drop(base);
    println!("{} tokens scored\n", ids.len());
    println!("| weights | bits/weight (linear layers) | mean log-likelihood | Δ vs GGUF | perplexity | size on disk |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| GGUF Q4_1 (Q8_0 embedding), dequantized | 5.0 | {base_ll:.4} | — | {:.2} | {gguf_mb:.1} MB |",
        (-base_ll).exp()
    );
    let modes: Vec<(String, QuantMode)> = vec![
        ("affine 2-bit, g64".into(), QuantMode::affine(2, 64)?),
        ("affine 3-bit, g64".into(), QuantMode::affine(3, 64)?),
        (
            "affine 4-bit, g64 (default)".into(),
            QuantMode::affine(4, 64)?,
        ),
        ("affine 4-bit, g32".into(), QuantMode::affine(4, 32)?),
        ("affine 8-bit, g64".into(), QuantMode::affine(8, 64)?),
        ("mxfp4".into(), QuantMode::Mxfp4),
        ("mxfp8".into(), QuantMode::Mxfp8),
        ("nvfp4".into(), QuantMode::Nvfp4 { global_scale: None }),
    ];
    let root = std::env::temp_dir().join(format!("mlx-lm-quality-{}", std::process::id()));
    for (name, mode) in modes {
        let start = Instant::now();
        let dir = root.join(mode.name());
        let options = ConvertOptions {
            mode,
            progress: false,
            ..ConvertOptions::default()
        };
        let report = convert_gguf(&gguf, &dir, &options)?;
        let model = Llama::load_as(&dir, Some(Dtype::Float32))?;
        let ll = model.mean_log_likelihood(&ids)?;
        println!(
            "| {name} | {:.2} | {ll:.4} | {:+.4} | {:.2} | {:.1} MB |",
            mode.bits_per_weight(Dtype::Bfloat16),
            ll - base_ll,
            (-ll).exp(),
            report.bytes as f64 / 1e6
        );
        eprintln!("  ({name}: {:.1} s)", start.elapsed().as_secs_f64());
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
