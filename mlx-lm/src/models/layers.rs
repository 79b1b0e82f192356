//! The layers the families share: RMSNorm (plain or Gemma's `1 + w`),
//! attention (GQA, separate or fused projections, optional q/k norms, RoPE,
//! soft-capped scores, sliding windows) and the gated MLPs (separate or
//! fused `gate_up_proj`, SiLU or tanh-approximated GELU), with mlx-lm's
//! parameter names.

use mlx_rs::fast::{self, AttentionMask, SdpaOptions};
use mlx_rs::nn::{gelu_approx, silu, CacheMask, CachedKv, LayerCache, LinearLayer, Module, Rope};
use mlx_rs::ops::{self, split_sections};
use mlx_rs::{Array, Dtype};

use crate::error::{Error, Result};

/// RMS normalization with a learned scale: `weight` (mlx-lm's
/// `nn.RMSNorm`), or `1 + weight` (Gemma's `RMSNorm`) when `offset`.
#[derive(Debug, Clone, Module)]
pub struct Norm {
    /// `[dims]`.
    pub weight: Array,
    /// Added to the mean square.
    #[module(skip)]
    pub eps: f32,
    /// Scale by `1 + weight` (Gemma).
    #[module(skip)]
    pub offset: bool,
}

impl Norm {
    /// A norm of ones (`offset` false) over `dims` features.
    ///
    /// # Errors
    /// [`Error::Mlx`] for a negative size.
    pub fn new(dims: i32, eps: f32, offset: bool) -> Result<Self> {
        Ok(Norm {
            weight: Array::ones(&[dims], Dtype::Float32)?,
            eps,
            offset,
        })
    }

    /// Normalizes `x` over its last axis.
    ///
    /// # Errors
    /// As [`fast::rms_norm`].
    #[doc(alias = "mlx_fast_rms_norm")]
    pub fn forward(&self, x: &Array) -> Result<Array> {
        if self.offset {
            let w = (1.0 + &self.weight)?;
            Ok(fast::rms_norm(x, Some(&w), self.eps)?)
        } else {
            Ok(fast::rms_norm(x, Some(&self.weight), self.eps)?)
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
    Ok(mlx_rs::nn::cache::causal_mask(n, offset, window)?)
}

/// The mask of one layer for `n` new tokens after `offset` cached ones, as
/// mlx-lm's `create_attention_mask` and its caches' `make_mask` choose it:
/// a windowed array for a sliding-window layer, nothing for one token,
/// an array when the family asks for one (`array`), else causal.
#[derive(Debug, Clone)]
pub enum LayerMask {
    /// No mask.
    None,
    /// MLX's causal mask (lower-right aligned).
    Causal,
    /// A boolean mask, `[n, offset + n]`.
    Array(Array),
}

impl LayerMask {
    /// The mask for `n` tokens after `offset`, `cached` when a KV cache is
    /// in use.
    ///
    /// # Errors
    /// As [`causal_mask`].
    pub fn new(
        n: i32,
        offset: i32,
        cached: bool,
        window: Option<i32>,
        array: bool,
    ) -> Result<Self> {
        let windowed = matches!(window, Some(w) if cached || n > w);
        if windowed {
            return Ok(LayerMask::Array(causal_mask(n, offset, window)?));
        }
        if n == 1 {
            Ok(LayerMask::None)
        } else if array {
            Ok(LayerMask::Array(causal_mask(n, offset, None)?))
        } else {
            Ok(LayerMask::Causal)
        }
    }

    /// The mask `cache` makes for `n` new tokens of a layer with `window`
    /// (mlx-lm's `create_attention_mask(h, cache, window_size,
    /// return_array)`).
    ///
    /// # Errors
    /// As [`LayerCache::make_mask`].
    pub fn of_cache(cache: &LayerCache, n: i32, window: Option<i32>, array: bool) -> Result<Self> {
        Ok(match cache.make_mask(n, window, array)? {
            CacheMask::None => LayerMask::None,
            CacheMask::Causal => LayerMask::Causal,
            CacheMask::Array(a) => LayerMask::Array(a),
        })
    }

    fn to_cache_mask(&self) -> CacheMask {
        match self {
            LayerMask::None => CacheMask::None,
            LayerMask::Causal => CacheMask::Causal,
            LayerMask::Array(a) => CacheMask::Array(a.clone()),
        }
    }

    fn as_attention_mask(&self) -> AttentionMask<'_> {
        match self {
            LayerMask::None => AttentionMask::None,
            LayerMask::Causal => AttentionMask::Causal,
            LayerMask::Array(a) => AttentionMask::Array(a),
        }
    }
}

/// The shape and variant of an [`Attention`] layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionSpec {
    /// Model width.
    pub dims: i32,
    /// Query heads.
    pub n_heads: i32,
    /// Key/value heads (divides `n_heads`).
    pub n_kv_heads: i32,
    /// Features per head.
    pub head_dim: i32,
    /// Biases on the query, key and value projections (not the output).
    pub qkv_bias: bool,
    /// One fused `qkv_proj` (Phi-3) instead of three.
    pub fused_qkv: bool,
    /// `q_norm` / `k_norm` over each head (Qwen3, Gemma 3).
    pub qk_norm: Option<(f32, bool)>,
    /// The rotary embedding.
    pub rope: Rope,
    /// Scale of the scores.
    pub scale: f32,
    /// `tanh(s / c) · c` on the scores (Gemma 2).
    pub softcap: Option<f32>,
    /// Sliding window (Gemma 3's local layers).
    pub window: Option<i32>,
}

/// Attention with grouped-query heads, RoPE and a [`LayerCache`], with
/// mlx-lm's names (`q_proj`, `k_proj`, `v_proj` or `qkv_proj`, `o_proj`,
/// `q_norm`, `k_norm`).
#[derive(Debug, Clone, Module)]
pub struct Attention {
    /// Queries (unless fused).
    pub q_proj: Option<LinearLayer>,
    /// Keys (unless fused).
    pub k_proj: Option<LinearLayer>,
    /// Values (unless fused).
    pub v_proj: Option<LinearLayer>,
    /// Queries, keys and values in one (Phi-3).
    pub qkv_proj: Option<LinearLayer>,
    /// Output.
    pub o_proj: LinearLayer,
    /// Norm of each query head.
    pub q_norm: Option<Norm>,
    /// Norm of each key head.
    pub k_norm: Option<Norm>,
    /// The layer's shape and variant.
    #[module(skip)]
    pub spec: AttentionSpec,
}

impl Attention {
    /// A layer of zeros.
    ///
    /// # Errors
    /// [`Error::Config`] when `n_kv_heads` does not divide `n_heads` or a
    /// size is not positive.
    pub fn new(s: AttentionSpec) -> Result<Self> {
        if s.n_heads <= 0 || s.n_kv_heads <= 0 || s.head_dim <= 0 || s.n_heads % s.n_kv_heads != 0 {
            return Err(Error::config(
                "config.json",
                format!(
                    "attention needs positive sizes and num_key_value_heads dividing \
                     num_attention_heads (heads {}, kv heads {}, head dim {})",
                    s.n_heads, s.n_kv_heads, s.head_dim
                ),
            ));
        }
        let (q, kv) = (s.n_heads * s.head_dim, s.n_kv_heads * s.head_dim);
        let lin = |o| LinearLayer::new(s.dims, o, s.qkv_bias);
        let sep = !s.fused_qkv;
        let norm = || -> Result<Option<Norm>> {
            s.qk_norm
                .map(|(eps, offset)| Norm::new(s.head_dim, eps, offset))
                .transpose()
        };
        Ok(Attention {
            q_proj: sep.then(|| lin(q)).transpose()?,
            k_proj: sep.then(|| lin(kv)).transpose()?,
            v_proj: sep.then(|| lin(kv)).transpose()?,
            qkv_proj: s.fused_qkv.then(|| lin(q + 2 * kv)).transpose()?,
            o_proj: LinearLayer::new(q, s.dims, false)?,
            q_norm: norm()?,
            k_norm: norm()?,
            spec: s,
        })
    }

    fn projections(&self, x: &Array) -> Result<(Array, Array, Array)> {
        let s = &self.spec;
        match (&self.qkv_proj, &self.q_proj, &self.k_proj, &self.v_proj) {
            (Some(qkv), ..) => {
                let q = s.n_heads * s.head_dim;
                let kv = s.n_kv_heads * s.head_dim;
                let mut parts = split_sections(&qkv.forward(x)?, &[q, q + kv], -1)?.into_iter();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(q), Some(k), Some(v)) => Ok((q, k, v)),
                    _ => Err(Error::config("qkv_proj", "split into fewer than 3 parts")),
                }
            }
            (None, Some(q), Some(k), Some(v)) => Ok((q.forward(x)?, k.forward(x)?, v.forward(x)?)),
            _ => Err(Error::config("attention", "no query/key/value projections")),
        }
    }

    /// Attention over `x`, `[B, T, dims]`, with `mask` (see
    /// [`LayerMask::new`]); with a cache, RoPE starts at its offset and the
    /// new keys and values are appended before attending.
    ///
    /// # Errors
    /// [`Error::Config`] when `x` is not 3-D; [`Error::Mlx`] for sizes
    /// that do not fit the layer.
    #[doc(alias = "mlx_fast_scaled_dot_product_attention")]
    pub fn forward(
        &self,
        x: &Array,
        mask: &LayerMask,
        cache: Option<&mut LayerCache>,
    ) -> Result<Array> {
        let s = &self.spec;
        let &[b, t, _] = x.shape() else {
            return Err(Error::config(
                "attention input",
                format!("must be [B, T, dims], not {:?}", x.shape()),
            ));
        };
        let (q, k, v) = self.projections(x)?;
        let heads = |y: Array, n: i32, norm: &Option<Norm>| -> Result<Array> {
            let y = y.reshape(&[b, t, n, -1])?;
            let y = match norm {
                Some(norm) => norm.forward(&y)?,
                None => y,
            };
            Ok(y.transpose_axes(&[0, 2, 1, 3])?)
        };
        let q = heads(q, s.n_heads, &self.q_norm)?;
        let k = heads(k, s.n_kv_heads, &self.k_norm)?;
        let v = heads(v, s.n_kv_heads, &None)?;
        let offset = cache.as_ref().map_or(0, |c| c.offset());
        let q = s.rope.forward(&q, offset)?;
        let k = s.rope.forward(&k, offset)?;
        let kv = match cache {
            Some(c) => c.update_and_fetch(&k, &v)?,
            None => CachedKv::Dense(k, v),
        };
        let o = match (s.softcap, &kv) {
            (Some(cap), CachedKv::Dense(k, v)) => self.softcapped(&q, k, v, mask, cap)?,
            (Some(_), CachedKv::Quantized(..)) => {
                return Err(Error::Unsupported(
                    "soft-capped attention (Gemma 2) over a quantized KV cache (kv_bits)".into(),
                ))
            }
            (None, CachedKv::Dense(k, v)) => {
                let opts = SdpaOptions {
                    mask: mask.as_attention_mask(),
                    ..Default::default()
                };
                fast::scaled_dot_product_attention(&q, k, v, s.scale, opts)?
            }
            (None, kv) => mlx_rs::nn::cache::scaled_dot_product_attention(
                &q,
                kv,
                s.scale,
                &mask.to_cache_mask(),
            )?,
        };
        let o = o.transpose_axes(&[0, 2, 1, 3])?.reshape(&[b, t, -1])?;
        Ok(self.o_proj.forward(&o)?)
    }

    /// Gemma 2's attention: scores soft-capped before the softmax.
    fn softcapped(
        &self,
        q: &Array,
        k: &Array,
        v: &Array,
        mask: &LayerMask,
        cap: f32,
    ) -> Result<Array> {
        let s = &self.spec;
        let repeats = s.n_heads / s.n_kv_heads;
        let (b, l) = (q.shape()[0], q.shape()[2]);
        let mut q = (q * s.scale)?;
        let (mut k, mut v) = (k.clone(), v.clone());
        if repeats > 1 {
            q = q.reshape(&[b, s.n_kv_heads, repeats, l, s.head_dim])?;
            k = ops::expand_dims(&k, &[2])?;
            v = ops::expand_dims(&v, &[2])?;
        }
        let scores = ops::matmul(&q, &ops::swapaxes(&k, -1, -2)?)?;
        let scores = (ops::tanh(&(&scores / cap)?)? * cap)?;
        let scores = match mask {
            LayerMask::Array(m) => {
                let min = match scores.dtype() {
                    Dtype::Float16 => -65504.0f32,
                    Dtype::Bfloat16 => -3.389_531_4e38,
                    _ => f32::MIN,
                };
                let min = Array::scalar(min)?.astype(scores.dtype())?;
                ops::select(m, &scores, &min)?
            }
            LayerMask::Causal => {
                let sl = k.shape()[k.ndim() - 2];
                let m = causal_mask(l, sl - l, None)?;
                let min = Array::scalar(f32::MIN)?.astype(scores.dtype())?;
                ops::select(&m, &scores, &min)?
            }
            LayerMask::None => scores,
        };
        let p = ops::softmax(&scores, -1, true)?;
        let o = ops::matmul(&p, &v)?;
        Ok(if repeats > 1 {
            o.reshape(&[b, s.n_heads, l, s.head_dim])?
        } else {
            o
        })
    }
}

/// The activation of a gated MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `silu(gate) · up` (SwiGLU).
    Silu,
    /// `gelu_approx(gate) · up` (Gemma).
    GeluApprox,
}

impl Activation {
    /// `act(gate) · up`.
    ///
    /// # Errors
    /// [`Error::Mlx`] for shapes that do not match.
    pub fn gated(self, gate: &Array, up: &Array) -> Result<Array> {
        let a = match self {
            Activation::Silu => silu(gate)?,
            Activation::GeluApprox => gelu_approx(gate)?,
        };
        Ok((a * up)?)
    }
}

/// A gated MLP: `down(act(gate(x)) · up(x))`, with separate `gate_proj`
/// and `up_proj` or one fused `gate_up_proj` (Phi-3: the gate is its first
/// half).
#[derive(Debug, Clone, Module)]
pub struct Mlp {
    /// The gate (unless fused).
    pub gate_proj: Option<LinearLayer>,
    /// The up projection (unless fused).
    pub up_proj: Option<LinearLayer>,
    /// Gate and up in one (Phi-3).
    pub gate_up_proj: Option<LinearLayer>,
    /// The down projection.
    pub down_proj: LinearLayer,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// A block of zeros.
    ///
    /// # Errors
    /// [`Error::Mlx`] for negative sizes.
    pub fn new(dims: i32, hidden: i32, fused: bool, activation: Activation) -> Result<Self> {
        let lin = |o| LinearLayer::new(dims, o, false);
        Ok(Mlp {
            gate_proj: (!fused).then(|| lin(hidden)).transpose()?,
            up_proj: (!fused).then(|| lin(hidden)).transpose()?,
            gate_up_proj: fused.then(|| lin(2 * hidden)).transpose()?,
            down_proj: LinearLayer::new(hidden, dims, false)?,
            activation,
        })
    }

    /// Runs the block on `x`, `[…, dims]`.
    ///
    /// # Errors
    /// [`Error::Mlx`] for an input of the wrong size.
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let h = match (&self.gate_up_proj, &self.gate_proj, &self.up_proj) {
            (Some(gu), ..) => {
                let mut halves = ops::split(&gu.forward(x)?, 2, -1)?.into_iter();
                match (halves.next(), halves.next()) {
                    (Some(g), Some(u)) => self.activation.gated(&g, &u)?,
                    _ => return Err(Error::config("gate_up_proj", "split into fewer than 2")),
                }
            }
            (None, Some(g), Some(u)) => self.activation.gated(&g.forward(x)?, &u.forward(x)?)?,
            _ => return Err(Error::config("mlp", "no gate/up projections")),
        };
        Ok(self.down_proj.forward(&h)?)
    }
}
