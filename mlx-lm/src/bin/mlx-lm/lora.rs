//! `mlx-lm lora`: LoRA / QLoRA fine-tuning as `mlx_lm.lora --train` does
//! (same defaults, data layout, batching, loss and adapter files), and
//! `mlx-lm fuse`: the adapters merged into the model.

use std::path::PathBuf;

use mlx_lm::lora::data::{DataOptions, Dataset};
use mlx_lm::lora::train::{train, Event, TrainOptions};
use mlx_lm::lora::{apply_lora, AdapterConfig, LoraParameters};
use serde_json::{json, Value};

use crate::common::{DeviceArg, ModelArgs};
use crate::BoxError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FineTuneType {
    Lora,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An mlx-lm directory or a GGUF file
    /// [default: SmolLM2-135M-Instruct Q4_1 GGUF, fetched once with pip]
    #[arg(long, short = 'm')]
    model: Option<PathBuf>,
    /// Device
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Train (the only mode so far; required, as in mlx-lm)
    #[arg(long)]
    train: bool,
    /// Directory with train.jsonl (and optionally valid.jsonl)
    #[arg(long)]
    data: PathBuf,
    /// Fine-tuning type
    #[arg(long, value_enum, default_value_t = FineTuneType::Lora)]
    fine_tune_type: FineTuneType,
    /// Blocks to adapt, counted from the last (-1: all)
    #[arg(long, default_value_t = 16, allow_negative_numbers = true)]
    num_layers: i32,
    /// Minibatch size
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Iterations to train for
    #[arg(long, default_value_t = 1000)]
    iters: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 1e-5)]
    learning_rate: f32,
    /// LoRA rank
    #[arg(long, default_value_t = 8)]
    rank: i32,
    /// LoRA scale
    #[arg(long, default_value_t = 20.0)]
    scale: f32,
    /// LoRA dropout
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// No loss on the prompt (completions and chat data)
    #[arg(long)]
    mask_prompt: bool,
    /// Steps between loss reports
    #[arg(long, default_value_t = 10)]
    steps_per_report: usize,
    /// Steps between validations
    #[arg(long, default_value_t = 200)]
    steps_per_eval: usize,
    /// Validation batches (-1: the whole set)
    #[arg(long, default_value_t = 25, allow_negative_numbers = true)]
    val_batches: i64,
    /// Save the adapters every N steps
    #[arg(long, default_value_t = 100)]
    save_every: usize,
    /// Maximum sequence length
    #[arg(long, default_value_t = 2048)]
    max_seq_length: usize,
    /// Where the adapters are written
    #[arg(long, default_value = "adapters")]
    adapter_path: PathBuf,
    /// The PRNG seed (adapter initialisation and batch order)
    #[arg(long, default_value_t = 0)]
    seed: u32,
    /// Print the loss of every step (full precision)
    #[arg(long)]
    print_steps: bool,
}

pub fn run(a: &Args) -> Result<(), BoxError> {
    if !a.train {
        return Err("nothing to do: pass --train".into());
    }
    let (mut model, tokenizer, name) = ModelArgs {
        model: a.model.clone(),
        device: a.device,
        adapter_path: None,
    }
    .load_llama()?;
    let options = DataOptions {
        mask_prompt: a.mask_prompt,
    };
    let train_set = Dataset::load(&a.data.join("train.jsonl"), &tokenizer, options)?;
    let valid_path = a.data.join("valid.jsonl");
    let valid_set = if valid_path.is_file() {
        Some(Dataset::load(&valid_path, &tokenizer, options)?)
    } else {
        eprintln!("Warning: no valid.jsonl: training proceeds without validation.");
        None
    };
    mlx_rs::random::seed(u64::from(a.seed))?;
    let params = LoraParameters {
        rank: a.rank,
        scale: a.scale,
        dropout: a.dropout,
        keys: None,
    };
    let adapted = apply_lora(&mut model, a.num_layers, &params)?;
    let trainable: usize = mlx_lm::lora::adapter_parameters(&model)
        .values()
        .map(mlx_rs::Array::size)
        .sum();
    eprintln!(
        "Trainable parameters: {:.3}M in {} adapters ({} examples, {:?} data)",
        trainable as f64 / 1e6,
        adapted.len(),
        train_set.len(),
        train_set.format,
    );
    let mut config = AdapterConfig::new(a.num_layers, params);
    let extra: Value = json!({
        "model": name,
        "data": a.data,
        "batch_size": a.batch_size,
        "iters": a.iters,
        "learning_rate": a.learning_rate,
        "seed": a.seed,
        "adapter_path": a.adapter_path,
        "max_seq_length": a.max_seq_length,
        "mask_prompt": a.mask_prompt,
        "optimizer": "adam",
        "train": true,
    });
    if let Value::Object(o) = extra {
        config.extra = o;
    }
    let options = TrainOptions {
        batch_size: a.batch_size,
        iters: a.iters,
        learning_rate: a.learning_rate,
        max_seq_length: a.max_seq_length,
        seed: a.seed,
        steps_per_report: a.steps_per_report.max(1),
        steps_per_eval: a.steps_per_eval.max(1),
        val_batches: usize::try_from(a.val_batches).ok(),
        save_every: a.save_every,
    };
    let print_steps = a.print_steps;
    train(
        &mut model,
        &train_set,
        valid_set.as_ref(),
        &options,
        Some((&a.adapter_path, &config)),
        |e| match e {
            Event::Step {
                iteration,
                loss,
                tokens,
            } if print_steps => println!("Step {iteration}: loss {loss:.7}, tokens {tokens}"),
            Event::Report {
                iteration,
                train_loss,
                tokens_per_sec,
                it_per_sec,
                trained_tokens,
            } => println!(
                "Iter {iteration}: Train loss {train_loss:.3}, It/sec {it_per_sec:.3}, \
                 Tokens/sec {tokens_per_sec:.1}, Trained Tokens {trained_tokens}"
            ),
            Event::Validation {
                iteration,
                val_loss,
            } => println!("Iter {iteration}: Val loss {val_loss:.3}"),
            Event::Saved(p) => println!("Saved adapter weights to {}", p.display()),
            _ => {}
        },
    )?;
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct FuseArgs {
    /// The mlx-lm model directory the adapters were trained on
    #[arg(long, short = 'm')]
    model: PathBuf,
    /// The adapters directory (adapter_config.json, adapters.safetensors)
    #[arg(long, default_value = "adapters")]
    adapter_path: PathBuf,
    /// The fused model directory to write
    #[arg(long, default_value = "fused_model")]
    save_path: PathBuf,
    /// Write float weights (dequantize a quantized base)
    #[arg(long)]
    dequantize: bool,
}

pub fn fuse(a: &FuseArgs) -> Result<(), BoxError> {
    if a.save_path.exists() {
        return Err(format!("{}: already exists", a.save_path.display()).into());
    }
    // written under a temporary name, renamed when complete
    let name = a
        .save_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fused_model".into());
    let tmp = a
        .save_path
        .with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = mlx_lm::lora::fuse(&a.model, &a.adapter_path, &tmp, a.dequantize)
        .map_err(BoxError::from)
        .and_then(|r| {
            std::fs::rename(&tmp, &a.save_path)
                .map_err(|e| format!("{}: {e}", a.save_path.display()).into())
                .map(|()| r)
        });
    match result {
        Ok(r) => {
            eprintln!(
                "Fused {} adapters into {}",
                r.fused.len(),
                a.save_path.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}
