//! Gathering and scattering by index arrays (`take`, `take_along_axis`,
//! `put_along_axis`, `gather`, `scatter` with its reductions,
//! `masked_scatter`) and slicing with explicit bounds (`slice`,
//! `slice_update` with its reductions, and the dynamic forms whose start
//! is an array).
//!
//! For NumPy-style `a[...]` indexing see [`crate::index`].
//!
//! # Bounds
//! MLX does not check index values: an out-of-range index reads or writes
//! outside the array. Every function here therefore evaluates its index
//! arrays (not the arrays being indexed) and returns
//! [`Error::InvalidIndex`] for a value out of
//! range, before calling MLX. Negative indices count from the end, as in
//! MLX. Under a function transformation ([`vmap`](crate::transforms::vmap),
//! [`compile`](crate::transforms::compile)) an index array that is an
//! argument of the function is a tracer whose values are not known until
//! the function runs: it is clamped into range instead (as JAX does), so
//! an out-of-range value there reads the nearest element rather than
//! failing.
//!
//! ```
//! use mlx_rs::ops::{scatter, take, Update};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[10i32, 20, 30], &[3])?;
//! let i = Array::from_slice(&[2i32, 0], &[2])?;
//! assert_eq!(take(&a, &i, None)?.to_vec::<i32>()?, [30, 10]);
//! let upd = Array::from_slice(&[1i32, 2], &[2, 1])?;
//! let b = scatter(&a, [&i], &upd, &[0], Update::Add)?;
//! assert_eq!(b.to_vec::<i32>()?, [12, 20, 31]);
//! let bad = Array::from_slice(&[3i32], &[1])?;
//! assert!(take(&a, &bad, None).is_err());
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{check_indices, norm_axis, op, unless_traced, Checked};
use crate::array::vector;
use crate::{Array, Dtype, Error, Result, Stream};

/// How an update combines with the values it lands on, for [`scatter`]
/// and [`slice_update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Update {
    /// Replace them.
    #[default]
    Set,
    /// Add to them.
    Add,
    /// Multiply them.
    Prod,
    /// Keep the larger.
    Max,
    /// Keep the smaller.
    Min,
}

/// The size of `a`'s axis `axis`, when it exists.
fn axis_size(a: &Array, axis: i32) -> Option<i64> {
    norm_axis(axis, a.ndim()).map(|i| i64::from(a.shape()[i]))
}

/// For the axis scatters, which MLX builds with indices of any dtype: its
/// CPU kernel then refuses float indices when evaluated, while its CUDA
/// kernel reads them as garbage offsets. Refused here, on every device.
fn check_integer_indices(op: &'static str, indices: &Array) -> Result<()> {
    let d = indices.dtype();
    if d.is_integer() {
        Ok(())
    } else {
        Err(Error::InvalidIndex {
            op,
            reason: format!("indices must be integers, got {d}"),
        })
    }
}

/// Checks each index array against the axis it indexes (axes that do not
/// exist are left to MLX, which rejects them): `None` when every array is
/// in range, or, under a function transformation, the index arrays to
/// build the op with instead (clamped into range).
fn check_all(
    op: &'static str,
    a: &Array,
    indices: &[&Array],
    axes: &[i32],
    s: &Stream,
) -> Result<Option<Vec<Array>>> {
    let mut checked = Vec::with_capacity(indices.len());
    for (i, idx) in indices.iter().enumerate() {
        let c = match axes.get(i).and_then(|&axis| axis_size(a, axis)) {
            Some(size) => check_indices(op, idx, size, s)?,
            None => Checked::Valid,
        };
        checked.push(c);
    }
    if checked.iter().all(|c| matches!(c, Checked::Valid)) {
        return Ok(None);
    }
    Ok(Some(
        checked
            .iter()
            .zip(indices)
            .map(|(c, idx)| c.or(idx).clone())
            .collect(),
    ))
}

/// Builds an op from index arrays (so that MLX validates the arguments
/// first), checks the indices, and under a transformation builds it again
/// from the clamped indices.
fn checked_build(
    op: &'static str,
    a: &Array,
    indices: &[&Array],
    axes: &[i32],
    s: &Stream,
    build: impl Fn(&[&Array]) -> Result<Array>,
) -> Result<Array> {
    let out = build(indices)?;
    match check_all(op, a, indices, axes, s)? {
        None => Ok(out),
        Some(clamped) => build(&clamped.iter().collect::<Vec<_>>()),
    }
}

/// Checks that `start` (an integer array of one value per axis, not
/// negative) keeps a window of `sizes` (the sizes along `axes`) inside
/// `a`: `None` when it does, or, under a function transformation (the
/// values cannot be read), the start clamped so that the window fits.
fn check_dynamic_start(
    op: &'static str,
    a: &Array,
    start: &Array,
    axes: &[i32],
    sizes: &[i64],
    s: &Stream,
) -> Result<Option<Array>> {
    if !start.dtype().is_integer() {
        return Ok(None);
    }
    let misfit = |v: i64, size: i64, dim: i64| Error::InvalidIndex {
        op,
        reason: format!("a window of {size} starting at {v} does not fit an axis of size {dim}"),
    };
    let dims: Vec<Option<i64>> = axes.iter().map(|&axis| axis_size(a, axis)).collect();
    let Some(starts) = unless_traced(start.astype(Dtype::Int64).and_then(|a| a.to_vec::<i64>()))?
    else {
        // Traced: the window must fit somewhere, and the start is clamped
        // to the last place where it does.
        if start.size() != axes.len() {
            return Err(Error::InvalidIndex {
                op,
                reason: format!("{} start values for {} axes", start.size(), axes.len()),
            });
        }
        let mut last = Vec::with_capacity(axes.len());
        for (dim, &size) in dims.iter().zip(sizes) {
            let dim = dim.unwrap_or(i64::MAX);
            if size < 0 || size > dim {
                return Err(misfit(0, size, dim));
            }
            last.push(dim - size);
        }
        let d = start.dtype();
        let zero = Array::scalar(0i32)?.astype_on(d, s)?;
        let last = Array::from_slice(&last, &[last.len() as i32])?
            .reshape_on(start.shape(), s)?
            .astype_on(d, s)?;
        return super::clip_on(start, Some(&zero), Some(&last), s).map(Some);
    };
    if starts.len() != axes.len() {
        return Err(Error::InvalidIndex {
            op,
            reason: format!("{} start values for {} axes", starts.len(), axes.len()),
        });
    }
    for ((&v, dim), &size) in starts.iter().zip(&dims).zip(sizes) {
        let Some(dim) = *dim else {
            continue;
        };
        // MLX does not wrap negative starts (it reads before the array).
        if v < 0 || size < 0 || v + size > dim {
            return Err(misfit(v, size, dim));
        }
    }
    Ok(None)
}

type ScatterFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    mlx_sys::mlx_vector_array,
    mlx_sys::mlx_array,
    *const i32,
    usize,
    mlx_sys::mlx_stream,
) -> i32;
type ScatterSingleFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    i32,
    mlx_sys::mlx_stream,
) -> i32;
type SliceUpdateFn = unsafe extern "C" fn(
    *mut mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    mlx_sys::mlx_array,
    *const i32,
    usize,
    *const i32,
    usize,
    *const i32,
    usize,
    mlx_sys::mlx_stream,
) -> i32;

impl Update {
    fn scatter(self) -> ([&'static str; 2], ScatterFn, ScatterSingleFn) {
        match self {
            Update::Set => (
                ["mlx_scatter", "mlx_scatter_single"],
                mlx_sys::mlx_scatter,
                mlx_sys::mlx_scatter_single,
            ),
            Update::Add => (
                ["mlx_scatter_add", "mlx_scatter_add_single"],
                mlx_sys::mlx_scatter_add,
                mlx_sys::mlx_scatter_add_single,
            ),
            Update::Prod => (
                ["mlx_scatter_prod", "mlx_scatter_prod_single"],
                mlx_sys::mlx_scatter_prod,
                mlx_sys::mlx_scatter_prod_single,
            ),
            Update::Max => (
                ["mlx_scatter_max", "mlx_scatter_max_single"],
                mlx_sys::mlx_scatter_max,
                mlx_sys::mlx_scatter_max_single,
            ),
            Update::Min => (
                ["mlx_scatter_min", "mlx_scatter_min_single"],
                mlx_sys::mlx_scatter_min,
                mlx_sys::mlx_scatter_min_single,
            ),
        }
    }

    fn slice_update(self) -> (&'static str, SliceUpdateFn) {
        match self {
            Update::Set => ("mlx_slice_update", mlx_sys::mlx_slice_update),
            Update::Add => ("mlx_slice_update_add", mlx_sys::mlx_slice_update_add),
            Update::Prod => ("mlx_slice_update_prod", mlx_sys::mlx_slice_update_prod),
            Update::Max => ("mlx_slice_update_max", mlx_sys::mlx_slice_update_max),
            Update::Min => ("mlx_slice_update_min", mlx_sys::mlx_slice_update_min),
        }
    }
}

/// `mlx_take_axis`, without checking the index values.
///
/// # Safety
/// MLX reads wherever the values of `indices` point when the result is
/// evaluated: the caller must make sure they are in range for `a`'s axis
/// `axis` (see [`check_indices`]) before the result can be evaluated.
pub(crate) unsafe fn take_axis_unchecked(
    a: &Array,
    indices: &Array,
    axis: i32,
    s: &Stream,
) -> Result<Array> {
    Array::build("mlx_take_axis", |res| {
        // SAFETY: fresh out-param; live handles. Building reads no index
        // values; the caller checks them before evaluation.
        unsafe { mlx_sys::mlx_take_axis(res, a.as_raw(), indices.as_raw(), axis, s.as_raw()) }
    })
}

/// [`gather`]'s mlx-c call (`mlx_gather_single` for one index array),
/// without checking the index values.
///
/// # Safety
/// As [`take_axis_unchecked`]: index array `i` must be in range for `a`'s
/// axis `axes[i]` before the result can be evaluated.
pub(crate) unsafe fn gather_unchecked(
    a: &Array,
    indices: &[&Array],
    axes: &[i32],
    slice_sizes: &[i32],
    s: &Stream,
) -> Result<Array> {
    if let ([idx], [axis]) = (indices, axes) {
        Array::build("mlx_gather_single", |res| {
            // SAFETY: fresh out-param; `slice_sizes` holds its length in
            // ints; live handles. Building reads no index values; the
            // caller checks them before evaluation.
            unsafe {
                mlx_sys::mlx_gather_single(
                    res,
                    a.as_raw(),
                    idx.as_raw(),
                    *axis,
                    slice_sizes.as_ptr(),
                    slice_sizes.len(),
                    s.as_raw(),
                )
            }
        })
    } else {
        let v = vector(indices.iter().copied())?;
        Array::build("mlx_gather", |res| {
            // SAFETY: fresh out-param; `v` is a live vector; `axes` and
            // `slice_sizes` hold their lengths in ints; live handles. The
            // caller checks the index values before evaluation.
            unsafe {
                mlx_sys::mlx_gather(
                    res,
                    a.as_raw(),
                    v.get(),
                    axes.as_ptr(),
                    axes.len(),
                    slice_sizes.as_ptr(),
                    slice_sizes.len(),
                    s.as_raw(),
                )
            }
        })
    }
}

/// [`scatter`]'s mlx-c call (the `_single` form for one index array),
/// without checking the index values.
///
/// # Safety
/// MLX writes wherever the index values point when the result is
/// evaluated: as [`gather_unchecked`].
pub(crate) unsafe fn scatter_unchecked(
    a: &Array,
    indices: &[&Array],
    updates: &Array,
    axes: &[i32],
    update: Update,
    s: &Stream,
) -> Result<Array> {
    let (names, multi, single) = update.scatter();
    if let ([idx], [axis]) = (indices, axes) {
        Array::build(names[1], |res| {
            // SAFETY: `single` has exactly this signature; fresh out-param;
            // live handles. The caller checks the index values before
            // evaluation.
            unsafe {
                single(
                    res,
                    a.as_raw(),
                    idx.as_raw(),
                    updates.as_raw(),
                    *axis,
                    s.as_raw(),
                )
            }
        })
    } else {
        let v = vector(indices.iter().copied())?;
        Array::build(names[0], |res| {
            // SAFETY: `multi` has exactly this signature; fresh out-param;
            // `v` is a live vector; `axes` holds its length in ints; live
            // handles. The caller checks the index values before evaluation.
            unsafe {
                multi(
                    res,
                    a.as_raw(),
                    v.get(),
                    updates.as_raw(),
                    axes.as_ptr(),
                    axes.len(),
                    s.as_raw(),
                )
            }
        })
    }
}

op! {
    /// The elements at `indices` of the flattened array (`axis = None`),
    /// or the slices at `indices` along `axis`; the result has
    /// `indices`' shape in place of the axis.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`] for an index out
    /// of range; [`Error::Mlx`] with MLX's message for
    /// non-integer indices or an axis out of range.
    ["mlx_take", "mlx_take_axis"]
    pub fn take(a: &Array, indices: &Array, axis: Option<i32>) -> Array;
    on take_on, s => {
        match axis {
            None => {
                let build = |indices: &Array| Array::build("mlx_take", |res| {
                    // SAFETY: fresh out-param; live handles. Building reads no
                    // index values; they are checked below, before evaluation.
                    unsafe { mlx_sys::mlx_take(res, a.as_raw(), indices.as_raw(), s.as_raw()) }
                });
                let out = build(indices)?;
                match check_indices("mlx_take", indices, a.size() as i64, s)? {
                    Checked::Valid => Ok(out),
                    Checked::Clamped(indices) => build(&indices),
                }
            }
            Some(axis) => checked_build("mlx_take_axis", a, &[indices], &[axis], s, |i| {
                // SAFETY: `checked_build` checks the index values (or
                // clamps them) before the result can be evaluated.
                unsafe { take_axis_unchecked(a, i[0], axis, s) }
            }),
        }
    }

    /// The elements at `indices` along `axis`, where `indices` has `a`'s
    /// number of dimensions and broadcasts with it off the axis.
    ///
    /// # Errors
    /// As [`take`], and [`Error::Mlx`] when the
    /// dimensions do not match.
    ["mlx_take_along_axis"]
    pub fn take_along_axis(a: &Array, indices: &Array, axis: i32) -> Array;
    on take_along_axis_on, s => {
        checked_build("mlx_take_along_axis", a, &[indices], &[axis], s, |i| {
            Array::build("mlx_take_along_axis", |res| {
                // SAFETY: fresh out-param; live handles. Building reads no
                // index values; `checked_build` checks them before evaluation.
                unsafe { mlx_sys::mlx_take_along_axis(res, a.as_raw(), i[0].as_raw(), axis, s.as_raw()) }
            })
        })
    }

    /// A copy of `a` with `values` written at `indices` along `axis` (the
    /// inverse of [`take_along_axis`]).
    ///
    /// # Errors
    /// As [`take_along_axis`]; [`Error::InvalidIndex`] for non-integer
    /// indices (which MLX's CUDA kernel would not refuse).
    ["mlx_put_along_axis"]
    pub fn put_along_axis(a: &Array, indices: &Array, values: &Array, axis: i32) -> Array;
    on put_along_axis_on, s => {
        let build = |i: &[&Array]| Array::build("mlx_put_along_axis", |res| {
            // SAFETY: fresh out-param; live handles. Building reads no
            // index values; they are checked below, before evaluation.
            unsafe {
                mlx_sys::mlx_put_along_axis(res, a.as_raw(), i[0].as_raw(), values.as_raw(), axis, s.as_raw())
            }
        });
        build(&[indices])?;
        check_integer_indices("mlx_put_along_axis", indices)?;
        checked_build("mlx_put_along_axis", a, &[indices], &[axis], s, build)
    }

    /// Like [`put_along_axis`], but adds `values` (repeated indices
    /// accumulate).
    ///
    /// # Errors
    /// As [`take_along_axis`].
    ["mlx_scatter_add_axis"]
    pub fn scatter_add_axis(a: &Array, indices: &Array, values: &Array, axis: i32) -> Array;
    on scatter_add_axis_on, s => {
        let build = |i: &[&Array]| Array::build("mlx_scatter_add_axis", |res| {
            // SAFETY: fresh out-param; live handles. Building reads no
            // index values; they are checked below, before evaluation.
            unsafe {
                mlx_sys::mlx_scatter_add_axis(res, a.as_raw(), i[0].as_raw(), values.as_raw(), axis, s.as_raw())
            }
        });
        build(&[indices])?;
        check_integer_indices("mlx_scatter_add_axis", indices)?;
        checked_build("mlx_scatter_add_axis", a, &[indices], &[axis], s, build)
    }

    /// MLX's general gather: index array `i` selects along `axes[i]` (the
    /// index arrays broadcast together), and each selected point starts a
    /// window of `slice_sizes` (one size per axis of `a`). The result's
    /// shape is the broadcast index shape followed by `slice_sizes`.
    ///
    /// # Errors
    /// As [`take`], and [`Error::Mlx`] when the numbers
    /// of indices and axes differ or the slice sizes do not fit.
    ["mlx_gather", "mlx_gather_single"]
    pub fn gather<'i>(a: &Array, indices: impl IntoIterator<Item = &'i Array>, axes: &[i32], slice_sizes: &[i32]) -> Array;
    on gather_on, s => {
        let indices: Vec<&Array> = indices.into_iter().collect();
        checked_build("mlx_gather", a, &indices, axes, s, |i| {
            // SAFETY: `checked_build` checks the index values (or clamps
            // them) before the result can be evaluated.
            unsafe { gather_unchecked(a, i, axes, slice_sizes, s) }
        })
    }

    /// MLX's general scatter, the inverse of [`gather`]: `updates` (shape:
    /// the broadcast index shape followed by one window shape of `a`'s
    /// rank) lands at the points that index array `i` selects along
    /// `axes[i]`, combined as `update` says.
    ///
    /// # Errors
    /// As [`gather`].
    ["mlx_scatter", "mlx_scatter_single", "mlx_scatter_add", "mlx_scatter_add_single", "mlx_scatter_prod", "mlx_scatter_prod_single", "mlx_scatter_max", "mlx_scatter_max_single", "mlx_scatter_min", "mlx_scatter_min_single"]
    pub fn scatter<'i>(a: &Array, indices: impl IntoIterator<Item = &'i Array>, updates: &Array, axes: &[i32], update: Update) -> Array;
    on scatter_on, s => {
        let indices: Vec<&Array> = indices.into_iter().collect();
        let ([name, _], _, _) = update.scatter();
        checked_build(name, a, &indices, axes, s, |i| {
            // SAFETY: `checked_build` checks the index values (or clamps
            // them) before the result can be evaluated.
            unsafe { scatter_unchecked(a, i, updates, axes, update, s) }
        })
    }

    /// A copy of `a` whose elements where the boolean `mask` is true are
    /// replaced, in row-major order, by the first elements of `src`
    /// (Python's `a[mask] = src`). The mask covers the leading axes of `a`:
    /// with fewer dimensions than `a`, each true entry selects a whole
    /// block of the trailing axes.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`] when `src` has
    /// fewer elements than `mask` selects; [`Error::Mlx`] with MLX's
    /// message for a mask that is not `bool` or does not match the leading
    /// axes of `a` ([`Error::InvalidArgument`] when MLX accepts a mask
    /// whose selection cannot be counted that way).
    ["mlx_masked_scatter"]
    pub fn masked_scatter(a: &Array, mask: &Array, src: &Array) -> Array;
    on masked_scatter_on, s => {
        let build = |src: &Array| Array::build("mlx_masked_scatter", |res| {
            // SAFETY: fresh out-param; live handles. The source is checked
            // below to cover the mask, before the result can be evaluated.
            unsafe { mlx_sys::mlx_masked_scatter(res, a.as_raw(), mask.as_raw(), src.as_raw(), s.as_raw()) }
        });
        let out = build(src)?;
        // MLX's mask covers the leading axes of `a` (each true entry selects
        // a whole trailing block); it reads that many source elements
        // unchecked.
        let (ms, ashape) = (mask.shape(), a.shape());
        if mask.ndim() > a.ndim() || ms != &ashape[..mask.ndim()] {
            return Err(super::support::invalid(
                "mlx_masked_scatter",
                format!("the mask of shape {ms:?} must match the leading axes of the array of shape {ashape:?}"),
            ));
        }
        let block: usize = ashape[mask.ndim()..].iter().map(|&d| d as usize).product();
        let most = mask.size() * block;
        if src.ndim() == 0 && most > 1 {
            // A scalar source fills every selected element (as Python's
            // `a[mask] = 1.5`).
            return build(&src.broadcast_to_on(&[most as i32], s)?);
        }
        if src.size() >= most {
            // Enough for a mask of all true: nothing to count.
            return Ok(out);
        }
        let Some(flags) = unless_traced(mask.astype(Dtype::Uint32).and_then(|m| m.to_vec::<u32>()))? else {
            // Traced: the selection is not known until the function runs.
            // The source is padded with zeros to cover any mask.
            let flat = src.reshape_on(&[-1], s)?;
            let pad = Array::zeros_on(&[(most - src.size()) as i32], src.dtype(), s)?;
            return build(&super::concatenate_on([&flat, &pad], Some(0), s)?);
        };
        let n = flags.iter().filter(|&&x| x != 0).count() * block;
        if n > src.size() {
            return Err(Error::InvalidIndex {
                op: "mlx_masked_scatter",
                reason: format!("the mask selects {n} elements but the source has {}", src.size()),
            });
        }
        Ok(out)
    }

    /// The slice `start..stop` with step `strides` along every axis (one
    /// entry per axis; out-of-range bounds are clamped as in Python).
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message when the lists
    /// do not have one entry per axis.
    ["mlx_slice"]
    pub fn slice(a: &Array, start: &[i32], stop: &[i32], strides: &[i32]) -> Array;
    on slice_on, s => {
        if strides.contains(&0) {
            return Err(super::support::invalid("mlx_slice", "slice step cannot be zero"));
        }
        Array::build("mlx_slice", |res| {
            // SAFETY: fresh out-param; the three lists hold their lengths in
            // ints; live handles.
            unsafe {
                mlx_sys::mlx_slice(res, a.as_raw(), start.as_ptr(), start.len(), stop.as_ptr(), stop.len(), strides.as_ptr(), strides.len(), s.as_raw())
            }
        })
    }

    /// The window of `slice_size` (one size per entry of `axes`) starting
    /// at the positions in the integer array `start`, whose values need not
    /// be known when the graph is built.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`] when the window
    /// does not fit; [`Error::Mlx`] with MLX's message
    /// for mismatched lengths.
    ["mlx_slice_dynamic"]
    pub fn slice_dynamic(a: &Array, start: &Array, axes: &[i32], slice_size: &[i32]) -> Array;
    on slice_dynamic_on, s => {
        let build = |start: &Array| Array::build("mlx_slice_dynamic", |res| {
            // SAFETY: fresh out-param; `axes` and `slice_size` hold their
            // lengths in ints; live handles.
            // The window is checked below, before evaluation.
            unsafe {
                mlx_sys::mlx_slice_dynamic(res, a.as_raw(), start.as_raw(), axes.as_ptr(), axes.len(), slice_size.as_ptr(), slice_size.len(), s.as_raw())
            }
        });
        let out = build(start)?;
        let sizes: Vec<i64> = axes
            .iter()
            .filter_map(|&ax| norm_axis(ax, a.ndim()))
            .map(|i| i64::from(*slice_size.get(i).unwrap_or(&0)))
            .collect();
        if sizes.len() != axes.len() || slice_size.len() != a.ndim() {
            return Err(super::support::invalid(
                "mlx_slice_dynamic",
                "the window cannot be checked: give one slice size per axis of the array and valid axes",
            ));
        }
        match check_dynamic_start("mlx_slice_dynamic", a, start, axes, &sizes, s)? {
            None => Ok(out),
            Some(start) => build(&start),
        }
    }

    /// A copy of `src` with `update` written into the slice
    /// `start..stop` by `strides`, combined as `mode` says.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message when `update`
    /// does not broadcast to the slice or the lists do not have one entry
    /// per axis.
    ["mlx_slice_update", "mlx_slice_update_add", "mlx_slice_update_prod", "mlx_slice_update_max", "mlx_slice_update_min"]
    pub fn slice_update(src: &Array, update: &Array, start: &[i32], stop: &[i32], strides: &[i32], mode: Update) -> Array;
    on slice_update_on, s => {
        let (name, f) = mode.slice_update();
        if strides.contains(&0) {
            return Err(super::support::invalid(name, "slice step cannot be zero"));
        }
        Array::build(name, |res| {
            // SAFETY: `f` has exactly this signature; fresh out-param; the
            // three lists hold their lengths in ints; live handles.
            unsafe {
                f(res, src.as_raw(), update.as_raw(), start.as_ptr(), start.len(), stop.as_ptr(), stop.len(), strides.as_ptr(), strides.len(), s.as_raw())
            }
        })
    }

    /// A copy of `src` with `update` written at the positions in the
    /// integer array `start` along `axes` (the window is `update`'s shape).
    ///
    /// # Errors
    /// As [`slice_dynamic`].
    ["mlx_slice_update_dynamic"]
    pub fn slice_update_dynamic(src: &Array, update: &Array, start: &Array, axes: &[i32]) -> Array;
    on slice_update_dynamic_on, s => {
        let build = |start: &Array| Array::build("mlx_slice_update_dynamic", |res| {
            // SAFETY: fresh out-param; `axes` holds its length in ints; live
            // handles. The window is checked below, before evaluation.
            unsafe {
                mlx_sys::mlx_slice_update_dynamic(res, src.as_raw(), update.as_raw(), start.as_raw(), axes.as_ptr(), axes.len(), s.as_raw())
            }
        });
        let out = build(start)?;
        // The window is `update`'s shape, aligned to `src`'s last axes (MLX
        // broadcasts it); a larger `update` is MLX's error to report.
        if update.ndim() <= src.ndim() {
            let mut window = vec![1i64; src.ndim() - update.ndim()];
            window.extend(update.shape().iter().map(|&d| i64::from(d)));
            let sizes: Vec<i64> = axes
                .iter()
                .filter_map(|&ax| norm_axis(ax, src.ndim()))
                .map(|i| window[i])
                .collect();
            if sizes.len() == axes.len() {
                return match check_dynamic_start("mlx_slice_update_dynamic", src, start, axes, &sizes, s)? {
                    None => Ok(out),
                    Some(start) => build(&start),
                };
            }
        }
        Err(super::support::invalid(
            "mlx_slice_update_dynamic",
            "the window cannot be checked: the update has more dimensions than the array, or an axis is invalid",
        ))
    }
}
