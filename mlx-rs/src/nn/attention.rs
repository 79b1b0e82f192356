//! Multi-head attention with grouped-query attention, rotary embeddings
//! and a [`KvCache`].

use crate::error::{Error, Result};
use crate::fast::{self, AttentionMask, SdpaOptions};
use crate::index::Ellipsis;
use crate::nn::{LinearLayer, Module, Rope};
use crate::ops::concatenate;
use crate::Array;

/// The keys and values of the tokens seen so far, for one attention layer
/// (mlx-lm's `KVCache`).
///
/// Storage grows in steps of [`KvCache::DEFAULT_STEP`] (256) positions:
/// when new tokens do not fit, a zero block of whole steps is appended
/// (one concatenation per step, not per token); new keys and values are
/// written in place with slice updates, and
/// [`update_and_fetch`](KvCache::update_and_fetch) returns views of the
/// filled part.
///
/// ```
/// use mlx_rs::nn::KvCache;
/// use mlx_rs::{Array, Dtype};
/// let mut cache = KvCache::new();
/// let kv = Array::ones(&[1, 2, 3, 4], Dtype::Float32)?; // [B, heads, T, head_dim]
/// let (k, _v) = cache.update_and_fetch(&kv, &kv)?;
/// assert_eq!((k.shape(), cache.offset(), cache.capacity()), (&[1, 2, 3, 4][..], 3, 256));
/// let one = Array::ones(&[1, 2, 1, 4], Dtype::Float32)?;
/// let (k, _v) = cache.update_and_fetch(&one, &one)?;
/// assert_eq!((k.shape()[2], cache.capacity()), (4, 256));
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct KvCache {
    keys: Option<Array>,
    values: Option<Array>,
    offset: i32,
    step: i32,
}

impl Default for KvCache {
    fn default() -> Self {
        KvCache::new()
    }
}

impl KvCache {
    /// mlx-lm's growth step.
    pub const DEFAULT_STEP: i32 = 256;

    /// An empty cache that grows in steps of 256 positions.
    pub fn new() -> Self {
        KvCache::with_step(Self::DEFAULT_STEP)
    }

    /// An empty cache that grows in steps of `step` positions (at least 1).
    pub fn with_step(step: i32) -> Self {
        KvCache {
            keys: None,
            values: None,
            offset: 0,
            step: step.max(1),
        }
    }

    /// The number of positions stored: the offset of the next token (what
    /// RoPE needs).
    pub fn offset(&self) -> i32 {
        self.offset
    }

    /// The positions allocated (grows by whole steps; 0 when empty).
    pub fn capacity(&self) -> i32 {
        self.keys.as_ref().and_then(|k| k.dim(2)).unwrap_or(0)
    }

    /// Forgets every position (keeps nothing allocated).
    pub fn reset(&mut self) {
        *self = KvCache::with_step(self.step);
    }

    /// The filled part of the cache, `[B, N_kv, offset, D]` keys and
    /// values; `None` when empty.
    ///
    /// # Errors
    /// As [`Array::index`].
    pub fn state(&self) -> Result<Option<(Array, Array)>> {
        match (&self.keys, &self.values) {
            (Some(k), Some(v)) => Ok(Some((
                k.index((Ellipsis, ..self.offset, ..))?,
                v.index((Ellipsis, ..self.offset, ..))?,
            ))),
            _ => Ok(None),
        }
    }

    /// Appends `keys` `[B, N_kv, T, D_k]` and `values` `[B, N_kv, T, D_v]`
    /// and returns all the keys and values so far (`[B, N_kv, offset, …]`).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when the inputs are not 4-D or disagree on the
    /// number of positions; [`Error::Mlx`] when batch, heads or head
    /// dimensions differ from what the cache holds.
    #[doc(alias = "mlx_slice_update")]
    pub fn update_and_fetch(&mut self, keys: &Array, values: &Array) -> Result<(Array, Array)> {
        let (ks, vs) = (keys.shape(), values.shape());
        if ks.len() != 4 || vs.len() != 4 || ks[2] != vs[2] {
            return Err(Error::InvalidShape {
                shape: ks.iter().map(|&d| i64::from(d)).collect(),
                reason:
                    "KV cache updates are [B, heads, T, head_dim] keys and values with the same T",
            });
        }
        let t = ks[2];
        let prev = self.offset;
        let (k, v) = match (&self.keys, &self.values) {
            (Some(k), Some(v)) if prev + t <= self.capacity() => (k.clone(), v.clone()),
            (cur_k, cur_v) => {
                let n_steps = (self.step + t - 1) / self.step;
                let grow = |cur: &Option<Array>, new: &Array| -> Result<Array> {
                    let s = new.shape();
                    let block =
                        Array::zeros(&[s[0], s[1], n_steps * self.step, s[3]], new.dtype())?;
                    match cur {
                        None => Ok(block),
                        Some(c) => {
                            // Drop the unused tail before growing (mlx-lm does
                            // the same), so the filled part stays contiguous.
                            let c = if prev % self.step != 0 {
                                c.index((Ellipsis, ..prev, ..))?
                            } else {
                                c.clone()
                            };
                            concatenate([&c, &block], Some(2))
                        }
                    }
                };
                (grow(cur_k, keys)?, grow(cur_v, values)?)
            }
        };
        let end = prev + t;
        let k = k.index_put((Ellipsis, prev..end, ..), keys)?;
        let v = v.index_put((Ellipsis, prev..end, ..), values)?;
        let out = (
            k.index((Ellipsis, ..end, ..))?,
            v.index((Ellipsis, ..end, ..))?,
        );
        self.keys = Some(k);
        self.values = Some(v);
        self.offset = end;
        Ok(out)
    }
}

/// Multi-head attention with grouped-query attention (`n_kv_heads`
/// dividing `n_heads`), RoPE and an optional [`KvCache`]: mlx-lm's Llama
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
    /// attending. `AttentionMask::Causal` is aligned lower-right, so it is
    /// right with a cache too (see [`Attention::default_mask`]).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when `x` is not 3-D; [`Error::Mlx`] for sizes
    /// that do not fit the layer.
    #[doc(alias = "mlx_fast_scaled_dot_product_attention")]
    pub fn forward(
        &self,
        x: &Array,
        mask: AttentionMask<'_>,
        cache: Option<&mut KvCache>,
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
        let (k, v) = match cache {
            Some(c) => c.update_and_fetch(&k, &v)?,
            None => (k, v),
        };
        let opts = SdpaOptions {
            mask,
            ..Default::default()
        };
        let o = fast::scaled_dot_product_attention(&q, &k, &v, self.scale, opts)?;
        let o = o.transpose_axes(&[0, 2, 1, 3])?.reshape(&[b, t, -1])?;
        self.o_proj.forward(&o)
    }
}
