//! mlx-lm's `KVCache`: every position kept, storage grown in steps.

use super::{attention_mask, CacheMask, QuantizedKvCache};
use crate::error::{Error, Result};
use crate::index::Ellipsis;
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

    /// Keeps the first `offset − n` positions (at most `offset` are
    /// dropped) and returns how many were dropped (mlx-lm's `trim`); the
    /// storage is kept and overwritten by the next update.
    pub fn trim(&mut self, n: i32) -> i32 {
        let n = n.clamp(0, self.offset);
        self.offset -= n;
        n
    }

    /// Always `true`: any number of positions can be trimmed.
    pub fn is_trimmable(&self) -> bool {
        true
    }

    /// Whether nothing was ever stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_none()
    }

    /// The whole storage and the offset, `(keys, values, offset)`, as
    /// mlx-lm's `KVCache.state` (the storage may run past `offset`); `None`
    /// when empty.
    pub fn raw_state(&self) -> Option<(Array, Array, i32)> {
        match (&self.keys, &self.values) {
            (Some(k), Some(v)) => Some((k.clone(), v.clone(), self.offset)),
            _ => None,
        }
    }

    /// Replaces the contents: `keys` and `values` `[B, N_kv, S, D]` of
    /// which the first `offset` positions are filled (mlx-lm's `state`
    /// setter).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when they are not 4-D, disagree on `S`, or
    /// `offset` is outside `0..=S`.
    pub fn set_state(&mut self, keys: Array, values: Array, offset: i32) -> Result<()> {
        let (ks, vs) = (keys.shape(), values.shape());
        if ks.len() != 4 || vs.len() != 4 || ks[2] != vs[2] || !(0..=ks[2]).contains(&offset) {
            return Err(Error::InvalidShape {
                shape: ks.iter().map(|&d| i64::from(d)).chain([i64::from(offset)]).collect(),
                reason: "a KV cache state is [B, heads, S, head_dim] keys and values with the same S and 0 <= offset <= S",
            });
        }
        self.keys = Some(keys);
        self.values = Some(values);
        self.offset = offset;
        Ok(())
    }

    /// The mask for `n` new tokens (mlx-lm's `KVCache.make_mask`, i.e.
    /// `create_attention_mask(n, offset, return_array, window)`).
    ///
    /// # Errors
    /// [`Error::Mlx`] when MLX fails to build the mask.
    pub fn make_mask(&self, n: i32, window: Option<i32>, return_array: bool) -> Result<CacheMask> {
        attention_mask(n, self.offset, return_array, window)
    }

    /// This cache quantized (mlx-lm's `to_quantized`): the whole storage is
    /// quantized with `bits` and `group_size`, the offset kept.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for bits not in {2, 3, 4, 5, 6, 8}, a
    /// group size not in {32, 64, 128} or one that does not divide the head
    /// dimension.
    #[doc(alias = "mlx_quantize")]
    pub fn to_quantized(&self, group_size: i32, bits: i32) -> Result<QuantizedKvCache> {
        let mut q = QuantizedKvCache::new(group_size, bits)?;
        if let (Some(k), Some(v)) = (&self.keys, &self.values) {
            q.set_state(q.quantize(k)?, q.quantize(v)?, self.offset)?;
        }
        Ok(q)
    }
}
