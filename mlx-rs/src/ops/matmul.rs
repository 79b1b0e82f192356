//! Products: `matmul`, `addmm`, `inner`, `outer`, `kron`, `vecdot`,
//! `tensordot`, `einsum`, and the structured products
//! `block_masked_mm`, `gather_mm`, `segmented_mm` and `gather_qqmm`.
//!
//! ```
//! use mlx_rs::ops::{einsum, matmul, outer};
//! use mlx_rs::Array;
//! let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! let i = Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0], &[2, 2])?;
//! assert_eq!(matmul(&a, &i)?.to_vec::<f32>()?, a.to_vec::<f32>()?);
//! assert_eq!(einsum("ij,jk->ik", [&a, &i])?.to_vec::<f32>()?, a.to_vec::<f32>()?);
//! let v = Array::from_slice(&[1.0f32, 2.0], &[2])?;
//! assert_eq!(outer(&v, &v)?.to_vec::<f32>()?, [1.0, 2.0, 2.0, 4.0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! # Backends
//! `gather_qqmm` has no CPU kernel in MLX 0.32.2: on the CPU it fails
//! with MLX's message when the result is evaluated (it runs on CUDA).

use super::support::{array2_op, batch_size, check_nonneg_indices, op, opt};
use crate::array::vector;
use crate::quantization::raw::Params;
use crate::quantization::GatherIndices;
use crate::Array;

op! {
    /// The matrix product (batched over leading axes, with NumPy's rules
    /// for 1-d operands).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the inner
    /// dimensions differ or the dtype is not floating.
    ["mlx_matmul"]
    pub fn matmul(a: &Array, b: &Array) -> Array;
    on matmul_on, s => { array2_op("mlx_matmul", a, b, s, mlx_sys::mlx_matmul) }

    /// `alpha * (a @ b) + beta * c`.
    ///
    /// # Errors
    /// As [`matmul`], and when `c` does not broadcast to the product.
    ["mlx_addmm"]
    pub fn addmm(c: &Array, a: &Array, b: &Array, alpha: f32, beta: f32) -> Array;
    on addmm_on, s => {
        Array::build("mlx_addmm", |res| {
            // SAFETY: fresh out-param; inputs and stream are live handles.
            unsafe { mlx_sys::mlx_addmm(res, c.as_raw(), a.as_raw(), b.as_raw(), alpha, beta, s.as_raw()) }
        })
    }

    /// The inner product over the last axes (for 1-d arrays: the dot
    /// product).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the last
    /// dimensions differ.
    ["mlx_inner"]
    pub fn inner(a: &Array, b: &Array) -> Array;
    on inner_on, s => { array2_op("mlx_inner", a, b, s, mlx_sys::mlx_inner) }

    /// The outer product of the flattened arrays.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_outer"]
    pub fn outer(a: &Array, b: &Array) -> Array;
    on outer_on, s => { array2_op("mlx_outer", a, b, s, mlx_sys::mlx_outer) }

    /// The Kronecker product.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
    ["mlx_kron"]
    pub fn kron(a: &Array, b: &Array) -> Array;
    on kron_on, s => { array2_op("mlx_kron", a, b, s, mlx_sys::mlx_kron) }

    /// The dot product along `axis` (conjugating `a` when complex),
    /// broadcasting the other axes.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the sizes
    /// along `axis` differ or the axis is out of range.
    ["mlx_vecdot"]
    pub fn vecdot(a: &Array, b: &Array, axis: i32) -> Array;
    on vecdot_on, s => {
        Array::build("mlx_vecdot", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe { mlx_sys::mlx_vecdot(res, a.as_raw(), b.as_raw(), axis, s.as_raw()) }
        })
    }

    /// Contracts the last `n` axes of `a` with the first `n` of `b`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the
    /// contracted sizes differ.
    ["mlx_tensordot_axis"]
    pub fn tensordot(a: &Array, b: &Array, n: i32) -> Array;
    on tensordot_on, s => {
        Array::build("mlx_tensordot_axis", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe { mlx_sys::mlx_tensordot_axis(res, a.as_raw(), b.as_raw(), n, s.as_raw()) }
        })
    }

    /// Contracts axes `axes_a` of `a` with axes `axes_b` of `b`, pairwise.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the lists
    /// differ in length or the contracted sizes differ.
    ["mlx_tensordot"]
    pub fn tensordot_axes(a: &Array, b: &Array, axes_a: &[i32], axes_b: &[i32]) -> Array;
    on tensordot_axes_on, s => {
        Array::build("mlx_tensordot", |res| {
            // SAFETY: fresh out-param; both lists hold their lengths in
            // ints; live handles.
            unsafe {
                mlx_sys::mlx_tensordot(res, a.as_raw(), b.as_raw(), axes_a.as_ptr(), axes_a.len(), axes_b.as_ptr(), axes_b.len(), s.as_raw())
            }
        })
    }

    /// Einstein summation, as NumPy's `einsum` (e.g. `"ij,jk->ik"`).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for invalid
    /// subscripts or operands that do not match them;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a NUL
    /// byte in `subscripts`.
    ["mlx_einsum"]
    pub fn einsum<'a>(subscripts: &str, operands: impl IntoIterator<Item = &'a Array>) -> Array;
    on einsum_on, s => {
        let sub = crate::raw::c_string_arg("mlx_einsum", subscripts)?;
        let v = vector(operands)?;
        Array::build("mlx_einsum", |res| {
            // SAFETY: fresh out-param; `sub` is NUL-terminated and outlives
            // the call; `v` is a live vector of live arrays.
            unsafe { mlx_sys::mlx_einsum(res, sub.as_ptr(), v.get(), s.as_raw()) }
        })
    }

    /// `a @ b` with blocks of `block_size × block_size` masked: blocks of
    /// the output where `mask_out` is false are zero, and the masks of the
    /// operands (boolean, or floating scales) apply per block.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for a block
    /// size other than 32 or 64, or masks of the wrong shape.
    ["mlx_block_masked_mm"]
    pub fn block_masked_mm(a: &Array, b: &Array, block_size: i32, mask_out: Option<&Array>, mask_lhs: Option<&Array>, mask_rhs: Option<&Array>) -> Array;
    on block_masked_mm_on, s => {
        Array::build("mlx_block_masked_mm", |res| {
            // SAFETY: fresh out-param; live handles, or the empty handle
            // mlx-c reads as an absent mask.
            unsafe {
                mlx_sys::mlx_block_masked_mm(res, a.as_raw(), b.as_raw(), block_size, opt(mask_out), opt(mask_lhs), opt(mask_rhs), s.as_raw())
            }
        })
    }

    /// A batched matrix product with a matrix-level gather: output `i`
    /// multiplies `a[lhs[i]]` with `b[rhs[i]]`, indices counting over the
    /// flattened batch dimensions (`None`: in order).
    ///
    /// # Errors
    /// [`Error::InvalidIndex`](crate::Error::InvalidIndex) for an index out
    /// of range; [`Error::Mlx`](crate::Error::Mlx) with MLX's message for
    /// shapes that do not fit.
    ["mlx_gather_mm"]
    pub fn gather_mm(a: &Array, b: &Array, indices: GatherIndices<'_>) -> Array;
    on gather_mm_on, s => {
        let (lhs, rhs) = indices.checked("mlx_gather_mm", batch_size(a), batch_size(b), s)?;
        Array::build("mlx_gather_mm", |res| {
            // SAFETY: fresh out-param; live handles or empty handles for
            // absent indices; indices checked (or clamped).
            unsafe {
                mlx_sys::mlx_gather_mm(res, a.as_raw(), b.as_raw(), opt(lhs.as_ref()), opt(rhs.as_ref()), indices.sorted, s.as_raw())
            }
        })
    }

    /// Products of column segments: for each `[start, end)` pair in the
    /// last axis of `segments`, `a[:, start:end] @ b[start:end, :]`.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`](crate::Error::InvalidIndex) for a bound
    /// outside `0..=K`; [`Error::Mlx`](crate::Error::Mlx) with MLX's
    /// message for shapes that do not fit.
    ["mlx_segmented_mm"]
    pub fn segmented_mm(a: &Array, b: &Array, segments: &Array) -> Array;
    on segmented_mm_on, s => {
        let k = a.shape().last().copied().unwrap_or(0);
        let checked = check_nonneg_indices("mlx_segmented_mm", segments, i64::from(k) + 1, s)?;
        let segments = checked.or(segments);
        Array::build("mlx_segmented_mm", |res| {
            // SAFETY: fresh out-param; live handles; segment bounds checked
            // (or clamped).
            unsafe { mlx_sys::mlx_segmented_mm(res, a.as_raw(), b.as_raw(), segments.as_raw(), s.as_raw()) }
        })
    }

    /// [`gather_mm`] with both operands quantized on the fly in `params`'s
    /// mode (quantized × quantized, as
    /// [`qqmm`](crate::quantization::qqmm)); `w` is dense, or already
    /// quantized when `scales_w` is given.
    ///
    /// Not implemented by MLX 0.32.2's CPU backend: on the CPU the error
    /// comes when the result is evaluated.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`](crate::Error::InvalidIndex) for an index out
    /// of range; [`Error::Mlx`](crate::Error::Mlx) with MLX's message for
    /// anything MLX rejects, and on the CPU when evaluated.
    ["mlx_gather_qqmm"]
    pub fn gather_qqmm(x: &Array, w: &Array, scales_w: Option<&Array>, indices: GatherIndices<'_>, params: &Params<'_>, global_scale_x: Option<&Array>, global_scale_w: Option<&Array>) -> Array;
    on gather_qqmm_on, s => {
        let (lhs, rhs) = indices.checked("mlx_gather_qqmm", batch_size(x), batch_size(w), s)?;
        let mode = crate::raw::c_string_arg("mlx_gather_qqmm", params.mode)?;
        Array::build("mlx_gather_qqmm", |res| {
            // SAFETY: fresh out-param; live handles or empty handles for
            // the absent optionals; `mode` is NUL-terminated and outlives
            // the call; the optional ints travel as value + flag through
            // the shim.
            unsafe {
                mlx_sys::mlxs_gather_qqmm(
                    res,
                    x.as_raw(),
                    w.as_raw(),
                    opt(scales_w),
                    opt(lhs.as_ref()),
                    opt(rhs.as_ref()),
                    params.group_size.unwrap_or(0),
                    params.group_size.is_some(),
                    params.bits.unwrap_or(0),
                    params.bits.is_some(),
                    mode.as_ptr(),
                    opt(global_scale_x),
                    opt(global_scale_w),
                    indices.sorted,
                    s.as_raw(),
                )
            }
        })
    }
}
