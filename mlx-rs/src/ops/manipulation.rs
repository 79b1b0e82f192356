//! Rearranging arrays: joining and splitting (`concatenate`, `stack`,
//! `split`, `unstack`), padding, repeating (`tile`, `repeat`), moving
//! elements (`roll`, `flip`), changing axes (`squeeze`, `expand_dims`,
//! `flatten`, `unflatten`, `moveaxis`, `swapaxes`, `atleast_*d`),
//! broadcasting several arrays, `meshgrid` and `diff`.
//!
//! Functions over several arrays take any iterator of `&Array` (a slice
//! of arrays with `&v`, an array of references `[&a, &b]`, ...).
//!
//! ```
//! use mlx_rs::ops::{concatenate, roll, split, Axes};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2])?;
//! let c = concatenate([&a, &a], Some(1))?;
//! assert_eq!(c.shape(), [2, 4]);
//! assert_eq!(roll(&a, &[1], Axes::All)?.to_vec::<i32>()?, [4, 1, 2, 3]);
//! let parts = split(&c, 2, 1)?;
//! assert_eq!(parts[1].to_vec::<i32>()?, [1, 2, 3, 4]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{int2_op, int_op, ints_op, invalid, op, Axes};
use crate::array::vector;

use super::{resolve, unary, Operand};
use crate::Array;

/// How [`pad`] fills the new elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PadMode {
    /// With a constant value.
    #[default]
    Constant,
    /// With the nearest edge value.
    Edge,
    /// By reflecting about the edge, without repeating it (`[1, 2, 3]`
    /// padded by 2 on the left: `[3, 2, 1, 2, 3]`).
    Reflect,
    /// By mirroring, repeating the edge (`[2, 1, 1, 2, 3]`).
    Symmetric,
}

impl PadMode {
    fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            PadMode::Constant => c"constant",
            PadMode::Edge => c"edge",
            PadMode::Reflect => c"reflect",
            PadMode::Symmetric => c"symmetric",
        }
    }
}

/// The index convention of [`meshgrid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Indexing {
    /// Cartesian (`xy`): the first two outputs have their axes swapped.
    #[default]
    Xy,
    /// Matrix (`ij`).
    Ij,
}

op! {
    /// Joins arrays along an existing `axis`, or their flattened forms
    /// when `axis` is `None`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for no arrays,
    /// an axis out of range or shapes that differ off the axis.
    ["mlx_concatenate", "mlx_concatenate_axis"]
    pub fn concatenate<'a>(arrays: impl IntoIterator<Item = &'a Array>, axis: Option<i32>) -> Array;
    on concatenate_on, s => {
        let v = vector(arrays)?;
        match axis {
            None => Array::build("mlx_concatenate", |res| {
                // SAFETY: fresh out-param; `v` is a live vector of live
                // arrays; `s` is a live stream.
                unsafe { mlx_sys::mlx_concatenate(res, v.get(), s.as_raw()) }
            }),
            Some(axis) => Array::build("mlx_concatenate_axis", |res| {
                // SAFETY: as above.
                unsafe { mlx_sys::mlx_concatenate_axis(res, v.get(), axis, s.as_raw()) }
            }),
        }
    }

    /// Joins arrays of one shape along a new axis at position `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for no arrays,
    /// different shapes or an axis out of range.
    ["mlx_stack", "mlx_stack_axis"]
    pub fn stack<'a>(arrays: impl IntoIterator<Item = &'a Array>, axis: i32) -> Array;
    on stack_on, s => {
        let v = vector(arrays)?;
        if axis == 0 {
            Array::build("mlx_stack", |res| {
                // SAFETY: fresh out-param; `v` is a live vector of live
                // arrays; `s` is a live stream.
                unsafe { mlx_sys::mlx_stack(res, v.get(), s.as_raw()) }
            })
        } else {
            Array::build("mlx_stack_axis", |res| {
                // SAFETY: as above.
                unsafe { mlx_sys::mlx_stack_axis(res, v.get(), axis, s.as_raw()) }
            })
        }
    }

    /// Splits along `axis` into `num_splits` equal parts.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the axis
    /// does not divide evenly or is out of range.
    ["mlx_split"]
    pub fn split(a: &Array, num_splits: i32, axis: i32) -> Vec<Array>;
    on split_on, s => {
        Array::build_vec("mlx_split", |res| {
            // SAFETY: `res` is a live vector out-param; `a` and `s` are live.
            unsafe { mlx_sys::mlx_split(res, a.as_raw(), num_splits, axis, s.as_raw()) }
        })
    }

    /// Splits along `axis` before each of the (increasing) `indices`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    ["mlx_split_sections"]
    pub fn split_sections(a: &Array, indices: &[i32], axis: i32) -> Vec<Array>;
    on split_sections_on, s => {
        Array::build_vec("mlx_split_sections", |res| {
            // SAFETY: `res` is a live vector out-param; `indices` holds its
            // length in ints; `a` and `s` are live.
            unsafe {
                mlx_sys::mlx_split_sections(res, a.as_raw(), indices.as_ptr(), indices.len(), axis, s.as_raw())
            }
        })
    }

    /// The slices of `a` along `axis`, each without that axis.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a 0-d array
    /// or an axis out of range.
    ["mlx_unstack", "mlx_unstack_axis"]
    pub fn unstack(a: &Array, axis: i32) -> Vec<Array>;
    on unstack_on, s => {
        if axis == 0 {
            Array::build_vec("mlx_unstack", |res| {
                // SAFETY: `res` is a live vector out-param; `a`, `s` live.
                unsafe { mlx_sys::mlx_unstack(res, a.as_raw(), s.as_raw()) }
            })
        } else {
            Array::build_vec("mlx_unstack_axis", |res| {
                // SAFETY: as above.
                unsafe { mlx_sys::mlx_unstack_axis(res, a.as_raw(), axis, s.as_raw()) }
            })
        }
    }

    /// Pads `axes` with `low[i]` elements before and `high[i]` after, filled
    /// as `mode` says (`value` for [`PadMode::Constant`]; a weakly typed
    /// scalar takes `a`'s dtype).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the three
    /// lists differ in length, a width is negative or an axis is out of
    /// range.
    ["mlx_pad"]
    pub fn pad<'v>(a: &Array, axes: &[i32], low: &[i32], high: &[i32], value: impl Into<Operand<'v>>, mode: PadMode) -> Array;
    on pad_on, s => {
        let (_, v) = resolve(Operand::Ref(a), value.into())?;
        Array::build("mlx_pad", |res| {
            // SAFETY: fresh out-param; the three lists hold their lengths
            // in ints; `mode` is a static NUL-terminated string; live
            // handles.
            unsafe {
                mlx_sys::mlx_pad(
                    res,
                    a.as_raw(),
                    axes.as_ptr(),
                    axes.len(),
                    low.as_ptr(),
                    low.len(),
                    high.as_ptr(),
                    high.len(),
                    v.as_raw(),
                    mode.c_name().as_ptr(),
                    s.as_raw(),
                )
            }
        })
    }

    /// Pads every axis with `width` elements on both sides (see [`pad`]).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a negative
    /// width.
    ["mlx_pad_symmetric"]
    pub fn pad_symmetric<'v>(a: &Array, width: i32, value: impl Into<Operand<'v>>, mode: PadMode) -> Array;
    on pad_symmetric_on, s => {
        let (_, v) = resolve(Operand::Ref(a), value.into())?;
        Array::build("mlx_pad_symmetric", |res| {
            // SAFETY: fresh out-param; `mode` is a static NUL-terminated
            // string; live handles.
            unsafe {
                mlx_sys::mlx_pad_symmetric(res, a.as_raw(), width, v.as_raw(), mode.c_name().as_ptr(), s.as_raw())
            }
        })
    }

    /// Shifts elements by `shift` along `axes`, wrapping around. With
    /// [`Axes::All`] the array is rolled as if flattened; with several
    /// axes, `shift` has one entry per axis or a single entry for all.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for axes out of
    /// range or shifts that do not match them.
    ["mlx_roll", "mlx_roll_axis", "mlx_roll_axes"]
    pub fn roll<'x>(a: &Array, shift: &[i32], axes: impl Into<Axes<'x>>) -> Array;
    on roll_on, s => {
        match axes.into() {
            Axes::All => ints_op("mlx_roll", a, shift, s, mlx_sys::mlx_roll),
            Axes::One(axis) => Array::build("mlx_roll_axis", |res| {
                // SAFETY: fresh out-param; `shift` holds its length in ints;
                // live handles.
                unsafe { mlx_sys::mlx_roll_axis(res, a.as_raw(), shift.as_ptr(), shift.len(), axis, s.as_raw()) }
            }),
            Axes::Many(axes) => Array::build("mlx_roll_axes", |res| {
                // SAFETY: fresh out-param; `shift` and `axes` hold their
                // lengths in ints; live handles.
                unsafe {
                    mlx_sys::mlx_roll_axes(res, a.as_raw(), shift.as_ptr(), shift.len(), axes.as_ptr(), axes.len(), s.as_raw())
                }
            }),
        }
    }

    /// Repeats the whole array `reps[i]` times along each axis.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for negative
    /// repetitions.
    ["mlx_tile"]
    pub fn tile(a: &Array, reps: &[i32]) -> Array;
    on tile_on, s => { ints_op("mlx_tile", a, reps, s, mlx_sys::mlx_tile) }

    /// Repeats each element `repeats` times along `axis`, or in the
    /// flattened array when `axis` is `None`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a negative
    /// count or an axis out of range.
    ["mlx_repeat", "mlx_repeat_axis"]
    pub fn repeat(a: &Array, repeats: i32, axis: Option<i32>) -> Array;
    on repeat_on, s => {
        match axis {
            None => int_op("mlx_repeat", a, repeats, s, mlx_sys::mlx_repeat),
            Some(axis) => int2_op("mlx_repeat_axis", a, repeats, axis, s, mlx_sys::mlx_repeat_axis),
        }
    }

    /// Reverses the order of elements along `axes` ([`Axes::All`]: every
    /// axis).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for axes out of
    /// range.
    ["mlx_flip", "mlx_flip_axis", "mlx_flip_axes"]
    pub fn flip<'x>(a: &Array, axes: impl Into<Axes<'x>>) -> Array;
    on flip_on, s => {
        match axes.into() {
            Axes::All => unary("mlx_flip", a, s, mlx_sys::mlx_flip),
            Axes::One(axis) => int_op("mlx_flip_axis", a, axis, s, mlx_sys::mlx_flip_axis),
            Axes::Many(axes) => ints_op("mlx_flip_axes", a, axes, s, mlx_sys::mlx_flip_axes),
        }
    }

    /// Removes size-1 axes: all of them ([`Axes::All`]), or the ones named.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when a named
    /// axis does not have size 1 or is out of range.
    ["mlx_squeeze", "mlx_squeeze_axis", "mlx_squeeze_axes"]
    pub fn squeeze<'x>(a: &Array, axes: impl Into<Axes<'x>>) -> Array;
    on squeeze_on, s => {
        match axes.into() {
            Axes::All => unary("mlx_squeeze", a, s, mlx_sys::mlx_squeeze),
            Axes::One(axis) => int_op("mlx_squeeze_axis", a, axis, s, mlx_sys::mlx_squeeze_axis),
            Axes::Many(axes) => ints_op("mlx_squeeze_axes", a, axes, s, mlx_sys::mlx_squeeze_axes),
        }
    }

    /// Inserts size-1 axes at `axes` (positions in the result).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    ["mlx_expand_dims", "mlx_expand_dims_axes"]
    pub fn expand_dims(a: &Array, axes: &[i32]) -> Array;
    on expand_dims_on, s => {
        match axes {
            [axis] => int_op("mlx_expand_dims", a, *axis, s, mlx_sys::mlx_expand_dims),
            _ => ints_op("mlx_expand_dims_axes", a, axes, s, mlx_sys::mlx_expand_dims_axes),
        }
    }

    /// Merges axes `start_axis..=end_axis` into one.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for axes out of
    /// range or in the wrong order.
    ["mlx_flatten"]
    pub fn flatten(a: &Array, start_axis: i32, end_axis: i32) -> Array;
    on flatten_on, s => { int2_op("mlx_flatten", a, start_axis, end_axis, s, mlx_sys::mlx_flatten) }

    /// Splits `axis` into the axes `shape` (one entry may be `-1`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `shape`
    /// does not multiply to the axis size;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a `-1`
    /// next to a `0` (which MLX divides by).
    ["mlx_unflatten"]
    pub fn unflatten(a: &Array, axis: i32, shape: &[i32]) -> Array;
    on unflatten_on, s => {
        if shape.contains(&-1) && shape.contains(&0) {
            // MLX divides by the product of the other sizes (SIGFPE).
            return Err(invalid("mlx_unflatten", format!("cannot infer -1 in shape {shape:?} with a 0 dimension")));
        }
        Array::build("mlx_unflatten", |res| {
            // SAFETY: fresh out-param; `shape` holds its length in ints;
            // live handles.
            unsafe { mlx_sys::mlx_unflatten(res, a.as_raw(), axis, shape.as_ptr(), shape.len(), s.as_raw()) }
        })
    }

    /// Moves axis `source` to position `destination`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for axes out of
    /// range.
    ["mlx_moveaxis"]
    pub fn moveaxis(a: &Array, source: i32, destination: i32) -> Array;
    on moveaxis_on, s => { int2_op("mlx_moveaxis", a, source, destination, s, mlx_sys::mlx_moveaxis) }

    /// Swaps two axes.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for axes out of
    /// range.
    ["mlx_swapaxes"]
    pub fn swapaxes(a: &Array, axis1: i32, axis2: i32) -> Array;
    on swapaxes_on, s => { int2_op("mlx_swapaxes", a, axis1, axis2, s, mlx_sys::mlx_swapaxes) }

    /// `a` with at least one dimension.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_atleast_1d"]
    pub fn atleast_1d(a: &Array) -> Array;
    on atleast_1d_on, s => { unary("mlx_atleast_1d", a, s, mlx_sys::mlx_atleast_1d) }

    /// `a` with at least two dimensions (new axes in front).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_atleast_2d"]
    pub fn atleast_2d(a: &Array) -> Array;
    on atleast_2d_on, s => { unary("mlx_atleast_2d", a, s, mlx_sys::mlx_atleast_2d) }

    /// `a` with at least three dimensions (as NumPy places the new axes).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_atleast_3d"]
    pub fn atleast_3d(a: &Array) -> Array;
    on atleast_3d_on, s => { unary("mlx_atleast_3d", a, s, mlx_sys::mlx_atleast_3d) }

    /// The arrays broadcast to their common shape.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the shapes
    /// do not broadcast.
    ["mlx_broadcast_arrays"]
    pub fn broadcast_arrays<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Vec<Array>;
    on broadcast_arrays_on, s => {
        let v = vector(arrays)?;
        Array::build_vec("mlx_broadcast_arrays", |res| {
            // SAFETY: `res` is a live vector out-param; `v` is a live vector
            // of live arrays; `s` is live.
            unsafe { mlx_sys::mlx_broadcast_arrays(res, v.get(), s.as_raw()) }
        })
    }

    /// Coordinate grids from 1-d coordinate arrays; `sparse` keeps them
    /// broadcastable instead of materialized.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for inputs that
    /// are not 1-d.
    ["mlx_meshgrid"]
    pub fn meshgrid<'a>(arrays: impl IntoIterator<Item = &'a Array>, sparse: bool, indexing: Indexing) -> Vec<Array>;
    on meshgrid_on, s => {
        let v = vector(arrays)?;
        let ix = crate::raw::c_string_arg("mlx_meshgrid", match indexing {
            Indexing::Xy => "xy",
            Indexing::Ij => "ij",
        })?;
        Array::build_vec("mlx_meshgrid", |res| {
            // SAFETY: `res` is a live vector out-param; `v` is a live vector
            // of live arrays; `ix` is NUL-terminated and outlives the call.
            unsafe { mlx_sys::mlx_meshgrid(res, v.get(), sparse, ix.as_ptr(), s.as_raw()) }
        })
    }

    /// `a` with a row-contiguous layout (a copy when it is a strided view),
    /// or with `allow_col_major`, `a` itself when it is column-contiguous
    /// (e.g. a transposed matrix).
    ///
    /// ```
    /// use mlx_rs::ops::contiguous;
    /// use mlx_rs::Array;
    /// let t = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3])?.transpose()?;
    /// let c = contiguous(&t, false)?;
    /// c.eval()?;
    /// assert_eq!(c.strides(), [2, 1]);
    /// let k = contiguous(&t, true)?;
    /// k.eval()?;
    /// assert_eq!(k.strides(), [1, 3]); // the transposed view, as it was
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_contiguous"]
    pub fn contiguous(a: &Array, allow_col_major: bool) -> Array;
    on contiguous_on, s => {
        Array::build("mlx_contiguous", |res| {
            // SAFETY: fresh out-param; `a` and `s` are live handles.
            unsafe { mlx_sys::mlx_contiguous(res, a.as_raw(), allow_col_major, s.as_raw()) }
        })
    }

    /// The `n`-th discrete difference along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a negative
    /// `n` or an axis out of range.
    ["mlx_diff"]
    pub fn diff(a: &Array, n: i32, axis: i32) -> Array;
    on diff_on, s => {
        // MLX builds one graph node per order: past the axis size the
        // result is empty anyway, so the order is capped there (an order
        // of 2^31 would otherwise exhaust memory building the graph).
        let n = match a.dim(axis) {
            Some(d) if n > d => d,
            _ => n,
        };
        int2_op("mlx_diff", a, n, axis, s, mlx_sys::mlx_diff)
    }
}
