//! Sorting and selection: `sort`, `argsort`, `partition`, `argpartition`,
//! `topk` (each over the flattened array with `axis = None`, or along one
//! axis) and `searchsorted`.
//!
//! ```
//! use mlx_rs::ops::{argsort, searchsorted, sort, topk, Side};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[3i32, 1, 2], &[3])?;
//! assert_eq!(sort(&a, Some(0))?.to_vec::<i32>()?, [1, 2, 3]);
//! assert_eq!(argsort(&a, None)?.to_vec::<u32>()?, [1, 2, 0]);
//! assert_eq!(topk(&a, 1, None)?.to_vec::<i32>()?, [3]);
//! let sorted = Array::from_slice(&[1i32, 2, 2, 5], &[4])?;
//! let v = Array::from_slice(&[2i32, 6], &[2])?;
//! assert_eq!(searchsorted(&sorted, &v, Side::Right)?.to_vec::<u32>()?, [3, 4]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{empty_safe, int2_op, int_op, op};
use super::unary;
use crate::Array;

/// Which of several equal positions [`searchsorted`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// The first suitable position (`a[i-1] < v <= a[i]`).
    #[default]
    Left,
    /// The last suitable position (`a[i-1] <= v < a[i]`).
    Right,
}

op! {
    /// A sorted copy (stable; NaNs last), of the flattened array
    /// (`axis = None`) or along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    ["mlx_sort", "mlx_sort_axis"]
    pub fn sort(a: &Array, axis: Option<i32>) -> Array;
    on sort_on, s => {
        let out = match axis {
            None => unary("mlx_sort", a, s, mlx_sys::mlx_sort),
            Some(ax) => int_op("mlx_sort_axis", a, ax, s, mlx_sys::mlx_sort_axis),
        }?;
        // MLX's CPU sort kernels divide by zero on empty arrays.
        empty_safe(a.size() == 0, out, s)
    }

    /// The indices that sort the array (stable, `uint32`), of the flattened
    /// array (`axis = None`) or along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an axis out
    /// of range.
    ["mlx_argsort", "mlx_argsort_axis"]
    pub fn argsort(a: &Array, axis: Option<i32>) -> Array;
    on argsort_on, s => {
        let out = match axis {
            None => unary("mlx_argsort", a, s, mlx_sys::mlx_argsort),
            Some(ax) => int_op("mlx_argsort_axis", a, ax, s, mlx_sys::mlx_argsort_axis),
        }?;
        // MLX's CPU sort kernels divide by zero on empty arrays.
        empty_safe(a.size() == 0, out, s)
    }

    /// A copy partitioned around its `kth` element (negative counts from
    /// the end): element `kth` is where a sort would put it, smaller ones
    /// come before it and larger ones after, in no particular order.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for `kth` or an
    /// axis out of range.
    ["mlx_partition", "mlx_partition_axis"]
    pub fn partition(a: &Array, kth: i32, axis: Option<i32>) -> Array;
    on partition_on, s => {
        let out = match axis {
            None => int_op("mlx_partition", a, kth, s, mlx_sys::mlx_partition),
            Some(ax) => int2_op("mlx_partition_axis", a, kth, ax, s, mlx_sys::mlx_partition_axis),
        }?;
        // MLX's CPU sort kernels divide by zero on empty arrays.
        empty_safe(a.size() == 0, out, s)
    }

    /// The indices that [`partition`] the array (`uint32`).
    ///
    /// # Errors
    /// As [`partition`].
    ["mlx_argpartition", "mlx_argpartition_axis"]
    pub fn argpartition(a: &Array, kth: i32, axis: Option<i32>) -> Array;
    on argpartition_on, s => {
        let out = match axis {
            None => int_op("mlx_argpartition", a, kth, s, mlx_sys::mlx_argpartition),
            Some(ax) => int2_op("mlx_argpartition_axis", a, kth, ax, s, mlx_sys::mlx_argpartition_axis),
        }?;
        // MLX's CPU sort kernels divide by zero on empty arrays.
        empty_safe(a.size() == 0, out, s)
    }

    /// The `k` largest elements (in no particular order), of the flattened
    /// array (`axis = None`) or along `axis`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `k` is out
    /// of range or the axis is.
    ["mlx_topk", "mlx_topk_axis"]
    pub fn topk(a: &Array, k: i32, axis: Option<i32>) -> Array;
    on topk_on, s => {
        let out = match axis {
            None => int_op("mlx_topk", a, k, s, mlx_sys::mlx_topk),
            Some(ax) => int2_op("mlx_topk_axis", a, k, ax, s, mlx_sys::mlx_topk_axis),
        }?;
        // MLX's CPU sort kernels divide by zero on empty arrays.
        empty_safe(a.size() == 0, out, s)
    }

    /// Where `values` would be inserted into the last axis of
    /// `sorted_sequence` (sorted ascending) to keep it sorted (`uint32`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the shapes
    /// do not fit.
    ["mlx_searchsorted"]
    pub fn searchsorted(sorted_sequence: &Array, values: &Array, side: Side) -> Array;
    on searchsorted_on, s => {
        let side: &std::ffi::CStr = match side {
            Side::Left => c"left",
            Side::Right => c"right",
        };
        Array::build("mlx_searchsorted", |res| {
            // SAFETY: fresh out-param; `side` is a NUL-terminated static
            // string; inputs and stream are live handles.
            unsafe {
                mlx_sys::mlx_searchsorted(res, sorted_sequence.as_raw(), values.as_raw(), side.as_ptr(), s.as_raw())
            }
        })
    }
}
