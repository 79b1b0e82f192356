//! Strict weight loading: every expected name present, nothing unexpected,
//! every shape and dtype as expected — or an [`Error::WeightsMismatch`]
//! listing all the problems at once.
//!
//! The loaders of this module ([`load_safetensors`](super::load_safetensors),
//! [`load_gguf`](super::load_gguf), …) return every array a file holds;
//! this file decides whether those arrays fit a model. The expected layout
//! is a plain map `name → (shape, dtype)` ([`WeightSpec`]), so it serves a
//! hand-written parameter map as well as code generated for model structs.

use std::collections::HashMap;

use super::report::{LoadOptions, Mismatch, WeightSpec, WeightSpecs, WeightsReport};
use crate::error::{Error, Result};
use crate::Array;

impl WeightSpec {
    /// The shape and dtype of an existing array.
    pub fn of(array: &Array) -> Self {
        WeightSpec::new(array.shape(), array.dtype())
    }
}

/// The specs of every array of a parameter map (what
/// [`load_weights_into`] checks against).
pub fn specs_of(params: &HashMap<String, Array>) -> WeightSpecs {
    params
        .iter()
        .map(|(k, v)| (k.clone(), WeightSpec::of(v)))
        .collect()
}

/// Compares `weights` with `expected`.
///
/// ```
/// use std::collections::HashMap;
/// use mlx_rs::io::{check_weights, LoadOptions, WeightSpec, WeightSpecs};
/// use mlx_rs::{Array, Dtype, Error};
///
/// let mut expected = WeightSpecs::new();
/// expected.insert("w".into(), WeightSpec::new(&[2, 2], Dtype::Float32));
/// expected.insert("b".into(), WeightSpec::new(&[2], Dtype::Float32));
/// let weights = HashMap::from([
///     ("w".to_string(), Array::zeros(&[2, 2], Dtype::Float32)?),
///     ("extra".to_string(), Array::zeros(&[1], Dtype::Float32)?),
/// ]);
/// match check_weights(&expected, &weights, LoadOptions::strict()) {
///     Err(Error::WeightsMismatch(report)) => {
///         assert_eq!(report.missing, ["b"]);
///         assert_eq!(report.unexpected, ["extra"]);
///     }
///     other => panic!("{other:?}"),
/// }
/// let report = check_weights(&expected, &weights, LoadOptions::lenient())?;
/// assert_eq!(report.matched, ["w"]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::WeightsMismatch`] with the full report when the weights break
/// a rule that `options` does not relax.
pub fn check_weights(
    expected: &WeightSpecs,
    weights: &HashMap<String, Array>,
    options: LoadOptions,
) -> Result<WeightsReport> {
    let mut report = WeightsReport::default();
    for (name, spec) in expected {
        match weights.get(name) {
            None => report.missing.push(name.clone()),
            Some(a) => {
                let found = WeightSpec::of(a);
                if found.shape != spec.shape {
                    report.shape_mismatches.push(Mismatch {
                        name: name.clone(),
                        expected: spec.clone(),
                        found,
                    });
                } else if found.dtype != spec.dtype {
                    report.dtype_mismatches.push(Mismatch {
                        name: name.clone(),
                        expected: spec.clone(),
                        found,
                    });
                } else {
                    report.matched.push(name.clone());
                }
            }
        }
    }
    report.unexpected = weights
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .cloned()
        .collect();
    report.unexpected.sort();
    if report.violates(options) {
        Err(Error::WeightsMismatch(Box::new(report)))
    } else {
        Ok(report)
    }
}

/// Replaces the arrays of `params` with the matching `weights`, after
/// checking them against `params`' own shapes and dtypes.
///
/// All or nothing: on error `params` is unchanged. With lenient
/// `options`, only the weights in [`WeightsReport::matched`] are loaded;
/// the report lists what was left out.
///
/// ```
/// use std::collections::HashMap;
/// use mlx_rs::io::{load_weights_into, LoadOptions};
/// use mlx_rs::{Array, Dtype};
///
/// let mut params = HashMap::from([("w".to_string(), Array::zeros(&[2], Dtype::Float32)?)]);
/// let weights = HashMap::from([("w".to_string(), Array::ones(&[2], Dtype::Float32)?)]);
/// let report = load_weights_into(&mut params, weights, LoadOptions::strict())?;
/// assert!(report.is_exact());
/// assert_eq!(params["w"].to_vec::<f32>()?, [1.0, 1.0]);
///
/// let wrong = HashMap::from([("w".to_string(), Array::ones(&[3], Dtype::Float32)?)]);
/// assert!(load_weights_into(&mut params, wrong, LoadOptions::strict()).is_err());
/// assert_eq!(params["w"].to_vec::<f32>()?, [1.0, 1.0]); // untouched
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`check_weights`], with `params`' shapes and dtypes as the specs.
pub fn load_weights_into(
    params: &mut HashMap<String, Array>,
    mut weights: HashMap<String, Array>,
    options: LoadOptions,
) -> Result<WeightsReport> {
    let report = check_weights(&specs_of(params), &weights, options)?;
    for name in &report.matched {
        if let (Some(slot), Some(w)) = (params.get_mut(name), weights.remove(name)) {
            *slot = w;
        }
    }
    Ok(report)
}
