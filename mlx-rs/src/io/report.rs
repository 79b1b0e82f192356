//! The value types of strict weight loading: what is expected of a weight
//! ([`WeightSpec`]), how strictly to compare ([`LoadOptions`]) and what the
//! comparison found ([`WeightsReport`], carried by
//! [`Error::WeightsMismatch`](crate::Error::WeightsMismatch)). Plain data,
//! with no MLX call, so that the error type can name it.

use std::collections::BTreeMap;
use std::fmt;

use crate::dtype::Dtype;

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
}

/// The expected layout of a set of weights, `name → spec`, sorted by name.
pub type WeightSpecs = BTreeMap<String, WeightSpec>;

/// How strictly [`check_weights`](super::check_weights) and [`load_weights_into`](super::load_weights_into) compare.
///
/// The default is strict: any missing or unexpected name, and any shape or
/// dtype mismatch, is an error. Each leniency is a separate opt-in; what is
/// tolerated is still listed in the returned [`WeightsReport`], never
/// dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Tolerate expected names that the weights lack (they keep their
    /// current value in [`load_weights_into`](super::load_weights_into)).
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
    /// Names that matched (and were loaded, for [`load_weights_into`](super::load_weights_into)).
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

    pub(crate) fn has_mismatch(&self) -> bool {
        !self.shape_mismatches.is_empty() || !self.dtype_mismatches.is_empty()
    }

    pub(crate) fn violates(&self, options: LoadOptions) -> bool {
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
