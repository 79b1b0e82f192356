//! Activation functions and layers, written as Python MLX 0.32.2's `nn`
//! writes them (`mlx/nn/layers/activations.py`).
//!
//! Every function runs Python's op sequence. Those that Python wraps in
//! `mx.compile(shapeless=True)` (all but [`glu`] and [`tanh`]) are compiled
//! here too, with their float arguments as constants of the trace as in
//! Python, so results are the same bits on the CPU: MLX's CPU compiler
//! writes scalar constants with 7 significant digits, which moves some
//! results (`gelu`'s `1/√2`), and gradients go through the uncompiled
//! graph in both. Each function and argument set is traced once per thread
//! (see [`compile`](crate::transforms::compile)); with
//! [`disable_compile`](crate::transforms::disable_compile) in force the ops
//! run directly, as in Python.
//!
//! - smooth: [`sigmoid`], [`log_sigmoid`], [`silu`], [`gelu`],
//!   [`gelu_approx`], [`gelu_fast_approx`], [`softplus`], [`mish`],
//!   [`elu`], [`celu`], [`selu`], [`softsign`], [`tanh`], [`softmax`],
//!   [`softmin`], [`log_softmax`], [`glu`];
//! - piecewise: [`relu`], [`relu2`], [`relu6`], [`leaky_relu`],
//!   [`prelu`], [`hardswish`], [`hard_tanh`], [`hard_shrink`],
//!   [`softshrink`], [`step`];
//! - layers, one per Python class: [`Glu`], [`Sigmoid`], [`Mish`],
//!   [`Relu`], [`Relu2`], [`Relu6`], [`LeakyRelu`], [`Elu`], [`Softmax`],
//!   [`Softplus`], [`Softsign`], [`Softshrink`], [`Celu`], [`Silu`],
//!   [`LogSoftmax`], [`LogSigmoid`], [`Prelu`] (a learned `weight`),
//!   [`Gelu`], [`Tanh`], [`Hardswish`], [`Step`], [`Selu`], [`HardTanh`],
//!   [`HardShrink`], [`Softmin`].

mod layers;
mod piecewise;
mod smooth;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::error::Result;
use crate::ops::support::invalid;
use crate::transforms::{compile, CompiledFunction};
use crate::Array;

pub use layers::{
    Celu, Elu, Gelu, GeluApprox, Glu, HardShrink, HardTanh, Hardswish, LeakyRelu, LogSigmoid,
    LogSoftmax, Mish, Prelu, Relu, Relu2, Relu6, Selu, Sigmoid, Silu, Softmax, Softmin, Softplus,
    Softshrink, Softsign, Step, Tanh,
};
pub use piecewise::{
    hard_shrink, hard_tanh, hardswish, leaky_relu, prelu, relu, relu2, relu6, softshrink, step,
};
pub use smooth::{
    celu, elu, gelu, gelu_approx, gelu_fast_approx, glu, log_sigmoid, log_softmax, mish, selu,
    sigmoid, silu, softmax, softmin, softplus, softsign, tanh,
};

/// A traced activation: its name and the bits of its constant arguments.
type Key = (&'static str, Vec<u64>);

/// An activation's body: the traced inputs and the constant arguments.
type Body = fn(&[Array], &[f64]) -> Result<Array>;

thread_local! {
    /// This thread's compiled activations (MLX's compile cache is per
    /// thread, and so is a [`CompiledFunction`]). As Python's cache, it
    /// keeps one entry per function and argument set.
    static COMPILED: RefCell<HashMap<Key, Rc<CompiledFunction>>> = RefCell::new(HashMap::new());
}

/// `body(inputs, consts)` compiled shapeless, as Python's
/// `@partial(mx.compile, shapeless=True)`: `consts` are constants of the
/// trace (Python's non-array arguments), so each set of them has its own
/// compiled function.
///
/// # Errors
/// The body's error (MLX's, for a dtype it rejects), or MLX's compile
/// error.
fn shapeless(name: &'static str, consts: &[f64], inputs: &[&Array], body: Body) -> Result<Array> {
    let key: Key = (name, consts.iter().map(|c| c.to_bits()).collect());
    let args: Vec<Array> = inputs.iter().map(|a| (*a).clone()).collect();
    // The borrow ends before the call: tracing one activation may call
    // another (`selu` calls `elu`). While this thread is being torn down
    // (a destructor calling an activation) the cache is gone: the ops then
    // run directly.
    let Ok(cached) = COMPILED.try_with(|c| c.borrow().get(&key).cloned()) else {
        return body(&args, consts);
    };
    let fun = match cached {
        Some(f) => f,
        None => {
            let consts = consts.to_vec();
            let f = Rc::new(compile(
                move |a: &[Array]| Ok(vec![body(a, &consts)?]),
                true,
            )?);
            // Cannot fail: the cache was alive just above, on this thread.
            let _ = COMPILED.try_with(|c| c.borrow_mut().insert(key, f.clone()));
            f
        }
    };
    fun.call(&args)?
        .into_iter()
        .next()
        .ok_or_else(|| invalid(name, "the compiled function returned no output"))
}
