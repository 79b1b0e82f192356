//! [`Embedding`] and [`QuantizedEmbedding`] lookup tables.

use crate::error::Result;
use crate::nn::linear::{matmul_t, no_global_scale};
use crate::nn::Module;
use crate::quantization::{quantize, quantized_matmul, QuantMode, Quantized};
use crate::{Array, Dtype};

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
        self.weight.shape().last().copied().unwrap_or(0) * 32 / self.mode.bits()
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

    /// The table as an output head: `x @ ŵᵀ` through `quantized_matmul`.
    ///
    /// # Errors
    /// As [`quantized_matmul`].
    #[doc(alias = "mlx_quantized_matmul")]
    pub fn as_linear(&self, x: &Array) -> Result<Array> {
        quantized_matmul(x, &self.quantized(), true)
    }
}
