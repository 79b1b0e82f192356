//! Reverse- and forward-mode differentiation: [`value_and_grad`],
//! [`grad`], [`vjp`], [`jvp`].

use std::collections::BTreeSet;

use super::closure::{run, Closure};
use crate::array::vector;
use crate::error::{Error, Result};
use crate::raw::{self, Owned};
use crate::Array;

/// Checks `argnums` once, when a gradient function is made: at least one,
/// none repeated (after counting negatives from the end, which needs the
/// number of arguments: checked again by [`resolve`]).
fn check_argnums(op: &'static str, argnums: &[i32]) -> Result<()> {
    if argnums.is_empty() {
        return Err(Error::InvalidArgument {
            op,
            reason: "argnums is empty: name at least one argument to differentiate".to_owned(),
        });
    }
    let mut seen = BTreeSet::new();
    for &a in argnums {
        if !seen.insert(a) {
            return Err(Error::InvalidArgument {
                op,
                reason: format!("argnums {argnums:?} repeats argument {a}"),
            });
        }
    }
    Ok(())
}

/// Checks `argnums` against the `n` arguments of a call: each in
/// `-n..n`, none naming the same argument twice.
fn resolve(op: &'static str, argnums: &[i32], n: usize) -> Result<()> {
    let mut seen = BTreeSet::new();
    for &a in argnums {
        let i = if a < 0 { a as i64 + n as i64 } else { a as i64 };
        if i < 0 || i >= n as i64 {
            return Err(Error::InvalidArgument {
                op,
                reason: format!(
                    "argnums names argument {a}, but the function is called with {n} arguments"
                ),
            });
        }
        if !seen.insert(i) {
            return Err(Error::InvalidArgument {
                op,
                reason: format!("argnums {argnums:?} names argument {i} twice"),
            });
        }
    }
    Ok(())
}

/// Wraps `f` so that a function without outputs (MLX would differentiate
/// nothing and return zeros) or whose first output is not a scalar is an
/// `Err` naming the transform.
fn with_outputs<F>(op: &'static str, mut f: F) -> impl FnMut(&[Array]) -> Result<Vec<Array>>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    move |args| {
        let out = f(args)?;
        if out.is_empty() {
            return Err(Error::InvalidArgument {
                op,
                reason: "the function returned no outputs; its first output must be the \
                         scalar to differentiate"
                    .to_owned(),
            });
        }
        if out[0].ndim() != 0 {
            return Err(Error::InvalidArgument {
                op,
                reason: format!(
                    "the function's first output must be a scalar (shape []) to differentiate, \
                     it has shape {:?}",
                    out[0].shape()
                ),
            });
        }
        Ok(out)
    }
}

/// A function together with its gradient: see [`value_and_grad`].
#[derive(Debug)]
pub struct ValueAndGrad {
    raw: Owned<mlx_sys::mlx_closure_value_and_grad>,
    argnums: Vec<i32>,
}

/// The function `f` returning, with its outputs, the gradients of its
/// first output with respect to the arguments `argnums` (negative indices
/// count from the end), as Python's `mx.value_and_grad`.
///
/// The first output must be a scalar (shape `[]`); further outputs are
/// returned as they are, with gradients stopped (what Python's
/// `has_aux`-style auxiliary outputs are).
///
/// ```
/// use mlx_rs::{ops, transforms::value_and_grad, Array};
/// // f(x, y) = sum(x * y)
/// let vg = value_and_grad(|a: &[Array]| Ok(vec![ops::sum(&ops::multiply(&a[0], &a[1])?, ops::Axes::All, false)?]), &[0, 1])?;
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// let y = Array::from_slice(&[3.0f32, 4.0], &[2])?;
/// let (value, grads) = vg.call(&[x, y])?;
/// assert_eq!(value[0].item::<f32>()?, 11.0);
/// assert_eq!(grads[0].to_vec::<f32>()?, [3.0, 4.0]); // d/dx = y
/// assert_eq!(grads[1].to_vec::<f32>()?, [1.0, 2.0]); // d/dy = x
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for an empty or repeating `argnums`;
/// [`Error::Mlx`] if mlx-c cannot make the function.
#[doc(alias = "mlx_value_and_grad")]
pub fn value_and_grad<F>(f: F, argnums: &[i32]) -> Result<ValueAndGrad>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    const OP: &str = "mlx_value_and_grad";
    check_argnums(OP, argnums)?;
    let closure = Closure::new(with_outputs(OP, f))?;
    let raw = raw::out(OP, |res| {
        // SAFETY: the closure is live (MLX copies it); `argnums` is valid
        // for its length; `res` is a fresh out-param.
        unsafe { mlx_sys::mlx_value_and_grad(res, closure.get(), argnums.as_ptr(), argnums.len()) }
    })?;
    Ok(ValueAndGrad {
        raw,
        argnums: argnums.to_vec(),
    })
}

impl ValueAndGrad {
    /// Runs the function on `args`: its outputs, and the gradients of the
    /// first output with respect to each of `argnums`, in the order of
    /// `argnums` sorted by argument position (as MLX returns them).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `argnums` names an argument that
    /// `args` does not have, or the function returned no outputs or a
    /// first output that is not a scalar; [`Error::ClosurePanic`] when the function
    /// panicked; the function's own `Err`.
    #[doc(alias = "mlx_closure_value_and_grad_apply")]
    pub fn call(&self, args: &[Array]) -> Result<(Vec<Array>, Vec<Array>)> {
        const OP: &str = "mlx_closure_value_and_grad_apply";
        resolve("mlx_value_and_grad", &self.argnums, args.len())?;
        let inputs = vector(args)?;
        let (values, grads) = run(OP, || {
            raw::out2(OP, |v, g| {
                // SAFETY: the function and the input vector are live; `v`
                // and `g` are fresh out-params.
                unsafe {
                    mlx_sys::mlx_closure_value_and_grad_apply(v, g, self.raw.get(), inputs.get())
                }
            })
        })?;
        Ok((Array::vec_from(OP, &values)?, Array::vec_from(OP, &grads)?))
    }
}

/// The gradient of a function: see [`grad`].
#[derive(Debug)]
pub struct Grad(ValueAndGrad);

/// The gradients of `f`'s first output (a scalar) with respect to the
/// arguments `argnums`, as Python's `mx.grad`.
///
/// ```
/// use mlx_rs::{ops, transforms::grad, Array};
/// let g = grad(|a: &[Array]| Ok(vec![ops::sum(&ops::square(&a[0])?, ops::Axes::All, false)?]), &[0])?;
/// let dx = g.call(&[Array::from_slice(&[1.0f32, -2.0], &[2])?])?;
/// assert_eq!(dx[0].to_vec::<f32>()?, [2.0, -4.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// As [`value_and_grad`].
#[doc(alias = "mlx_value_and_grad")]
pub fn grad<F>(f: F, argnums: &[i32]) -> Result<Grad>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    value_and_grad(f, argnums).map(Grad)
}

impl Grad {
    /// The gradients at `args`, one per entry of `argnums` (sorted by
    /// argument position).
    ///
    /// # Errors
    /// As [`ValueAndGrad::call`].
    pub fn call(&self, args: &[Array]) -> Result<Vec<Array>> {
        self.0.call(args).map(|(_, g)| g)
    }
}

/// The vector-Jacobian product of `f` at `primals` with `cotangents` (one
/// per output): `f`'s outputs and one gradient per primal, as Python's
/// `mx.vjp`.
///
/// ```
/// use mlx_rs::{ops, transforms::vjp, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// let ct = Array::from_slice(&[1.0f32, 10.0], &[2])?;
/// let (out, vjps) = vjp(|a: &[Array]| Ok(vec![ops::square(&a[0])?]), &[x], &[ct])?;
/// assert_eq!(out[0].to_vec::<f32>()?, [1.0, 4.0]);
/// assert_eq!(vjps[0].to_vec::<f32>()?, [2.0, 40.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`] when the cotangents do not match the outputs in number
/// or shape, or `f` panicked; `f`'s own `Err`.
#[doc(alias = "mlx_vjp")]
pub fn vjp<F>(f: F, primals: &[Array], cotangents: &[Array]) -> Result<(Vec<Array>, Vec<Array>)>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    const OP: &str = "mlx_vjp";
    let closure = Closure::new(f)?;
    let p = vector(primals)?;
    let c = vector(cotangents)?;
    let (out, vjps) = run(OP, || {
        raw::out2(OP, |o, v| {
            // SAFETY: closure and vectors are live; `o`, `v` are fresh
            // out-params.
            unsafe { mlx_sys::mlx_vjp(o, v, closure.get(), p.get(), c.get()) }
        })
    })?;
    Ok((Array::vec_from(OP, &out)?, Array::vec_from(OP, &vjps)?))
}

/// The Jacobian-vector product of `f` at `primals` with `tangents` (one
/// per primal): `f`'s outputs and one directional derivative per output,
/// as Python's `mx.jvp`.
///
/// ```
/// use mlx_rs::{ops, transforms::jvp, Array};
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// let t = Array::from_slice(&[1.0f32, 1.0], &[2])?;
/// let (out, jvps) = jvp(|a: &[Array]| Ok(vec![ops::square(&a[0])?]), &[x], &[t])?;
/// assert_eq!(jvps[0].to_vec::<f32>()?, [2.0, 4.0]);
/// # let _ = out;
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`] when the tangents do not match the primals in number or
/// shape, or `f` panicked; `f`'s own `Err`.
#[doc(alias = "mlx_jvp")]
pub fn jvp<F>(f: F, primals: &[Array], tangents: &[Array]) -> Result<(Vec<Array>, Vec<Array>)>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
{
    const OP: &str = "mlx_jvp";
    let closure = Closure::new(f)?;
    let p = vector(primals)?;
    let t = vector(tangents)?;
    let (out, jvps) = run(OP, || {
        raw::out2(OP, |o, j| {
            // SAFETY: closure and vectors are live; `o`, `j` are fresh
            // out-params.
            unsafe { mlx_sys::mlx_jvp(o, j, closure.get(), p.get(), t.get()) }
        })
    })?;
    Ok((Array::vec_from(OP, &out)?, Array::vec_from(OP, &jvps)?))
}
