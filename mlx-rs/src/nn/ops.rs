//! Minimal private wrappers of mlx-c ops that the core's `ops` module does
//! not have yet.
//!
//! TODO(ops): move to ops once issue 4 lands.

use crate::array::RawVector;
use crate::error::Result;
use crate::{Array, Stream};

/// Runs a one-input mlx-c op on the current stream.
fn unary(
    op: &'static str,
    a: &Array,
    f: unsafe extern "C" fn(
        *mut mlx_sys::mlx_array,
        mlx_sys::mlx_array,
        mlx_sys::mlx_stream,
    ) -> i32,
) -> Result<Array> {
    let s = Stream::current()?;
    Array::build(op, |res| {
        // SAFETY: `f` is an mlx-c op of this exact signature; `res` is a
        // fresh out-param; the input and the stream are live handles.
        unsafe { f(res, a.as_raw(), s.as_raw()) }
    })
}

/// `1 / (1 + exp(-a))`. TODO(ops): move to ops once issue 4 lands.
pub(crate) fn sigmoid(a: &Array) -> Result<Array> {
    unary("mlx_sigmoid", a, mlx_sys::mlx_sigmoid)
}

/// `tanh(a)`. TODO(ops): move to ops once issue 4 lands.
pub(crate) fn tanh(a: &Array) -> Result<Array> {
    unary("mlx_tanh", a, mlx_sys::mlx_tanh)
}

/// The error function. TODO(ops): move to ops once issue 4 lands.
pub(crate) fn erf(a: &Array) -> Result<Array> {
    unary("mlx_erf", a, mlx_sys::mlx_erf)
}

/// `a @ b`. TODO(ops): move to ops once issue 4 lands.
pub(crate) fn matmul(a: &Array, b: &Array) -> Result<Array> {
    let s = Stream::current()?;
    Array::build("mlx_matmul", |res| {
        // SAFETY: `res` is a fresh out-param; both inputs and the stream
        // are live handles.
        unsafe { mlx_sys::mlx_matmul(res, a.as_raw(), b.as_raw(), s.as_raw()) }
    })
}

/// `c + a @ b` (MLX's `addmm` with `alpha = beta = 1`), what Python MLX's
/// `nn.Linear` computes with a bias. TODO(ops): move to ops once issue 4
/// lands.
pub(crate) fn addmm(c: &Array, a: &Array, b: &Array) -> Result<Array> {
    let s = Stream::current()?;
    Array::build("mlx_addmm", |res| {
        // SAFETY: `res` is a fresh out-param; the three inputs and the
        // stream are live handles.
        unsafe { mlx_sys::mlx_addmm(res, c.as_raw(), a.as_raw(), b.as_raw(), 1.0, 1.0, s.as_raw()) }
    })
}

/// Concatenation along `axis`. TODO(ops): move to ops once issue 4 lands.
pub(crate) fn concatenate(arrays: &[&Array], axis: i32) -> Result<Array> {
    let s = Stream::current()?;
    let vec = RawVector::new(arrays.iter().copied());
    Array::build("mlx_concatenate_axis", |res| {
        // SAFETY: `res` is a fresh out-param; `vec` is a live vector of
        // live arrays (it holds its own references) and the stream is live.
        unsafe { mlx_sys::mlx_concatenate_axis(res, vec.0, axis, s.as_raw()) }
    })
}
