//! Whole-model quantization and the layers it swaps: [`MaybeQuantized`],
//! [`LinearLayer`] (float, quantized, or with a LoRA adapter),
//! [`EmbeddingLayer`].

use crate::error::Result;
use crate::nn::{Embedding, Linear, LoraLinear, Module, QuantizedEmbedding, QuantizedLinear};
use crate::quantization::QuantMode;
use crate::{Array, Dtype};

/// A layer that is either float (`F`) or quantized (`Q`); [`quantize`]
/// turns the first into the second in place.
///
/// Both variants are transparent in parameter paths: a `LinearLayer` at
/// `q_proj` has `q_proj.weight` (and `q_proj.scales`, `q_proj.biases` once
/// quantized), exactly as mlx-lm names them.
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub enum MaybeQuantized<F, Q> {
    /// Float weights.
    Float(F),
    /// Quantized weights.
    Quantized(Q),
}

/// A linear layer that [`quantize`] can quantize and
/// [`LoraLinear::from_base`] can give a low-rank adapter.
///
/// Every variant is transparent in parameter paths, as mlx-lm names them: a
/// `LinearLayer` at `q_proj` has `q_proj.weight` (`q_proj.scales`,
/// `q_proj.biases` once quantized); with an adapter, the base layer moves
/// to `q_proj.linear.*` next to `q_proj.lora_a` and `q_proj.lora_b`
/// (Python's `LoRALinear`).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub enum LinearLayer {
    /// Float weights.
    Float(Linear),
    /// Quantized weights.
    Quantized(QuantizedLinear),
    /// A base layer (float or quantized) with a LoRA adapter.
    Lora(Box<LoraLinear>),
}

/// An embedding that [`quantize`] can quantize (and use as a tied head).
pub type EmbeddingLayer = MaybeQuantized<Embedding, QuantizedEmbedding>;

impl<F, Q> MaybeQuantized<F, Q> {
    /// Whether the layer is quantized.
    pub fn is_quantized(&self) -> bool {
        matches!(self, MaybeQuantized::Quantized(_))
    }
}

impl From<Linear> for LinearLayer {
    fn from(l: Linear) -> Self {
        LinearLayer::Float(l)
    }
}

impl From<QuantizedLinear> for LinearLayer {
    fn from(l: QuantizedLinear) -> Self {
        LinearLayer::Quantized(l)
    }
}

impl From<LoraLinear> for LinearLayer {
    fn from(l: LoraLinear) -> Self {
        LinearLayer::Lora(Box::new(l))
    }
}

impl From<Embedding> for EmbeddingLayer {
    fn from(e: Embedding) -> Self {
        MaybeQuantized::Float(e)
    }
}

impl From<QuantizedEmbedding> for EmbeddingLayer {
    fn from(e: QuantizedEmbedding) -> Self {
        MaybeQuantized::Quantized(e)
    }
}

impl LinearLayer {
    /// A float [`Linear`] of zeros.
    ///
    /// # Errors
    /// As [`Linear::new`].
    pub fn new(input_dims: i32, output_dims: i32, bias: bool) -> Result<Self> {
        Ok(Linear::new(input_dims, output_dims, bias)?.into())
    }

    /// Whether the layer (or, with an adapter, its base) is quantized.
    pub fn is_quantized(&self) -> bool {
        match self {
            LinearLayer::Float(_) => false,
            LinearLayer::Quantized(_) => true,
            LinearLayer::Lora(l) => l.linear.is_quantized(),
        }
    }

    /// The size of the last axis of the input.
    pub fn input_dims(&self) -> i32 {
        match self {
            LinearLayer::Float(l) => l.input_dims(),
            LinearLayer::Quantized(l) => l.input_dims(),
            LinearLayer::Lora(l) => l.linear.input_dims(),
        }
    }

    /// The size of the last axis of the output.
    pub fn output_dims(&self) -> i32 {
        match self {
            LinearLayer::Float(l) => l.output_dims(),
            LinearLayer::Quantized(l) => l.output_dims(),
            LinearLayer::Lora(l) => l.linear.output_dims(),
        }
    }

    /// The layer's forward pass.
    ///
    /// # Errors
    /// As [`Linear::forward`], [`QuantizedLinear::forward`] and
    /// [`LoraLinear::forward`].
    pub fn forward(&self, x: &Array) -> Result<Array> {
        match self {
            LinearLayer::Float(l) => l.forward(x),
            LinearLayer::Quantized(l) => l.forward(x),
            LinearLayer::Lora(l) => l.forward(x),
        }
    }

    /// Quantizes the layer in place with `mode` (no-op when already
    /// quantized, and for a layer with an adapter: quantize the base
    /// before adding one, as QLoRA does).
    ///
    /// # Errors
    /// As [`Linear::to_quantized`]; the layer is unchanged on error.
    pub fn quantize(&mut self, mode: QuantMode) -> Result<()> {
        if let LinearLayer::Float(l) = self {
            *self = LinearLayer::Quantized(l.to_quantized(mode)?);
        }
        Ok(())
    }
}

impl EmbeddingLayer {
    /// A float [`Embedding`] of zeros.
    ///
    /// # Errors
    /// As [`Embedding::new`].
    pub fn new(num_embeddings: i32, dims: i32) -> Result<Self> {
        Ok(Embedding::new(num_embeddings, dims)?.into())
    }

    /// The size of the vectors.
    pub fn dims(&self) -> i32 {
        match self {
            MaybeQuantized::Float(e) => e.dims(),
            MaybeQuantized::Quantized(e) => e.dims(),
        }
    }

    /// The vectors of `ids`.
    ///
    /// # Errors
    /// As [`Embedding::forward`].
    pub fn forward(&self, ids: &Array) -> Result<Array> {
        match self {
            MaybeQuantized::Float(e) => e.forward(ids),
            MaybeQuantized::Quantized(e) => e.forward(ids),
        }
    }

    /// The vectors of ids the model produced itself, clamped into the table
    /// instead of checked (no evaluation); see
    /// [`Embedding::forward_clamped`].
    ///
    /// # Errors
    /// As [`Embedding::forward_clamped`].
    pub fn forward_clamped(&self, ids: &Array) -> Result<Array> {
        match self {
            MaybeQuantized::Float(e) => e.forward_clamped(ids),
            MaybeQuantized::Quantized(e) => e.forward_clamped(ids),
        }
    }

    /// The table as a tied output head.
    ///
    /// # Errors
    /// As [`Embedding::as_linear`] and [`QuantizedEmbedding::as_linear`].
    pub fn as_linear(&self, x: &Array) -> Result<Array> {
        match self {
            MaybeQuantized::Float(e) => e.as_linear(x),
            MaybeQuantized::Quantized(e) => e.as_linear(x),
        }
    }

    /// Quantizes the table in place with `mode` (no-op when already
    /// quantized).
    ///
    /// # Errors
    /// As [`Embedding::to_quantized`]; the layer is unchanged on error.
    pub fn quantize(&mut self, mode: QuantMode) -> Result<()> {
        if let MaybeQuantized::Float(e) = self {
            *self = MaybeQuantized::Quantized(e.to_quantized(mode)?);
        }
        Ok(())
    }
}

/// How [`quantize`] quantizes a model.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct QuantizeConfig {
    /// The mode, with its bits and group size.
    pub mode: QuantMode,
    /// Whether [`EmbeddingLayer`]s are quantized too (mlx-lm does).
    pub embeddings: bool,
}

impl QuantizeConfig {
    /// Every quantizable layer, embeddings included, in `mode`.
    pub fn new(mode: QuantMode) -> Self {
        QuantizeConfig {
            mode,
            embeddings: true,
        }
    }

    /// Sets [`QuantizeConfig::embeddings`].
    pub fn embeddings(mut self, yes: bool) -> Self {
        self.embeddings = yes;
        self
    }
}

impl Default for QuantizeConfig {
    /// MLX's default mode (affine, 4 bits, groups of 64), embeddings
    /// included.
    fn default() -> Self {
        QuantizeConfig::new(QuantMode::default())
    }
}

/// The per-layer predicate of [`quantize`]: `(path, layer)` to whether
/// the layer is quantized.
pub type LayerPredicate<'a> = &'a dyn Fn(&str, &dyn Module) -> bool;

/// What [`quantize`] did, by layer path (sorted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuantizeReport {
    /// Layers quantized, with the mode each got.
    pub quantized: Vec<(String, QuantMode)>,
    /// Layers left alone because their input dimension is not a multiple of
    /// the group size (as mlx-lm does).
    pub indivisible: Vec<String>,
    /// Layers left alone by the predicate or the configuration.
    pub skipped: Vec<String>,
    /// Float layers that would be quantized but whose field type cannot
    /// hold a quantized layer: a plain [`Linear`] or [`Embedding`] field (Python swaps the object;
    /// a Rust field keeps its type). Declare such fields as
    /// [`LinearLayer`] / [`EmbeddingLayer`] to have them quantized.
    pub fixed_type: Vec<String>,
}

/// Quantizes every [`LinearLayer`] and (if `config.embeddings`)
/// [`EmbeddingLayer`] of `model` in place, as mlx-lm's `quantize_model`
/// does: layers whose input dimension (the last axis of the weight) is not
/// a multiple of the group size are left alone, and so are layers for which
/// `predicate(path, layer)` returns `false`. Layers already quantized are
/// not touched. Fields of the plain float types [`Linear`] and
/// [`Embedding`] cannot change type, so they stay float and are listed in
/// [`QuantizeReport::fixed_type`]: use [`LinearLayer`] / [`EmbeddingLayer`]
/// for the layers to quantize.
///
/// ```
/// use mlx_rs::nn::{quantize, LinearLayer, Module, QuantizeConfig};
/// use mlx_rs::quantization::QuantMode;
///
/// #[derive(Debug, Module)]
/// struct Model { a: LinearLayer, b: LinearLayer, head: LinearLayer }
/// let mut m = Model {
///     a: LinearLayer::new(64, 32, false)?,
///     b: LinearLayer::new(48, 32, false)?,  // 48 is not a multiple of 32
///     head: LinearLayer::new(64, 8, false)?,
/// };
/// let config = QuantizeConfig::new(QuantMode::affine(4, 32)?);
/// let report = quantize(&mut m, &config, Some(&|path: &str, _: &dyn Module| path != "head"))?;
/// assert!(m.a.is_quantized() && !m.b.is_quantized() && !m.head.is_quantized());
/// assert_eq!(report.indivisible, ["b"]);
/// assert_eq!(report.skipped, ["head"]);
/// assert_eq!(m.parameters().keys().collect::<Vec<_>>(),
///            ["a.biases", "a.scales", "a.weight", "b.weight", "head.weight"]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`Linear::to_quantized`] (e.g. nvfp4 with a global scale); layers
/// quantized before the failure stay quantized.
pub fn quantize(
    model: &mut dyn Module,
    config: &QuantizeConfig,
    predicate: Option<LayerPredicate<'_>>,
) -> Result<QuantizeReport> {
    quantize_by(model, |path, layer| {
        let embedding = layer.downcast_ref::<EmbeddingLayer>().is_some()
            || layer.downcast_ref::<Embedding>().is_some();
        if embedding && !config.embeddings {
            return None;
        }
        match predicate {
            Some(p) if !p(path, layer) => None,
            _ => Some(config.mode),
        }
    })
}

/// The general form of [`quantize`]: `choose(path, layer)` picks the mode
/// of each float [`LinearLayer`] and [`EmbeddingLayer`], or `None` to leave
/// it alone (mlx-lm's per-layer quantization). Layers whose input
/// dimension is not a multiple of the chosen group size are left alone.
///
/// # Errors
/// As [`quantize`].
pub fn quantize_by(
    model: &mut dyn Module,
    mut choose: impl FnMut(&str, &dyn Module) -> Option<QuantMode>,
) -> Result<QuantizeReport> {
    let mut report = QuantizeReport::default();
    // Paths of the float-or-quantized wrappers seen (their inner float
    // layer is visited next, at the same path).
    let mut wrapped = std::collections::HashSet::new();
    model.visit_modules_mut("", &mut |path, m| {
        if m.downcast_ref::<LinearLayer>().is_some() || m.downcast_ref::<EmbeddingLayer>().is_some()
        {
            wrapped.insert(path.to_owned());
        }
        let dim = if let Some(l) = m.downcast_ref::<LinearLayer>() {
            match l {
                LinearLayer::Float(l) => l.input_dims(),
                LinearLayer::Quantized(_) | LinearLayer::Lora(_) => return Ok(()),
            }
        } else if let Some(e) = m.downcast_ref::<EmbeddingLayer>() {
            match e {
                MaybeQuantized::Float(e) => e.dims(),
                MaybeQuantized::Quantized(_) => return Ok(()),
            }
        } else if m.downcast_ref::<Linear>().is_some() || m.downcast_ref::<Embedding>().is_some() {
            // Inside a `LinearLayer` / `EmbeddingLayer` the float layer is
            // visited too, at the same path: only a bare field is reported.
            if !wrapped.contains(path) {
                match choose(path, &*m) {
                    Some(_) => report.fixed_type.push(path.to_owned()),
                    None => report.skipped.push(path.to_owned()),
                }
            }
            return Ok(());
        } else {
            return Ok(());
        };
        let Some(mode) = choose(path, &*m) else {
            report.skipped.push(path.to_owned());
            return Ok(());
        };
        if dim % mode.group_size() != 0 {
            report.indivisible.push(path.to_owned());
            return Ok(());
        }
        if let Some(l) = m.downcast_mut::<LinearLayer>() {
            l.quantize(mode)?;
        } else if let Some(e) = m.downcast_mut::<EmbeddingLayer>() {
            e.quantize(mode)?;
        }
        report.quantized.push((path.to_owned(), mode));
        Ok(())
    })?;
    report.quantized.sort_by(|a, b| a.0.cmp(&b.0));
    report.indivisible.sort();
    report.skipped.sort();
    report.fixed_type.sort();
    Ok(report)
}

/// Dequantizes every quantized [`LinearLayer`] and [`EmbeddingLayer`] of
/// `model` in place (mlx-lm's `dequantize_model`), to `dtype` or MLX's
/// default for each mode.
///
/// # Errors
/// As [`Quantized::dequantize`](crate::quantization::Quantized::dequantize).
pub fn dequantize(model: &mut dyn Module, dtype: Option<Dtype>) -> Result<()> {
    model.visit_modules_mut("", &mut |_, m| {
        if let Some(l) = m.downcast_mut::<LinearLayer>() {
            if let LinearLayer::Quantized(q) = l {
                *l = LinearLayer::Float(q.to_linear(dtype)?);
            }
        } else if let Some(e) = m.downcast_mut::<EmbeddingLayer>() {
            if let MaybeQuantized::Quantized(q) = e {
                *e = MaybeQuantized::Float(Embedding {
                    weight: q.quantized().dequantize(dtype)?,
                });
            }
        }
        Ok(())
    })
}
