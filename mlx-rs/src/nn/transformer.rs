//! Python MLX's Transformer layers: [`TransformerEncoderLayer`],
//! [`TransformerEncoder`], [`TransformerDecoderLayer`],
//! [`TransformerDecoder`] and [`Transformer`] (`mlx.nn.layers.transformer`),
//! with Python's parameter names, initialisation order (so the same
//! [`random::seed`](crate::random::seed) gives the same bits) and
//! pre- or post-norm residual blocks.
//!
//! Python's `checkpoint=True` (gradient checkpointing of each layer) is
//! not offered: wrap a layer's forward in
//! [`transforms::checkpoint`](crate::transforms::checkpoint) with its
//! parameters as inputs instead.
//!
//! ```
//! use mlx_rs::fast::AttentionMask;
//! use mlx_rs::nn::TransformerEncoder;
//! use mlx_rs::{Array, Dtype};
//! let enc = TransformerEncoder::new(2, 16, 4, None, 0.0, true)?;
//! let x = Array::ones(&[1, 5, 16], Dtype::Float32)?;
//! assert_eq!(enc.forward(&x, AttentionMask::Causal)?.shape(), [1, 5, 16]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use crate::error::Result;
use crate::fast::AttentionMask;
use crate::nn::{relu, Dropout, LayerNorm, Linear, Module, MultiHeadAttention};
use crate::Array;

/// The activation of the MLP blocks (Python's `activation=`; default
/// [`relu`]).
pub type Activation = fn(&Array) -> Result<Array>;

/// Python's `LayerNorm(dims)`: eps 1e-5, affine.
fn norm(dims: i32) -> Result<LayerNorm> {
    LayerNorm::new(dims, 1e-5, true)
}

/// The MLP of a block: `linear2(dropout(activation(linear1(x))))`.
fn mlp(l1: &Linear, l2: &Linear, act: Activation, dropout: &Dropout, x: &Array) -> Result<Array> {
    l2.forward(&dropout.forward(&act(&l1.forward(x)?)?)?)
}

/// One encoder block: self-attention and an MLP, each with a residual and
/// a [`LayerNorm`] before (`norm_first`) or after.
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct TransformerEncoderLayer {
    /// Self-attention (no biases).
    pub attention: MultiHeadAttention,
    /// Norm of the attention block.
    pub ln1: LayerNorm,
    /// Norm of the MLP block.
    pub ln2: LayerNorm,
    /// `dims → mlp_dims`.
    pub linear1: Linear,
    /// `mlp_dims → dims`.
    pub linear2: Linear,
    /// After the attention.
    pub dropout1: Dropout,
    /// After the activation.
    pub dropout2: Dropout,
    /// The MLP's activation.
    #[module(skip)]
    pub activation: Activation,
    /// Norms before the blocks (pre-norm) or after the residuals.
    #[module(skip)]
    pub norm_first: bool,
}

impl TransformerEncoderLayer {
    /// Python's `TransformerEncoderLayer(dims, num_heads, mlp_dims,
    /// dropout, relu, norm_first)`; `mlp_dims` defaults to `4 · dims`.
    ///
    /// # Errors
    /// As [`MultiHeadAttention::new`] and [`Dropout::new`].
    pub fn new(
        dims: i32,
        num_heads: i32,
        mlp_dims: Option<i32>,
        dropout: f64,
        norm_first: bool,
    ) -> Result<Self> {
        let mlp_dims = mlp_dims.unwrap_or(dims * 4);
        Ok(TransformerEncoderLayer {
            attention: MultiHeadAttention::new(dims, num_heads, false)?,
            ln1: norm(dims)?,
            ln2: norm(dims)?,
            linear1: Linear::uniform(dims, mlp_dims, true)?,
            linear2: Linear::uniform(mlp_dims, dims, true)?,
            dropout1: Dropout::new(dropout)?,
            dropout2: Dropout::new(dropout)?,
            activation: relu,
            norm_first,
        })
    }

    /// The block on `x` (`[N, L, dims]`) with the attention `mask`.
    ///
    /// # Errors
    /// As [`MultiHeadAttention::forward`].
    pub fn forward(&self, x: &Array, mask: AttentionMask<'_>) -> Result<Array> {
        let ff = |y: &Array| {
            mlp(
                &self.linear1,
                &self.linear2,
                self.activation,
                &self.dropout2,
                y,
            )
        };
        if self.norm_first {
            let y = self.ln1.forward(x)?;
            let y = self.attention.forward(&y, &y, &y, mask)?;
            let x = (x + &self.dropout1.forward(&y)?)?;
            let y = ff(&self.ln2.forward(&x)?)?;
            &x + &y
        } else {
            let y = self.attention.forward(x, x, x, mask)?;
            let x = self.ln1.forward(&(x + &self.dropout1.forward(&y)?)?)?;
            let y = ff(&x)?;
            self.ln2.forward(&(&x + &y)?)
        }
    }
}

/// A stack of [`TransformerEncoderLayer`]s and a final [`LayerNorm`].
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct TransformerEncoder {
    /// The blocks.
    pub layers: Vec<TransformerEncoderLayer>,
    /// The final norm.
    pub ln: LayerNorm,
}

impl TransformerEncoder {
    /// Python's `TransformerEncoder(num_layers, dims, num_heads, mlp_dims,
    /// dropout, relu, norm_first)`.
    ///
    /// # Errors
    /// As [`TransformerEncoderLayer::new`].
    pub fn new(
        num_layers: usize,
        dims: i32,
        num_heads: i32,
        mlp_dims: Option<i32>,
        dropout: f64,
        norm_first: bool,
    ) -> Result<Self> {
        let layers = (0..num_layers)
            .map(|_| TransformerEncoderLayer::new(dims, num_heads, mlp_dims, dropout, norm_first))
            .collect::<Result<_>>()?;
        Ok(TransformerEncoder {
            layers,
            ln: norm(dims)?,
        })
    }

    /// Every block on `x`, then the norm.
    ///
    /// # Errors
    /// As [`TransformerEncoderLayer::forward`].
    pub fn forward(&self, x: &Array, mask: AttentionMask<'_>) -> Result<Array> {
        let mut x = x.clone();
        for l in &self.layers {
            x = l.forward(&x, mask)?;
        }
        self.ln.forward(&x)
    }
}

/// One decoder block: self-attention, cross-attention over the encoder's
/// output (`memory`) and an MLP.
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct TransformerDecoderLayer {
    /// Self-attention.
    pub self_attention: MultiHeadAttention,
    /// Attention over the memory.
    pub cross_attention: MultiHeadAttention,
    /// Norm of the self-attention block.
    pub ln1: LayerNorm,
    /// Norm of the cross-attention block.
    pub ln2: LayerNorm,
    /// Norm of the MLP block.
    pub ln3: LayerNorm,
    /// `dims → mlp_dims`.
    pub linear1: Linear,
    /// `mlp_dims → dims`.
    pub linear2: Linear,
    /// After the self-attention.
    pub dropout1: Dropout,
    /// After the cross-attention.
    pub dropout2: Dropout,
    /// After the activation.
    pub dropout3: Dropout,
    /// The MLP's activation.
    #[module(skip)]
    pub activation: Activation,
    /// Pre-norm or post-norm.
    #[module(skip)]
    pub norm_first: bool,
}

impl TransformerDecoderLayer {
    /// Python's `TransformerDecoderLayer(dims, num_heads, mlp_dims,
    /// dropout, relu, norm_first)`.
    ///
    /// # Errors
    /// As [`TransformerEncoderLayer::new`].
    pub fn new(
        dims: i32,
        num_heads: i32,
        mlp_dims: Option<i32>,
        dropout: f64,
        norm_first: bool,
    ) -> Result<Self> {
        let mlp_dims = mlp_dims.unwrap_or(dims * 4);
        Ok(TransformerDecoderLayer {
            self_attention: MultiHeadAttention::new(dims, num_heads, false)?,
            cross_attention: MultiHeadAttention::new(dims, num_heads, false)?,
            ln1: norm(dims)?,
            ln2: norm(dims)?,
            ln3: norm(dims)?,
            linear1: Linear::uniform(dims, mlp_dims, true)?,
            linear2: Linear::uniform(mlp_dims, dims, true)?,
            dropout1: Dropout::new(dropout)?,
            dropout2: Dropout::new(dropout)?,
            dropout3: Dropout::new(dropout)?,
            activation: relu,
            norm_first,
        })
    }

    /// The block on `x` with its `x_mask`, attending to `memory` with
    /// `memory_mask`.
    ///
    /// # Errors
    /// As [`MultiHeadAttention::forward`].
    pub fn forward(
        &self,
        x: &Array,
        memory: &Array,
        x_mask: AttentionMask<'_>,
        memory_mask: AttentionMask<'_>,
    ) -> Result<Array> {
        let ff = |y: &Array| {
            mlp(
                &self.linear1,
                &self.linear2,
                self.activation,
                &self.dropout3,
                y,
            )
        };
        if self.norm_first {
            let y = self.ln1.forward(x)?;
            let y = self.self_attention.forward(&y, &y, &y, x_mask)?;
            let x = (x + &self.dropout1.forward(&y)?)?;
            let y = self.ln2.forward(&x)?;
            let y = self
                .cross_attention
                .forward(&y, memory, memory, memory_mask)?;
            let x = (&x + &self.dropout2.forward(&y)?)?;
            let y = ff(&self.ln3.forward(&x)?)?;
            &x + &y
        } else {
            let y = self.self_attention.forward(x, x, x, x_mask)?;
            let x = self.ln1.forward(&(x + &self.dropout1.forward(&y)?)?)?;
            let y = self
                .cross_attention
                .forward(&x, memory, memory, memory_mask)?;
            let x = self.ln2.forward(&(&x + &self.dropout2.forward(&y)?)?)?;
            let y = ff(&x)?;
            self.ln3.forward(&(&x + &y)?)
        }
    }
}

/// A stack of [`TransformerDecoderLayer`]s and a final [`LayerNorm`].
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct TransformerDecoder {
    /// The blocks.
    pub layers: Vec<TransformerDecoderLayer>,
    /// The final norm.
    pub ln: LayerNorm,
}

impl TransformerDecoder {
    /// Python's `TransformerDecoder(num_layers, dims, num_heads, mlp_dims,
    /// dropout, relu, norm_first)`.
    ///
    /// # Errors
    /// As [`TransformerDecoderLayer::new`].
    pub fn new(
        num_layers: usize,
        dims: i32,
        num_heads: i32,
        mlp_dims: Option<i32>,
        dropout: f64,
        norm_first: bool,
    ) -> Result<Self> {
        let layers = (0..num_layers)
            .map(|_| TransformerDecoderLayer::new(dims, num_heads, mlp_dims, dropout, norm_first))
            .collect::<Result<_>>()?;
        Ok(TransformerDecoder {
            layers,
            ln: norm(dims)?,
        })
    }

    /// Every block, then the norm.
    ///
    /// # Errors
    /// As [`TransformerDecoderLayer::forward`].
    pub fn forward(
        &self,
        x: &Array,
        memory: &Array,
        x_mask: AttentionMask<'_>,
        memory_mask: AttentionMask<'_>,
    ) -> Result<Array> {
        let mut x = x.clone();
        for l in &self.layers {
            x = l.forward(&x, memory, x_mask, memory_mask)?;
        }
        self.ln.forward(&x)
    }
}

/// The encoder-decoder Transformer of "Attention Is All You Need"
/// (Python's `nn.Transformer`).
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Transformer {
    /// The encoder.
    pub encoder: TransformerEncoder,
    /// The decoder.
    pub decoder: TransformerDecoder,
}

/// The sizes of a [`Transformer`], with Python's defaults
/// (`Default::default()`: 512 wide, 8 heads, 6 + 6 layers, pre-norm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransformerConfig {
    /// Model width.
    pub dims: i32,
    /// Attention heads.
    pub num_heads: i32,
    /// Encoder blocks.
    pub num_encoder_layers: usize,
    /// Decoder blocks.
    pub num_decoder_layers: usize,
    /// MLP width (`None`: `4 · dims`).
    pub mlp_dims: Option<i32>,
    /// Dropout probability.
    pub dropout: f64,
    /// Pre-norm (`true`) or post-norm.
    pub norm_first: bool,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        TransformerConfig {
            dims: 512,
            num_heads: 8,
            num_encoder_layers: 6,
            num_decoder_layers: 6,
            mlp_dims: None,
            dropout: 0.0,
            norm_first: true,
        }
    }
}

impl Transformer {
    /// Python's `Transformer(...)`: the encoder, then the decoder.
    ///
    /// # Errors
    /// As [`TransformerEncoderLayer::new`].
    pub fn new(c: TransformerConfig) -> Result<Self> {
        Ok(Transformer {
            encoder: TransformerEncoder::new(
                c.num_encoder_layers,
                c.dims,
                c.num_heads,
                c.mlp_dims,
                c.dropout,
                c.norm_first,
            )?,
            decoder: TransformerDecoder::new(
                c.num_decoder_layers,
                c.dims,
                c.num_heads,
                c.mlp_dims,
                c.dropout,
                c.norm_first,
            )?,
        })
    }

    /// `decoder(tgt, encoder(src, src_mask), tgt_mask, memory_mask)`.
    ///
    /// # Errors
    /// As the encoder's and decoder's forward.
    pub fn forward(
        &self,
        src: &Array,
        tgt: &Array,
        src_mask: AttentionMask<'_>,
        tgt_mask: AttentionMask<'_>,
        memory_mask: AttentionMask<'_>,
    ) -> Result<Array> {
        let memory = self.encoder.forward(src, src_mask)?;
        self.decoder.forward(tgt, &memory, tgt_mask, memory_mask)
    }
}
