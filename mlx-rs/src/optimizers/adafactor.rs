//! Adafactor (Python's `optimizers.Adafactor`).

use super::{core_access, invalid, slot, Core, LearningRate, Optimizer, Slots};
use crate::ops::{
    add, divide, expand_dims, maximum, mean, minimum, multiply, power, rsqrt, sqrt, subtract,
    zeros_like, Axes,
};
use crate::{Array, Result};

/// Adafactor: second moments factored into row and column averages for
/// parameters of two or more axes, a relative step size, update clipping
/// (Python's defaults: no learning rate, `eps = (1e-30, 1e-3)`, clip
/// threshold 1, decay rate −0.8, no first moment, no weight decay, scaled
/// by the parameter's RMS, relative step, no warm-up).
///
/// State per parameter: `exp_avg_sq_row` and `exp_avg_sq_col` (two or more
/// axes) or `exp_avg_sq`, and `exp_avg` with a `beta_1`. Without a learning
/// rate the state has no `learning_rate`, as in Python.
#[derive(Debug)]
pub struct Adafactor {
    /// Added to the squared gradient, and the floor of the parameter scale.
    pub eps: (f64, f64),
    /// Updates are scaled down to at most this RMS.
    pub clip_threshold: f64,
    /// The exponent of the second-moment decay `1 − step^decay_rate`.
    pub decay_rate: f64,
    /// The first moment's decay, if there is one.
    pub beta_1: Option<f64>,
    /// Weight decay.
    pub weight_decay: f64,
    /// Scale the step by the parameter's RMS.
    pub scale_parameter: bool,
    /// Use `min(1e-2, 1/sqrt(step))` instead of the learning rate.
    pub relative_step: bool,
    /// With `relative_step`: `min(1e-6 · step, 1/sqrt(step))`.
    pub warmup_init: bool,
    has_lr: bool,
    core: Core,
}

impl Adafactor {
    /// Adafactor with Python's defaults (relative step, no learning rate).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    pub fn new() -> Result<Self> {
        Adafactor::with(None, (1e-30, 1e-3), 1.0, -0.8, None, 0.0, true, true, false)
    }

    /// Adafactor with every option (Python's argument order).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) without a
    /// learning rate when `relative_step` is off (Python would fail at the
    /// first step).
    #[allow(clippy::too_many_arguments)]
    pub fn with(
        lr: Option<LearningRate>,
        eps: (f64, f64),
        clip_threshold: f64,
        decay_rate: f64,
        beta_1: Option<f64>,
        weight_decay: f64,
        scale_parameter: bool,
        relative_step: bool,
        warmup_init: bool,
    ) -> Result<Self> {
        if lr.is_none() && !relative_step {
            return Err(invalid(
                "Adafactor",
                "a learning rate is needed when relative_step is false",
            ));
        }
        let has_lr = lr.is_some();
        Ok(Adafactor {
            eps,
            clip_threshold,
            decay_rate,
            beta_1,
            weight_decay,
            scale_parameter,
            relative_step,
            warmup_init,
            has_lr,
            core: Core::new(lr.unwrap_or(LearningRate::Constant(0.0)))?,
        })
    }
}

fn rms(x: &Array) -> Result<Array> {
    sqrt(&mean(&multiply(x, x)?, Axes::All, false)?)
}

impl Optimizer for Adafactor {
    const NAME: &'static str = "Adafactor";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        let mut s = Slots::new();
        let shape = param.shape();
        if shape.len() >= 2 {
            let n = shape.len();
            let row = &shape[..n - 1];
            let mut col = shape[..n - 2].to_vec();
            col.push(shape[n - 1]);
            s.insert("exp_avg_sq_row".into(), Array::zeros(row, param.dtype())?);
            s.insert("exp_avg_sq_col".into(), Array::zeros(&col, param.dtype())?);
        } else {
            s.insert("exp_avg_sq".into(), zeros_like(param, None)?);
        }
        if self.beta_1.is_some() {
            s.insert("exp_avg".into(), zeros_like(param, None)?);
        }
        Ok(s)
    }

    fn slot_shape(&self, slot: &str, param: &Array) -> Vec<i32> {
        let shape = param.shape();
        let n = shape.len();
        match slot {
            "exp_avg_sq_row" if n >= 2 => shape[..n - 1].to_vec(),
            "exp_avg_sq_col" if n >= 2 => {
                let mut col = shape[..n - 2].to_vec();
                col.push(shape[n - 1]);
                col
            }
            _ => shape.to_vec(),
        }
    }

    fn apply_single(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        step: &Array,
    ) -> Result<Array> {
        let factored = grad.ndim() >= 2;
        let parameter_rms = rms(param)?;
        let relative = if self.relative_step {
            let r = rsqrt(step)?;
            if self.warmup_init {
                minimum(multiply(1e-6, step)?, r)?
            } else {
                minimum(1e-2, r)?
            }
        } else {
            lr.clone()
        };
        let relative = relative.astype(parameter_rms.dtype())?;
        let learning_rate = if self.scale_parameter {
            multiply(maximum(self.eps.1, &parameter_rms)?, relative)?
        } else {
            multiply(1.0, relative)?
        };
        let beta_2 = subtract(
            1.0,
            power(step, self.decay_rate)?.astype(parameter_rms.dtype())?,
        )?;
        let one_minus = subtract(1, &beta_2)?;
        let update = add(multiply(grad, grad)?, self.eps.0)?;
        let update = if factored {
            let row = add(
                multiply(&beta_2, slot(state, "exp_avg_sq_row")?)?,
                multiply(&one_minus, mean(&update, -1, false)?)?,
            )?;
            let col = add(
                multiply(&beta_2, slot(state, "exp_avg_sq_col")?)?,
                multiply(&one_minus, mean(&update, -2, false)?)?,
            )?;
            let r_factor = rsqrt(&divide(&row, mean(&row, -1, true)?)?)?;
            let c_factor = rsqrt(&col)?;
            state.insert("exp_avg_sq_row".into(), row);
            state.insert("exp_avg_sq_col".into(), col);
            let approx = multiply(
                expand_dims(&r_factor, &[-1])?,
                expand_dims(&c_factor, &[-2])?,
            )?;
            multiply(approx, grad)?
        } else {
            let sq = add(
                multiply(&beta_2, slot(state, "exp_avg_sq")?)?,
                multiply(&one_minus, &update)?,
            )?;
            let u = multiply(rsqrt(&sq)?, grad)?;
            state.insert("exp_avg_sq".into(), sq);
            u
        };
        let update = divide(
            &update,
            maximum(1.0, divide(rms(&update)?, self.clip_threshold)?)?,
        )?;
        let mut update = multiply(&learning_rate, update)?;
        if let Some(b1) = self.beta_1 {
            let m = add(
                multiply(b1, slot(state, "exp_avg")?)?,
                multiply(1.0 - b1, &update)?,
            )?;
            state.insert("exp_avg".into(), m.clone());
            update = m;
        }
        let param = if self.weight_decay != 0.0 {
            add(
                param,
                multiply(param, multiply(-self.weight_decay, &learning_rate)?)?,
            )?
        } else {
            param.clone()
        };
        subtract(&param, update)
    }

    fn state(&self) -> std::collections::HashMap<String, Array> {
        let mut flat = super::flat_state(self.core());
        if !self.has_lr {
            flat.remove("learning_rate");
        }
        flat
    }

    fn set_state(&mut self, mut flat: std::collections::HashMap<String, Array>) -> Result<()> {
        if !self.has_lr && !flat.contains_key("learning_rate") {
            flat.insert("learning_rate".into(), Array::scalar(0.0f32)?);
        }
        super::set_flat_state::<Self>(self.core_mut(), flat)
    }

    core_access!();
}
