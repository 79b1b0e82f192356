//! Multi-head attention with grouped-query attention, rotary embeddings
//! and a [`LayerCache`].

use crate::error::{Error, Result};
use crate::fast::{self, AttentionMask, SdpaOptions};
use crate::nn::cache::{CacheMask, LayerCache};
use crate::nn::{LinearLayer, Module, Rope};
use crate::Array;

/// Multi-head attention with grouped-query attention (`n_kv_heads`
/// dividing `n_heads`), RoPE and an optional [`LayerCache`]: mlx-lm's Llama
/// `Attention`, with its parameter names (`q_proj`, `k_proj`, `v_proj`,
/// `o_proj`).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Attention {
    /// `[n_heads · head_dim, dims]`.
    pub q_proj: LinearLayer,
    /// `[n_kv_heads · head_dim, dims]`.
    pub k_proj: LinearLayer,
    /// `[n_kv_heads · head_dim, dims]`.
    pub v_proj: LinearLayer,
    /// `[dims, n_heads · head_dim]`.
    pub o_proj: LinearLayer,
    /// Rotary embedding of queries and keys.
    pub rope: Rope,
    /// Query heads.
    #[module(skip)]
    pub n_heads: i32,
    /// Key/value heads.
    #[module(skip)]
    pub n_kv_heads: i32,
    /// Features per head.
    #[module(skip)]
    pub head_dim: i32,
    /// Scale of the scores, `head_dim^−½` by default.
    #[module(skip)]
    pub scale: f32,
}

/// The shape of an [`Attention`] layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionConfig {
    /// Model width.
    pub dims: i32,
    /// Query heads.
    pub n_heads: i32,
    /// Key/value heads (divides `n_heads`).
    pub n_kv_heads: i32,
    /// Features per head (often `dims / n_heads`).
    pub head_dim: i32,
    /// RoPE base (`rope_theta`).
    pub rope_base: f32,
    /// Whether the projections have biases.
    pub bias: bool,
}

impl Attention {
    /// A layer of zeros (float projections) of the given shape.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when `n_kv_heads` does not divide `n_heads`
    /// or a size is not positive.
    pub fn new(c: AttentionConfig) -> Result<Self> {
        if c.n_heads <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 || c.n_heads % c.n_kv_heads != 0 {
            return Err(Error::InvalidShape {
                shape: vec![c.n_heads.into(), c.n_kv_heads.into(), c.head_dim.into()],
                reason: "attention needs positive sizes and n_kv_heads dividing n_heads",
            });
        }
        Ok(Attention {
            q_proj: LinearLayer::new(c.dims, c.n_heads * c.head_dim, c.bias)?,
            k_proj: LinearLayer::new(c.dims, c.n_kv_heads * c.head_dim, c.bias)?,
            v_proj: LinearLayer::new(c.dims, c.n_kv_heads * c.head_dim, c.bias)?,
            o_proj: LinearLayer::new(c.n_heads * c.head_dim, c.dims, c.bias)?,
            rope: Rope::new(c.head_dim, c.rope_base),
            n_heads: c.n_heads,
            n_kv_heads: c.n_kv_heads,
            head_dim: c.head_dim,
            scale: (c.head_dim as f32).powf(-0.5),
        })
    }

    /// The mask mlx-lm uses for `t` new tokens: causal when `t > 1`, none
    /// for a single token (it sees the whole cache).
    pub fn default_mask(t: i32) -> AttentionMask<'static> {
        if t > 1 {
            AttentionMask::Causal
        } else {
            AttentionMask::None
        }
    }

    /// Attention over `x`, `[B, T, dims]`. With a cache, RoPE starts at the
    /// cache's offset and the new keys and values are appended to it before
    /// attending (through [`LayerCache::attend`], so a quantized cache is
    /// attended with quantized matmuls). `AttentionMask::Causal` is aligned
    /// lower-right, so it is right with a standard cache too (see
    /// [`Attention::default_mask`]); a rotating cache needs its own mask
    /// ([`LayerCache::make_mask`]).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when `x` is not 3-D; [`Error::Mlx`] for sizes
    /// that do not fit the layer.
    #[doc(alias = "mlx_fast_scaled_dot_product_attention")]
    pub fn forward(
        &self,
        x: &Array,
        mask: AttentionMask<'_>,
        cache: Option<&mut LayerCache>,
    ) -> Result<Array> {
        let &[b, t, _] = x.shape() else {
            return Err(Error::InvalidShape {
                shape: x.shape().iter().map(|&d| i64::from(d)).collect(),
                reason: "attention input must be [B, T, dims]",
            });
        };
        let heads = |y: Array, n: i32| y.reshape(&[b, t, n, -1])?.transpose_axes(&[0, 2, 1, 3]);
        let q = heads(self.q_proj.forward(x)?, self.n_heads)?;
        let k = heads(self.k_proj.forward(x)?, self.n_kv_heads)?;
        let v = heads(self.v_proj.forward(x)?, self.n_kv_heads)?;
        let offset = cache.as_ref().map_or(0, |c| c.offset());
        let q = self.rope.forward(&q, offset)?;
        let k = self.rope.forward(&k, offset)?;
        let o = match cache {
            Some(c) => {
                let mask = match mask {
                    AttentionMask::None => CacheMask::None,
                    AttentionMask::Causal => CacheMask::Causal,
                    AttentionMask::Array(a) => CacheMask::Array(a.clone()),
                };
                c.attend(&q, &k, &v, self.scale, &mask)?
            }
            None => {
                let opts = SdpaOptions {
                    mask,
                    ..Default::default()
                };
                fast::scaled_dot_product_attention(&q, &k, &v, self.scale, opts)?
            }
        };
        let o = o.transpose_axes(&[0, 2, 1, 3])?.reshape(&[b, t, -1])?;
        self.o_proj.forward(&o)
    }
}
