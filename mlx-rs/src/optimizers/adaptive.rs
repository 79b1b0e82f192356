//! RMSprop, Adagrad and AdaDelta (Python's optimizers of those names).

use super::{core_access, invalid, slot, Core, LearningRate, Optimizer, Slots};
use crate::ops::{add, divide, multiply, sqrt, square, subtract, zeros_like};
use crate::{Array, Result};

/// The one-slot state `{name: zeros_like(param, None)}`.
fn zeros(param: &Array, names: &[&str]) -> Result<Slots> {
    names
        .iter()
        .map(|n| Ok((n.to_string(), zeros_like(param, None)?)))
        .collect()
}

/// RMSprop: `v = α·v + (1 - α)·g²`, `p = p - lr·g / (√v + ε)` (defaults
/// α = 0.99, ε = 1e-8).
#[derive(Debug)]
pub struct RMSprop {
    /// The smoothing constant α.
    pub alpha: f64,
    /// ε added to the denominator.
    pub eps: f64,
    core: Core,
}

impl RMSprop {
    /// RMSprop with Python's defaults.
    ///
    /// # Errors
    /// As [`RMSprop::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        RMSprop::with(lr, 0.99, 1e-8)
    }

    /// RMSprop with every option.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for α < 0
    /// or ε ≤ 0 (Python's messages).
    pub fn with(lr: impl Into<LearningRate>, alpha: f64, eps: f64) -> Result<Self> {
        if alpha < 0.0 {
            return Err(invalid(
                "RMSprop",
                format!("RMSprop alpha should be >=0, {alpha} was provided instead"),
            ));
        }
        if eps <= 0.0 {
            return Err(invalid(
                "RMSprop",
                format!("RMSprop epsilon should be >0, {eps} was provided instead"),
            ));
        }
        Ok(RMSprop {
            alpha,
            eps,
            core: Core::new(lr)?,
        })
    }
}

impl Optimizer for RMSprop {
    const NAME: &'static str = "RMSprop";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        zeros(param, &["v"])
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
        let v = add(
            multiply(self.alpha, slot(state, "v")?)?,
            multiply(1.0 - self.alpha, square(grad)?)?,
        )?;
        let out = subtract(
            param,
            divide(multiply(&lr, grad)?, add(sqrt(&v)?, self.eps)?)?,
        )?;
        state.insert("v".into(), v);
        Ok(out)
    }

    core_access!();
}

/// Adagrad: `v = v + g²`, `p = p - lr·g / (√v + ε)` (default ε = 1e-8).
#[derive(Debug)]
pub struct Adagrad {
    /// ε added to the denominator.
    pub eps: f64,
    core: Core,
}

impl Adagrad {
    /// Adagrad with Python's defaults.
    ///
    /// # Errors
    /// As [`Adagrad::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        Adagrad::with(lr, 1e-8)
    }

    /// Adagrad with every option.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for ε ≤ 0.
    pub fn with(lr: impl Into<LearningRate>, eps: f64) -> Result<Self> {
        if eps <= 0.0 {
            return Err(invalid(
                "Adagrad",
                format!("Adagrad epsilon should be >0, {eps} was provided instead"),
            ));
        }
        Ok(Adagrad {
            eps,
            core: Core::new(lr)?,
        })
    }
}

impl Optimizer for Adagrad {
    const NAME: &'static str = "Adagrad";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        zeros(param, &["v"])
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
        let v = add(slot(state, "v")?, square(grad)?)?;
        let out = subtract(
            param,
            divide(multiply(&lr, grad)?, add(sqrt(&v)?, self.eps)?)?,
        )?;
        state.insert("v".into(), v);
        Ok(out)
    }

    core_access!();
}

/// AdaDelta: `v = ρ·v + (1 - ρ)·g²`, `d = √(u + ε) / √(v + ε) · g`,
/// `u = ρ·u + (1 - ρ)·d²`, `p = p - lr·d` (defaults ρ = 0.9, ε = 1e-6).
#[derive(Debug)]
pub struct AdaDelta {
    /// The decay ρ.
    pub rho: f64,
    /// ε inside the square roots.
    pub eps: f64,
    core: Core,
}

impl AdaDelta {
    /// AdaDelta with Python's defaults.
    ///
    /// # Errors
    /// As [`AdaDelta::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        AdaDelta::with(lr, 0.9, 1e-6)
    }

    /// AdaDelta with every option.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for ρ < 0
    /// or ε ≤ 0.
    pub fn with(lr: impl Into<LearningRate>, rho: f64, eps: f64) -> Result<Self> {
        if rho < 0.0 {
            return Err(invalid(
                "AdaDelta",
                format!("AdaDelta rho should be >=0, {rho} was provided instead"),
            ));
        }
        if eps <= 0.0 {
            return Err(invalid(
                "AdaDelta",
                format!("AdaDelta epsilon should be >0, {eps} was provided instead"),
            ));
        }
        Ok(AdaDelta {
            rho,
            eps,
            core: Core::new(lr)?,
        })
    }
}

impl Optimizer for AdaDelta {
    const NAME: &'static str = "AdaDelta";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        zeros(param, &["u", "v"])
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
        let (rho, eps) = (self.rho, self.eps);
        let v = add(
            multiply(rho, slot(state, "v")?)?,
            multiply(1.0 - rho, square(grad)?)?,
        )?;
        let u = slot(state, "u")?;
        let d = multiply(divide(sqrt(&add(u, eps)?)?, sqrt(&add(&v, eps)?)?)?, grad)?;
        let u = add(multiply(rho, u)?, multiply(1.0 - rho, square(&d)?)?)?;
        state.insert("v".into(), v);
        state.insert("u".into(), u);
        subtract(param, multiply(&lr, &d)?)
    }

    core_access!();
}
