//! Selection and clipping (`select`, Python's `where`; `clip`), views of
//! raw memory (`as_strided`, `view`), and graph utilities (`depends`,
//! `number_of_elements`).
//!
//! ```
//! use mlx_rs::ops::{clip, select};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[-2.0f32, 0.5, 3.0], &[3])?;
//! let lo = Array::scalar(0.0f32)?;
//! let hi = Array::scalar(1.0f32)?;
//! assert_eq!(clip(&a, Some(&lo), Some(&hi))?.to_vec::<f32>()?, [0.0, 0.5, 1.0]);
//! let m = a.greater(0)?;
//! assert_eq!(select(&m, &a, 0.0)?.to_vec::<f32>()?, [0.0, 0.5, 3.0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{invalid, norm_axis, op, opt};
use super::{resolve, Operand};
use crate::array::vector;
use crate::{Array, Dtype};

op! {
    /// Element-wise `x` where `condition` is true and `y` elsewhere
    /// (Python MLX's `where`); the three broadcast together. `x` and `y`
    /// may be weakly typed scalars.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the shapes
    /// do not broadcast; [`Error::ScalarOverflow`](crate::Error::ScalarOverflow)
    /// when a scalar does not fit the other operand's dtype.
    ["mlx_where"]
    pub fn select<'x, 'y>(condition: &Array, x: impl Into<Operand<'x>>, y: impl Into<Operand<'y>>) -> Array;
    on select_on, s => {
        let (x, y) = resolve(x.into(), y.into())?;
        Array::build("mlx_where", |res| {
            // SAFETY: fresh out-param; the three inputs and the stream are
            // live handles.
            unsafe { mlx_sys::mlx_where(res, condition.as_raw(), x.as_raw(), y.as_raw(), s.as_raw()) }
        })
    }

    /// Clips to `[min, max]`; either bound may be absent (not both).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when both
    /// bounds are absent or they do not broadcast.
    ["mlx_clip"]
    pub fn clip(a: &Array, min: Option<&Array>, max: Option<&Array>) -> Array;
    on clip_on, s => {
        Array::build("mlx_clip", |res| {
            // SAFETY: fresh out-param; live handles, or the empty handle
            // mlx-c reads as an absent bound.
            unsafe { mlx_sys::mlx_clip(res, a.as_raw(), opt(min), opt(max), s.as_raw()) }
        })
    }

    /// A view of `a`'s elements (in row-major order) with the given
    /// `shape`, `strides` (in elements, may be negative) and `offset`.
    ///
    /// MLX does not check that the view stays inside the data; this
    /// function does, so every element the view can reach is an element
    /// of `a`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the
    /// view would reach outside `a`, a dimension is negative, or `shape` and
    /// `strides` differ in length.
    ["mlx_as_strided"]
    pub fn as_strided(a: &Array, shape: &[i32], strides: &[i64], offset: usize) -> Array;
    on as_strided_on, s => {
        check_strided(a.size(), shape, strides, offset)?;
        Array::build("mlx_as_strided", |res| {
            // SAFETY: fresh out-param; `shape` and `strides` hold their
            // lengths; live handles; the view is checked to stay inside
            // `a`'s data.
            unsafe {
                mlx_sys::mlx_as_strided(res, a.as_raw(), shape.as_ptr(), shape.len(), strides.as_ptr(), strides.len(), offset, s.as_raw())
            }
        })
    }

    /// The same bytes read as `dtype` (the last axis is rescaled by the
    /// ratio of the element sizes).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the last
    /// axis does not divide into the new element size.
    ["mlx_view"]
    pub fn view(a: &Array, dtype: Dtype) -> Array;
    on view_on, s => {
        Array::build("mlx_view", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe { mlx_sys::mlx_view(res, a.as_raw(), dtype.as_raw(), s.as_raw()) }
        })
    }

    /// The number of elements along `axes` (the product of their sizes),
    /// or with `inverted` its reciprocal, as a scalar of `dtype`, computed
    /// when the graph runs (so it follows the shapes of a compiled graph).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an axis
    /// out of range (MLX would wrap it, and divide by zero for a 0-d
    /// array).
    ["mlx_number_of_elements"]
    pub fn number_of_elements(a: &Array, axes: &[i32], inverted: bool, dtype: Dtype) -> Array;
    on number_of_elements_on, s => {
        // MLX wraps axes modulo `ndim` (dividing by zero for a 0-d array).
        if let Some(ax) = axes.iter().find(|&&ax| norm_axis(ax, a.ndim()).is_none()) {
            return Err(invalid("mlx_number_of_elements", format!("axis {ax} is out of bounds for an array of {} dimensions", a.ndim())));
        }
        Array::build("mlx_number_of_elements", |res| {
            // SAFETY: fresh out-param; `axes` holds its length in ints; live
            // handles.
            unsafe {
                mlx_sys::mlx_number_of_elements(res, a.as_raw(), axes.as_ptr(), axes.len(), inverted, dtype.as_raw(), s.as_raw())
            }
        })
    }
}

/// `inputs`, made to depend on `dependencies`: evaluating an output first
/// evaluates every dependency (the values are `inputs`' own). No inputs
/// give no outputs (without calling MLX, which would crash on them).
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_depends")]
pub fn depends<'a, 'b>(
    inputs: impl IntoIterator<Item = &'a Array>,
    dependencies: impl IntoIterator<Item = &'b Array>,
) -> crate::Result<Vec<Array>> {
    let inputs: Vec<&Array> = inputs.into_iter().collect();
    if inputs.is_empty() {
        // MLX builds a node with no outputs and reads its first (SIGSEGV).
        return Ok(Vec::new());
    }
    let i = vector(inputs)?;
    let d = vector(dependencies)?;
    Array::build_vec("mlx_depends", |res| {
        // SAFETY: `res` is a live vector out-param; `i` and `d` are live
        // vectors of live arrays.
        unsafe { mlx_sys::mlx_depends(res, i.get(), d.get()) }
    })
}

/// Checks that an `as_strided` view reaches only elements `0..size`.
fn check_strided(size: usize, shape: &[i32], strides: &[i64], offset: usize) -> crate::Result<()> {
    let bad = |r: String| Err(invalid("mlx_as_strided", r));
    if shape.len() != strides.len() {
        return bad(format!(
            "shape {shape:?} and strides {strides:?} differ in length"
        ));
    }
    if let Some(d) = shape.iter().find(|&&d| d < 0) {
        return bad(format!("negative dimension {d} in shape {shape:?}"));
    }
    if shape.contains(&0) {
        return Ok(());
    }
    let (mut lo, mut hi) = (offset as i128, offset as i128);
    for (&d, &st) in shape.iter().zip(strides) {
        let reach = i128::from(d - 1) * i128::from(st);
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    if lo < 0 || hi >= size as i128 {
        return bad(format!(
            "the view reaches elements {lo}..={hi} of an array of {size} elements"
        ));
    }
    Ok(())
}
