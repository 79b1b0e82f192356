//! mlx-lm compatibility: the `quantization` block of `config.json`, and
//! saving and loading quantized models with mlx-lm's weight names.
//!
//! mlx-lm writes, next to the weights,
//!
//! ```json
//! "quantization": {"group_size": 64, "bits": 4, "mode": "affine"}
//! ```
//!
//! (and the same block as `quantization_config`), plus one entry per layer
//! whose parameters differ from the default (`"model.layers.0.mlp.down_proj":
//! {"group_size": 32, "bits": 8, "mode": "affine"}`, or `false`). A
//! quantized layer stores `weight` (`uint32`, packed), `scales` and, for
//! affine, `biases` under its path. When loading, mlx-lm quantizes exactly
//! the layers whose `<path>.scales` is among the weights, then loads
//! strictly; [`quantize_for_weights`] and [`load_model`] do the same.
//!
//! ```
//! use mlx_rs::nn::mlx_lm::QuantizationConfig;
//! use mlx_rs::quantization::QuantMode;
//! let json = serde_json::json!({"model_type": "llama",
//!     "quantization": {"group_size": 32, "bits": 8, "mode": "affine"}});
//! let q = QuantizationConfig::from_config(&json)?.unwrap();
//! assert_eq!(q.mode, QuantMode::affine(8, 32)?);
//! assert_eq!(q.to_json(), json["quantization"]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::io::{self, LoadOptions, WeightsReport};
use crate::nn::quantize::{quantize_by, QuantizeReport};
use crate::nn::{EmbeddingLayer, LinearLayer, Module};
use crate::quantization::QuantMode;
use crate::Array;

/// The `quantization` block of an mlx-lm `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizationConfig {
    /// The default mode (`group_size`, `bits`, `mode`).
    pub mode: QuantMode,
    /// Per-layer entries: a layer path and its own mode, or `None` for a
    /// layer that stays float (`false` in the JSON).
    pub layers: BTreeMap<String, Option<QuantMode>>,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidQuantization {
        reason: reason.into(),
    }
}

/// A mode from `{"group_size", "bits", "mode"}` (mode `"affine"` when
/// absent, as in mlx-lm).
fn mode_from_json(v: &Map<String, Value>, what: &str) -> Result<QuantMode> {
    let int = |key: &str| -> Result<Option<i32>> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => x
                .as_i64()
                .and_then(|x| i32::try_from(x).ok())
                .map(Some)
                .ok_or_else(|| invalid(format!("{what}: `{key}` must be an integer, not {x}"))),
        }
    };
    let mode = match v.get("mode") {
        None | Some(Value::Null) => "affine",
        Some(Value::String(s)) => s.as_str(),
        Some(x) => return Err(invalid(format!("{what}: `mode` must be a string, not {x}"))),
    };
    QuantMode::from_parts(mode, int("group_size")?, int("bits")?)
}

/// `{"group_size", "bits", "mode"}` of a mode.
fn mode_to_json(mode: &QuantMode) -> Value {
    json!({
        "group_size": mode.group_size(),
        "bits": mode.bits(),
        "mode": mode.name(),
    })
}

impl QuantizationConfig {
    /// Every quantizable layer in `mode`.
    pub fn new(mode: QuantMode) -> Self {
        QuantizationConfig {
            mode,
            layers: BTreeMap::new(),
        }
    }

    /// The block of a parsed `config.json`: `quantization`, else
    /// `quantization_config` when it has mlx-lm's form; `None` when the
    /// model is not quantized.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for a block that is not an object,
    /// values of the wrong type, or a mode MLX does not have.
    pub fn from_config(config: &Value) -> Result<Option<Self>> {
        let block = match (
            config.get("quantization"),
            config.get("quantization_config"),
        ) {
            (Some(b), _) => b,
            (None, Some(b)) if b.get("bits").is_some() || b.get("group_size").is_some() => b,
            _ => return Ok(None),
        };
        Self::from_json(block).map(Some)
    }

    /// The block itself, `{"group_size": …, "bits": …, "mode": …, <path>: …}`.
    ///
    /// # Errors
    /// As [`QuantizationConfig::from_config`].
    pub fn from_json(block: &Value) -> Result<Self> {
        let obj = block.as_object().ok_or_else(|| {
            invalid(format!(
                "the quantization block must be an object, not {block}"
            ))
        })?;
        let mode = mode_from_json(obj, "quantization")?;
        let mut layers = BTreeMap::new();
        for (key, v) in obj {
            if matches!(key.as_str(), "group_size" | "bits" | "mode") {
                continue;
            }
            let layer = match v {
                Value::Bool(false) => None,
                Value::Bool(true) => Some(mode),
                Value::Object(o) => Some(mode_from_json(o, key)?),
                // Other global keys (e.g. `quant_method`) are not layers.
                _ => continue,
            };
            layers.insert(key.clone(), layer);
        }
        Ok(QuantizationConfig { mode, layers })
    }

    /// The block as mlx-lm writes it.
    pub fn to_json(&self) -> Value {
        let mut block = mode_to_json(&self.mode);
        if let Value::Object(o) = &mut block {
            for (path, layer) in &self.layers {
                let v = match layer {
                    None => Value::Bool(false),
                    Some(m) => mode_to_json(m),
                };
                o.insert(path.clone(), v);
            }
        }
        block
    }

    /// The block that describes what [`quantize`](crate::nn::quantize)
    /// did: `default` as the global mode, and one entry for each layer
    /// quantized with another mode.
    pub fn from_report(default: QuantMode, report: &QuantizeReport) -> Self {
        let layers = report
            .quantized
            .iter()
            .filter(|(_, m)| *m != default)
            .map(|(p, m)| (p.clone(), Some(*m)))
            .collect();
        QuantizationConfig {
            mode: default,
            layers,
        }
    }

    /// The mode of the layer at `path`: its own entry, else the default.
    pub fn mode_for(&self, path: &str) -> Option<QuantMode> {
        match self.layers.get(path) {
            Some(entry) => *entry,
            None => Some(self.mode),
        }
    }
}

/// Quantizes the layers of `model` that are quantized in `weights` (those
/// whose `<path>.scales` is present), each with its mode from `config`, as
/// mlx-lm's loader does; the weights can then be loaded strictly.
///
/// # Errors
/// As [`quantize_by`].
pub fn quantize_for_weights(
    model: &mut dyn Module,
    config: &QuantizationConfig,
    weights: &HashMap<String, Array>,
) -> Result<QuantizeReport> {
    quantize_by(model, |path, layer| {
        let quantizable = layer.downcast_ref::<LinearLayer>().is_some()
            || layer.downcast_ref::<EmbeddingLayer>().is_some();
        let scales = crate::nn::join_name(path, "scales");
        if quantizable && weights.contains_key(&scales) {
            config.mode_for(path)
        } else {
            None
        }
    })
}

/// Saves `model` as mlx-lm lays a model out: `model.safetensors` (metadata
/// `{"format": "mlx"}`) and `config.json`, which is `config` with the
/// `quantization` and `quantization_config` blocks set from
/// `quantization` (or removed when it is `None`).
///
/// # Errors
/// [`Error::Io`] when the directory cannot be written; as
/// [`io::save_safetensors`].
pub fn save_model(
    model: &dyn Module,
    dir: &Path,
    config: &Value,
    quantization: Option<&QuantizationConfig>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io::io_error(dir, e))?;
    model.save_safetensors(&dir.join("model.safetensors"))?;
    let mut config = config.clone();
    if let Value::Object(o) = &mut config {
        match quantization {
            Some(q) => {
                o.insert("quantization".into(), q.to_json());
                o.insert("quantization_config".into(), q.to_json());
            }
            None => {
                o.remove("quantization");
                o.remove("quantization_config");
            }
        }
    }
    let path = dir.join("config.json");
    let text = serde_json::to_string_pretty(&config).map_err(|e| Error::InvalidData {
        reason: if e.is_io() {
            "config.json could not be written"
        } else {
            "config.json could not be serialized"
        },
    })?;
    std::fs::write(&path, text).map_err(|e| io::io_error(&path, e))
}

/// Reads `dir/config.json`.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::InvalidFile`] when it is
/// not JSON.
pub fn read_config(dir: &Path) -> Result<Value> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io::io_error(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::InvalidFile {
        format: "json",
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Loads an mlx-lm model directory into `model`: reads `config.json`,
/// quantizes the layers the weights say are quantized (with the modes of
/// the `quantization` block), and loads every `*.safetensors` file of the
/// directory with `options` (strict: [`LoadOptions::strict`]). Returns the
/// parsed config and the load report.
///
/// # Errors
/// As [`read_config`], [`QuantizationConfig::from_config`],
/// [`io::load_safetensors`], [`quantize_for_weights`] and
/// [`Module::load_weights_with`]; a weights file that is quantized while
/// the config has no `quantization` block is an
/// [`Error::InvalidQuantization`].
pub fn load_model(
    model: &mut dyn Module,
    dir: &Path,
    options: LoadOptions,
) -> Result<(Value, WeightsReport)> {
    let config = read_config(dir)?;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io::io_error(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    let mut weights = HashMap::new();
    for f in &files {
        weights.extend(io::load_safetensors(f)?.arrays);
    }
    match QuantizationConfig::from_config(&config)? {
        Some(q) => {
            quantize_for_weights(model, &q, &weights)?;
        }
        None => {
            if weights.keys().any(|k| k.ends_with(".scales")) {
                return Err(invalid(
                    "the weights are quantized but config.json has no `quantization` block",
                ));
            }
        }
    }
    let report = model.load_weights_with(weights, options)?;
    Ok((config, report))
}
