//! The function-transform cases (`transforms/…`): the gradient of a 2-layer
//! MLP, and one elementwise chain of [`TRANSFORM_CHAIN`] ops called plain
//! and compiled. The transform is made once in `new` (as a training loop
//! or a decode step would); an iteration calls it and evaluates.
//!
//! Python counterpart: `benches/python/bench_transforms.py`.

use mlx_rs::ops::{self, Axes};
use mlx_rs::transforms::{compile, value_and_grad, CompiledFunction, ValueAndGrad};
use mlx_rs::{eval, Array};

use super::{normal, BenchResult, Case};

/// The MLP of `transforms/mlp_grad`: batch, inputs, hidden units, outputs.
pub const MLP: (i32, i32, i32, i32) = (64, 256, 256, 10);
/// Ops in the elementwise chain (a multiply and an add, 50 times).
pub const TRANSFORM_CHAIN: usize = 100;
/// Length of the chain's `float32` vector.
pub const CHAIN_LEN: i32 = 4096;

/// `mean((relu(x @ w1 + b1) @ w2 + b2 - y)^2)` of `[w1, b1, w2, b2, x, y]`.
fn mlp_loss(a: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    let h = ops::maximum(&(&ops::matmul(&a[4], &a[0])? + &a[1])?, 0.0f32)?;
    let d = (&(&ops::matmul(&h, &a[2])? + &a[3])? - &a[5])?;
    Ok(vec![ops::mean(&(&d * &d)?, Axes::All, false)?])
}

/// `transforms/mlp_grad`: the loss and its gradients with respect to the
/// four parameters.
pub(super) struct MlpGrad {
    f: ValueAndGrad,
    args: Vec<Array>,
}

impl MlpGrad {
    pub(super) fn new() -> BenchResult<Self> {
        let (n, i, h, o) = MLP;
        let args = vec![
            normal(&[i, h], 1)?,
            normal(&[h], 2)?,
            normal(&[h, o], 3)?,
            normal(&[o], 4)?,
            normal(&[n, i], 5)?,
            normal(&[n, o], 6)?,
        ];
        Ok(MlpGrad {
            f: value_and_grad(mlp_loss, &[0, 1, 2, 3])?,
            args,
        })
    }
}

impl Case for MlpGrad {
    fn run(&mut self) -> BenchResult<()> {
        let (value, grads) = self.f.call(&self.args)?;
        eval(value.iter().chain(&grads))?;
        Ok(())
    }
}

/// `x * a + b`, [`TRANSFORM_CHAIN`] / 2 times, of `[x, a, b]`.
fn chain(args: &[Array]) -> mlx_rs::Result<Vec<Array>> {
    let mut x = args[0].clone();
    for _ in 0..TRANSFORM_CHAIN / 2 {
        x = (&(&x * &args[1])? + &args[2])?;
    }
    Ok(vec![x])
}

fn chain_inputs() -> BenchResult<Vec<Array>> {
    let args = vec![
        normal(&[CHAIN_LEN], 7)?,
        Array::full(&[CHAIN_LEN], 0.999f32)?,
        Array::full(&[CHAIN_LEN], 0.001f32)?,
    ];
    eval(&args)?;
    Ok(args)
}

/// `transforms/chain_100_plain`: the chain built op by op, then evaluated.
pub(super) struct ChainPlain {
    args: Vec<Array>,
}

impl ChainPlain {
    pub(super) fn new() -> BenchResult<Self> {
        Ok(ChainPlain {
            args: chain_inputs()?,
        })
    }
}

impl Case for ChainPlain {
    fn run(&mut self) -> BenchResult<()> {
        eval(&chain(&self.args)?)?;
        Ok(())
    }
}

/// `transforms/chain_100_compiled`: the same chain through one
/// [`CompiledFunction`] (traced and fused on the first call, a warm-up).
pub(super) struct ChainCompiled {
    f: CompiledFunction,
    args: Vec<Array>,
}

impl ChainCompiled {
    pub(super) fn new() -> BenchResult<Self> {
        Ok(ChainCompiled {
            f: compile(chain, false)?,
            args: chain_inputs()?,
        })
    }
}

impl Case for ChainCompiled {
    fn run(&mut self) -> BenchResult<()> {
        eval(&self.f.call(&self.args)?)?;
        Ok(())
    }
}
