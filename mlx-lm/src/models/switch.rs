//! Mixture-of-experts as mlx-lm has it (`switch_layers.py`): expert
//! weights stacked `[experts, out, in]` and applied with `gather_mm`
//! (float) or `gather_qmm` (quantized), tokens sorted by expert when there
//! are many; the routers of Mixtral and Qwen3-MoE.

use mlx_rs::nn::{silu, LinearLayer, Module};
use mlx_rs::ops::{self, Axes};
use mlx_rs::quantization::{self, GatherIndices, QuantMode, Quantized};
use mlx_rs::{Array, Dtype};

use crate::error::{Error, Result};

/// Float expert weights, `[experts, out, in]` (mlx-lm's `SwitchLinear`,
/// without bias).
#[derive(Debug, Clone, Module)]
pub struct SwitchLinear {
    /// `[experts, out, in]`.
    pub weight: Array,
}

/// Quantized expert weights (mlx-lm's `QuantizedSwitchLinear`).
#[derive(Debug, Clone, Module)]
pub struct QuantizedSwitchLinear {
    /// Packed weights, `[experts, out, in · bits / 32]`.
    pub weight: Array,
    /// One scale per group.
    pub scales: Array,
    /// One bias per group (affine only).
    pub biases: Option<Array>,
    /// The mode.
    #[module(skip)]
    pub mode: QuantMode,
}

/// Expert weights, float or quantized.
#[derive(Debug, Clone, Module)]
pub enum SwitchLayer {
    /// Float.
    Float(SwitchLinear),
    /// Quantized.
    Quantized(QuantizedSwitchLinear),
}

impl SwitchLayer {
    /// Zeros, `[experts, out, in]`.
    ///
    /// # Errors
    /// [`Error::Mlx`] for negative sizes.
    pub fn new(input_dims: i32, output_dims: i32, experts: i32) -> Result<Self> {
        Ok(SwitchLayer::Float(SwitchLinear {
            weight: Array::zeros(&[experts, output_dims, input_dims], Dtype::Float32)?,
        }))
    }

    /// The size of the last axis of the input.
    pub fn input_dims(&self) -> i32 {
        match self {
            SwitchLayer::Float(l) => l.weight.shape().last().copied().unwrap_or(0),
            SwitchLayer::Quantized(l) => {
                l.weight.shape().last().copied().unwrap_or(0) * 32 / l.mode.bits()
            }
        }
    }

    /// Quantizes the experts in place with `mode` (no-op when quantized).
    ///
    /// # Errors
    /// As [`quantization::quantize`].
    #[doc(alias = "mlx_quantize")]
    pub fn quantize(&mut self, mode: QuantMode) -> mlx_rs::Result<()> {
        if let SwitchLayer::Float(l) = self {
            let q = quantization::quantize(&l.weight, mode)?;
            *self = SwitchLayer::Quantized(QuantizedSwitchLinear {
                weight: q.weights,
                scales: q.scales,
                biases: q.biases,
                mode: q.mode,
            });
        }
        Ok(())
    }

    /// `x @ w[indices].T`: `x` `[…, 1, in]`, `indices` broadcasting with
    /// its batch dimensions.
    ///
    /// # Errors
    /// As [`ops::gather_mm`] and [`quantization::gather_qmm`].
    #[doc(alias = "mlx_gather_mm")]
    #[doc(alias = "mlx_gather_qmm")]
    pub fn forward(&self, x: &Array, indices: &Array, sorted: bool) -> Result<Array> {
        let idx = GatherIndices {
            lhs: None,
            rhs: Some(indices),
            sorted,
        };
        Ok(match self {
            SwitchLayer::Float(l) => ops::gather_mm(x, &ops::swapaxes(&l.weight, -1, -2)?, idx)?,
            SwitchLayer::Quantized(l) => {
                let q = Quantized {
                    weights: l.weight.clone(),
                    scales: l.scales.clone(),
                    biases: l.biases.clone(),
                    mode: l.mode,
                };
                quantization::gather_qmm(x, &q, idx, true)?
            }
        })
    }
}

/// mlx-lm's `SwitchGLU`: per token, `down(silu(gate(x)) · up(x))` with
/// the weights of each selected expert.
#[derive(Debug, Clone, Module)]
pub struct SwitchGlu {
    /// Gate experts.
    pub gate_proj: SwitchLayer,
    /// Up experts.
    pub up_proj: SwitchLayer,
    /// Down experts.
    pub down_proj: SwitchLayer,
}

impl SwitchGlu {
    /// Zeros for `experts` experts.
    ///
    /// # Errors
    /// [`Error::Mlx`] for negative sizes.
    pub fn new(dims: i32, hidden: i32, experts: i32) -> Result<Self> {
        Ok(SwitchGlu {
            gate_proj: SwitchLayer::new(dims, hidden, experts)?,
            up_proj: SwitchLayer::new(dims, hidden, experts)?,
            down_proj: SwitchLayer::new(hidden, dims, experts)?,
        })
    }

    /// `x` `[…, dims]` through the experts `indices` `[…, k]`: `[…, k,
    /// dims]`. With 64 or more (token, expert) pairs the tokens are sorted
    /// by expert first, as mlx-lm does.
    ///
    /// # Errors
    /// As [`SwitchLayer::forward`].
    pub fn forward(&self, x: &Array, indices: &Array) -> Result<Array> {
        let x = ops::expand_dims(x, &[-2, -3])?;
        let sort = indices.size() >= 64;
        let m = indices.shape().last().copied().unwrap_or(1);
        let (x, idx, inv) = if sort {
            let flat = indices.reshape(&[-1])?;
            let order = ops::argsort(&flat, Some(-1))?;
            let inv = ops::argsort(&order, Some(-1))?;
            let xf = ops::flatten(&x, 0, -3)?;
            let rows = ops::floor_divide(&order, m)?;
            let x = ops::take(&xf, &rows, Some(0))?;
            (x, ops::take(&flat, &order, Some(0))?, Some(inv))
        } else {
            (x, indices.clone(), None)
        };
        let up = self.up_proj.forward(&x, &idx, sort)?;
        let gate = self.gate_proj.forward(&x, &idx, sort)?;
        let h = (silu(&gate)? * up)?;
        let y = self.down_proj.forward(&h, &idx, sort)?;
        let y = match inv {
            Some(inv) => ops::unflatten(&ops::take(&y, &inv, Some(0))?, 0, indices.shape())?,
            None => y,
        };
        Ok(y.squeeze(-2)?)
    }
}

/// How a [`SparseMoe`] routes tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Router {
    /// Mixtral: the top-k gate logits, softmaxed.
    Mixtral,
    /// Qwen3-MoE: the softmax of the gate logits, top-k, renormalized when
    /// `norm_topk_prob`.
    Qwen3 {
        /// Renormalize the selected probabilities.
        norm_topk_prob: bool,
    },
}

/// A sparse mixture-of-experts block: a router `gate` and the experts
/// `switch_mlp`.
#[derive(Debug, Clone, Module)]
pub struct SparseMoe {
    /// Router, `[experts, dims]`.
    pub gate: LinearLayer,
    /// The experts.
    pub switch_mlp: SwitchGlu,
    /// Experts per token.
    #[module(skip)]
    pub top_k: i32,
    /// The routing.
    #[module(skip)]
    pub router: Router,
}

impl SparseMoe {
    /// Zeros.
    ///
    /// # Errors
    /// [`Error::Config`] when `top_k` is not in `1..=experts`.
    pub fn new(dims: i32, hidden: i32, experts: i32, top_k: i32, router: Router) -> Result<Self> {
        if top_k < 1 || top_k > experts {
            return Err(Error::config(
                "config.json",
                format!("num_experts_per_tok {top_k} is not in 1..={experts}"),
            ));
        }
        Ok(SparseMoe {
            gate: LinearLayer::new(dims, experts, false)?,
            switch_mlp: SwitchGlu::new(dims, hidden, experts)?,
            top_k,
            router,
        })
    }

    /// Runs the block on `x`, `[…, dims]`.
    ///
    /// # Errors
    /// As [`SwitchGlu::forward`].
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let k = self.top_k;
        let gates = self.gate.forward(x)?;
        let experts = gates.shape().last().copied().unwrap_or(0);
        let (inds, scores) = match self.router {
            Router::Mixtral => {
                let part = ops::argpartition(&(-&gates)?, k - 1, Some(-1))?;
                let inds = part.index((mlx_rs::index::Ellipsis, ..k))?;
                let scores = ops::take_along_axis(&gates, &inds, -1)?;
                (inds, ops::softmax(&scores, -1, true)?)
            }
            Router::Qwen3 { norm_topk_prob } => {
                let gates = ops::softmax(&gates, -1, true)?;
                let part = ops::argpartition(&gates, -k, Some(-1))?;
                let inds = part.index((mlx_rs::index::Ellipsis, experts - k..))?;
                let mut scores = ops::take_along_axis(&gates, &inds, -1)?;
                if norm_topk_prob {
                    scores = (&scores / &ops::sum(&scores, Axes::from(-1), true)?)?;
                }
                (inds, scores)
            }
        };
        let y = self.switch_mlp.forward(x, &inds)?;
        let dtype = y.dtype();
        let weighted = (&y * &ops::expand_dims(&scores, &[-1])?)?;
        Ok(ops::sum(&weighted, Axes::from(-2), false)?.astype(dtype)?)
    }
}
