//! How an mlx-lm directory becomes a model, for every family: the weights
//! of all `*.safetensors` files, the layers quantized that the weights say
//! are quantized (each with its mode from the `quantization` block,
//! per-path overrides included; expert stacks too), float parameters cast
//! to the stored dtype, then a strict load.

use std::collections::HashMap;
use std::path::Path;

use mlx_rs::io::LoadOptions;
use mlx_rs::nn::mlx_lm::{quantize_for_weights, QuantizationConfig};
use mlx_rs::nn::{join_name, Module};
use mlx_rs::{Array, Dtype};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::switch::SwitchLayer;
use crate::error::{Error, Result};

/// A family's configuration struct from `config.json`; a missing or
/// mistyped field is an [`Error::Config`] naming it.
pub(crate) fn parse<T: DeserializeOwned>(config: &Value) -> Result<T> {
    serde_json::from_value(config.clone()).map_err(|e| {
        let t = config
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("?");
        Error::config(format!("config.json ({t})"), e.to_string())
    })
}

/// [`Error::Unsupported`] when `config` sets `rope_scaling` to anything
/// but `null` or a `default`/`linear` scaling (whose factor is returned).
pub(crate) fn rope_scale(config: &Value) -> Result<f32> {
    match config.get("rope_scaling") {
        None | Some(Value::Null) => Ok(1.0),
        Some(s) => {
            let kind = s
                .get("type")
                .or_else(|| s.get("rope_type"))
                .and_then(Value::as_str)
                .unwrap_or("default");
            match kind {
                "default" => Ok(1.0),
                "linear" => match s.get("factor").and_then(Value::as_f64) {
                    Some(f) if f > 0.0 => Ok((1.0 / f) as f32),
                    _ => Err(Error::config(
                        "rope_scaling",
                        "linear scaling needs a factor",
                    )),
                },
                other => Err(Error::Unsupported(format!(
                    "RoPE scaling {other:?} (`rope_scaling`)"
                ))),
            }
        }
    }
}

/// Every tensor of the `*.safetensors` files of `dir` (sorted by file).
pub(crate) fn read_weights(dir: &Path) -> Result<HashMap<String, Array>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::config(
            dir.display().to_string(),
            "no *.safetensors files",
        ));
    }
    let mut weights = HashMap::new();
    for f in &files {
        weights.extend(mlx_rs::io::load_safetensors(f)?.arrays);
    }
    Ok(weights)
}

/// Quantizes what `weights` hold quantized, casts the float parameters to
/// the dtype of `model.norm.weight` in `weights`, loads strictly, then
/// casts to `compute` when given.
pub(crate) fn load_into(
    model: &mut dyn Module,
    config: &Value,
    weights: HashMap<String, Array>,
    compute: Option<Dtype>,
) -> Result<()> {
    if let Some(d) = weights.get("model.norm.weight").map(Array::dtype) {
        cast(model, d)?;
    }
    match QuantizationConfig::from_config(config)? {
        Some(q) => {
            quantize_for_weights(model, &q, &weights)?;
            model.visit_modules_mut("", &mut |path, m| {
                if let Some(s) = m.downcast_mut::<SwitchLayer>() {
                    if weights.contains_key(&join_name(path, "scales")) {
                        if let Some(mode) = q.mode_for(path) {
                            s.quantize(mode)?;
                        }
                    }
                }
                Ok(())
            })?;
        }
        None => {
            if weights.keys().any(|k| k.ends_with(".scales")) {
                return Err(Error::config(
                    "config.json",
                    "the weights are quantized but there is no `quantization` block",
                ));
            }
        }
    }
    model.load_weights_with(weights, LoadOptions::strict())?;
    if let Some(d) = compute {
        cast(model, d)?;
    }
    Ok(())
}

/// Casts every floating-point parameter of `model` to `dtype` (lazily);
/// packed quantized weights and `uint8` scales are left alone.
pub(crate) fn cast(model: &mut dyn Module, dtype: Dtype) -> Result<()> {
    let mut result = Ok(());
    model.visit_params_mut("", &mut |_, a| {
        if result.is_ok() && a.dtype().is_floating() && a.dtype() != dtype {
            match a.astype(dtype) {
                Ok(b) => *a = b,
                Err(e) => result = Err(e),
            }
        }
    });
    Ok(result?)
}

/// The dtype of `model.norm.weight` in the safetensors files of `dir`
/// (read from the headers).
pub(crate) fn stored_float_dtype(dir: &Path) -> Result<Option<Dtype>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    for f in files {
        let header = mlx_rs::io::inspect_safetensors(&f)?;
        if let Some(t) = header
            .tensors
            .iter()
            .find(|t| t.name == "model.norm.weight")
        {
            return Ok(Some(t.dtype));
        }
    }
    Ok(None)
}
