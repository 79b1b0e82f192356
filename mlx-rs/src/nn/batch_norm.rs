//! Batch normalization (Python's `nn.BatchNorm`).

use std::any::Any;

use crate::error::Result;
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::ops::{mean, rsqrt, var};
use crate::Array;

/// Normalizes each feature (the last axis) over the batch and spatial axes
/// of `[N, C]`, `[N, L, C]` or `[N, H, W, C]` inputs, as Python MLX's
/// `nn.BatchNorm`: in training mode with the batch's statistics, updating
/// the running mean and (unbiased) variance with `momentum`; in evaluation
/// mode ([`Module::train`]`(false)`) with the running statistics.
///
/// Parameters, in Python's order: `weight`, `bias` (when affine),
/// `running_mean`, `running_var` (when tracking; buffers: saved and
/// loaded, never trained). Training updates the running statistics, so
/// [`BatchNorm::forward`] takes `&mut self`; differentiate a model that
/// holds one with [`Module::value_and_grad_mut`].
///
/// ```
/// use mlx_rs::nn::{BatchNorm, Module};
/// use mlx_rs::Array;
/// let mut bn = BatchNorm::new(2, 1e-5, 0.1, true, true)?;
/// let x = Array::from_slice(&[1.0f32, 10.0, 3.0, 30.0], &[2, 2])?;
/// let y = bn.forward(&x)?;
/// assert_eq!(y.to_vec::<f32>()?.iter().map(|v| v.round()).collect::<Vec<_>>(), [-1.0, -1.0, 1.0, 1.0]);
/// assert_eq!(bn.running_mean.as_ref().unwrap().to_vec::<f32>()?, [0.2, 2.0]);
/// assert!(!bn.trainable_parameters().contains_key("running_mean"));
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchNorm {
    /// `[num_features]` scale, when affine.
    pub weight: Option<Array>,
    /// `[num_features]` shift, when affine.
    pub bias: Option<Array>,
    /// `[num_features]`, when tracking running statistics.
    pub running_mean: Option<Array>,
    /// `[num_features]`, when tracking running statistics.
    pub running_var: Option<Array>,
    /// The number of features (the last axis).
    pub num_features: i32,
    /// Added to the variance.
    pub eps: f32,
    /// The weight of a batch's statistics in the running ones.
    pub momentum: f64,
    /// Training (batch statistics) or evaluation (running statistics).
    pub training: bool,
}

impl BatchNorm {
    /// A layer with scale ones and shift zeros (`affine`), running mean
    /// zeros and variance ones (`track_running_stats`), in training mode:
    /// Python's `nn.BatchNorm(num_features, eps, momentum, affine,
    /// track_running_stats)` (defaults `1e-5, 0.1, True, True`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
    /// non-positive `eps` (Python's message) or `num_features`.
    pub fn new(
        num_features: i32,
        eps: f32,
        momentum: f64,
        affine: bool,
        track_running_stats: bool,
    ) -> Result<Self> {
        if eps <= 0.0 {
            return Err(invalid(
                "BatchNorm",
                format!("[BatchNorm] 'eps' must be positive but got {eps}."),
            ));
        }
        if num_features <= 0 {
            return Err(invalid(
                "BatchNorm",
                format!("num_features must be positive, got {num_features}"),
            ));
        }
        let full = |v: f32| Array::full(&[num_features], v);
        let pair = |on: bool, a: f32, b: f32| -> Result<(Option<Array>, Option<Array>)> {
            Ok(if on {
                (Some(full(a)?), Some(full(b)?))
            } else {
                (None, None)
            })
        };
        let (weight, bias) = pair(affine, 1.0, 0.0)?;
        let (running_mean, running_var) = pair(track_running_stats, 0.0, 1.0)?;
        Ok(BatchNorm {
            weight,
            bias,
            running_mean,
            running_var,
            num_features,
            eps,
            momentum,
            training: true,
        })
    }

    /// Normalizes `x` (`[N, C]`, `[N, L, C]` or `[N, H, W, C]`, `C =
    /// num_features`); in training mode also updates the running
    /// statistics.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) with
    /// Python's messages for an input of fewer than 2 or more than 4
    /// dimensions and, in training, for one value per channel;
    /// [`Error::Mlx`](crate::Error::Mlx) when the last axis is not
    /// `num_features`.
    pub fn forward(&mut self, x: &Array) -> Result<Array> {
        let nd = x.ndim();
        if !(2..=4).contains(&nd) {
            return Err(invalid(
                "BatchNorm",
                format!("Expected input tensor to have 2, 3 or 4 dimensions, but got {nd}"),
            ));
        }
        if self.training && x.shape()[..nd - 1].iter().product::<i32>() == 1 {
            return Err(invalid(
                "BatchNorm",
                "BatchNorm training requires more than one value per channel.",
            ));
        }
        let axes: Vec<i32> = (0..nd as i32 - 1).collect();
        let mut m = mean(x, &axes, false)?;
        let mut v = var(x, &axes, false, 0)?;
        if let (Some(rm), Some(rv)) = (&self.running_mean, &self.running_var) {
            if self.training {
                let unbiased = var(x, &axes, false, 1)?;
                let mu = self.momentum;
                let keep = (1.0 - mu) as f32;
                let new_mean = ((rm * keep)? + (&m * mu as f32)?)?;
                let new_var = ((rv * keep)? + (&unbiased * mu as f32)?)?;
                self.running_mean = Some(new_mean);
                self.running_var = Some(new_var);
            } else {
                m = rm.clone();
                v = rv.clone();
            }
        }
        let y = ((x - &m)? * rsqrt(&(&v + self.eps)?)?)?;
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => (w * &y)? + b,
            _ => Ok(y),
        }
    }
}

impl Module for BatchNorm {
    fn visit_params<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Array)) {
        for (name, a) in self.fields() {
            if let Some(a) = a {
                f(&crate::nn::join_name(prefix, name), a);
            }
        }
    }

    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Array)) {
        let fields = [
            ("weight", &mut self.weight),
            ("bias", &mut self.bias),
            ("running_mean", &mut self.running_mean),
            ("running_var", &mut self.running_var),
        ];
        for (name, a) in fields {
            if let Some(a) = a {
                f(&crate::nn::join_name(prefix, name), a);
            }
        }
    }

    fn visit_modules(
        &self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &dyn Module) -> Result<()>,
    ) -> Result<()> {
        f(prefix, self)
    }

    fn visit_modules_mut(
        &mut self,
        prefix: &str,
        f: &mut dyn FnMut(&str, &mut dyn Module) -> Result<()>,
    ) -> Result<()> {
        f(prefix, self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn local_buffers(&self) -> &'static [&'static str] {
        &["running_mean", "running_var"]
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

impl BatchNorm {
    /// The parameter fields by name, in Python's order.
    fn fields(&self) -> [(&'static str, Option<&Array>); 4] {
        [
            ("weight", self.weight.as_ref()),
            ("bias", self.bias.as_ref()),
            ("running_mean", self.running_mean.as_ref()),
            ("running_var", self.running_var.as_ref()),
        ]
    }
}
