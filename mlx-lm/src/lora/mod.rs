//! LoRA and QLoRA fine-tuning of a [`Llama`], interchangeable with Python
//! mlx-lm 0.32.2 (`mlx_lm.lora`, `mlx_lm.fuse`):
//!
//! - [`apply_lora`]: [`LoraLinear`] adapters on the chosen projections of
//!   the last `num_layers` blocks (mlx-lm's `linear_to_lora_layers`, with
//!   its initialisation order, so a seed gives Python's initial adapters);
//! - [`save_adapters`] / [`load_adapters`]: `adapter_config.json` and
//!   `adapters.safetensors` as mlx-lm writes and reads them;
//! - [`fuse`]: adapters merged into the base weights (re-quantized or not),
//!   saved as an mlx-lm model directory;
//! - [`data`]: the jsonl formats and mlx-lm's batching;
//! - [`train`](mod@train): the masked cross-entropy loss and the training
//!   loop (Adam).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mlx_rs::nn::lora::is_adapter_parameter;
use mlx_rs::nn::{LinearLayer, LoraLinear, Module};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::llama::Llama;

pub mod data;
pub mod train;

/// The adapter file name mlx-lm uses.
pub const ADAPTERS_FILE: &str = "adapters.safetensors";
/// The adapter configuration file name mlx-lm uses.
pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";

/// The projections of a Llama block in the order mlx-lm's
/// `named_modules()` visits them (the order its adapters draw their
/// random initialisation in).
pub const LLAMA_KEYS: [&str; 7] = [
    "mlp.up_proj",
    "mlp.down_proj",
    "mlp.gate_proj",
    "self_attn.o_proj",
    "self_attn.v_proj",
    "self_attn.k_proj",
    "self_attn.q_proj",
];

fn default_rank() -> i32 {
    8
}
fn default_scale() -> f32 {
    20.0
}

/// mlx-lm's `lora_parameters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraParameters {
    /// The rank `r`.
    #[serde(default = "default_rank")]
    pub rank: i32,
    /// The scale of the update.
    #[serde(default = "default_scale")]
    pub scale: f32,
    /// Dropout on the adapter input.
    #[serde(default)]
    pub dropout: f32,
    /// The projections to adapt (paths inside a block, such as
    /// `self_attn.q_proj`); all of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

impl Default for LoraParameters {
    fn default() -> Self {
        LoraParameters {
            rank: default_rank(),
            scale: default_scale(),
            dropout: 0.0,
            keys: None,
        }
    }
}

fn default_fine_tune_type() -> String {
    "lora".into()
}

/// `adapter_config.json`: what [`load_adapters`] needs (the fine-tune
/// type, the number of layers, the LoRA parameters), and every other key
/// mlx-lm writes there (the training arguments), kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterConfig {
    /// `"lora"` (`"dora"` and `"full"` are mlx-lm's others, not supported).
    #[serde(default = "default_fine_tune_type")]
    pub fine_tune_type: String,
    /// Blocks adapted, counted from the last (`-1`: all).
    pub num_layers: i32,
    /// Rank, scale, dropout, keys.
    pub lora_parameters: LoraParameters,
    /// The other keys.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AdapterConfig {
    /// A configuration for `num_layers` blocks.
    pub fn new(num_layers: i32, lora_parameters: LoraParameters) -> Self {
        AdapterConfig {
            fine_tune_type: default_fine_tune_type(),
            num_layers,
            lora_parameters,
            extra: Map::new(),
        }
    }

    /// Reads `dir/adapter_config.json`.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read; [`Error::Config`] when it is not
    /// JSON or lacks `num_layers` / `lora_parameters`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(ADAPTER_CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::config(path.display().to_string(), e.to_string()))
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename, so that `path` is either the old file or the whole new
/// one.
fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // MLX appends `.safetensors` to a safetensors path without it: keep the
    // extension last.
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_owned(), format!(".{e}")),
        None => (name.clone(), String::new()),
    };
    let tmp = path.with_file_name(format!(".{stem}.tmp-{}{ext}", std::process::id()));
    let result =
        write(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The blocks `num_layers` selects, as Python's
/// `model.layers[-max(num_layers, 0):]` (0 and negative: all).
///
/// # Errors
/// [`Error::Config`] when `num_layers` exceeds the model's blocks.
fn selected_blocks(model: &Llama, num_layers: i32) -> Result<std::ops::Range<usize>> {
    let n = model.model.layers.len();
    if num_layers > n as i32 {
        return Err(Error::config(
            "num_layers",
            format!("{num_layers} layers requested but the model has {n}"),
        ));
    }
    let k = if num_layers <= 0 {
        n
    } else {
        num_layers as usize
    };
    Ok(n - k..n)
}

/// Puts a [`LoraLinear`] on each projection `params.keys` names (all seven
/// when `None`) of the last `num_layers` blocks, as mlx-lm's
/// `linear_to_lora_layers`: blocks in order, projections in
/// [`LLAMA_KEYS`] order, each `lora_a` drawn from MLX's default key (seed
/// it with [`mlx_rs::random::seed`] for mlx-lm's initialisation). Returns
/// the adapted paths.
///
/// # Errors
/// [`Error::Config`] for `num_layers` above the model's blocks, a key that
/// is not a projection, or a layer that already has an adapter; as
/// [`LoraLinear::from_base`].
pub fn apply_lora(
    model: &mut Llama,
    num_layers: i32,
    params: &LoraParameters,
) -> Result<Vec<String>> {
    let blocks = selected_blocks(model, num_layers)?;
    let keys: Vec<&str> = match &params.keys {
        None => LLAMA_KEYS.to_vec(),
        Some(keys) => {
            if let Some(bad) = keys.iter().find(|k| !LLAMA_KEYS.contains(&k.as_str())) {
                return Err(Error::config(
                    "lora_parameters.keys",
                    format!("{bad:?} is not a projection of a block (one of {LLAMA_KEYS:?})"),
                ));
            }
            LLAMA_KEYS
                .iter()
                .copied()
                .filter(|k| keys.iter().any(|x| x == k))
                .collect()
        }
    };
    let mut adapted = Vec::new();
    for i in blocks {
        let block = &mut model.model.layers[i];
        for key in &keys {
            let slot: &mut LinearLayer = match *key {
                "mlp.up_proj" => &mut block.mlp.up_proj,
                "mlp.down_proj" => &mut block.mlp.down_proj,
                "mlp.gate_proj" => &mut block.mlp.gate_proj,
                "self_attn.o_proj" => &mut block.self_attn.o_proj,
                "self_attn.v_proj" => &mut block.self_attn.v_proj,
                "self_attn.k_proj" => &mut block.self_attn.k_proj,
                _ => &mut block.self_attn.q_proj,
            };
            let path = format!("model.layers.{i}.{key}");
            if matches!(slot, LinearLayer::Lora(_)) {
                return Err(Error::config(path, "already has an adapter"));
            }
            let base = slot.clone();
            *slot = LoraLinear::from_base(base, params.rank, params.scale, params.dropout)?.into();
            adapted.push(path);
        }
    }
    Ok(adapted)
}

/// The adapter parameters of `model` (`…lora_a`, `…lora_b`), by name:
/// what training updates and [`save_adapters`] writes.
pub fn adapter_parameters(model: &Llama) -> std::collections::BTreeMap<String, mlx_rs::Array> {
    model.parameters_where(&is_adapter_parameter)
}

/// Writes `dir/adapters.safetensors` (the adapter parameters, metadata
/// `{"format": "mlx"}` as `mx.save_safetensors`) and
/// `dir/adapter_config.json` (keys sorted, as mlx-lm's `save_config`),
/// each through a temporary file and a rename.
///
/// # Errors
/// [`Error::Config`] for a model without adapters; [`Error::Io`] when the
/// directory cannot be written; as [`mlx_rs::io::save_safetensors`].
pub fn save_adapters(model: &Llama, dir: &Path, config: &AdapterConfig) -> Result<()> {
    let weights: HashMap<String, mlx_rs::Array> = adapter_parameters(model).into_iter().collect();
    if weights.is_empty() {
        return Err(Error::config(
            "adapters",
            "the model has no adapters to save",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_adapter_weights(dir, &weights)?;
    write_adapter_config(dir, config)
}

/// Writes `dir/adapters.safetensors` alone (checkpoints during training).
///
/// # Errors
/// As [`save_adapters`].
pub fn write_adapter_weights(dir: &Path, weights: &HashMap<String, mlx_rs::Array>) -> Result<()> {
    write_adapter_weights_as(&dir.join(ADAPTERS_FILE), weights)
}

/// Writes adapter weights to `path` (atomically).
///
/// # Errors
/// As [`save_adapters`].
pub fn write_adapter_weights_as(
    path: &Path,
    weights: &HashMap<String, mlx_rs::Array>,
) -> Result<()> {
    let metadata = HashMap::from([("format".to_owned(), "mlx".to_owned())]);
    write_atomic(path, |tmp| {
        Ok(mlx_rs::io::save_safetensors(tmp, weights, &metadata)?)
    })
}

/// Writes `dir/adapter_config.json` (atomically, keys sorted).
///
/// # Errors
/// As [`save_adapters`].
pub fn write_adapter_config(dir: &Path, config: &AdapterConfig) -> Result<()> {
    let path = dir.join(ADAPTER_CONFIG_FILE);
    let value = serde_json::to_value(config)
        .map_err(|e| Error::config(ADAPTER_CONFIG_FILE, e.to_string()))?;
    // serde_json's map is sorted (no `preserve_order`), as mlx-lm sorts.
    let text = serde_json::to_string_pretty(&value)
        .map_err(|e| Error::config(ADAPTER_CONFIG_FILE, e.to_string()))?;
    write_atomic(&path, |tmp| {
        std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e))
    })
}

/// Loads the adapters of `dir` (from mlx-lm or [`save_adapters`]) into
/// `model`: adapters are put where `adapter_config.json` says (as
/// [`apply_lora`]), then every tensor of `adapters.safetensors` must be an
/// adapter parameter of the model with the same shape (mlx-lm's check);
/// tensors are cast to the parameter's dtype. Returns the configuration.
///
/// # Errors
/// As [`AdapterConfig::read`] and [`apply_lora`] (e.g. more layers than
/// the model has); [`Error::Unsupported`] for a `fine_tune_type` other
/// than `lora`; [`Error::Config`] listing each tensor that is not an
/// adapter of the model or has another shape; the model is left without
/// adapters on error.
pub fn load_adapters(model: &mut Llama, dir: &Path) -> Result<AdapterConfig> {
    if !dir.is_dir() {
        return Err(Error::config(
            dir.display().to_string(),
            "the adapter path does not exist",
        ));
    }
    let config = AdapterConfig::read(dir)?;
    if config.fine_tune_type != "lora" {
        return Err(Error::Unsupported(format!(
            "fine_tune_type {:?} (only \"lora\")",
            config.fine_tune_type
        )));
    }
    let file = dir.join(ADAPTERS_FILE);
    let weights = mlx_rs::io::load_safetensors(&file)?.arrays;
    let mut adapted = model.clone();
    apply_lora(&mut adapted, config.num_layers, &config.lora_parameters)?;
    let params = adapter_parameters(&adapted);
    let mut errors = Vec::new();
    let mut update = std::collections::BTreeMap::new();
    let mut names: Vec<&String> = weights.keys().collect();
    names.sort();
    for name in names {
        let w = &weights[name];
        match params.get(name) {
            None => errors.push(format!("{name}: not an adapter parameter in the model")),
            Some(p) if p.shape() != w.shape() => errors.push(format!(
                "{name}: adapter shape {:?} does not match model parameter shape {:?}",
                w.shape(),
                p.shape()
            )),
            Some(p) => {
                update.insert(name.clone(), w.astype(p.dtype())?);
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::config(
            file.display().to_string(),
            format!(
                "incompatible with adapter_config.json and the model: {}",
                errors.join("; ")
            ),
        ));
    }
    adapted.update(&update)?;
    *model = adapted;
    Ok(config)
}

/// What [`fuse`] wrote.
#[derive(Debug, Clone)]
pub struct FuseReport {
    /// The layers whose adapters were merged.
    pub fused: Vec<String>,
    /// The output directory.
    pub dir: PathBuf,
}

/// mlx-lm's `fuse`: loads the model of `model_dir` (its stored dtypes),
/// the adapters of `adapter_dir`, merges each adapter into its base layer
/// ([`LoraLinear::fuse`]: quantized bases are quantized again in their own
/// mode unless `dequantize`), and saves an mlx-lm directory at `out`
/// (`model.safetensors`, `config.json`, the tokenizer files).
///
/// # Errors
/// As [`Llama::load`], [`load_adapters`], [`LoraLinear::fuse`] and
/// [`mlx_rs::nn::mlx_lm::save_model`]; [`Error::Io`] when the tokenizer
/// files cannot be copied.
pub fn fuse(
    model_dir: &Path,
    adapter_dir: &Path,
    out: &Path,
    dequantize: bool,
) -> Result<FuseReport> {
    let mut model = Llama::load(model_dir)?;
    load_adapters(&mut model, adapter_dir)?;
    let fused = mlx_rs::nn::lora::fuse_adapters(&mut model, dequantize)?;
    if dequantize {
        mlx_rs::nn::dequantize(&mut model, None)?;
    }
    let config = mlx_rs::nn::mlx_lm::read_config(model_dir)?;
    let quantization = if dequantize {
        None
    } else {
        mlx_rs::nn::mlx_lm::QuantizationConfig::from_config(&config)?
    };
    mlx_rs::nn::mlx_lm::save_model(&model, out, &config, quantization.as_ref())?;
    for name in [
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "generation_config.json",
        "chat_template.jinja",
    ] {
        let src = model_dir.join(name);
        if src.is_file() {
            let dst = out.join(name);
            std::fs::copy(&src, &dst).map_err(|e| Error::io(&dst, e))?;
        }
    }
    Ok(FuseReport {
        fused,
        dir: out.to_owned(),
    })
}
