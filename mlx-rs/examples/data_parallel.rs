//! Data-parallel training over MLX's ring backend: each rank trains the
//! same small MLP on its share of a synthetic batch (fixed seed) and
//! averages the gradients with `average_gradients` before each SGD step,
//! so every rank ends with the parameters of one process trained on the
//! whole batch.
//!
//! ```text
//! cargo build -p mlx-rs --example data_parallel --example distributed_launch
//! target/debug/examples/distributed_launch -n 2 -- target/debug/examples/data_parallel
//! mlx.launch --backend ring -n 2 -- target/debug/examples/data_parallel   # the same, with MLX's launcher
//! ```
//!
//! Each rank also trains the one-process reference on the whole batch and
//! prints how far its parameters are from it.

use mlx_rs::distributed::{Backend, Group};
use mlx_rs::nn::{average_gradients, Linear, Module};
use mlx_rs::optimizers::{Optimizer, Sgd};
use mlx_rs::{eval, ops, random, Array, Dtype, Result};

#[derive(Debug, Clone, Module)]
struct Mlp {
    l1: Linear,
    l2: Linear,
}

impl Mlp {
    fn new() -> Result<Mlp> {
        // The same initial parameters on every rank: a fixed key.
        let key = random::key(0)?;
        let keys = random::split(&key)?;
        let keys = [keys.0, keys.1];
        let w = |k: &Array, shape: &[i32]| -> Result<Array> {
            ops::multiply(
                &random::normal(shape, Dtype::Float32, 0.0, 1.0, Some(k))?,
                0.3f32,
            )
        };
        Ok(Mlp {
            l1: Linear {
                weight: w(&keys[0], &[32, 8])?,
                bias: Some(Array::zeros(&[32], Dtype::Float32)?),
            },
            l2: Linear {
                weight: w(&keys[1], &[1, 32])?,
                bias: Some(Array::zeros(&[1], Dtype::Float32)?),
            },
        })
    }

    fn forward(&self, x: &Array) -> Result<Array> {
        self.l2
            .forward(&ops::maximum(&self.l1.forward(x)?, 0.0f32)?)
    }
}

fn loss(m: &Mlp, a: &[Array]) -> Result<Vec<Array>> {
    let d = ops::subtract(&m.forward(&a[0])?, &a[1])?;
    Ok(vec![ops::mean(&ops::square(&d)?, ops::Axes::All, false)?])
}

/// `steps` SGD steps; with a group, the gradients are averaged over it.
fn train(x: &Array, y: &Array, group: Option<&Group>, steps: usize, log: bool) -> Result<Mlp> {
    let mut model = Mlp::new()?;
    let mut opt = Sgd::new(0.05)?;
    for step in 0..steps {
        let (l, grads) = model.value_and_grad(loss, &[x.clone(), y.clone()])?;
        let grads = match group {
            Some(g) => average_gradients(&grads, g, 32 << 20)?,
            None => grads,
        };
        let mut params = model.parameters();
        opt.update(&mut params, &grads)?;
        eval(params.values())?;
        model.load_weights(params.into_iter().collect())?;
        if log && step % 5 == 0 {
            println!("step {step:3}: local loss {:.5}", l[0].item::<f32>()?);
        }
    }
    Ok(model)
}

fn main() -> Result<()> {
    let g = Group::init(Backend::Ring, false)?;
    let (n, r) = (g.size() as i32, g.rank() as i32);
    // y = sum(sin(x)) over a fixed batch of 64 points.
    let key = random::key(42)?;
    let x = random::uniform(-2.0f32, 2.0f32, &[64, 8], Dtype::Float32, Some(&key))?;
    let y = ops::sum(&ops::sin(&x)?, -1, true)?;
    let per = 64 / n;
    let rows = Array::arange(
        f64::from(r * per),
        f64::from((r + 1) * per),
        1.0,
        Dtype::Int32,
    )?;
    let (xs, ys) = (
        ops::take(&x, &rows, Some(0))?,
        ops::take(&y, &rows, Some(0))?,
    );
    let parallel = train(&xs, &ys, Some(&g), 20, r == 0)?;
    let single = train(&x, &y, None, 20, false)?.parameters();
    let mut worst = 0.0f32;
    for (k, p) in parallel.parameters() {
        let d = ops::max(
            &ops::abs(&ops::subtract(&p, &single[&k])?)?,
            ops::Axes::All,
            false,
        )?;
        worst = worst.max(d.item::<f32>()?);
    }
    println!("rank {r} of {n}: max |parallel - one process| = {worst:e}");
    Ok(())
}
