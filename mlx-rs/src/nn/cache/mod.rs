//! KV caches as Python mlx-lm 0.32.2 has them (`mlx_lm/models/cache.py`):
//!
//! - [`KvCache`]: every position, storage grown in steps of 256
//!   (`KVCache`);
//! - [`RotatingKvCache`]: at most `max_size` positions, the first `keep`
//!   kept, the rest a ring buffer (`RotatingKVCache`, `--max-kv-size`);
//! - [`QuantizedKvCache`]: keys and values stored quantized
//!   (`QuantizedKVCache`, `--kv-bits`), attended to by
//!   [`quantized_scaled_dot_product_attention`];
//! - [`LayerCache`]: one of them, what an attention layer takes; it builds
//!   the layer's mask ([`LayerCache::make_mask`], a [`CacheMask`]) and
//!   attends with the kernel that fits the storage
//!   ([`LayerCache::attend`]).
//!
//! [`save_prompt_cache`] / [`load_prompt_cache`] read and write mlx-lm's
//! prompt-cache files (interchangeable with Python's).
//!
//! The masks follow mlx-lm's `create_causal_mask` / `create_attention_mask`
//! ([`causal_mask`], [`attention_mask`]).

use crate::error::{Error, Result};
use crate::fast::{self, AttentionMask, SdpaOptions};
use crate::quantization::Quantized;
use crate::{Array, Dtype};

mod prompt;
mod quantized;
mod rotating;
mod standard;

pub use prompt::{load_prompt_cache, save_prompt_cache};
pub use quantized::{quantized_scaled_dot_product_attention, QuantizedKvCache};
pub use rotating::RotatingKvCache;
pub use standard::KvCache;

/// An attention mask as mlx-lm's caches make it: none, MLX's causal mask,
/// or an array (boolean: `true` attends).
#[derive(Debug, Clone)]
pub enum CacheMask {
    /// No mask (one new token seeing everything stored).
    None,
    /// Causal, aligned lower-right (mlx-lm's `"causal"`).
    Causal,
    /// A mask array broadcast against the scores.
    Array(Array),
}

impl CacheMask {
    /// The mask as [`fast::scaled_dot_product_attention`] takes it.
    pub fn as_attention_mask(&self) -> AttentionMask<'_> {
        match self {
            CacheMask::None => AttentionMask::None,
            CacheMask::Causal => AttentionMask::Causal,
            CacheMask::Array(a) => AttentionMask::Array(a),
        }
    }
}

/// mlx-lm's `create_causal_mask`: `[n, offset + n]` booleans, query
/// `offset + i` seeing key `j` when `j <= offset + i` (and, with a window,
/// `offset + i < j + window`).
///
/// # Errors
/// [`Error::Mlx`] when MLX fails.
pub fn causal_mask(n: i32, offset: i32, window: Option<i32>) -> Result<Array> {
    let rinds = Array::arange(0.0, f64::from(offset + n), 1.0, Dtype::Int32)?;
    let linds = Array::arange(f64::from(offset), f64::from(offset + n), 1.0, Dtype::Int32)?;
    let linds = linds.reshape(&[n, 1])?;
    let rinds = rinds.reshape(&[1, offset + n])?;
    let mut mask = linds.greater_equal(&rinds)?;
    if let Some(w) = window {
        mask = mask.logical_and(&linds.less(&(&rinds + w)?)?)?;
    }
    Ok(mask)
}

/// mlx-lm's `cache.create_attention_mask(n, offset, return_array,
/// window)`: windowed array with a window, nothing for one token, an
/// array when asked for, else causal.
///
/// # Errors
/// [`Error::Mlx`] when MLX fails.
pub fn attention_mask(
    n: i32,
    offset: i32,
    return_array: bool,
    window: Option<i32>,
) -> Result<CacheMask> {
    if window.is_some() {
        Ok(CacheMask::Array(causal_mask(n, offset, window)?))
    } else if n == 1 {
        Ok(CacheMask::None)
    } else if return_array {
        Ok(CacheMask::Array(causal_mask(n, offset, None)?))
    } else {
        Ok(CacheMask::Causal)
    }
}

/// Checks that `keys` and `values` are `[B, heads, T, head_dim]` with the
/// same `T`.
pub(crate) fn check_update(keys: &Array, values: &Array) -> Result<()> {
    let (ks, vs) = (keys.shape(), values.shape());
    if ks.len() != 4 || vs.len() != 4 || ks[2] != vs[2] {
        return Err(Error::InvalidShape {
            shape: ks.iter().map(|&d| i64::from(d)).collect(),
            reason: "KV cache updates are [B, heads, T, head_dim] keys and values with the same T",
        });
    }
    Ok(())
}

/// What a cache gives back to attend to.
#[derive(Debug, Clone)]
pub enum CachedKv {
    /// Keys and values as arrays `[B, N_kv, S, D]`.
    Dense(Array, Array),
    /// Packed keys and values (a [`QuantizedKvCache`]).
    Quantized(Quantized, Quantized),
}

/// The KV cache of one attention layer: any of mlx-lm's kinds.
///
/// `LayerCache::default()` is an empty [`KvCache`]. Attention layers take
/// `Option<&mut LayerCache>`; a model's caches are a `Vec<LayerCache>`.
#[derive(Debug, Clone)]
pub enum LayerCache {
    /// mlx-lm's `KVCache`.
    Standard(KvCache),
    /// mlx-lm's `RotatingKVCache`.
    Rotating(RotatingKvCache),
    /// mlx-lm's `QuantizedKVCache`.
    Quantized(QuantizedKvCache),
}

impl Default for LayerCache {
    fn default() -> Self {
        LayerCache::Standard(KvCache::new())
    }
}

impl From<KvCache> for LayerCache {
    fn from(c: KvCache) -> Self {
        LayerCache::Standard(c)
    }
}

impl From<RotatingKvCache> for LayerCache {
    fn from(c: RotatingKvCache) -> Self {
        LayerCache::Rotating(c)
    }
}

impl From<QuantizedKvCache> for LayerCache {
    fn from(c: QuantizedKvCache) -> Self {
        LayerCache::Quantized(c)
    }
}

impl LayerCache {
    /// mlx-lm's class name of the cache (`"KVCache"`, `"RotatingKVCache"`,
    /// `"QuantizedKVCache"`), as prompt-cache files record it.
    pub fn class_name(&self) -> &'static str {
        match self {
            LayerCache::Standard(_) => "KVCache",
            LayerCache::Rotating(_) => "RotatingKVCache",
            LayerCache::Quantized(_) => "QuantizedKVCache",
        }
    }

    /// Tokens seen so far (the RoPE offset of the next one).
    pub fn offset(&self) -> i32 {
        match self {
            LayerCache::Standard(c) => c.offset(),
            LayerCache::Rotating(c) => c.offset(),
            LayerCache::Quantized(c) => c.offset(),
        }
    }

    /// Whether nothing was ever stored.
    pub fn is_empty(&self) -> bool {
        match self {
            LayerCache::Standard(c) => c.is_empty(),
            LayerCache::Rotating(c) => c.is_empty(),
            LayerCache::Quantized(c) => c.is_empty(),
        }
    }

    /// Appends `keys` and `values` `[B, N_kv, T, D]` and returns what to
    /// attend to.
    ///
    /// # Errors
    /// As the kind's `update_and_fetch`.
    pub fn update_and_fetch(&mut self, keys: &Array, values: &Array) -> Result<CachedKv> {
        Ok(match self {
            LayerCache::Standard(c) => {
                let (k, v) = c.update_and_fetch(keys, values)?;
                CachedKv::Dense(k, v)
            }
            LayerCache::Rotating(c) => {
                let (k, v) = c.update_and_fetch(keys, values)?;
                CachedKv::Dense(k, v)
            }
            LayerCache::Quantized(c) => {
                let (k, v) = c.update_and_fetch(keys, values)?;
                CachedKv::Quantized(k, v)
            }
        })
    }

    /// The mask for `n` new tokens (mlx-lm's `make_mask(n, window_size,
    /// return_array)`).
    ///
    /// # Errors
    /// [`Error::Mlx`] when MLX fails to build it.
    pub fn make_mask(&self, n: i32, window: Option<i32>, return_array: bool) -> Result<CacheMask> {
        match self {
            LayerCache::Standard(c) => c.make_mask(n, window, return_array),
            LayerCache::Rotating(c) => c.make_mask(n, window, return_array),
            LayerCache::Quantized(c) => c.make_mask(n, window, return_array),
        }
    }

    /// Appends `keys` / `values` and attends `queries` `[B, N_q, T, D]` to
    /// everything stored: MLX's fused kernel for float storage,
    /// [`quantized_scaled_dot_product_attention`] for a quantized cache
    /// (mlx-lm's `scaled_dot_product_attention(…, cache=…)`).
    ///
    /// # Errors
    /// As [`update_and_fetch`](Self::update_and_fetch) and
    /// [`scaled_dot_product_attention`].
    #[doc(alias = "mlx_fast_scaled_dot_product_attention")]
    pub fn attend(
        &mut self,
        queries: &Array,
        keys: &Array,
        values: &Array,
        scale: f32,
        mask: &CacheMask,
    ) -> Result<Array> {
        let kv = self.update_and_fetch(keys, values)?;
        scaled_dot_product_attention(queries, &kv, scale, mask)
    }

    /// Whether [`trim`](Self::trim) can work (mlx-lm's `is_trimmable`).
    pub fn is_trimmable(&self) -> bool {
        match self {
            LayerCache::Standard(c) => c.is_trimmable(),
            LayerCache::Rotating(c) => c.is_trimmable(),
            LayerCache::Quantized(c) => c.is_trimmable(),
        }
    }

    /// Forgets the last `n` positions; returns how many were forgotten.
    pub fn trim(&mut self, n: i32) -> i32 {
        match self {
            LayerCache::Standard(c) => c.trim(n),
            LayerCache::Rotating(c) => c.trim(n),
            LayerCache::Quantized(c) => c.trim(n),
        }
    }

    /// The arrays the cache holds (to evaluate them after a prefill
    /// chunk, as mlx-lm's `mx.eval([c.state for c in cache])`).
    pub fn arrays(&self) -> Vec<Array> {
        match self {
            LayerCache::Standard(c) => c
                .raw_state()
                .map(|(k, v, _)| vec![k, v])
                .unwrap_or_default(),
            LayerCache::Rotating(c) => c
                .raw_state()
                .map(|(k, v, _)| vec![k, v])
                .unwrap_or_default(),
            LayerCache::Quantized(c) => c
                .raw_state()
                .map(|(k, v, _)| {
                    let mut out = vec![k.weights, k.scales];
                    out.extend(k.biases);
                    out.extend([v.weights, v.scales]);
                    out.extend(v.biases);
                    out
                })
                .unwrap_or_default(),
        }
    }

    /// mlx-lm's `maybe_quantize_kv_cache` for one cache: a standard cache
    /// whose offset reached `start` becomes a [`QuantizedKvCache`] with
    /// `bits` and `group_size`; a quantized one stays as it is.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for a bad `bits` / `group_size` (see
    /// [`QuantizedKvCache::new`]) or a group size not dividing the head
    /// dimension; [`Error::InvalidArgument`] for a rotating cache (mlx-lm
    /// cannot quantize one either: "RotatingKVCache Quantization NYI").
    pub fn maybe_quantize(&mut self, group_size: i32, bits: i32, start: i32) -> Result<()> {
        match self {
            LayerCache::Standard(c) if c.offset() >= start => {
                *self = LayerCache::Quantized(c.to_quantized(group_size, bits)?);
                Ok(())
            }
            LayerCache::Rotating(c) if c.offset() >= start => Err(Error::InvalidArgument {
                op: "LayerCache::maybe_quantize",
                reason: "a rotating KV cache (max_kv_size or a sliding-window layer) cannot be quantized (kv_bits)".to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// Attention of `queries` `[B, N_q, T, D]` over what a cache returned:
/// MLX's fused kernel for arrays, [`quantized_scaled_dot_product_attention`]
/// for packed keys and values.
///
/// # Errors
/// [`Error::Mlx`] for sizes that do not fit; as
/// [`quantized_scaled_dot_product_attention`].
#[doc(alias = "mlx_fast_scaled_dot_product_attention")]
pub fn scaled_dot_product_attention(
    queries: &Array,
    kv: &CachedKv,
    scale: f32,
    mask: &CacheMask,
) -> Result<Array> {
    match kv {
        CachedKv::Dense(k, v) => {
            let opts = SdpaOptions {
                mask: mask.as_attention_mask(),
                ..Default::default()
            };
            fast::scaled_dot_product_attention(queries, k, v, scale, opts)
        }
        CachedKv::Quantized(k, v) => {
            quantized_scaled_dot_product_attention(queries, k, v, scale, mask)
        }
    }
}
