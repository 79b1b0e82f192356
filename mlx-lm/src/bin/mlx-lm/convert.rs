//! `mlx-lm convert`: a GGUF model into an mlx-lm directory, re-quantized in
//! any MLX mode or dequantized to float. The directory is written under a
//! temporary name and renamed when complete, so a failed run leaves
//! nothing half-written.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use mlx_lm::convert::{convert_gguf, load_gguf_float, ConvertOptions};
use mlx_rs::quantization::QuantMode;
use mlx_rs::Dtype;

use crate::BoxError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Affine,
    Mxfp4,
    Mxfp8,
    Nvfp4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FloatDtype {
    Bfloat16,
    Float16,
    Float32,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The GGUF file [default: SmolLM2-135M-Instruct Q4_1, fetched with pip]
    #[arg(long, short = 'm')]
    model: Option<PathBuf>,
    /// The mlx-lm directory to write
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Quantization mode
    #[arg(long, value_enum, default_value_t = Mode::Affine)]
    q_mode: Mode,
    /// Bits per weight (affine: 2, 3, 4, 5, 6, 8; fixed for the fp modes)
    #[arg(long)]
    q_bits: Option<i32>,
    /// Weights per group (affine: 32, 64, 128 [default 64]; fixed for the fp modes)
    #[arg(long)]
    q_group_size: Option<i32>,
    /// Write float weights instead of quantized ones
    #[arg(long, conflicts_with_all = ["q_bits", "q_group_size"])]
    dequantize: bool,
    /// Dtype of the float weights and of affine scales and biases
    #[arg(long, value_enum, default_value_t = FloatDtype::Bfloat16)]
    dtype: FloatDtype,
    /// Replace --out if it exists
    #[arg(long)]
    force: bool,
    /// No progress bar
    #[arg(long)]
    quiet: bool,
}

fn mode(args: &Args) -> Result<QuantMode, mlx_rs::Error> {
    let name = match args.q_mode {
        Mode::Affine => "affine",
        Mode::Mxfp4 => "mxfp4",
        Mode::Mxfp8 => "mxfp8",
        Mode::Nvfp4 => "nvfp4",
    };
    QuantMode::from_parts(name, args.q_group_size, args.q_bits)
}

fn dtype(d: FloatDtype) -> Dtype {
    match d {
        FloatDtype::Bfloat16 => Dtype::Bfloat16,
        FloatDtype::Float16 => Dtype::Float16,
        FloatDtype::Float32 => Dtype::Float32,
    }
}

/// Writes the float model of `gguf` into `dir`.
fn write_float(gguf: &Path, dir: &Path, dtype: Dtype) -> Result<(), BoxError> {
    let (model, tokenizer) = load_gguf_float(gguf, dtype)?;
    let mut json = serde_json::to_value(&model.config)?;
    if let serde_json::Value::Object(o) = &mut json {
        o.insert(
            "architectures".into(),
            serde_json::json!(["LlamaForCausalLM"]),
        );
        o.insert("torch_dtype".into(), dtype.name().into());
        if let Some(b) = tokenizer.bos_id() {
            o.insert("bos_token_id".into(), b.into());
        }
        if let Some(&e) = tokenizer.eos_ids().first() {
            o.insert("eos_token_id".into(), e.into());
        }
    }
    mlx_rs::nn::mlx_lm::save_model(&model, dir, &json, None)?;
    tokenizer.save(dir)?;
    Ok(())
}

pub fn run(args: &Args) -> Result<(), BoxError> {
    let mode = mode(args)?;
    let gguf = match &args.model {
        Some(p) if p.is_dir() => {
            return Err(format!(
                "{}: converting an mlx-lm directory is not supported yet (give a GGUF file)",
                p.display()
            )
            .into())
        }
        Some(p) if !p.is_file() => {
            return Err(format!("{}: no such file", p.display()).into());
        }
        Some(p) => p.clone(),
        None => mlx_lm::models::smollm2_gguf()?,
    };
    if args.out.exists() && !args.force {
        return Err(format!("{} exists (--force to replace it)", args.out.display()).into());
    }
    let name = args
        .out
        .file_name()
        .ok_or_else(|| format!("{}: not a directory name", args.out.display()))?;
    let tmp = args.out.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = convert_into(args, &gguf, &tmp, mode);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if args.out.exists() {
        std::fs::remove_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    }
    std::fs::rename(&tmp, &args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn convert_into(args: &Args, gguf: &Path, tmp: &Path, mode: QuantMode) -> Result<(), BoxError> {
    if args.dequantize {
        return write_float(gguf, tmp, dtype(args.dtype));
    }
    let options = ConvertOptions {
        mode,
        dtype: dtype(args.dtype),
        progress: !args.quiet,
    };
    let r = convert_gguf(gguf, tmp, &options)?;
    eprintln!(
        "converted in {:.1} s: {} tensors quantized ({mode:?}), {} float, {:.1} MB",
        r.seconds,
        r.quantized,
        r.float,
        r.bytes as f64 / 1e6
    );
    Ok(())
}
