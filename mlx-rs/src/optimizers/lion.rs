//! Lion (Python's `optimizers.Lion`).

use super::{core_access, slot, Core, LearningRate, Optimizer, Slots};
use crate::ops::{add, multiply, sign, subtract, zeros_like};
use crate::{Array, Result};

/// Lion: `c = β₁·m + (1 - β₁)·g`, `m = β₂·m + (1 - β₂)·g`,
/// `p = p - lr·sign(c)`, with decoupled weight decay (defaults β = (0.9,
/// 0.99), weight decay 0).
#[derive(Debug)]
pub struct Lion {
    /// (β₁, β₂).
    pub betas: (f64, f64),
    /// Decoupled weight decay.
    pub weight_decay: f64,
    core: Core,
}

impl Lion {
    /// Lion with Python's defaults.
    ///
    /// # Errors
    /// As [`Lion::with`].
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        Lion::with(lr, (0.9, 0.99), 0.0)
    }

    /// Lion with every option.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a β
    /// outside [0, 1).
    pub fn with(lr: impl Into<LearningRate>, betas: (f64, f64), weight_decay: f64) -> Result<Self> {
        super::adam::check_betas("Lion", betas)?;
        Ok(Lion {
            betas,
            weight_decay,
            core: Core::new(lr)?,
        })
    }
}

impl Optimizer for Lion {
    const NAME: &'static str = "Lion";

    fn init_single(&self, param: &Array) -> Result<Slots> {
        Ok(Slots::from([("m".to_string(), zeros_like(param, None)?)]))
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
        let m = slot(state, "m")?;
        let c = add(multiply(b1, m)?, multiply(1.0 - b1, grad)?)?;
        let m = add(multiply(b2, m)?, multiply(1.0 - b2, grad)?)?;
        state.insert("m".into(), m);
        let param = if self.weight_decay > 0.0 {
            multiply(
                crate::ops::subtract(1.0, multiply(&lr, self.weight_decay)?)?,
                param,
            )?
        } else {
            param.clone()
        };
        subtract(&param, multiply(&lr, sign(&c)?)?)
    }

    core_access!();
}
