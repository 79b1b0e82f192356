//! Loss functions, as Python's `mlx.nn.losses` (0.32.2) computes them: the
//! same MLX ops in the same order, so values agree bit for bit on the CPU,
//! and the same defaults (each function's docs name its reduction).
//!
//! ```
//! use mlx_rs::nn::losses::{cross_entropy, CrossEntropy, Reduction};
//! use mlx_rs::Array;
//! let logits = Array::from_slice(&[2.0f32, 0.0, 0.0, 2.0], &[2, 2])?;
//! let targets = Array::from_slice(&[0i32, 1], &[2])?;
//! let loss = cross_entropy(&logits, &targets, CrossEntropy { reduction: Reduction::Mean, ..Default::default() })?;
//! assert!((loss.item::<f32>()? - 0.126928).abs() < 1e-5);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! Python's `cross_entropy` takes a fused kernel (`mx.fast.cross_entropy`)
//! on a CUDA GPU for integer targets without smoothing; mlx-c 0.7.0 has no
//! such function, so here every device runs the generic graph (equal
//! within the GPU tolerances of `docs/gpu.md`).

use crate::error::{Error, Result};
use crate::ops::linalg::norm;
use crate::ops::{
    abs, add, clip, divide, exp, expand_dims, less, log, logaddexp, logsumexp, max, maximum, mean,
    minimum, multiply, negative, power, select, square, stop_gradient, subtract, sum,
    take_along_axis, Axes,
};
use crate::Array;

/// How a loss reduces its per-element values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// No reduction: the per-element losses.
    #[default]
    None,
    /// Their mean.
    Mean,
    /// Their sum.
    Sum,
}

fn reduce(loss: Array, reduction: Reduction) -> Result<Array> {
    match reduction {
        Reduction::None => Ok(loss),
        Reduction::Mean => mean(&loss, Axes::All, false),
        Reduction::Sum => sum(&loss, Axes::All, false),
    }
}

fn invalid(op: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        reason: reason.into(),
    }
}

fn same_shape(op: &'static str, what: &str, a: &Array, b: &Array) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(invalid(
            op,
            format!(
                "{what} shapes {:?} and {:?} do not match",
                a.shape(),
                b.shape()
            ),
        ))
    }
}

fn weighted(op: &'static str, loss: Array, weights: Option<&Array>) -> Result<Array> {
    match weights {
        None => Ok(loss),
        Some(w) if w.shape() != loss.shape() => Err(invalid(
            op,
            format!(
                "weights with shape {:?} are not the shape of the loss, {:?}",
                w.shape(),
                loss.shape()
            ),
        )),
        Some(w) => multiply(&loss, w),
    }
}

/// Options of [`cross_entropy`] (Python's defaults: no weights, the last
/// axis, no smoothing, no reduction).
#[derive(Debug, Clone, Copy)]
pub struct CrossEntropy<'a> {
    /// Per-element weights, of the loss's shape.
    pub weights: Option<&'a Array>,
    /// The class axis.
    pub axis: i32,
    /// Label smoothing in [0, 1).
    pub label_smoothing: f64,
    /// The reduction.
    pub reduction: Reduction,
}

impl Default for CrossEntropy<'_> {
    fn default() -> Self {
        CrossEntropy {
            weights: None,
            axis: -1,
            label_smoothing: 0.0,
            reduction: Reduction::None,
        }
    }
}

/// Cross entropy of `logits` against class indices (one dimension less)
/// or probabilities (the logits' shape).
///
/// # Errors
/// [`Error::InvalidArgument`] for smoothing outside [0, 1), targets or
/// weights of the wrong shape; [`Error::Mlx`] for an invalid axis.
pub fn cross_entropy(logits: &Array, targets: &Array, o: CrossEntropy<'_>) -> Result<Array> {
    const OP: &str = "cross_entropy";
    if !(0.0..1.0).contains(&o.label_smoothing) {
        return Err(invalid(
            OP,
            format!(
                "Label smoothing must be in [0, 1), got {}.",
                o.label_smoothing
            ),
        ));
    }
    let as_probs = targets.ndim() == logits.ndim();
    let mut dropped = logits.shape().to_vec();
    let ax = crate::ops::support::norm_axis(o.axis, logits.ndim()).ok_or_else(|| {
        invalid(
            OP,
            format!(
                "axis {} is out of range for {} dimensions",
                o.axis,
                logits.ndim()
            ),
        )
    })?;
    dropped.remove(ax);
    if (as_probs && targets.shape() != logits.shape())
        || (!as_probs && targets.shape() != dropped.as_slice())
    {
        return Err(invalid(
            OP,
            format!(
                "Targets shape {:?} does not match logits shape {:?}.",
                targets.shape(),
                logits.shape()
            ),
        ));
    }
    let logits = subtract(logits, stop_gradient(&max(logits, o.axis, true)?)?)?;
    let score = if as_probs {
        sum(&multiply(&logits, targets)?, o.axis, false)?
    } else {
        take_along_axis(&logits, &expand_dims(targets, &[o.axis])?, o.axis)?.squeeze(o.axis)?
    };
    let lse = logsumexp(&logits, o.axis, false)?;
    let loss = if o.label_smoothing > 0.0 {
        let adjusted = multiply(1.0 - o.label_smoothing, &score)?;
        let smoothed = multiply(negative(&mean(&logits, o.axis, false)?)?, o.label_smoothing)?;
        add(subtract(&lse, &adjusted)?, &smoothed)?
    } else {
        subtract(&lse, &score)?
    };
    reduce(weighted(OP, loss, o.weights)?, o.reduction)
}

/// Binary cross entropy of `inputs` (logits when `with_logits`, else
/// probabilities) against `targets`; Python's default reduction is
/// [`Reduction::Mean`].
///
/// # Errors
/// [`Error::InvalidArgument`] for shapes that differ.
pub fn binary_cross_entropy(
    inputs: &Array,
    targets: &Array,
    weights: Option<&Array>,
    with_logits: bool,
    reduction: Reduction,
) -> Result<Array> {
    const OP: &str = "binary_cross_entropy";
    same_shape(OP, "inputs and targets", inputs, targets)?;
    let loss = if with_logits {
        subtract(logaddexp(0.0, inputs)?, multiply(inputs, targets)?)?
    } else {
        let floor = Array::scalar(-100i32)?;
        let log_p = clip(&log(inputs)?, Some(&floor), None)?;
        let log_q = clip(&log(&subtract(1, inputs)?)?, Some(&floor), None)?;
        negative(&add(
            multiply(targets, &log_p)?,
            multiply(subtract(1, targets)?, &log_q)?,
        )?)?
    };
    reduce(weighted(OP, loss, weights)?, reduction)
}

/// Mean absolute error (`|p - t|`; Python's default: [`Reduction::Mean`]).
///
/// # Errors
/// [`Error::InvalidArgument`] for shapes that differ.
pub fn l1_loss(predictions: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    same_shape("l1_loss", "predictions and targets", predictions, targets)?;
    reduce(abs(&subtract(predictions, targets)?)?, reduction)
}

/// Mean squared error (`(p - t)²`; Python's default: [`Reduction::Mean`]).
///
/// # Errors
/// [`Error::InvalidArgument`] for shapes that differ.
pub fn mse_loss(predictions: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    same_shape("mse_loss", "predictions and targets", predictions, targets)?;
    reduce(square(&subtract(predictions, targets)?)?, reduction)
}

/// Negative log likelihood of log-probabilities `inputs` at class indices
/// `targets` along `axis` (Python's defaults: -1, no reduction).
///
/// # Errors
/// [`Error::Mlx`] / [`Error::InvalidIndex`] for shapes or indices that do
/// not fit.
pub fn nll_loss(inputs: &Array, targets: &Array, axis: i32, reduction: Reduction) -> Result<Array> {
    let picked = take_along_axis(inputs, &expand_dims(targets, &[axis])?, axis)?.squeeze(axis)?;
    reduce(negative(&picked)?, reduction)
}

/// Gaussian negative log likelihood of `targets` under means `inputs` and
/// variances `vars` (Python's defaults: `full = false`, ε = 1e-6,
/// [`Reduction::Mean`]).
///
/// # Errors
/// [`Error::InvalidArgument`] for shapes that differ.
pub fn gaussian_nll_loss(
    inputs: &Array,
    targets: &Array,
    vars: &Array,
    full: bool,
    eps: f64,
    reduction: Reduction,
) -> Result<Array> {
    const OP: &str = "gaussian_nll_loss";
    same_shape(OP, "inputs and targets", inputs, targets)?;
    same_shape(OP, "inputs and vars", inputs, vars)?;
    let vars = maximum(vars, eps)?;
    let mut loss = multiply(
        0.5,
        add(
            log(&vars)?,
            divide(square(&subtract(targets, inputs)?)?, &vars)?,
        )?,
    )?;
    if full {
        loss = add(&loss, 0.5 * (2.0 * std::f64::consts::PI).ln())?;
    }
    reduce(loss, reduction)
}

/// Kullback-Leibler divergence of log-probabilities `inputs` from
/// log-probabilities `targets` along `axis` (defaults -1, no reduction).
///
/// # Errors
/// [`Error::Mlx`] for shapes that do not broadcast or an invalid axis.
pub fn kl_div_loss(
    inputs: &Array,
    targets: &Array,
    axis: i32,
    reduction: Reduction,
) -> Result<Array> {
    let loss = sum(
        &multiply(exp(targets)?, subtract(targets, inputs)?)?,
        axis,
        false,
    )?;
    reduce(loss, reduction)
}

/// Smooth L1: `0.5·d²/β` where `d = |p - t| < β`, else `d - 0.5·β`
/// (defaults β = 1, [`Reduction::Mean`]).
///
/// # Errors
/// [`Error::InvalidArgument`] for shapes that differ.
pub fn smooth_l1_loss(
    predictions: &Array,
    targets: &Array,
    beta: f64,
    reduction: Reduction,
) -> Result<Array> {
    same_shape(
        "smooth_l1_loss",
        "predictions and targets",
        predictions,
        targets,
    )?;
    let diff = abs(&subtract(predictions, targets)?)?;
    let quadratic = divide(multiply(0.5, square(&diff)?)?, beta)?;
    let linear = subtract(abs(&diff)?, 0.5 * beta)?;
    reduce(select(&less(&diff, beta)?, &quadratic, &linear)?, reduction)
}

/// Options of [`triplet_loss`] (Python's defaults: the last axis, p = 2,
/// margin 1, ε = 1e-6, no reduction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triplet {
    /// The axis of the feature vectors.
    pub axis: i32,
    /// The norm's order.
    pub p: i32,
    /// The margin.
    pub margin: f64,
    /// ε added inside the norm's root.
    pub eps: f64,
    /// The reduction.
    pub reduction: Reduction,
}

impl Default for Triplet {
    fn default() -> Self {
        Triplet {
            axis: -1,
            p: 2,
            margin: 1.0,
            eps: 1e-6,
            reduction: Reduction::None,
        }
    }
}

/// Triplet margin loss with `p`-norm distances (see [`Triplet`]).
///
/// # Errors
/// [`Error::InvalidArgument`] for `p < 1`; [`Error::Mlx`] for shapes that
/// do not broadcast.
pub fn triplet_loss(
    anchors: &Array,
    positives: &Array,
    negatives: &Array,
    o: Triplet,
) -> Result<Array> {
    if o.p < 1 {
        return Err(invalid(
            "triplet_loss",
            format!("p must be at least 1, got {}", o.p),
        ));
    }
    let dist = |other: &Array| -> Result<Array> {
        let s = sum(
            &power(abs(&subtract(anchors, other)?)?, o.p)?,
            o.axis,
            false,
        )?;
        power(add(&s, o.eps)?, 1.0 / f64::from(o.p))
    };
    let loss = maximum(
        add(subtract(dist(positives)?, dist(negatives)?)?, o.margin)?,
        0,
    )?;
    reduce(loss, o.reduction)
}

/// Hinge loss `max(1 - x·t, 0)` (no reduction by default).
///
/// # Errors
/// [`Error::Mlx`] for shapes that do not broadcast.
pub fn hinge_loss(inputs: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    reduce(
        maximum(subtract(1, multiply(inputs, targets)?)?, 0)?,
        reduction,
    )
}

/// Huber loss with threshold `delta` (defaults 1, no reduction).
///
/// # Errors
/// [`Error::Mlx`] for shapes that do not broadcast.
pub fn huber_loss(
    inputs: &Array,
    targets: &Array,
    delta: f64,
    reduction: Reduction,
) -> Result<Array> {
    let abs_errors = abs(&subtract(inputs, targets)?)?;
    let quadratic = minimum(&abs_errors, delta)?;
    let linear = subtract(&abs_errors, &quadratic)?;
    let loss = add(
        multiply(0.5, power(&quadratic, 2)?)?,
        multiply(delta, &linear)?,
    )?;
    reduce(loss, reduction)
}

/// Log-cosh loss `log(cosh(x - t))` (no reduction by default).
///
/// # Errors
/// [`Error::Mlx`] for shapes that do not broadcast.
pub fn log_cosh_loss(inputs: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    let errors = subtract(inputs, targets)?;
    let loss = subtract(
        logaddexp(&errors, negative(&errors)?)?,
        std::f64::consts::LN_2,
    )?;
    reduce(loss, reduction)
}

/// Cosine similarity of `x1` and `x2` along `axis` (Python's defaults: 1,
/// ε = 1e-8, no reduction). Like Python's, this is the similarity itself,
/// not one minus it.
///
/// # Errors
/// [`Error::Mlx`] for shapes that do not broadcast or an invalid axis.
pub fn cosine_similarity_loss(
    x1: &Array,
    x2: &Array,
    axis: i32,
    eps: f64,
    reduction: Reduction,
) -> Result<Array> {
    let n1 = norm(x1, None, Some(&[axis]), false)?;
    let n2 = norm(x2, None, Some(&[axis]), false)?;
    let loss = divide(
        sum(&multiply(x1, x2)?, axis, false)?,
        maximum(multiply(&n1, &n2)?, eps)?,
    )?;
    reduce(loss, reduction)
}

/// Margin ranking loss `max(0, -t·(x1 - x2) + margin)` (defaults margin
/// 0, no reduction).
///
/// # Errors
/// [`Error::InvalidArgument`] unless all three shapes are equal.
pub fn margin_ranking_loss(
    inputs1: &Array,
    inputs2: &Array,
    targets: &Array,
    margin: f64,
    reduction: Reduction,
) -> Result<Array> {
    const OP: &str = "margin_ranking_loss";
    same_shape(OP, "inputs1 and inputs2", inputs1, inputs2)?;
    same_shape(OP, "inputs1 and targets", inputs1, targets)?;
    let differences = subtract(inputs1, inputs2)?;
    let loss = maximum(0, add(multiply(negative(targets)?, &differences)?, margin)?)?;
    reduce(loss, reduction)
}
