//! Strict weight loading: every expected name present, nothing unexpected,
//! every shape and dtype as expected — or an [`Error::WeightsMismatch`]
//! listing all the problems at once.
//!
//! The loaders of this module ([`load_safetensors`](super::load_safetensors),
//! [`load_gguf`](super::load_gguf), …) return every array a file holds;
//! this file decides whether those arrays fit a model. The expected layout
//! is a plain map `name → (shape, dtype)` ([`WeightSpec`]), so it serves a
//! hand-written parameter map as well as code generated for model structs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::error::{Error, Result};
use crate::{Array, Dtype};

/// The expected shape and dtype of one weight.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WeightSpec {
    /// The expected shape.
    pub shape: Vec<i32>,
    /// The expected dtype.
    pub dtype: Dtype,
}

impl WeightSpec {
    /// A spec from a shape and a dtype.
    pub fn new(shape: &[i32], dtype: Dtype) -> Self {
        WeightSpec {
            shape: shape.to_vec(),
            dtype,
        }
    }

    /// The shape and dtype of an existing array.
    pub fn of(array: &Array) -> Self {
        WeightSpec::new(array.shape(), array.dtype())
    }
}

/// The expected layout of a set of weights, `name → spec`, sorted by name.
pub type WeightSpecs = BTreeMap<String, WeightSpec>;

/// The specs of every array of a parameter map (what
/// [`load_weights_into`] checks against).
pub fn specs_of(params: &HashMap<String, Array>) -> WeightSpecs {
    params
        .iter()
        .map(|(k, v)| (k.clone(), WeightSpec::of(v)))
        .collect()
}

/// How strictly [`check_weights`] and [`load_weights_into`] compare.
///
/// The default is strict: any missing or unexpected name, and any shape or
/// dtype mismatch, is an error. Each leniency is a separate opt-in; what is
/// tolerated is still listed in the returned [`WeightsReport`], never
/// dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Tolerate expected names that the weights lack (they keep their
    /// current value in [`load_weights_into`]).
    pub allow_missing: bool,
    /// Tolerate weights that nothing expects (they are not loaded).
    pub allow_unexpected: bool,
    /// Tolerate shape or dtype mismatches (the mismatching weights are not
    /// loaded).
    pub allow_mismatch: bool,
}

impl LoadOptions {
    /// Everything must match (the default).
    pub fn strict() -> Self {
        LoadOptions::default()
    }

    /// Tolerate missing, unexpected and mismatching weights; load what
    /// matches and report the rest.
    pub fn lenient() -> Self {
        LoadOptions {
            allow_missing: true,
            allow_unexpected: true,
            allow_mismatch: true,
        }
    }

    /// Sets [`LoadOptions::allow_missing`].
    pub fn allow_missing(mut self, yes: bool) -> Self {
        self.allow_missing = yes;
        self
    }

    /// Sets [`LoadOptions::allow_unexpected`].
    pub fn allow_unexpected(mut self, yes: bool) -> Self {
        self.allow_unexpected = yes;
        self
    }

    /// Sets [`LoadOptions::allow_mismatch`].
    pub fn allow_mismatch(mut self, yes: bool) -> Self {
        self.allow_mismatch = yes;
        self
    }
}

/// A weight whose shape or dtype differs from its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The weight's name.
    pub name: String,
    /// What was expected.
    pub expected: WeightSpec,
    /// What the weights hold.
    pub found: WeightSpec,
}

/// The outcome of comparing weights with their specs; every list is sorted
/// by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeightsReport {
    /// Names that matched (and were loaded, for [`load_weights_into`]).
    pub matched: Vec<String>,
    /// Expected names the weights lack.
    pub missing: Vec<String>,
    /// Names of weights that nothing expects.
    pub unexpected: Vec<String>,
    /// Weights with a different shape (dtype possibly too).
    pub shape_mismatches: Vec<Mismatch>,
    /// Weights with the expected shape but a different dtype.
    pub dtype_mismatches: Vec<Mismatch>,
}

impl WeightsReport {
    /// Whether every expected weight matched and nothing else was there.
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.shape_mismatches.is_empty()
            && self.dtype_mismatches.is_empty()
    }

    fn has_mismatch(&self) -> bool {
        !self.shape_mismatches.is_empty() || !self.dtype_mismatches.is_empty()
    }

    fn violates(&self, options: LoadOptions) -> bool {
        (!options.allow_missing && !self.missing.is_empty())
            || (!options.allow_unexpected && !self.unexpected.is_empty())
            || (!options.allow_mismatch && self.has_mismatch())
    }
}

impl fmt::Display for WeightsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weights do not match the expected layout:")?;
        if !self.missing.is_empty() {
            write!(f, " missing {:?};", self.missing)?;
        }
        if !self.unexpected.is_empty() {
            write!(f, " unexpected {:?};", self.unexpected)?;
        }
        for m in &self.shape_mismatches {
            write!(
                f,
                " {}: expected shape {:?}, found {:?};",
                m.name, m.expected.shape, m.found.shape
            )?;
        }
        for m in &self.dtype_mismatches {
            write!(
                f,
                " {}: expected dtype {}, found {};",
                m.name, m.expected.dtype, m.found.dtype
            )?;
        }
        Ok(())
    }
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
