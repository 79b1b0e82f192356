//! Function transforms: automatic differentiation ([`value_and_grad`],
//! [`grad`], [`vjp`], [`jvp`]), vectorization ([`vmap`]), compilation
//! ([`compile`]), custom derivative rules ([`CustomFunction`],
//! [`custom_vjp`]) and [`checkpoint`], through mlx-c's `closure.h`,
//! `transforms.h`, `transforms_impl.h` and `compile.h`.
//!
//! A transform takes a Rust function of arrays to arrays, `FnMut(&[Array])
//! -> Result<Vec<Array>>`, wrapped as a [`Closure`]. MLX calls it while
//! tracing, on the calling thread. If it returns an `Err`, the transform's
//! caller gets that same `Err`; if it panics, the panic is caught before
//! it reaches C and the caller gets
//! [`Error::ClosurePanic`](crate::Error::ClosurePanic), which names the
//! transform and carries the panic message. Nothing unwinds through C, nothing aborts.
//!
//! ```
//! use mlx_rs::{ops, transforms::{grad, vmap}, Array};
//! // Per-example gradients of sum(x^3): vmap over grad.
//! let g = grad(|a: &[Array]| Ok(vec![ops::sum(&ops::power(&a[0], &Array::scalar(3.0f32)?)?, ops::Axes::All, false)?]), &[0])?;
//! let per_row = vmap(move |a: &[Array]| g.call(a), &[], &[])?;
//! let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! assert_eq!(per_row.call(&[x])?[0].to_vec::<f32>()?, [3.0, 12.0, 27.0, 48.0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! Functions must be `'static` (capture arrays by value: cloning an
//! [`Array`](crate::Array) is cheap), because MLX may keep a copy of a
//! closure for as long as the transform made from it lives.

pub(crate) mod closure;
mod compile;
mod custom;
mod grad;
mod kwargs;
mod vmap;

pub use closure::Closure;
pub use compile::{
    clear_compile_cache, compile, disable_compile, enable_compile, set_compile_mode, CompileMode,
    CompiledFunction,
};
pub use custom::{checkpoint, custom_vjp, CustomFunction};
pub use grad::{grad, jvp, value_and_grad, vjp, Grad, ValueAndGrad};
pub use kwargs::{Kwargs, KwargsClosure};
pub use vmap::{vmap, Vmap};
