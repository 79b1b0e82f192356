//! Muon (Python's `optimizers.Muon`).

use super::{core_access, slot, Core, LearningRate, Optimizer, Slots};
use crate::ops::linalg::norm;
use crate::ops::{add, addmm, divide, matmul, multiply, subtract, zeros_like};
use crate::{Array, Result};

/// Muon: SGD momentum (Nesterov by default) whose update of each matrix is
/// orthogonalized by five Newton–Schulz iterations (Python's defaults:
/// momentum 0.95, weight decay 0.01, Nesterov, 5 steps). Parameters of
/// more than two axes are flattened to `[shape[0], -1]` for it; vectors
/// take the plain momentum update. State: `v`.
#[derive(Debug)]
pub struct Muon {
    /// The momentum.
    pub momentum: f64,
    /// Added to the gradient as `weight_decay · p`.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Newton–Schulz iterations.
    pub ns_steps: usize,
    core: Core,
}

impl Muon {
    /// Muon with Python's defaults.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    pub fn new(lr: impl Into<LearningRate>) -> Result<Self> {
        Muon::with(lr, 0.95, 0.01, true, 5)
    }

    /// Muon with every option.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    pub fn with(
        lr: impl Into<LearningRate>,
        momentum: f64,
        weight_decay: f64,
        nesterov: bool,
        ns_steps: usize,
    ) -> Result<Self> {
        Ok(Muon {
            momentum,
            weight_decay,
            nesterov,
            ns_steps,
            core: Core::new(lr)?,
        })
    }
}

/// Python's `_zeropower_via_newtonschulz5` of a matrix.
fn newton_schulz(x: &Array, steps: usize) -> Result<Array> {
    let (a, b, c) = (3.4445f64, -4.7750f64, 2.0315f64);
    let s = x.shape();
    let transpose = s[0] > s[1];
    let mut x = if transpose { x.transpose()? } else { x.clone() };
    x = divide(&x, add(norm(&x, None, None, true)?, 1e-7)?)?;
    for _ in 0..steps {
        let am = matmul(&x, &x.transpose()?)?;
        let bm = addmm(&multiply(b, &am)?, &am, &am, c as f32, 1.0)?;
        x = addmm(&multiply(a, &x)?, &bm, &x, 1.0, 1.0)?;
    }
    if transpose {
        x = x.transpose()?;
    }
    Ok(x)
}

impl Optimizer for Muon {
    const NAME: &'static str = "Muon";

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
        let grad = if self.weight_decay != 0.0 {
            add(grad, multiply(self.weight_decay, param)?)?
        } else {
            grad.clone()
        };
        let v = multiply(self.momentum, slot(state, "v")?)?;
        let v = add(v, multiply(1.0 - self.momentum, &grad)?)?;
        state.insert("v".into(), v.clone());
        let update = if self.nesterov {
            add(
                multiply(&grad, 1.0 - self.momentum)?,
                multiply(&v, self.momentum)?,
            )?
        } else {
            v
        };
        let mut lr = lr.astype(grad.dtype())?;
        let update = if update.ndim() >= 2 {
            let shape = update.shape().to_vec();
            let flat = if shape.len() > 2 {
                update.reshape(&[shape[0], -1])?
            } else {
                update
            };
            let o = newton_schulz(&flat, self.ns_steps)?;
            let o = if shape.len() > 2 {
                o.reshape(&shape)?
            } else {
                o
            };
            let n = o.ndim();
            let (rows, cols) = (o.shape()[n - 2], o.shape()[n - 1]);
            let scale = (f64::from(rows) / f64::from(cols)).max(1.0).powf(0.5);
            lr = multiply(&lr, scale)?;
            o
        } else {
            update
        };
        subtract(param, multiply(&lr, &update)?)
    }

    core_access!();
}
