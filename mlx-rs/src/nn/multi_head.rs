//! [`MultiHeadAttention`]: MLX's `nn.MultiHeadAttention` (BERT-style, no
//! RoPE, no KV cache; [`Attention`](crate::nn::Attention) is the
//! Llama-style one).

use crate::error::Result;
use crate::fast::{scaled_dot_product_attention, AttentionMask, SdpaOptions};
use crate::nn::{Linear, Module};
use crate::ops::support::invalid;
use crate::Array;

/// Multi-head attention over queries `[N, L, Dq]`, keys `[N, S, Dk]` and
/// values `[N, S, Dv]`: project, split into heads, scaled dot-product
/// attention (scale `sqrt(1 / head_dim)`), merge, project out.
///
/// Parameters: `query_proj`, `key_proj`, `value_proj`, `out_proj` (each
/// `weight`, and `bias` when built with one), Python's names.
///
/// ```
/// use mlx_rs::fast::AttentionMask;
/// use mlx_rs::nn::MultiHeadAttention;
/// use mlx_rs::{Array, Dtype};
/// let mha = MultiHeadAttention::new(16, 4, false)?;
/// let x = Array::ones(&[2, 5, 16], Dtype::Float32)?;
/// assert_eq!(mha.forward(&x, &x, &x, AttentionMask::Causal)?.shape(), [2, 5, 16]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct MultiHeadAttention {
    /// `dims_q → dims`.
    pub query_proj: Linear,
    /// `dims_k → dims`.
    pub key_proj: Linear,
    /// `dims_v → value_dims`.
    pub value_proj: Linear,
    /// `value_dims → value_output_dims`.
    pub out_proj: Linear,
    /// The number of heads.
    #[module(skip)]
    pub num_heads: i32,
}

impl MultiHeadAttention {
    /// Every input and output of width `dims`, as Python's
    /// `MultiHeadAttention(dims, num_heads, bias=bias)`: the four
    /// projections initialised as [`Linear::uniform`], in that order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when
    /// `dims` is not a positive multiple of `num_heads` (Python's message).
    pub fn new(dims: i32, num_heads: i32, bias: bool) -> Result<Self> {
        Self::with_dims(dims, num_heads, [dims, dims, dims, dims, dims], bias)
    }

    /// Python's full constructor: `io` is `[query_input_dims,
    /// key_input_dims, value_input_dims, value_dims, value_output_dims]`.
    ///
    /// # Errors
    /// As [`MultiHeadAttention::new`].
    pub fn with_dims(dims: i32, num_heads: i32, io: [i32; 5], bias: bool) -> Result<Self> {
        if num_heads < 1 || dims < 1 || dims % num_heads != 0 {
            return Err(invalid(
                "MultiHeadAttention",
                format!(
                    "The input feature dimensions should be divisible by the number of heads \
                     ({dims} % {num_heads}) != 0"
                ),
            ));
        }
        let [q, k, v, vd, vo] = io;
        Ok(MultiHeadAttention {
            query_proj: Linear::uniform(q, dims, bias)?,
            key_proj: Linear::uniform(k, dims, bias)?,
            value_proj: Linear::uniform(v, vd, bias)?,
            out_proj: Linear::uniform(vd, vo, bias)?,
            num_heads,
        })
    }

    /// Attention of `queries` over `keys` / `values` with `mask` (an
    /// additive or boolean array broadcast to `[N, heads, L, S]`, or
    /// causal).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the
    /// projection whose input has the wrong width, or for inputs that are
    /// not `[N, T, D]` with matching batch and key / value lengths; as
    /// [`scaled_dot_product_attention`] for a mask that does not fit.
    #[doc(alias = "mlx_fast_scaled_dot_product_attention")]
    pub fn forward(
        &self,
        queries: &Array,
        keys: &Array,
        values: &Array,
        mask: AttentionMask<'_>,
    ) -> Result<Array> {
        let (q, k, v) = (queries.shape(), keys.shape(), values.shape());
        if q.len() != 3
            || k.len() != 3
            || v.len() != 3
            || q[0] != k[0]
            || k[0] != v[0]
            || k[1] != v[1]
        {
            return Err(invalid(
                "MultiHeadAttention",
                format!(
                    "expects queries [N, L, D], keys and values [N, S, D], got {q:?}, {k:?} and \
                     {v:?}"
                ),
            ));
        }
        let heads = |x: Array| -> Result<Array> {
            let s = x.shape().to_vec();
            x.reshape(&[s[0], s[1], self.num_heads, -1])?
                .transpose_axes(&[0, 2, 1, 3])
        };
        let queries = heads(self.query_proj.forward(queries)?)?;
        let keys = heads(self.key_proj.forward(keys)?)?;
        let values = heads(self.value_proj.forward(values)?)?;
        let scale = (1.0 / f64::from(queries.shape()[3])).sqrt() as f32;
        let out = scaled_dot_product_attention(
            &queries,
            &keys,
            &values,
            scale,
            SdpaOptions {
                mask,
                ..SdpaOptions::default()
            },
        )?;
        let s = out.shape().to_vec();
        let out = out
            .transpose_axes(&[0, 2, 1, 3])?
            .reshape(&[s[0], s[2], s[1] * s[3]])?;
        self.out_proj.forward(&out)
    }
}
