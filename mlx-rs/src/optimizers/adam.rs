//! Adam, AdamW and Adamax (Python's optimizers of those names).

use super::{core_access, invalid, slot, Core, LearningRate, Optimizer, Slots};
use crate::ops::{
    abs, add, divide, maximum, multiply, power, rsqrt, sqrt, square, subtract, zeros_like,
};
use crate::{Array, Result};

/// Refuses a β outside [0, 1) (Python's message).
pub(crate) fn check_betas(op: &'static str, betas: (f64, f64)) -> Result<()> {
    for (i, beta) in [betas.0, betas.1].into_iter().enumerate() {
        if !(0.0..1.0).contains(&beta) {
            return Err(invalid(
                op,
                format!(
                    "{op} beta{} should be in [0, 1), {beta} was provided instead",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// `{m: 0, v: 0}`.
fn moments(param: &Array) -> Result<Slots> {
    Ok(Slots::from([
        ("m".to_string(), zeros_like(param, None)?),
        ("v".to_string(), zeros_like(param, None)?),
    ]))
}

/// Adam: `m = β₁·m + (1 - β₁)·g`, `v = β₂·v + (1 - β₂)·g²`,
/// `p = p - lr·m / (√v + ε)`, with optional bias correction (defaults
/// β = (0.9, 0.999), ε = 1e-8, no bias correction, as Python).
#[derive(Debug)]
pub struct Adam {
    /// (β₁, β₂).
    pub betas: (f64, f64),
    /// ε added to the denominator.
    pub eps: f64,
    /// Divide the moments by `1 - βᵗ`.
    pub bias_correction: bool,
    core: Core,
}

impl Adam {
    /// Adam with Python's defaults.
    ///
    /// # Errors
    /// As [`Adam::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        Adam::with(lr, (0.9, 0.999), 1e-8, false)
    }

    /// Adam with every option.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a β
    /// outside [0, 1) or ε < 0 (Python's messages).
    pub fn with(
        lr: impl Into<LearningRate>,
        betas: (f64, f64),
        eps: f64,
        bias_correction: bool,
    ) -> Result<Self> {
        check_betas("Adam", betas)?;
        if eps < 0.0 {
            return Err(invalid(
                "Adam",
                format!("Adam epsilon should be >=0, {eps} was provided instead"),
            ));
        }
        Ok(Adam {
            betas,
            eps,
            bias_correction,
            core: Core::new(lr)?,
        })
    }

    /// Python's `Adam.apply_single`, shared with [`AdamW`].
    fn step(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        step: &Array,
    ) -> Result<Array> {
        let dtype = grad.dtype();
        let lr = lr.astype(dtype)?;
        let (b1, b2) = self.betas;
        let m = add(multiply(b1, slot(state, "m")?)?, multiply(1.0 - b1, grad)?)?;
        let v = add(
            multiply(b2, slot(state, "v")?)?,
            multiply(1.0 - b2, square(grad)?)?,
        )?;
        state.insert("m".into(), m.clone());
        state.insert("v".into(), v.clone());
        if self.bias_correction {
            let c1 = divide(&lr, subtract(1.0, power(b1, step)?)?)?.astype(dtype)?;
            let c2 = rsqrt(&subtract(1.0, power(b2, step)?)?)?.astype(dtype)?;
            let numerator = multiply(&c1, &m)?;
            let denominator = add(multiply(sqrt(&v)?, &c2)?, self.eps)?;
            subtract(param, divide(&numerator, &denominator)?)
        } else {
            subtract(
                param,
                divide(multiply(&lr, &m)?, add(sqrt(&v)?, self.eps)?)?,
            )
        }
    }
}

impl Optimizer for Adam {
    const NAME: &'static str = "Adam";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        moments(param)
    }

    fn apply_single(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        step: &Array,
    ) -> Result<Array> {
        self.step(grad, param, state, lr, step)
    }

    core_access!();
}

/// AdamW: Adam on `p·(1 - lr·λ)` (decoupled weight decay; defaults as
/// [`Adam`], λ = 0.01).
#[derive(Debug)]
pub struct AdamW {
    /// The Adam part.
    pub adam: Adam,
    /// The weight decay λ.
    pub weight_decay: f64,
}

impl AdamW {
    /// AdamW with Python's defaults.
    ///
    /// # Errors
    /// As [`Adam::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        AdamW::with(lr, (0.9, 0.999), 1e-8, 0.01, false)
    }

    /// AdamW with every option.
    ///
    /// # Errors
    /// As [`Adam::with`].
    pub fn with(
        lr: impl Into<LearningRate>,
        betas: (f64, f64),
        eps: f64,
        weight_decay: f64,
        bias_correction: bool,
    ) -> Result<Self> {
        Ok(AdamW {
            adam: Adam::with(lr, betas, eps, bias_correction)?,
            weight_decay,
        })
    }
}

impl Optimizer for AdamW {
    const NAME: &'static str = "AdamW";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        moments(param)
    }

    fn apply_single(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        step: &Array,
    ) -> Result<Array> {
        let lr_t = lr.astype(grad.dtype())?;
        let decayed = multiply(param, subtract(1.0, multiply(&lr_t, self.weight_decay)?)?)?;
        self.adam.step(grad, &decayed, state, lr, step)
    }

    fn core(&self) -> &Core {
        &self.adam.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.adam.core
    }
}

/// Adamax: `m = β₁·m + (1 - β₁)·g`, `v = max(β₂·v, |g|)`,
/// `p = p - lr·m / (v + ε)` (defaults β = (0.9, 0.999), ε = 1e-8).
#[derive(Debug)]
pub struct Adamax {
    /// (β₁, β₂).
    pub betas: (f64, f64),
    /// ε added to the denominator.
    pub eps: f64,
    core: Core,
}

impl Adamax {
    /// Adamax with Python's defaults.
    ///
    /// # Errors
    /// As [`Adamax::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        Adamax::with(lr, (0.9, 0.999), 1e-8)
    }

    /// Adamax with every option.
    ///
    /// # Errors
    /// As [`Adam::with`].
    pub fn with(lr: impl Into<LearningRate>, betas: (f64, f64), eps: f64) -> Result<Self> {
        check_betas("Adam", betas)?;
        if eps < 0.0 {
            return Err(invalid(
                "Adam",
                format!("Adam epsilon should be >=0, {eps} was provided instead"),
            ));
        }
        Ok(Adamax {
            betas,
            eps,
            core: Core::new(lr)?,
        })
    }
}

impl Optimizer for Adamax {
    const NAME: &'static str = "Adamax";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        moments(param)
    }

    fn apply_single(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        _: &Array,
    ) -> Result<Array> {
        let lr = lr.astype(grad.dtype())?;
        let (b1, b2) = self.betas;
        let m = add(multiply(b1, slot(state, "m")?)?, multiply(1.0 - b1, grad)?)?;
        let v = maximum(multiply(b2, slot(state, "v")?)?, abs(grad)?)?;
        state.insert("m".into(), m.clone());
        state.insert("v".into(), v.clone());
        subtract(param, divide(multiply(&lr, &m)?, add(&v, self.eps)?)?)
    }

    core_access!();
}
