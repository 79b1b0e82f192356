//! Quantization: packing weights into a few bits per element, and the
//! matrix products that read them packed.
//!
//! A [`QuantMode`] names one of MLX's four schemes *with* its parameters,
//! so an impossible combination cannot be written down (or is rejected by
//! the constructors before MLX is called):
//!
//! | mode | bits | group size | scales | biases | bits per weight |
//! |------|------|------------|--------|--------|-----------------|
//! | [`Affine`](QuantMode::Affine) | 2, 3, 4, 5, 6, 8 (default 4) | 32, 64, 128 (default 64) | weight dtype | yes | bits + 2·16/group (f16/bf16 weights) |
//! | [`Mxfp4`](QuantMode::Mxfp4) | 4 (E2M1) | 32 | E8M0 (`u8`) | no | 4.25 |
//! | [`Mxfp8`](QuantMode::Mxfp8) | 8 (E4M3) | 32 | E8M0 (`u8`) | no | 8.25 |
//! | [`Nvfp4`](QuantMode::Nvfp4) | 4 (E2M1) | 16 | E4M3 (`u8`), optional f32 global scale | no | 4.5 |
//!
//! [`quantize`] returns a [`Quantized`]: the packed weights (`u32`), the
//! scales, the biases (present exactly for affine) and the mode. The other
//! functions take a `Quantized`, so packed weights always travel with the
//! parameters that made them. Weights loaded from a checkpoint are wrapped
//! with a struct literal; a mismatch between the arrays and the mode is
//! then MLX's to report, with MLX's own message in [`Error::Mlx`].
//!
//! ```
//! use mlx_rs::quantization::{quantize, quantized_matmul, QuantMode};
//! use mlx_rs::{Array, Dtype};
//! let w = Array::arange(0.0, 256.0, 1.0, Dtype::Float32)?.reshape(&[4, 64])?;
//! let q = quantize(&w, QuantMode::affine(8, 64)?)?;
//! assert_eq!(q.weights.shape(), [4, 16]); // 64 × 8 bits in 16 u32 words
//! assert_eq!(q.scales.shape(), [4, 1]);
//! assert!(q.biases.is_some());
//! let w_hat = q.dequantize(None)?.to_vec::<f32>()?;
//! let max_err = w_hat.iter().zip(w.to_vec::<f32>()?).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
//! assert!(max_err <= 63.0 / 255.0, "{max_err}"); // at most one level: a group spans 63 in 255 steps
//! let x = Array::ones(&[1, 64], Dtype::Float32)?;
//! let y = quantized_matmul(&x, &q, true)?; // x @ w_hat.T
//! assert_eq!(y.shape(), [1, 4]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! # The nvfp4 global scale
//! MLX's nvfp4 `global_scale` is the tensor-level *encode* factor,
//! `448 · 6 / max|w|` for weights `w` (448 is the largest E4M3 value and 6
//! the largest E2M1 value): [`dequantize`] multiplies by
//! `global_scale / 2688`. A global scale of the wrong kind (e.g.
//! `max|w| / 2688`) saturates every group scale and loses the weights.
//! [`quantized_matmul`] and [`gather_qmm`] have no global-scale argument in
//! MLX (they would silently leave the factor out), so they reject nvfp4
//! weights that carry one; [`qqmm`] takes it.
//!
//! # CPU and GPU
//! - On the CPU, use `f32` activations: MLX's Linux CPU backend is 10–50×
//!   slower on `f16`/`bf16` quantized matmuls.
//! - MLX's GPU affine quantizer rounds half away from zero and starts the
//!   group maximum at 0, whereas the CPU rounds half to even and uses the
//!   true maximum; so exact ties and all-negative groups quantize
//!   differently on the two devices.
//! - [`qqmm`] runs on the CPU only for a single row of `x` times weights
//!   that are already quantized; MLX reports "NYI" (when the result is
//!   evaluated) for everything else there. MLX's CPU `qqmm` also ignores
//!   both nvfp4 global scales: its result is `x @ ŵ₀.T` with `ŵ₀`
//!   dequantized without the global scale.
//!
//! `docs/quantization.md` in the repository has the error each mode gives
//! on N(0, 1) weights.
//!
//! # The raw path
//! [`raw`] calls MLX with a mode *string* and optional integers, exactly as
//! MLX's own API does, with no checks on the Rust side: for modes newer
//! than this crate, and to reach every message MLX itself produces.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ops::support::{op, Outputs};
use crate::{Array, Dtype, Stream};

/// Bit widths of [affine](QuantMode::Affine) quantization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AffineBits {
    /// 2 bits (4 levels).
    B2,
    /// 3 bits (8 levels).
    B3,
    /// 4 bits (16 levels); MLX's default.
    #[default]
    B4,
    /// 5 bits (32 levels).
    B5,
    /// 6 bits (64 levels).
    B6,
    /// 8 bits (256 levels).
    B8,
}

impl AffineBits {
    /// Every width, smallest first.
    pub const ALL: [AffineBits; 6] = [
        AffineBits::B2,
        AffineBits::B3,
        AffineBits::B4,
        AffineBits::B5,
        AffineBits::B6,
        AffineBits::B8,
    ];

    /// The number of bits.
    pub fn get(self) -> i32 {
        match self {
            AffineBits::B2 => 2,
            AffineBits::B3 => 3,
            AffineBits::B4 => 4,
            AffineBits::B5 => 5,
            AffineBits::B6 => 6,
            AffineBits::B8 => 8,
        }
    }
}

impl TryFrom<i32> for AffineBits {
    type Error = Error;

    /// # Errors
    /// [`Error::InvalidQuantization`] for a width other than 2, 3, 4, 5, 6
    /// or 8.
    fn try_from(bits: i32) -> Result<Self> {
        AffineBits::ALL
            .into_iter()
            .find(|b| b.get() == bits)
            .ok_or_else(|| {
                invalid(format!(
                    "affine quantization takes 2, 3, 4, 5, 6 or 8 bits, not {bits}"
                ))
            })
    }
}

/// Group sizes of [affine](QuantMode::Affine) quantization: how many
/// consecutive weights of a row share one scale and one bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum GroupSize {
    /// 32 weights per group.
    G32,
    /// 64 weights per group; MLX's default.
    #[default]
    G64,
    /// 128 weights per group.
    G128,
}

impl GroupSize {
    /// Every group size, smallest first.
    pub const ALL: [GroupSize; 3] = [GroupSize::G32, GroupSize::G64, GroupSize::G128];

    /// The number of weights per group.
    pub fn get(self) -> i32 {
        match self {
            GroupSize::G32 => 32,
            GroupSize::G64 => 64,
            GroupSize::G128 => 128,
        }
    }
}

impl TryFrom<i32> for GroupSize {
    type Error = Error;

    /// # Errors
    /// [`Error::InvalidQuantization`] for a size other than 32, 64 or 128.
    fn try_from(group_size: i32) -> Result<Self> {
        GroupSize::ALL
            .into_iter()
            .find(|g| g.get() == group_size)
            .ok_or_else(|| {
                invalid(format!(
                    "affine quantization takes group size 32, 64 or 128, not {group_size}"
                ))
            })
    }
}

/// One of MLX's quantization schemes, with its parameters (see the
/// [module docs](self) for the table).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum QuantMode {
    /// Integer levels with a scale and a bias per group:
    /// `w ≈ scale · q + bias`, `q ∈ [0, 2^bits)`.
    Affine {
        /// Bits per weight.
        bits: AffineBits,
        /// Weights per group.
        group_size: GroupSize,
    },
    /// OCP microscaling FP4: E2M1 values, one E8M0 scale per 32 weights.
    Mxfp4,
    /// OCP microscaling FP8: E4M3 values, one E8M0 scale per 32 weights.
    Mxfp8,
    /// NVIDIA FP4: E2M1 values, one E4M3 scale per 16 weights, and an
    /// optional tensor-level `f32` global scale (the encode factor
    /// `448 · 6 / max|w|`; see the [module docs](self#the-nvfp4-global-scale)).
    Nvfp4 {
        /// The tensor-level global scale, if any.
        global_scale: Option<f32>,
    },
}

impl Default for QuantMode {
    /// MLX's default: affine, 4 bits, groups of 64.
    fn default() -> Self {
        QuantMode::Affine {
            bits: AffineBits::B4,
            group_size: GroupSize::G64,
        }
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidQuantization { reason }
}

impl QuantMode {
    /// Affine quantization from plain integers.
    ///
    /// ```
    /// use mlx_rs::quantization::{AffineBits, GroupSize, QuantMode};
    /// assert_eq!(
    ///     QuantMode::affine(3, 32)?,
    ///     QuantMode::Affine { bits: AffineBits::B3, group_size: GroupSize::G32 }
    /// );
    /// assert!(QuantMode::affine(7, 64).is_err());
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] when `bits` is not 2, 3, 4, 5, 6 or 8
    /// or `group_size` not 32, 64 or 128.
    pub fn affine(bits: i32, group_size: i32) -> Result<Self> {
        Ok(QuantMode::Affine {
            bits: AffineBits::try_from(bits)?,
            group_size: GroupSize::try_from(group_size)?,
        })
    }

    /// The mode from MLX's `(mode, group_size, bits)` triple, as a model's
    /// configuration stores it; `None` takes the mode's default. The nvfp4
    /// global scale is not part of the triple; it starts unset.
    ///
    /// ```
    /// use mlx_rs::quantization::QuantMode;
    /// assert_eq!(QuantMode::from_parts("affine", Some(32), None)?, QuantMode::affine(4, 32)?);
    /// assert_eq!(QuantMode::from_parts("mxfp8", None, Some(8))?, QuantMode::Mxfp8);
    /// let err = QuantMode::from_parts("mxfp4", Some(64), None).unwrap_err();
    /// assert!(err.to_string().contains("mxfp4 quantization takes group size 32, not 64"));
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for an unknown mode name (names are
    /// lower case, as MLX spells them) or a group size or bit width that
    /// the mode does not take.
    pub fn from_parts(mode: &str, group_size: Option<i32>, bits: Option<i32>) -> Result<Self> {
        let fixed = |name: &str, want_group: i32, want_bits: i32, m: QuantMode| {
            if let Some(g) = group_size.filter(|&g| g != want_group) {
                return Err(invalid(format!(
                    "{name} quantization takes group size {want_group}, not {g}"
                )));
            }
            if let Some(b) = bits.filter(|&b| b != want_bits) {
                return Err(invalid(format!(
                    "{name} quantization takes {want_bits} bits, not {b}"
                )));
            }
            Ok(m)
        };
        match mode {
            "affine" => QuantMode::affine(bits.unwrap_or(4), group_size.unwrap_or(64)),
            "mxfp4" => fixed(mode, 32, 4, QuantMode::Mxfp4),
            "mxfp8" => fixed(mode, 32, 8, QuantMode::Mxfp8),
            "nvfp4" => fixed(mode, 16, 4, QuantMode::Nvfp4 { global_scale: None }),
            other => Err(invalid(format!(
                "unknown quantization mode '{other}' (MLX has affine, mxfp4, mxfp8 and nvfp4)"
            ))),
        }
    }

    /// MLX's name of the mode: `"affine"`, `"mxfp4"`, `"mxfp8"` or
    /// `"nvfp4"`.
    pub fn name(&self) -> &'static str {
        match self {
            QuantMode::Affine { .. } => "affine",
            QuantMode::Mxfp4 => "mxfp4",
            QuantMode::Mxfp8 => "mxfp8",
            QuantMode::Nvfp4 { .. } => "nvfp4",
        }
    }

    /// Bits per quantized element.
    pub fn bits(&self) -> i32 {
        match self {
            QuantMode::Affine { bits, .. } => bits.get(),
            QuantMode::Mxfp4 | QuantMode::Nvfp4 { .. } => 4,
            QuantMode::Mxfp8 => 8,
        }
    }

    /// Elements per scale.
    pub fn group_size(&self) -> i32 {
        match self {
            QuantMode::Affine { group_size, .. } => group_size.get(),
            QuantMode::Mxfp4 | QuantMode::Mxfp8 => 32,
            QuantMode::Nvfp4 { .. } => 16,
        }
    }

    /// Whether the mode has biases (only affine does).
    pub fn has_biases(&self) -> bool {
        matches!(self, QuantMode::Affine { .. })
    }

    /// The nvfp4 global scale, if this is nvfp4 with one.
    pub fn global_scale(&self) -> Option<f32> {
        match self {
            QuantMode::Nvfp4 { global_scale } => *global_scale,
            _ => None,
        }
    }

    /// Storage per weight, in bits, counting the scales (and biases) of its
    /// group, for weights of dtype `weights` (affine scales and biases take
    /// the weights' dtype; the other modes store `u8` scales).
    ///
    /// ```
    /// use mlx_rs::quantization::QuantMode;
    /// use mlx_rs::Dtype;
    /// assert_eq!(QuantMode::default().bits_per_weight(Dtype::Bfloat16), 4.5);
    /// assert_eq!(QuantMode::Mxfp4.bits_per_weight(Dtype::Float32), 4.25);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    pub fn bits_per_weight(&self, weights: Dtype) -> f64 {
        let group = f64::from(self.group_size());
        let per_group = if self.has_biases() {
            2.0 * 8.0 * weights.size() as f64
        } else {
            8.0
        };
        f64::from(self.bits()) + per_group / group
    }

    /// The `(mode, group_size, bits)` MLX takes.
    fn raw_params(&self) -> raw::Params<'static> {
        raw::Params {
            mode: self.name(),
            group_size: Some(self.group_size()),
            bits: Some(self.bits()),
        }
    }

    /// The global scale as the 0-d `f32` array MLX takes.
    fn global_scale_array(&self) -> Result<Option<Array>> {
        self.global_scale().map(Array::scalar).transpose()
    }

    /// Rejects a global scale where MLX has no argument for it.
    fn no_global_scale(&self, op: &str) -> Result<()> {
        match self.global_scale() {
            Some(g) => Err(invalid(format!(
                "{op} has no global-scale argument in MLX, so nvfp4 weights with a \
                 global scale ({g}) would be multiplied without it; use qqmm, or \
                 dequantize first"
            ))),
            None => Ok(()),
        }
    }
}

impl FromStr for QuantMode {
    type Err = Error;

    /// Parses a mode name with its default parameters, as
    /// [`QuantMode::from_parts`]`(s, None, None)`.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for an unknown name.
    fn from_str(s: &str) -> Result<Self> {
        QuantMode::from_parts(s, None, None)
    }
}

impl fmt::Display for QuantMode {
    /// E.g. `affine (4 bits, group size 64)`, `mxfp4`, `nvfp4 (global scale 2.5)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantMode::Affine { bits, group_size } => write!(
                f,
                "affine ({} bits, group size {})",
                bits.get(),
                group_size.get()
            ),
            QuantMode::Nvfp4 {
                global_scale: Some(g),
            } => write!(f, "nvfp4 (global scale {g})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Quantized weights: the packed values, their scales and biases, and the
/// mode that made them.
///
/// `Clone` is cheap (it clones array handles).
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The packed weights, `u32`, with the last dimension
    /// `cols · bits / 32`.
    pub weights: Array,
    /// One scale per group: the weights' dtype for affine, `u8` otherwise;
    /// last dimension `cols / group_size`.
    pub scales: Array,
    /// One bias per group (affine only; `None` for the other modes).
    pub biases: Option<Array>,
    /// The scheme and its parameters.
    pub mode: QuantMode,
}

impl Quantized {
    /// [`dequantize`]`(self, dtype)`.
    ///
    /// # Errors
    /// As [`dequantize`].
    #[doc(alias = "mlx_dequantize")]
    pub fn dequantize(&self, dtype: Option<Dtype>) -> Result<Array> {
        dequantize(self, dtype)
    }

    /// [`dequantize_on`]`(self, dtype, stream)`.
    ///
    /// # Errors
    /// As [`dequantize`].
    #[doc(alias = "mlx_dequantize")]
    pub fn dequantize_on(&self, dtype: Option<Dtype>, stream: &Stream) -> Result<Array> {
        dequantize_on(self, dtype, stream)
    }
}

/// Which matrices a gathered product pairs up (see [`gather_qmm`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct GatherIndices<'a> {
    /// Flat indices into the batch dimensions of `x`; `None`: in order.
    pub lhs: Option<&'a Array>,
    /// Flat indices into the batch dimensions of the weights; `None`: in
    /// order.
    pub rhs: Option<&'a Array>,
    /// The indices are sorted (allows a faster kernel; results are the
    /// same).
    pub sorted: bool,
}

impl GatherIndices<'_> {
    /// The index arrays to build a gathered product with: each checked to
    /// address one of `lhs_size` (`rhs_size`) matrices, or under a
    /// function transformation clamped into that range (see
    /// [`check_nonneg_indices`](crate::ops::support::check_nonneg_indices)).
    pub(crate) fn checked(
        &self,
        op: &'static str,
        lhs_size: i64,
        rhs_size: i64,
        s: &Stream,
    ) -> Result<(Option<Array>, Option<Array>)> {
        let check = |idx: Option<&Array>, size: i64| -> Result<Option<Array>> {
            idx.map(|i| {
                let c = crate::ops::support::check_nonneg_indices(op, i, size, s)?;
                Ok(c.or(i).clone())
            })
            .transpose()
        };
        Ok((check(self.lhs, lhs_size)?, check(self.rhs, rhs_size)?))
    }
}

/// Lets [`op!`] check quantized outputs like any other. The arrays come
/// from [`raw::quantize_on`], which has checked them already; this is cheap.
impl Outputs for Quantized {
    fn checked(self) -> Result<Self> {
        Ok(Quantized {
            weights: self.weights.checked()?,
            scales: self.scales.checked()?,
            biases: self.biases.map(Outputs::checked).transpose()?,
            mode: self.mode,
        })
    }
}

op! {
    /// Quantizes `w` along its last axis.
    ///
    /// `w` must be a floating-point array of at least 2 dimensions whose last
    /// dimension is a multiple of the mode's group size.
    ///
    /// ```
    /// use mlx_rs::quantization::{quantize, QuantMode};
    /// use mlx_rs::{Array, Dtype};
    /// let w = Array::ones(&[8, 32], Dtype::Float32)?;
    /// let q = quantize(&w, QuantMode::Mxfp4)?;
    /// assert_eq!(q.weights.shape(), [8, 4]);
    /// assert_eq!(q.scales.dtype(), Dtype::Uint8);
    /// assert!(q.biases.is_none());
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message when `w` has fewer than 2 dimensions,
    /// is not floating point, or its last dimension is not a multiple of the
    /// group size.
    ["mlx_quantize"]
    pub fn quantize(w: &Array, mode: QuantMode) -> Quantized;
    on quantize_on, stream => {
        let global_scale = mode.global_scale_array()?;
        let mut parts =
            raw::quantize_on(w, &mode.raw_params(), global_scale.as_ref(), stream)?.into_iter();
        let (Some(weights), Some(scales)) = (parts.next(), parts.next()) else {
            return Err(Error::Mlx {
                op: "mlx_quantize",
                message: "MLX returned fewer than two arrays".to_owned(),
                location: None,
            });
        };
        Ok(Quantized {
            weights,
            scales,
            biases: parts.next(),
            mode,
        })
    }

    /// Unpacks quantized weights to floating point (`ŵ`), in `dtype` or, by
    /// default, MLX's choice: the scales' dtype for affine, `float32` (the
    /// global scale's) for nvfp4 with a global scale, and `bfloat16` for the
    /// other modes; pass `Some(Dtype::Float32)` for `f32`.
    ///
    /// # Errors
    /// [`Error::Mlx`] with MLX's message when the arrays do not fit the mode
    /// (missing biases for affine, biases for another mode, scales of the wrong
    /// dtype or shape, weights that are not `u32`, fewer than 2 dimensions) or
    /// `dtype` is not a floating-point dtype.
    ["mlx_dequantize"]
    pub fn dequantize(q: &Quantized, dtype: Option<Dtype>) -> Array;
    on dequantize_on, stream => {
        let global_scale = q.mode.global_scale_array()?;
        let (biases, params) = (q.biases.as_ref(), q.mode.raw_params());
        let gs = global_scale.as_ref();
        raw::dequantize_on(&q.weights, &q.scales, biases, &params, gs, dtype, stream)
    }

    /// The product of `x` with quantized weights: `x @ ŵ.T` when `transpose`
    /// (weights stored as `[out, in]`, the usual layout of a linear layer),
    /// else `x @ ŵ`.
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for nvfp4 weights with a global scale
    /// (MLX's `quantized_matmul` has no argument for it); [`Error::Mlx`] with
    /// MLX's message when the shapes do not match or the arrays do not fit the
    /// mode.
    ["mlx_quantized_matmul"]
    pub fn quantized_matmul(x: &Array, q: &Quantized, transpose: bool) -> Array;
    on quantized_matmul_on, stream => {
        q.mode.no_global_scale("quantized_matmul")?;
        let (biases, params) = (q.biases.as_ref(), q.mode.raw_params());
        raw::quantized_matmul_on(x, &q.weights, &q.scales, biases, transpose, &params, stream)
    }

    /// Batched [`quantized_matmul`] with a matrix-level gather: output `i`
    /// multiplies `x[lhs[i]]` with `w[rhs[i]]` (mixture-of-experts layers).
    ///
    /// ```
    /// use mlx_rs::quantization::{gather_qmm, quantize, GatherIndices, QuantMode};
    /// use mlx_rs::{Array, Dtype};
    /// let experts = Array::ones(&[3, 8, 64], Dtype::Float32)?; // 3 experts, [out, in]
    /// let q = quantize(&experts, QuantMode::default())?;
    /// let x = Array::ones(&[2, 1, 64], Dtype::Float32)?;
    /// let pick = Array::from_slice(&[2u32, 0], &[2])?;
    /// let idx = GatherIndices { rhs: Some(&pick), ..Default::default() };
    /// let y = gather_qmm(&x, &q, idx, true)?;
    /// assert_eq!(y.shape(), [2, 1, 8]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`quantized_matmul`], and [`Error::Mlx`] when the indices are not
    /// integers or do not broadcast with the batch dimensions.
    ["mlx_gather_qmm"]
    pub fn gather_qmm(
        x: &Array,
        q: &Quantized,
        indices: GatherIndices<'_>,
        transpose: bool,
    ) -> Array;
    on gather_qmm_on, stream => {
        q.mode.no_global_scale("gather_qmm")?;
        let (w, scales, biases) = (&q.weights, &q.scales, q.biases.as_ref());
        let params = q.mode.raw_params();
        raw::gather_qmm_on(x, w, scales, biases, indices, transpose, &params, stream)
    }

    /// `x @ ŵ.T` with `x` quantized on the fly in the weights' mode
    /// (quantized × quantized).
    ///
    /// For nvfp4, `global_scale_x` is `x`'s global scale; MLX needs it exactly
    /// when the weights have one, and rejects it for the other modes. MLX
    /// supports the fp modes here; on the CPU only a single row of `x`, and the
    /// CPU ignores the global scales (see the [module docs](self#cpu-and-gpu)).
    ///
    /// # Errors
    /// [`Error::InvalidQuantization`] for affine weights (`qqmm` has no
    /// biases); [`Error::Mlx`] with MLX's message for shapes that do not match,
    /// a `float64` `x`, one global scale without the other or a global scale
    /// outside nvfp4, and, on the CPU, more than one row (reported when the
    /// result is evaluated).
    ["mlx_qqmm"]
    pub fn qqmm(x: &Array, q: &Quantized, global_scale_x: Option<f32>) -> Array;
    on qqmm_on, stream => {
        if q.biases.is_some() {
            return Err(no_biases(q.mode));
        }
        typed_qqmm(x, &q.weights, Some(&q.scales), q.mode, global_scale_x, stream)
    }

    /// `x @ w.T` with both `x` and the dense weights `w` quantized on the fly
    /// in `mode` (whose nvfp4 global scale is `w`'s).
    ///
    /// Not implemented by MLX's CPU backend (the error comes when the result
    /// is evaluated).
    ///
    /// # Errors
    /// As [`qqmm`].
    ["mlx_qqmm"]
    pub fn qqmm_dense(
        x: &Array,
        w: &Array,
        mode: QuantMode,
        global_scale_x: Option<f32>,
    ) -> Array;
    on qqmm_dense_on, stream => { typed_qqmm(x, w, None, mode, global_scale_x, stream) }
}

/// The error for biases (or an affine mode) given to `qqmm`.
fn no_biases(mode: QuantMode) -> Error {
    invalid(format!(
        "qqmm takes no biases, so it cannot use {mode} weights"
    ))
}

/// [`qqmm`] and [`qqmm_dense`]: `w_scales` is `None` for dense weights.
fn typed_qqmm(
    x: &Array,
    w: &Array,
    w_scales: Option<&Array>,
    mode: QuantMode,
    global_scale_x: Option<f32>,
    stream: &Stream,
) -> Result<Array> {
    if mode.has_biases() {
        return Err(no_biases(mode));
    }
    let gx = global_scale_x.map(Array::scalar).transpose()?;
    let gw = mode.global_scale_array()?;
    let params = mode.raw_params();
    raw::qqmm_on(x, w, w_scales, &params, gx.as_ref(), gw.as_ref(), stream)
}

pub mod raw {
    //! MLX's quantization functions as MLX declares them: a mode string and
    //! optional group size and bits, checked by MLX alone.
    //!
    //! Use the typed functions of [the parent module](super) unless you
    //! need a mode this crate does not know yet. Every error here is
    //! [`Error::Mlx`] with MLX's own text, except what MLX would not check
    //! and would crash on or read out of bounds for: a mode string
    //! containing a NUL byte, a group size or bit width below 1
    //! ([`Error::InvalidQuantization`]), and `gather_qmm` indices outside the
    //! batch dimensions ([`Error::InvalidIndex`]).
    //!
    //! ```
    //! use mlx_rs::quantization::raw::{self, Params};
    //! use mlx_rs::{Array, Dtype, Error};
    //! let w = Array::ones(&[4, 64], Dtype::Float32)?;
    //! let params = Params { mode: "linear", group_size: None, bits: None };
    //! match raw::quantize(&w, &params, None) {
    //!     Err(Error::Mlx { message, .. }) => {
    //!         assert_eq!(message, "[quantize] Invalid quantization mode 'linear'.")
    //!     }
    //!     other => panic!("{other:?}"),
    //! }
    //! # Ok::<(), mlx_rs::Error>(())
    //! ```

    use std::ffi::CString;

    use super::GatherIndices;
    use crate::error::{Error, Result};
    use crate::ops::support::{batch_size, op, opt};
    use crate::{Array, Dtype};

    /// MLX's `(mode, group_size, bits)`; `None` lets MLX pick the mode's
    /// default.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Params<'a> {
        /// The mode's name, e.g. `"affine"`.
        pub mode: &'a str,
        /// Elements per scale.
        pub group_size: Option<i32>,
        /// Bits per element.
        pub bits: Option<i32>,
    }

    impl Default for Params<'_> {
        /// `("affine", None, None)`: MLX's defaults.
        fn default() -> Self {
            Params {
                mode: "affine",
                group_size: None,
                bits: None,
            }
        }
    }

    impl Params<'_> {
        fn mode_c(&self) -> Result<CString> {
            CString::new(self.mode).map_err(|_| Error::InvalidQuantization {
                reason: format!("mode {:?} contains a NUL byte", self.mode),
            })
        }

        /// `(value, has_value)` pairs for the shims.
        ///
        /// # Errors
        /// [`Error::InvalidQuantization`] for a group size or bit width
        /// below 1: MLX divides by both without checking (SIGFPE).
        fn ints(&self) -> Result<(i32, bool, i32, bool)> {
            for (what, v) in [("group size", self.group_size), ("bits", self.bits)] {
                if let Some(v) = v.filter(|&v| v < 1) {
                    return Err(Error::InvalidQuantization {
                        reason: format!("{what} must be positive, got {v}"),
                    });
                }
            }
            Ok((
                self.group_size.unwrap_or(0),
                self.group_size.is_some(),
                self.bits.unwrap_or(0),
                self.bits.is_some(),
            ))
        }
    }

    op! {
        /// Quantizes `w`; returns `[weights, scales]` or `[weights, scales,
        /// biases]`, as MLX does.
        ///
        /// # Errors
        /// [`Error::Mlx`] with MLX's message for anything MLX rejects.
        ["mlx_quantize"]
        pub fn quantize(w: &Array, params: &Params<'_>, global_scale: Option<&Array>) -> Vec<Array>;
        on quantize_on, stream => {
            let mode = params.mode_c()?;
            let (g, has_g, b, has_b) = params.ints()?;
            Array::build_vec("mlx_quantize", |res| {
                // SAFETY: `res` is a fresh vector out-param; `w`, the optional
                // global scale (or the empty handle mlx-c reads as absent) and
                // the stream are live handles; `mode` is a NUL-terminated
                // string that outlives the call. Optionals travel as value +
                // flag through the shim, never as a by-value struct.
                unsafe {
                    mlx_sys::mlxs_quantize(
                        res,
                        w.as_raw(),
                        g,
                        has_g,
                        b,
                        has_b,
                        mode.as_ptr(),
                        opt(global_scale),
                        stream.as_raw(),
                    )
                }
            })
        }

        /// Dequantizes; `biases`, `global_scale` and `dtype` are optional as in
        /// MLX.
        ///
        /// # Errors
        /// [`Error::Mlx`] with MLX's message for anything MLX rejects.
        ["mlx_dequantize"]
        pub fn dequantize(
            w: &Array,
            scales: &Array,
            biases: Option<&Array>,
            params: &Params<'_>,
            global_scale: Option<&Array>,
            dtype: Option<Dtype>,
        ) -> Array;
        on dequantize_on, stream => {
            let mode = params.mode_c()?;
            let (g, has_g, b, has_b) = params.ints()?;
            let d = dtype.unwrap_or(Dtype::Float32).as_raw();
            Array::build("mlx_dequantize", |res| {
                // SAFETY: `res` is a fresh out-param; every array is live or
                // the empty handle mlx-c reads as absent; `mode` outlives the
                // call; optionals travel as value + flag through the shim.
                unsafe {
                    mlx_sys::mlxs_dequantize(
                        res,
                        w.as_raw(),
                        scales.as_raw(),
                        opt(biases),
                        g,
                        has_g,
                        b,
                        has_b,
                        mode.as_ptr(),
                        opt(global_scale),
                        d,
                        dtype.is_some(),
                        stream.as_raw(),
                    )
                }
            })
        }

        /// `x @ ŵ.T` (`transpose`) or `x @ ŵ`.
        ///
        /// # Errors
        /// [`Error::Mlx`] with MLX's message for anything MLX rejects.
        ["mlx_quantized_matmul"]
        pub fn quantized_matmul(
            x: &Array,
            w: &Array,
            scales: &Array,
            biases: Option<&Array>,
            transpose: bool,
            params: &Params<'_>,
        ) -> Array;
        on quantized_matmul_on, stream => {
            let mode = params.mode_c()?;
            let (g, has_g, b, has_b) = params.ints()?;
            Array::build("mlx_quantized_matmul", |res| {
                // SAFETY: `res` is a fresh out-param; every array is live or
                // the empty handle mlx-c reads as absent; `mode` outlives the
                // call; optionals travel as value + flag through the shim.
                unsafe {
                    mlx_sys::mlxs_quantized_matmul(
                        res,
                        x.as_raw(),
                        w.as_raw(),
                        scales.as_raw(),
                        opt(biases),
                        transpose,
                        g,
                        has_g,
                        b,
                        has_b,
                        mode.as_ptr(),
                        stream.as_raw(),
                    )
                }
            })
        }

        /// [`quantized_matmul`] with a matrix-level gather.
        ///
        /// # Errors
        /// [`Error::Mlx`] with MLX's message for anything MLX rejects.
        ["mlx_gather_qmm"]
        pub fn gather_qmm(
            x: &Array,
            w: &Array,
            scales: &Array,
            biases: Option<&Array>,
            indices: GatherIndices<'_>,
            transpose: bool,
            params: &Params<'_>,
        ) -> Array;
        on gather_qmm_on, stream => {
            // MLX reads out of bounds for expert indices outside the batch
            // dimensions (as `gather_mm` would; it checks them the same way).
            let (lhs, rhs) = indices.checked("mlx_gather_qmm", batch_size(x), batch_size(w), stream)?;
            let mode = params.mode_c()?;
            let (g, has_g, b, has_b) = params.ints()?;
            Array::build("mlx_gather_qmm", |res| {
                // SAFETY: `res` is a fresh out-param; every array is live or
                // the empty handle mlx-c reads as absent; `mode` outlives the
                // call; optionals travel as value + flag through the shim.
                unsafe {
                    mlx_sys::mlxs_gather_qmm(
                        res,
                        x.as_raw(),
                        w.as_raw(),
                        scales.as_raw(),
                        opt(biases),
                        opt(lhs.as_ref()),
                        opt(rhs.as_ref()),
                        transpose,
                        g,
                        has_g,
                        b,
                        has_b,
                        mode.as_ptr(),
                        indices.sorted,
                        stream.as_raw(),
                    )
                }
            })
        }

        /// Quantized × quantized product `x @ ŵ.T`; `w` is dense when
        /// `w_scales` is `None`, else already quantized.
        ///
        /// # Errors
        /// [`Error::Mlx`] with MLX's message for anything MLX rejects.
        ["mlx_qqmm"]
        pub fn qqmm(
            x: &Array,
            w: &Array,
            w_scales: Option<&Array>,
            params: &Params<'_>,
            global_scale_x: Option<&Array>,
            global_scale_w: Option<&Array>,
        ) -> Array;
        on qqmm_on, stream => {
            let mode = params.mode_c()?;
            let (g, has_g, b, has_b) = params.ints()?;
            Array::build("mlx_qqmm", |res| {
                // SAFETY: `res` is a fresh out-param; every array is live or
                // the empty handle mlx-c reads as absent; `mode` outlives the
                // call; optionals travel as value + flag through the shim.
                unsafe {
                    mlx_sys::mlxs_qqmm(
                        res,
                        x.as_raw(),
                        w.as_raw(),
                        opt(w_scales),
                        g,
                        has_g,
                        b,
                        has_b,
                        mode.as_ptr(),
                        opt(global_scale_x),
                        opt(global_scale_w),
                        stream.as_raw(),
                    )
                }
            })
        }
    }
}
