//! Stochastic gradient descent (Python's `optimizers.SGD`).

use super::{core_access, invalid, slot, Core, LearningRate, Optimizer, Slots};
use crate::ops::{add, multiply, subtract, zeros_like};
use crate::{Array, Result};

/// SGD with optional momentum, dampening, Nesterov momentum and weight
/// decay: `v = momentum·v + (1 - dampening)·g`, `p = p - lr·v` (Python's
/// `SGD`, defaults 0, 0, 0, false).
#[derive(Debug)]
pub struct Sgd {
    /// Momentum (0: plain SGD, no state).
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
    /// Dampening of the momentum.
    pub dampening: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    core: Core,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    ///
    /// # Errors
    /// As [`Sgd::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        Sgd::with(lr, 0.0, 0.0, 0.0, false)
    }

    /// SGD with every option.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
    /// Nesterov momentum without a momentum or with dampening (as Python).
    pub fn with(
        lr: impl Into<LearningRate>,
        momentum: f64,
        weight_decay: f64,
        dampening: f64,
        nesterov: bool,
    ) -> Result<Self> {
        if nesterov && (momentum <= 0.0 || dampening != 0.0) {
            return Err(invalid(
                "SGD",
                "Nesterov momentum requires a momentum and zero dampening.",
            ));
        }
        Ok(Sgd {
            momentum,
            weight_decay,
            dampening,
            nesterov,
            core: Core::new(lr)?,
        })
    }
}

impl Optimizer for Sgd {
    const NAME: &'static str = "SGD";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        Ok(Slots::from([("v".to_string(), zeros_like(param, None)?)]))
    }

    fn apply_single(
        &self,
        grad: &Array,
        param: &Array,
        state: &mut Slots,
        lr: &Array,
        _: &Array,
    ) -> Result<Array> {
        let mut grad = grad.clone();
        if self.weight_decay != 0.0 {
            grad = add(&grad, multiply(self.weight_decay, param)?)?;
        }
        let lr = lr.astype(grad.dtype())?;
        if self.momentum <= 0.0 {
            return subtract(param, multiply(&lr, &grad)?);
        }
        let mut v = multiply(self.momentum, slot(state, "v")?)?;
        v = if self.dampening > 0.0 {
            add(&v, multiply(1.0 - self.dampening, &grad)?)?
        } else {
            add(&v, &grad)?
        };
        let update = if self.nesterov {
            add(&grad, multiply(self.momentum, &v)?)?
        } else {
            v.clone()
        };
        state.insert("v".into(), v);
        subtract(param, multiply(&lr, &update)?)
    }

    core_access!();
}
