//! [`Embedding`] and [`QuantizedEmbedding`] lookup tables.

use crate::error::{Error, Result};
use crate::nn::linear::{matmul_t, no_global_scale, unpacked_cols};
use crate::nn::Module;
use crate::ops::clip;
use crate::ops::indexing::take_axis_unchecked;
use crate::quantization::{quantize, quantized_matmul, QuantMode, Quantized};
use crate::{Array, Dtype, Stream};

/// `ids` clamped into `[0, rows)` on the device: nothing is evaluated, and
/// no id of the result can read outside a table of `rows` rows.
fn clamp_ids(ids: &Array, rows: i32) -> Result<Array> {
    let d = ids.dtype();
    if !d.is_integer() {
        return Err(Error::InvalidIndex {
            op: "Embedding",
            reason: format!("ids must be integers, got {d}"),
        });
    }
    if rows == 0 {
        return Err(Error::InvalidIndex {
            op: "Embedding",
            reason: "the table has no rows".into(),
        });
    }
    let lo = Array::scalar(0i32)?.astype(d)?;
    let hi = Array::scalar(rows - 1)?.astype(d)?;
    clip(ids, Some(&lo), Some(&hi))
}

/// Rows `ids` of `table` (axis 0), for ids from [`clamp_ids`] with
/// `table`'s number of rows.
fn take_clamped_rows(table: &Array, clamped: &Array) -> Result<Array> {
    // SAFETY: `clamped` came from `clamp_ids` with this table's number of
    // rows, so every id is in range for axis 0.
    unsafe { take_axis_unchecked(table, clamped, 0, &Stream::current()?) }
}

/// The number of rows of a table (its first axis).
fn rows(table: &Array) -> i32 {
    table.shape().first().copied().unwrap_or(0)
}

/// A lookup table `[num_embeddings, dims]`: token ids to vectors.
///
/// Parameter: `weight`. [`Embedding::as_linear`] reuses the table as an
/// output head (tied embeddings).
///
/// ```
/// use mlx_rs::nn::Embedding;
/// use mlx_rs::Array;
/// let e = Embedding { weight: Array::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2])? };
/// let ids = Array::from_slice(&[2u32, 0], &[1, 2])?;
/// assert_eq!(e.forward(&ids)?.to_vec::<f32>()?, [4.0, 5.0, 0.0, 1.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Embedding {
    /// `[num_embeddings, dims]`.
    pub weight: Array,
}

impl Embedding {
    /// A table of zeros in `float32`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`](crate::Error::InvalidShape) for negative sizes.
    pub fn new(num_embeddings: i32, dims: i32) -> Result<Self> {
        Ok(Embedding {
            weight: Array::zeros(&[num_embeddings, dims], Dtype::Float32)?,
        })
    }

    /// The size of the vectors.
    pub fn dims(&self) -> i32 {
        self.weight.shape().last().copied().unwrap_or(0)
    }

    /// The rows of the table for integer `ids` of any shape; the result has
    /// shape `[..ids.shape, dims]`.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`](crate::Error::InvalidIndex) for ids outside
    /// the table (they are checked, which evaluates `ids`).
    pub fn forward(&self, ids: &Array) -> Result<Array> {
        self.weight.index(ids)
    }

    /// [`forward`](Self::forward) for ids that the model produced itself
    /// (argmax or a sample over this vocabulary): instead of being checked,
    /// which evaluates them, they are clamped into the table on the device,
    /// so the lookup joins the lazy graph and a decode loop can queue the
    /// next step before the current token is known. An id outside the
    /// table reads the nearest row rather than failing.
    ///
    /// ```
    /// use mlx_rs::nn::Embedding;
    /// use mlx_rs::{Array, Error};
    /// let e = Embedding { weight: Array::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2])? };
    /// let ids = Array::from_slice(&[2i32, 0, 7, -1], &[1, 4])?;
    /// assert_eq!(e.forward_clamped(&ids)?.to_vec::<f32>()?, [4.0, 5.0, 0.0, 1.0, 4.0, 5.0, 0.0, 1.0]);
    /// assert!(matches!(e.forward(&ids), Err(Error::InvalidIndex { .. })));
    /// let floats = Array::from_slice(&[1.0f32], &[1])?;
    /// assert!(matches!(e.forward_clamped(&floats), Err(Error::InvalidIndex { .. })));
    /// let empty = Embedding { weight: Array::from_slice::<f32>(&[], &[0, 2])? };
    /// assert!(matches!(empty.forward_clamped(&ids), Err(Error::InvalidIndex { .. })));
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidIndex`](crate::Error::InvalidIndex) for non-integer
    /// ids or an empty table.
    #[doc(alias = "mlx_take_axis")]
    #[doc(alias = "mlx_clip")]
    pub fn forward_clamped(&self, ids: &Array) -> Result<Array> {
        take_clamped_rows(&self.weight, &clamp_ids(ids, rows(&self.weight))?)
    }

    /// The table as an output head: `x @ weightᵀ`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) when the last axis of `x` is not
    /// `dims`.
    #[doc(alias = "mlx_matmul")]
    pub fn as_linear(&self, x: &Array) -> Result<Array> {
        matmul_t(x, &self.weight)
    }

    /// The quantized table (MLX's `QuantizedEmbedding.from_embedding`).
    ///
    /// # Errors
    /// As [`Linear::to_quantized`](crate::nn::Linear::to_quantized).
    #[doc(alias = "mlx_quantize")]
    pub fn to_quantized(&self, mode: QuantMode) -> Result<QuantizedEmbedding> {
        no_global_scale(mode)?;
        Ok(QuantizedEmbedding::from_parts(quantize(
            &self.weight,
            mode,
        )?))
    }
}

/// An [`Embedding`] with a quantized table, in any of MLX's modes; usable
/// as a tied output head through [`QuantizedEmbedding::as_linear`].
///
/// Parameters, as in MLX and mlx-lm: `weight` (packed `uint32`), `scales`,
/// `biases` (affine only).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct QuantizedEmbedding {
    /// Packed quantized table (`uint32`).
    pub weight: Array,
    /// One scale per group.
    pub scales: Array,
    /// One bias per group (affine mode only).
    pub biases: Option<Array>,
    /// The quantization mode and its parameters.
    #[module(skip)]
    pub mode: QuantMode,
}

impl QuantizedEmbedding {
    /// The layer from a quantized table.
    pub fn from_parts(q: Quantized) -> Self {
        QuantizedEmbedding {
            weight: q.weights,
            scales: q.scales,
            biases: q.biases,
            mode: q.mode,
        }
    }

    /// The quantized table as a [`Quantized`] (cheap: clones handles).
    pub fn quantized(&self) -> Quantized {
        Quantized {
            weights: self.weight.clone(),
            scales: self.scales.clone(),
            biases: self.biases.clone(),
            mode: self.mode,
        }
    }

    /// The size of the vectors.
    pub fn dims(&self) -> i32 {
        unpacked_cols(&self.weight, self.mode)
    }

    /// The dequantized rows for `ids`, in MLX's default dtype for the mode
    /// (the scales' dtype for affine, `bfloat16` for the fp modes), as
    /// Python MLX's `nn.QuantizedEmbedding` returns them.
    ///
    /// # Errors
    /// As [`Embedding::forward`].
    #[doc(alias = "mlx_dequantize")]
    pub fn forward(&self, ids: &Array) -> Result<Array> {
        let rows = Quantized {
            weights: self.weight.index(ids)?,
            scales: self.scales.index(ids)?,
            biases: self.biases.as_ref().map(|b| b.index(ids)).transpose()?,
            mode: self.mode,
        };
        rows.dequantize(None)
    }

    /// [`forward`](Self::forward) with ids clamped into the table instead
    /// of checked; see [`Embedding::forward_clamped`].
    ///
    /// ```
    /// use mlx_rs::nn::Embedding;
    /// use mlx_rs::quantization::QuantMode;
    /// use mlx_rs::{Array, Dtype, Error};
    /// let table = Array::ones(&[4, 64], Dtype::Float32)?;
    /// let mut q = Embedding { weight: table }.to_quantized(QuantMode::default())?;
    /// let ids = Array::from_slice(&[3u32, 9], &[2])?;
    /// assert_eq!(q.forward_clamped(&ids)?.shape(), [2, 64]);
    /// q.scales = Array::ones(&[2, 1], Dtype::Float32)?; // fewer rows than the weights
    /// assert!(matches!(q.forward_clamped(&ids), Err(Error::InvalidQuantization { .. })));
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Embedding::forward_clamped`];
    /// [`Error::InvalidQuantization`](crate::Error::InvalidQuantization)
    /// when the scales or biases do not have a row per row of the weights.
    #[doc(alias = "mlx_take_axis")]
    #[doc(alias = "mlx_clip")]
    pub fn forward_clamped(&self, ids: &Array) -> Result<Array> {
        // weights, scales and biases have a row per id: clamp once (the
        // tables must agree on their rows for that to keep every gather
        // inside its table)
        let n = rows(&self.weight);
        for (name, t) in [
            ("scales", Some(&self.scales)),
            ("biases", self.biases.as_ref()),
        ] {
            if let Some(t) = t.filter(|t| rows(t) != n) {
                return Err(Error::InvalidQuantization {
                    reason: format!(
                        "quantized embedding: {name} have {} rows, weights {n}",
                        rows(t)
                    ),
                });
            }
        }
        let ids = clamp_ids(ids, n)?;
        let rows = Quantized {
            weights: take_clamped_rows(&self.weight, &ids)?,
            scales: take_clamped_rows(&self.scales, &ids)?,
            biases: self
                .biases
                .as_ref()
                .map(|b| take_clamped_rows(b, &ids))
                .transpose()?,
            mode: self.mode,
        };
        rows.dequantize(None)
    }

    /// The table as an output head: `x @ ŵᵀ` through `quantized_matmul`.
    ///
    /// # Errors
    /// As [`quantized_matmul`].
    #[doc(alias = "mlx_quantized_matmul")]
    pub fn as_linear(&self, x: &Array) -> Result<Array> {
        quantized_matmul(x, &self.quantized(), true)
    }
}
