//! [`LoraLinear`]: a low-rank adapter over a float or quantized linear
//! layer (LoRA, and QLoRA when the base is quantized), Python mlx-lm's
//! `LoRALinear` with its parameter names, initialisation and fuse.

use crate::error::Result;
use crate::nn::{Linear, LinearLayer, Module};
use crate::ops::{add, matmul, multiply};
use crate::quantization::QuantMode;
use crate::{random, Array, Dtype};

/// `y = base(x) + scale · (dropout(x) · A) · B`, with `A` `[input_dims, r]`
/// and `B` `[r, output_dims]` (mlx-lm's `lora_a`, `lora_b`).
///
/// Parameters: `linear.*` (the base layer, frozen while training: see
/// [`is_adapter_parameter`]), `lora_a`, `lora_b`.
///
/// ```
/// use mlx_rs::nn::{Linear, LinearLayer, LoraLinear, Module};
/// use mlx_rs::Array;
/// let base = LinearLayer::from(Linear::new(4, 2, false)?);
/// let lora = LoraLinear::from_base(base, 8, 20.0, 0.0)?;
/// let names: Vec<String> = lora.parameters().into_keys().collect();
/// assert_eq!(names, ["linear.weight", "lora_a", "lora_b"]);
/// assert_eq!(lora.lora_a.shape(), [4, 8]);
/// // B starts at zero: the adapter changes nothing until trained
/// let x = Array::ones(&[1, 4], mlx_rs::Dtype::Float32)?;
/// assert_eq!(lora.forward(&x)?.to_vec::<f32>()?, [0.0, 0.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct LoraLinear {
    /// The base layer (float or quantized).
    pub linear: LinearLayer,
    /// `[input_dims, r]`.
    pub lora_a: Array,
    /// `[r, output_dims]`.
    pub lora_b: Array,
    /// The scale of the low-rank update (mlx-lm's `scale`, default 20).
    #[module(skip)]
    pub scale: f32,
    /// The dropout probability on the adapter's input.
    #[module(skip)]
    pub dropout: f32,
    /// Whether dropout is applied (training) or not (inference).
    #[module(skip)]
    pub training: bool,
}

/// Whether a parameter name is one of an adapter's own (`…lora_a`,
/// `…lora_b`): the parameters LoRA trains, and the names mlx-lm saves in
/// `adapters.safetensors`.
pub fn is_adapter_parameter(name: &str) -> bool {
    matches!(name.rsplit('.').next(), Some("lora_a" | "lora_b"))
}

impl LoraLinear {
    /// An adapter of rank `r` over `base`, initialised as mlx-lm does:
    /// `lora_a` uniform in `±1/√input_dims` (`float32`, from MLX's default
    /// key, so `mx.random.seed` / [`random::seed`] make it reproducible;
    /// two keys are taken, as Python takes one for the `nn.Linear` it
    /// builds and discards), `lora_b` zeros.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for `r < 1`
    /// or a dropout outside `[0, 1)`; [`Error::Mlx`](crate::Error::Mlx) if
    /// MLX fails.
    #[doc(alias = "mlx_random_uniform")]
    pub fn from_base(base: LinearLayer, r: i32, scale: f32, dropout: f32) -> Result<Self> {
        if r < 1 {
            return Err(crate::Error::InvalidArgument {
                op: "LoraLinear::from_base",
                reason: format!("the rank must be at least 1, not {r}"),
            });
        }
        if !(0.0..1.0).contains(&dropout) {
            return Err(crate::Error::InvalidArgument {
                op: "LoraLinear::from_base",
                reason: format!("the dropout must be in [0, 1), not {dropout}"),
            });
        }
        let (input_dims, output_dims) = (base.input_dims(), base.output_dims());
        // Python's `LoRALinear.__init__` first builds a throwaway
        // `nn.Linear` (its weight drawn from the default key, then replaced
        // by the base): take that key too, so the draws stay in step.
        random::uniform(0.0f32, 1.0f32, &[0], Dtype::Float32, None)?;
        let bound = 1.0 / f64::from(input_dims).sqrt();
        let lora_a = random::uniform(
            (-bound) as f32,
            bound as f32,
            &[input_dims, r],
            Dtype::Float32,
            None,
        )?;
        let lora_b = Array::zeros(&[r, output_dims], Dtype::Float32)?;
        Ok(LoraLinear {
            linear: base,
            lora_a,
            lora_b,
            scale,
            dropout,
            training: false,
        })
    }

    /// The rank `r`.
    pub fn rank(&self) -> i32 {
        self.lora_a.shape().get(1).copied().unwrap_or(0)
    }

    /// `base(x) + (scale · (dropout(x) · A) · B)` cast to `x`'s dtype, as
    /// Python's `LoRALinear.__call__`; dropout only while
    /// [`training`](Self::training).
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) for an input of the wrong size.
    pub fn forward(&self, x: &Array) -> Result<Array> {
        let y = self.linear.forward(x)?;
        let dx = if self.training && self.dropout > 0.0 {
            let keep = 1.0 - self.dropout;
            let mask = random::bernoulli(keep, Some(x.shape()), None)?;
            multiply(multiply(&mask, x)?, 1.0 / keep)?
        } else {
            x.clone()
        };
        let z = matmul(&matmul(&dx, &self.lora_a)?, &self.lora_b)?;
        add(&y, multiply(self.scale, &z)?.astype(x.dtype())?)
    }

    /// The base layer with the adapter merged into its weight (Python's
    /// `LoRALinear.fuse`): `W + (scale · Bᵀ) · Aᵀ`; a quantized base is
    /// dequantized first and quantized again in its own mode, unless
    /// `dequantize`.
    ///
    /// # Errors
    /// As [`Linear::to_quantized`](crate::nn::Linear::to_quantized) and
    /// [`Quantized::dequantize`](crate::quantization::Quantized::dequantize).
    #[doc(alias = "mlx_dequantize")]
    pub fn fuse(&self, dequantize: bool) -> Result<LinearLayer> {
        let (fused, mode) = self.fuse_float()?;
        Ok(match mode {
            Some(mode) if !dequantize => LinearLayer::Quantized(fused.to_quantized(mode)?),
            _ => LinearLayer::Float(fused),
        })
    }

    /// The merged float layer and the base's quantization mode, if any.
    fn fuse_float(&self) -> Result<(Linear, Option<QuantMode>)> {
        let (linear, mode) = match &self.linear {
            LinearLayer::Float(l) => (l.clone(), None),
            LinearLayer::Quantized(q) => (q.to_linear(None)?, Some(q.mode)),
            LinearLayer::Lora(inner) => inner.fuse_float()?,
        };
        let dtype = linear.weight.dtype();
        let delta = matmul(
            &multiply(self.scale, &self.lora_b.transpose()?)?,
            &self.lora_a.transpose()?,
        )?
        .astype(dtype)?;
        Ok((
            Linear {
                weight: add(&linear.weight, &delta)?,
                bias: linear.bias,
            },
            mode,
        ))
    }
}

/// Sets [`LoraLinear::training`] on every adapter of `model` (dropout on
/// while training, off for inference; Python's `model.train()` /
/// `model.eval()`).
///
/// # Errors
/// Never in practice (the traversal's callback does not fail).
pub fn set_training(model: &mut dyn Module, training: bool) -> Result<()> {
    crate::nn::replace_modules(model, |_, l: &mut LoraLinear| {
        l.training = training;
        Ok(())
    })
}

/// Replaces every [`LoraLinear`] of `model` with its fused base layer
/// ([`LoraLinear::fuse`]); returns the paths fused.
///
/// # Errors
/// As [`LoraLinear::fuse`]; layers fused before the failure stay fused.
pub fn fuse_adapters(model: &mut dyn Module, dequantize: bool) -> Result<Vec<String>> {
    let mut fused = Vec::new();
    crate::nn::replace_modules(model, |path, l: &mut LinearLayer| {
        if let LinearLayer::Lora(lora) = l {
            *l = lora.fuse(dequantize)?;
            fused.push(path.to_owned());
        }
        Ok(())
    })?;
    Ok(fused)
}
