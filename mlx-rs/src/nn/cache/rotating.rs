//! mlx-lm's `RotatingKVCache`: at most `max_size` positions, the first
//! `keep` never evicted, the rest a ring buffer.

use super::{causal_mask, CacheMask};
use crate::error::{Error, Result};
use crate::index::Ellipsis;
use crate::ops::{self, concatenate};
use crate::Array;

/// A KV cache of at most `max_size` positions (mlx-lm's `RotatingKVCache`).
///
/// As in mlx-lm, a single new token is written in place into a ring buffer
/// (the first `keep` positions are never overwritten), while several new
/// tokens are appended to the keys in temporal order after trimming the
/// oldest, so that each new token still sees `max_size − 1` earlier ones;
/// then the cache briefly holds up to `max_size + T − 1` positions.
/// [`offset`](Self::offset) counts every token seen (what RoPE needs),
/// which can exceed what is stored.
///
/// ```
/// use mlx_rs::nn::RotatingKvCache;
/// use mlx_rs::{Array, Dtype};
/// let mut cache = RotatingKvCache::new(8, 2)?;
/// let kv = Array::ones(&[1, 1, 6, 4], Dtype::Float32)?;
/// cache.update_and_fetch(&kv, &kv)?;
/// let one = Array::ones(&[1, 1, 1, 4], Dtype::Float32)?;
/// for _ in 0..5 {
///     cache.update_and_fetch(&one, &one)?;
/// }
/// assert_eq!((cache.offset(), cache.size()), (11, 8));
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RotatingKvCache {
    keys: Option<Array>,
    values: Option<Array>,
    offset: i32,
    max_size: i32,
    keep: i32,
    idx: i32,
}

/// mlx-lm's growth step.
const STEP: i32 = 256;

fn len(a: &Array) -> i32 {
    a.dim(2).unwrap_or(0)
}

impl RotatingKvCache {
    /// An empty cache of at most `max_size` positions, the first `keep`
    /// of which are never evicted.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `max_size` is not positive or `keep`
    /// is negative or not below `max_size`.
    pub fn new(max_size: i32, keep: i32) -> Result<Self> {
        if max_size <= 0 || keep < 0 || keep >= max_size {
            return Err(Error::InvalidArgument {
                op: "RotatingKvCache::new",
                reason: format!(
                    "max_size must be positive and 0 <= keep < max_size (max_size {max_size}, keep {keep})"
                ),
            });
        }
        Ok(RotatingKvCache {
            keys: None,
            values: None,
            offset: 0,
            max_size,
            keep,
            idx: 0,
        })
    }

    /// Tokens seen so far (the RoPE offset of the next one).
    pub fn offset(&self) -> i32 {
        self.offset
    }

    /// Positions attended to: `min(offset, max_size)` (mlx-lm's `size`).
    pub fn size(&self) -> i32 {
        self.offset.min(self.max_size)
    }

    /// The most positions kept between updates.
    pub fn max_size(&self) -> i32 {
        self.max_size
    }

    /// Leading positions never evicted.
    pub fn keep(&self) -> i32 {
        self.keep
    }

    /// Whether nothing was ever stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_none()
    }

    /// `[v[..keep], v[trim + keep..], append]` along the positions.
    fn trim_front(&self, trim: i32, v: &Array, append: Option<&Array>) -> Result<Array> {
        let mut parts = if trim > 0 {
            vec![
                v.index((Ellipsis, ..self.keep, ..))?,
                v.index((Ellipsis, trim + self.keep.., ..))?,
            ]
        } else {
            vec![v.clone()]
        };
        parts.extend(append.cloned());
        concatenate(&parts, Some(2))
    }

    /// The storage in temporal order, the unused end sliced off.
    fn temporal_order(&self, v: &Array) -> Result<Array> {
        if self.idx == len(v) {
            Ok(v.clone())
        } else if self.idx < self.offset {
            concatenate(
                [
                    &v.index((Ellipsis, ..self.keep, ..))?,
                    &v.index((Ellipsis, self.idx.., ..))?,
                    &v.index((Ellipsis, self.keep..self.idx, ..))?,
                ],
                Some(2),
            )
        } else {
            v.index((Ellipsis, ..self.idx, ..))
        }
    }

    fn update_concat(&mut self, keys: &Array, values: &Array) -> Result<(Array, Array)> {
        let (k, v) = match (&self.keys, &self.values) {
            (Some(ck), Some(cv)) => {
                let ck = self.temporal_order(ck)?;
                let cv = self.temporal_order(cv)?;
                self.idx = len(&ck);
                // The most kept is max_size + T − 1, so that every new token
                // sees max_size − 1 earlier ones.
                let trim = self.idx - self.max_size + 1;
                (
                    self.trim_front(trim, &ck, Some(keys))?,
                    self.trim_front(trim, &cv, Some(values))?,
                )
            }
            _ => (keys.clone(), values.clone()),
        };
        self.offset += len(keys);
        self.idx = len(&k);
        self.keys = Some(k.clone());
        self.values = Some(v.clone());
        Ok((k, v))
    }

    fn update_in_place(&mut self, keys: &Array, values: &Array) -> Result<(Array, Array)> {
        let s = keys.shape();
        let (b, heads, t, dk) = (s[0], s[1], s[2], s[3]);
        let dv = values.shape()[3];
        let prev = self.offset;
        let grow = match &self.keys {
            None => true,
            Some(k) => prev >= len(k) && len(k) < self.max_size,
        };
        let (mut k, mut v) = match (&self.keys, &self.values) {
            (Some(k), Some(v)) if !grow => (k.clone(), v.clone()),
            (cur_k, cur_v) => {
                let new = STEP.min(self.max_size - prev);
                let nk = Array::zeros(&[b, heads, new, dk], keys.dtype())?;
                let nv = Array::zeros(&[b, heads, new, dv], values.dtype())?;
                self.idx = prev;
                match (cur_k, cur_v) {
                    (Some(ck), Some(cv)) => (
                        concatenate([ck, &nk], Some(2))?,
                        concatenate([cv, &nv], Some(2))?,
                    ),
                    _ => (nk, nv),
                }
            }
        };
        let trim = len(&k) - self.max_size;
        if trim > 0 {
            k = self.trim_front(trim, &k, None)?;
            v = self.trim_front(trim, &v, None)?;
            self.idx = self.max_size;
        }
        if self.idx == self.max_size {
            self.idx = self.keep;
        }
        let (lo, hi) = (self.idx, self.idx + t);
        let k = k.index_put((Ellipsis, lo..hi, ..), keys)?;
        let v = v.index_put((Ellipsis, lo..hi, ..), values)?;
        self.offset += t;
        self.idx += t;
        let out = if self.offset < len(&k) {
            (
                k.index((Ellipsis, ..self.offset, ..))?,
                v.index((Ellipsis, ..self.offset, ..))?,
            )
        } else {
            (k.clone(), v.clone())
        };
        self.keys = Some(k);
        self.values = Some(v);
        Ok(out)
    }

    /// Adds `keys` / `values` `[B, N_kv, T, D]` and returns what to attend
    /// to: in place for `T == 1`, concatenated in temporal order otherwise
    /// (mlx-lm's `update_and_fetch`).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when the inputs are not 4-D or disagree on
    /// `T`; [`Error::Mlx`] for sizes that do not match the cache.
    #[doc(alias = "mlx_slice_update")]
    pub fn update_and_fetch(&mut self, keys: &Array, values: &Array) -> Result<(Array, Array)> {
        super::check_update(keys, values)?;
        if len(keys) == 1 {
            self.update_in_place(keys, values)
        } else {
            self.update_concat(keys, values)
        }
    }

    /// Whether [`trim`](Self::trim) can work: nothing was evicted yet
    /// (`offset < max_size`).
    pub fn is_trimmable(&self) -> bool {
        self.offset < self.max_size
    }

    /// Forgets the last `n` positions (at most `offset`) and returns how
    /// many; only meaningful while [`is_trimmable`](Self::is_trimmable).
    pub fn trim(&mut self, n: i32) -> i32 {
        let n = n.clamp(0, self.offset);
        self.offset -= n;
        self.idx -= n;
        n
    }

    /// The storage and ring state, `(keys, values, offset, keep, max_size,
    /// idx)` as mlx-lm's `RotatingKVCache.state`; `None` when empty.
    pub fn raw_state(&self) -> Option<(Array, Array, [i32; 4])> {
        match (&self.keys, &self.values) {
            (Some(k), Some(v)) => Some((
                k.clone(),
                v.clone(),
                [self.offset, self.keep, self.max_size, self.idx],
            )),
            _ => None,
        }
    }

    /// Replaces the contents from a [`raw_state`](Self::raw_state):
    /// `[offset, keep, max_size, idx]`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for keys and values that are not 4-D or
    /// disagree on the positions; [`Error::InvalidArgument`] for a
    /// `max_size`/`keep` [`new`](Self::new) refuses or an `idx` past the
    /// storage.
    pub fn set_state(&mut self, keys: Array, values: Array, meta: [i32; 4]) -> Result<()> {
        super::check_update(&keys, &values)?;
        let [offset, keep, max_size, idx] = meta;
        let mut c = RotatingKvCache::new(max_size, keep)?;
        if offset < 0 || !(0..=len(&keys)).contains(&idx) {
            return Err(Error::InvalidArgument {
                op: "RotatingKvCache::set_state",
                reason: format!(
                    "offset {offset} and idx {idx} must be non-negative, idx at most the {} stored positions",
                    len(&keys)
                ),
            });
        }
        c.keys = Some(keys);
        c.values = Some(values);
        c.offset = offset;
        c.idx = idx;
        *self = c;
        Ok(())
    }

    /// The mask for `n` new tokens, as mlx-lm's `RotatingKVCache.make_mask`:
    /// for several tokens a causal mask windowed to `window` (default
    /// `max_size`) when they reach past it; for one token, a mask over the
    /// ring buffer only when `window < max_size` and the window is full.
    ///
    /// # Errors
    /// [`Error::Mlx`] when MLX fails to build the mask.
    #[doc(alias = "mlx_roll")]
    pub fn make_mask(&self, n: i32, window: Option<i32>, return_array: bool) -> Result<CacheMask> {
        if n > 1 {
            let window = window.unwrap_or(self.max_size);
            let offset = (self.max_size - 1).min(self.offset);
            if offset + n > window || return_array {
                return Ok(CacheMask::Array(causal_mask(n, offset, Some(window))?));
            }
            return Ok(CacheMask::Causal);
        }
        let Some(window) = window else {
            return Ok(CacheMask::None);
        };
        if self.offset >= window && self.max_size > window {
            let idx = if self.idx >= self.max_size {
                0
            } else {
                self.idx
            };
            let size = if self.offset < self.max_size {
                self.offset + 1
            } else {
                self.max_size
            };
            let pos = Array::arange(0.0, f64::from(size), 1.0, crate::Dtype::Int32)?;
            let mask = pos.greater_equal(&Array::scalar(size - window)?)?;
            return Ok(CacheMask::Array(ops::roll(&mask, &[idx + 1], 0)?));
        }
        Ok(CacheMask::None)
    }
}
