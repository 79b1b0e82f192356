//! mlx-lm's `QuantizedKVCache` and `quantized_scaled_dot_product_attention`.

use super::{attention_mask, causal_mask, CacheMask};
use crate::error::{Error, Result};
use crate::index::Ellipsis;
use crate::ops::{self, concatenate};
use crate::quantization::{quantize, quantized_matmul, QuantMode, Quantized};
use crate::{Array, Dtype};

/// mlx-lm's growth step.
const STEP: i32 = 256;

/// A KV cache that stores keys and values quantized (affine, `bits` per
/// element in groups of `group_size` along the head dimension), mlx-lm's
/// `QuantizedKVCache`. Storage grows in steps of 256 positions as
/// [`KvCache`](super::KvCache)'s; [`update_and_fetch`](Self::update_and_fetch)
/// quantizes the new keys and values and returns the packed tuples, which
/// [`quantized_scaled_dot_product_attention`] consumes.
///
/// ```
/// use mlx_rs::nn::QuantizedKvCache;
/// use mlx_rs::{Array, Dtype};
/// let mut cache = QuantizedKvCache::new(32, 4)?;
/// let kv = Array::ones(&[1, 2, 3, 64], Dtype::Float32)?;
/// let (k, _v) = cache.update_and_fetch(&kv, &kv)?;
/// assert_eq!(k.weights.shape(), [1, 2, 3, 8]); // 64 × 4 bits in 8 words
/// assert_eq!(k.scales.shape(), [1, 2, 3, 2]);
/// assert!(QuantizedKvCache::new(32, 7).is_err());
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct QuantizedKvCache {
    keys: Option<Quantized>,
    values: Option<Quantized>,
    offset: i32,
    group_size: i32,
    bits: i32,
    mode: QuantMode,
}

/// The three arrays of a quantized tensor, in mlx-lm's order.
fn parts(q: &Quantized) -> Vec<&Array> {
    let mut v = vec![&q.weights, &q.scales];
    v.extend(q.biases.as_ref());
    v
}

fn map(q: &Quantized, mut f: impl FnMut(&Array) -> Result<Array>) -> Result<Quantized> {
    Ok(Quantized {
        weights: f(&q.weights)?,
        scales: f(&q.scales)?,
        biases: q.biases.as_ref().map(&mut f).transpose()?,
        mode: q.mode,
    })
}

impl QuantizedKvCache {
    /// An empty cache quantizing with `bits` in groups of `group_size`.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for bits not in {2, 3, 4, 5, 6, 8} or
    /// a group size not in {32, 64, 128}.
    pub fn new(group_size: i32, bits: i32) -> Result<Self> {
        let mode = QuantMode::affine(bits, group_size)?;
        Ok(QuantizedKvCache {
            keys: None,
            values: None,
            offset: 0,
            group_size,
            bits,
            mode,
        })
    }

    /// Positions stored (the RoPE offset of the next token).
    pub fn offset(&self) -> i32 {
        self.offset
    }

    /// Elements per quantization group.
    pub fn group_size(&self) -> i32 {
        self.group_size
    }

    /// Bits per element.
    pub fn bits(&self) -> i32 {
        self.bits
    }

    /// Whether nothing was ever stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_none()
    }

    /// The positions allocated (0 when empty).
    pub fn capacity(&self) -> i32 {
        self.keys
            .as_ref()
            .and_then(|k| k.weights.dim(2))
            .unwrap_or(0)
    }

    /// `x` `[…, D]` quantized with this cache's mode.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] when the group size does not divide
    /// `D` (named); [`Error::Mlx`] when MLX refuses.
    #[doc(alias = "mlx_quantize")]
    pub fn quantize(&self, x: &Array) -> Result<Quantized> {
        let d = x.shape().last().copied().unwrap_or(0);
        if d % self.group_size != 0 {
            return Err(Error::InvalidQuantization {
                reason: format!(
                    "kv_group_size {} does not divide the head dimension {d}",
                    self.group_size
                ),
            });
        }
        quantize(x, self.mode)
    }

    /// Quantizes and appends `keys` / `values` `[B, N_kv, T, D]`; returns
    /// all the keys and values so far, packed (`[B, N_kv, offset, …]`).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for inputs that are not 4-D or disagree on
    /// `T`; as [`quantize`](Self::quantize).
    #[doc(alias = "mlx_quantize")]
    #[doc(alias = "mlx_slice_update")]
    pub fn update_and_fetch(
        &mut self,
        keys: &Array,
        values: &Array,
    ) -> Result<(Quantized, Quantized)> {
        super::check_update(keys, values)?;
        let t = keys.shape()[2];
        let prev = self.offset;
        let qk = self.quantize(keys)?;
        let qv = self.quantize(values)?;
        if self.keys.is_none() || prev + t > self.capacity() {
            let new_steps = (STEP + t - 1) / STEP * STEP;
            let zeros = |like: &Array| -> Result<Array> {
                let mut s = like.shape().to_vec();
                s[2] = new_steps;
                Array::zeros(&s, like.dtype())
            };
            let grow = |cur: &Option<Quantized>, new: &Quantized| -> Result<Quantized> {
                match cur {
                    None => map(new, zeros),
                    Some(c) => map(c, |x| {
                        let x = if prev % STEP != 0 {
                            x.index((Ellipsis, ..prev, ..))?
                        } else {
                            x.clone()
                        };
                        concatenate([&x, &zeros(&x)?], Some(2))
                    }),
                }
            };
            self.keys = Some(grow(&self.keys, &qk)?);
            self.values = Some(grow(&self.values, &qv)?);
        }
        self.offset += t;
        let end = self.offset;
        let put = |cur: &Quantized, new: &Quantized| -> Result<Quantized> {
            let news = parts(new);
            let mut i = 0;
            map(cur, |x| {
                let r = x.index_put((Ellipsis, prev..end, ..), news[i]);
                i += 1;
                r
            })
        };
        let (k, v) = match (&self.keys, &self.values) {
            (Some(ck), Some(cv)) => (put(ck, &qk)?, put(cv, &qv)?),
            // Allocated above whenever empty.
            _ => (qk, qv),
        };
        self.keys = Some(k.clone());
        self.values = Some(v.clone());
        if end == self.capacity() {
            return Ok((k, v));
        }
        let view = |x: &Array| x.index((Ellipsis, ..end, ..));
        Ok((map(&k, view)?, map(&v, view)?))
    }

    /// Always `true`.
    pub fn is_trimmable(&self) -> bool {
        true
    }

    /// Forgets the last `n` positions (at most `offset`); returns how many.
    pub fn trim(&mut self, n: i32) -> i32 {
        let n = n.clamp(0, self.offset);
        self.offset -= n;
        n
    }

    /// `(keys, values, offset)`, the whole packed storage, as mlx-lm's
    /// `QuantizedKVCache.state` (less the group size and bits, which
    /// [`group_size`](Self::group_size) and [`bits`](Self::bits) give).
    pub fn raw_state(&self) -> Option<(Quantized, Quantized, i32)> {
        match (&self.keys, &self.values) {
            (Some(k), Some(v)) => Some((k.clone(), v.clone(), self.offset)),
            _ => None,
        }
    }

    /// Replaces the contents with packed `keys` and `values` (made with
    /// this cache's mode) of which the first `offset` positions are filled.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] when their mode is not this cache's;
    /// [`Error::InvalidShape`] when they are not 4-D, disagree on the
    /// positions, or `offset` is past them.
    pub fn set_state(&mut self, keys: Quantized, values: Quantized, offset: i32) -> Result<()> {
        if keys.mode != self.mode || values.mode != self.mode {
            return Err(Error::InvalidQuantization {
                reason: format!(
                    "the state was quantized as {:?}/{:?}, the cache is {:?}",
                    keys.mode, values.mode, self.mode
                ),
            });
        }
        let (ks, vs) = (keys.weights.shape(), values.weights.shape());
        if ks.len() != 4 || vs.len() != 4 || ks[2] != vs[2] || !(0..=ks[2]).contains(&offset) {
            return Err(Error::InvalidShape {
                shape: ks.iter().map(|&d| i64::from(d)).chain([i64::from(offset)]).collect(),
                reason: "a quantized KV cache state is [B, heads, S, packed] with the same S and 0 <= offset <= S",
            });
        }
        self.keys = Some(keys);
        self.values = Some(values);
        self.offset = offset;
        Ok(())
    }

    /// The mask for `n` new tokens (as [`KvCache::make_mask`](super::KvCache::make_mask)).
    ///
    /// # Errors
    /// [`Error::Mlx`] when MLX fails to build the mask.
    pub fn make_mask(&self, n: i32, window: Option<i32>, return_array: bool) -> Result<CacheMask> {
        attention_mask(n, self.offset, return_array, window)
    }
}

/// The most negative finite value of a float dtype (`mx.finfo(dt).min`).
pub(crate) fn finfo_min(dtype: Dtype) -> f32 {
    match dtype {
        Dtype::Float16 => -65504.0,
        Dtype::Bfloat16 => -3.389_531_4e38,
        _ => f32::MIN,
    }
}

/// Attention over quantized keys and values, mlx-lm's
/// `quantized_scaled_dot_product_attention`: `softmax(q·scale @ k̂ᵀ + mask)
/// @ v̂` with both products quantized matmuls (grouped-query heads share
/// their key/value head), the softmax in `float32`.
///
/// `queries` `[B, N_q, T, D]`; `keys` and `values` packed `[B, N_kv, S, …]`
/// (from [`QuantizedKvCache::update_and_fetch`]). A boolean mask selects
/// (`false` scores become the dtype's minimum); another is added.
///
/// # Errors
/// [`Error::InvalidShape`] for queries that are not 4-D or key heads that
/// do not divide the query heads; [`Error::Mlx`] for sizes that do not fit.
#[doc(alias = "mlx_quantized_matmul")]
pub fn quantized_scaled_dot_product_attention(
    queries: &Array,
    keys: &Quantized,
    values: &Quantized,
    scale: f32,
    mask: &CacheMask,
) -> Result<Array> {
    let &[b, n_q, l, d] = queries.shape() else {
        return Err(Error::InvalidShape {
            shape: queries.shape().iter().map(|&d| i64::from(d)).collect(),
            reason: "queries must be [B, heads, T, head_dim]",
        });
    };
    let ks = keys.weights.shape();
    let n_kv = if ks.len() >= 3 { ks[ks.len() - 3] } else { 0 };
    if n_kv <= 0 || n_q % n_kv != 0 {
        return Err(Error::InvalidShape {
            shape: ks.iter().map(|&d| i64::from(d)).collect(),
            reason: "quantized keys must be [B, kv_heads, S, packed] with kv_heads dividing the query heads",
        });
    }
    let repeats = n_q / n_kv;
    let mut q = (queries * scale)?;
    let (mut k, mut v) = (keys.clone(), values.clone());
    if repeats > 1 {
        q = q.reshape(&[b, n_kv, repeats, l, d])?;
        let expand = |x: &Array| ops::expand_dims(x, &[-3]);
        k = map(&k, expand)?;
        v = map(&v, expand)?;
    }
    let mut scores = quantized_matmul(&q, &k, true)?;
    let kl = scores.shape()[scores.ndim() - 1];
    let select = |m: &Array, s: &Array| -> Result<Array> {
        let min = Array::scalar(finfo_min(s.dtype()))?.astype(s.dtype())?;
        ops::select(m, s, &min)
    };
    scores = match mask {
        CacheMask::None => scores,
        CacheMask::Causal => select(&causal_mask(l, kl - l, None)?, &scores)?,
        CacheMask::Array(m) => {
            let m = if repeats > 1 && m.ndim() > 3 {
                ops::expand_dims(m, &[-3])?
            } else {
                m.clone()
            };
            if m.dtype() == Dtype::Bool {
                select(&m, &scores)?
            } else {
                (&scores + &m)?
            }
        }
    };
    let p = ops::softmax(&scores, -1, true)?;
    let out = quantized_matmul(&p, &v, false)?;
    if repeats > 1 {
        out.reshape(&[b, n_q, l, d])
    } else {
        Ok(out)
    }
}
