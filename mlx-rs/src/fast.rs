//! MLX's fused kernels for transformer layers: scaled dot-product
//! attention, RMS and layer normalization, and rotary position embeddings.
//!
//! Each is one node in MLX's graph (a fused kernel on the GPU; on the CPU
//! MLX runs its reference composition of basic ops).
//!
//! ```
//! use mlx_rs::fast::{scaled_dot_product_attention, AttentionMask, SdpaOptions};
//! use mlx_rs::{Array, Dtype};
//! // batch 1, 8 query heads sharing 2 key/value heads (grouped-query attention)
//! let q = Array::ones(&[1, 8, 5, 16], Dtype::Float32)?;
//! let kv = Array::ones(&[1, 2, 5, 16], Dtype::Float32)?;
//! let opts = SdpaOptions { mask: AttentionMask::Causal, ..Default::default() };
//! let o = scaled_dot_product_attention(&q, &kv, &kv, 0.25, opts)?;
//! assert_eq!(o.shape(), [1, 8, 5, 16]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use std::ffi::CStr;

use crate::ops::support::{op, opt};
use crate::Array;

mod kernels;
pub use kernels::{
    CudaKernel, CudaKernelOptions, KernelConfig, MetalKernel, MetalKernelOptions, TemplateArg,
};

/// The mask of [`scaled_dot_product_attention`].
#[derive(Debug, Clone, Copy, Default)]
pub enum AttentionMask<'a> {
    /// No mask.
    #[default]
    None,
    /// Causal, aligned lower-right: the last query sees every key, and
    /// query `i` of `T_q` sees keys `0 ..= i + T_kv − T_q`.
    Causal,
    /// A boolean mask (`true`: attend) or an additive mask (added to the
    /// scores; its dtype must promote to that of the queries), broadcast
    /// against `[B, N_q, T_q, T_kv]`, at most 4 dimensions.
    Array(&'a Array),
}

/// The optional parts of [`scaled_dot_product_attention`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SdpaOptions<'a> {
    /// The mask; none by default.
    pub mask: AttentionMask<'a>,
    /// Attention sinks: one logit per query head, `[N_q]`, that joins the
    /// softmax without a value (it only takes probability mass away).
    pub sinks: Option<&'a Array>,
    /// Use a fused kernel whatever MLX's heuristics say, and fail when there
    /// is none for this configuration (MLX's CPU backend has none).
    pub force_fused: bool,
}

/// The frequencies of [`rope`].
#[derive(Debug, Clone, Copy)]
pub enum RopeBase<'a> {
    /// Frequencies `base^(−2i/dims)`, the usual choice being `10000.0`.
    Base(f32),
    /// Custom frequencies, 1-D of size `dims / 2`.
    Freqs(&'a Array),
}

/// The position of the first element of [`rope`]'s sequence axis.
#[derive(Debug, Clone, Copy)]
pub enum RopeOffset<'a> {
    /// The same offset for the whole batch.
    Int(i32),
    /// An integer array: a scalar, or one offset per batch element `[B]`
    /// (e.g. during batched decoding).
    Array(&'a Array),
}

impl From<i32> for RopeOffset<'_> {
    fn from(offset: i32) -> Self {
        RopeOffset::Int(offset)
    }
}

impl<'a> From<&'a Array> for RopeOffset<'a> {
    fn from(offset: &'a Array) -> Self {
        RopeOffset::Array(offset)
    }
}

op! {
    /// Multi-head attention `softmax(scale · Q Kᵀ + mask) V`, with the softmax
    /// computed in `f32`.
    ///
    /// Shapes: `queries` `[B, N_q, T_q, D]`, `keys` `[B, N_kv, T_kv, D]`,
    /// `values` `[B, N_kv, T_kv, D_v]`; `N_q` must be a multiple of `N_kv`
    /// (grouped-query and multi-query attention: do not repeat the key/value
    /// heads yourself). The result is `[B, N_q, T_q, D_v]`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for inputs that are
    /// not 4-D, head counts that do not divide, mismatched head dimensions, a
    /// mask that does not broadcast, sinks of the wrong shape, or
    /// `force_fused` where no fused kernel exists;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for keys or
    /// values with no heads.
    ["mlx_fast_scaled_dot_product_attention"]
    pub fn scaled_dot_product_attention(
        queries: &Array,
        keys: &Array,
        values: &Array,
        scale: f32,
        options: SdpaOptions<'_>,
    ) -> Array;
    on scaled_dot_product_attention_on, stream => {
        // MLX divides the query heads by the key/value heads unchecked
        // (SIGFPE for none).
        for (what, a) in [("keys", keys), ("values", values)] {
            if a.ndim() == 4 && a.dim(1) == Some(0) {
                return Err(crate::Error::InvalidArgument {
                    op: "mlx_fast_scaled_dot_product_attention",
                    reason: format!("{what} have no heads (shape {:?})", a.shape()),
                });
            }
        }
        let (mode, mask): (&CStr, _) = match options.mask {
            AttentionMask::None => (c"", None),
            AttentionMask::Causal => (c"causal", None),
            AttentionMask::Array(m) => (c"array", Some(m)),
        };
        Array::build("mlx_fast_scaled_dot_product_attention", |res| {
            // SAFETY: `res` is a fresh out-param; the inputs, the optional mask
            // and sinks (or the empty handle mlx-c reads as absent) and the
            // stream are live handles; `mode` is a static NUL-terminated string.
            unsafe {
                mlx_sys::mlx_fast_scaled_dot_product_attention(
                    res,
                    queries.as_raw(),
                    keys.as_raw(),
                    values.as_raw(),
                    scale,
                    mode.as_ptr(),
                    opt(mask),
                    opt(options.sinks),
                    options.force_fused,
                    stream.as_raw(),
                )
            }
        })
    }

    /// RMS normalization over the last axis:
    /// `x / sqrt(mean(x²) + eps) · weight`.
    ///
    /// `weight`, if given, is 1-D with the size of the last axis.
    ///
    /// ```
    /// use mlx_rs::fast::rms_norm;
    /// use mlx_rs::Array;
    /// let x = Array::from_slice(&[3.0f32, 4.0], &[1, 2])?;
    /// let y = rms_norm(&x, None, 0.0)?; // rms = sqrt(12.5)
    /// let v = y.to_vec::<f32>()?;
    /// assert!((v[0] - 3.0 / 12.5f32.sqrt()).abs() < 1e-6);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `weight` is
    /// not 1-D or its size is not that of the last axis.
    ["mlx_fast_rms_norm"]
    pub fn rms_norm(x: &Array, weight: Option<&Array>, eps: f32) -> Array;
    on rms_norm_on, stream => {
        Array::build("mlx_fast_rms_norm", |res| {
            // SAFETY: `res` is a fresh out-param; `x`, the optional weight (or
            // the empty handle mlx-c reads as absent) and the stream are live.
            unsafe {
                mlx_sys::mlx_fast_rms_norm(res, x.as_raw(), opt(weight), eps, stream.as_raw())
            }
        })
    }

    /// Layer normalization over the last axis:
    /// `(x − mean) / sqrt(var + eps) · weight + bias`.
    ///
    /// `weight` and `bias`, if given, have the size of the last axis.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when `weight` or
    /// `bias` does not have the size of the last axis.
    ["mlx_fast_layer_norm"]
    pub fn layer_norm(
        x: &Array,
        weight: Option<&Array>,
        bias: Option<&Array>,
        eps: f32,
    ) -> Array;
    on layer_norm_on, stream => {
        Array::build("mlx_fast_layer_norm", |res| {
            // SAFETY: `res` is a fresh out-param; `x`, the optional weight and
            // bias (or the empty handle mlx-c reads as absent) and the stream
            // are live.
            unsafe {
                mlx_sys::mlx_fast_layer_norm(
                    res,
                    x.as_raw(),
                    opt(weight),
                    opt(bias),
                    eps,
                    stream.as_raw(),
                )
            }
        })
    }

    /// Rotary position embedding of `x`, shape `[B, …, T, D]`: the first
    /// `dims` features of each position `offset + t` are rotated by angles
    /// `scale · (offset + t) · freq_i`, in pairs `(i, i + dims/2)`, or in
    /// consecutive pairs `(2i, 2i + 1)` when `traditional`. Features past
    /// `dims` are left as they are.
    ///
    /// ```
    /// use mlx_rs::fast::{rope, RopeBase};
    /// use mlx_rs::{Array, Dtype};
    /// let x = Array::ones(&[1, 4, 8], Dtype::Float32)?;
    /// let y = rope(&x, 8, false, RopeBase::Base(10000.0), 1.0, 0)?;
    /// // position 0 is not rotated
    /// assert_eq!(y.to_vec::<f32>()?[..8], [1.0; 8]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for an input of
    /// fewer than 3 dimensions, odd `dims`, frequencies of the wrong shape, or a
    /// non-integer offset array.
    ["mlx_fast_rope", "mlx_fast_rope_dynamic"]
    pub fn rope<'a>(
        x: &Array,
        dims: i32,
        traditional: bool,
        base: RopeBase<'_>,
        scale: f32,
        offset: impl Into<RopeOffset<'a>>,
    ) -> Array;
    on rope_on, stream => {
        let (base, has_base, freqs) = match base {
            RopeBase::Base(b) => (b, true, None),
            RopeBase::Freqs(f) => (0.0, false, Some(f)),
        };
        // The two mlx-c functions differ only in the offset (an int or an
        // array).
        match offset.into() {
            RopeOffset::Int(offset) => Array::build("mlx_fast_rope", |res| {
                // SAFETY: `res` is a fresh out-param; `x`, the optional freqs
                // (or the empty handle mlx-c reads as absent) and the stream
                // are live; the optional base travels as value + flag through
                // the shim, never as a by-value struct.
                unsafe {
                    mlx_sys::mlxs_fast_rope(
                        res,
                        x.as_raw(),
                        dims,
                        traditional,
                        base,
                        has_base,
                        scale,
                        offset,
                        opt(freqs),
                        stream.as_raw(),
                    )
                }
            }),
            RopeOffset::Array(offset) => Array::build("mlx_fast_rope_dynamic", |res| {
                // SAFETY: as above; `offset` is a live array.
                unsafe {
                    mlx_sys::mlxs_fast_rope_dynamic(
                        res,
                        x.as_raw(),
                        dims,
                        traditional,
                        base,
                        has_base,
                        scale,
                        offset.as_raw(),
                        opt(freqs),
                        stream.as_raw(),
                    )
                }
            }),
        }
    }
}
