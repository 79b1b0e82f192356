//! The activation layers, one per Python MLX class, for models that
//! compose layers. Each `forward` calls the function of the same name;
//! [`Default`] gives Python's default arguments. Only [`Prelu`] has a
//! parameter.

use std::str::FromStr;

use super::{
    celu, elu, gelu, gelu_approx, gelu_fast_approx, glu, hard_shrink, hard_tanh, hardswish,
    leaky_relu, log_sigmoid, log_softmax, mish, prelu, relu, relu2, relu6, selu, sigmoid, silu,
    softmax, softmin, softplus, softshrink, softsign, step, tanh,
};
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::Array;

/// Parameter-free layers that apply one function of `x`.
macro_rules! plain_layers {
    ($($(#[$doc:meta])* $name:ident => $f:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Module)]
        #[module(crate = crate)]
        pub struct $name;

        impl $name {
            #[doc = concat!("Applies the activation (see [`", stringify!($name), "`]).")]
            ///
            /// # Errors
            /// As the function it applies.
            pub fn forward(&self, x: &Array) -> Result<Array> {
                let f: fn(&Array) -> Result<Array> = $f;
                f(x)
            }
        }
    )*};
}

plain_layers! {
    /// [`sigmoid`] as a layer (Python's `nn.Sigmoid`).
    Sigmoid => sigmoid;
    /// [`mish`] as a layer (Python's `nn.Mish`).
    Mish => mish;
    /// [`relu`] as a layer (Python's `nn.ReLU`).
    ///
    /// ```
    /// use mlx_rs::nn::{Module, Relu};
    /// use mlx_rs::Array;
    /// let y = Relu.forward(&Array::from_slice(&[-1.0f32, 2.0], &[2])?)?;
    /// assert_eq!(y.to_vec::<f32>()?, [0.0, 2.0]);
    /// assert!(Relu.parameters().is_empty());
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    Relu => relu;
    /// [`relu2`] as a layer (Python's `nn.ReLU2`).
    Relu2 => relu2;
    /// [`relu6`] as a layer (Python's `nn.ReLU6`).
    Relu6 => relu6;
    /// [`softmax`] over the last axis as a layer (Python's `nn.Softmax`).
    Softmax => |x| softmax(x, -1);
    /// [`softplus`] as a layer (Python's `nn.Softplus`).
    Softplus => softplus;
    /// [`softsign`] as a layer (Python's `nn.Softsign`).
    Softsign => softsign;
    /// [`silu`] as a layer (Python's `nn.SiLU`).
    Silu => silu;
    /// [`log_softmax`] over the last axis as a layer (Python's
    /// `nn.LogSoftmax`).
    LogSoftmax => |x| log_softmax(x, -1);
    /// [`log_sigmoid`] as a layer (Python's `nn.LogSigmoid`).
    LogSigmoid => log_sigmoid;
    /// [`tanh`] as a layer (Python's `nn.Tanh`).
    Tanh => tanh;
    /// [`hardswish`] as a layer (Python's `nn.Hardswish`).
    Hardswish => hardswish;
    /// [`selu`] as a layer (Python's `nn.SELU`).
    Selu => selu;
    /// [`hard_tanh`] on `[−1, 1]` as a layer (Python's `nn.HardTanh`).
    HardTanh => |x| hard_tanh(x, -1.0, 1.0);
    /// [`softmin`] over the last axis as a layer (Python's `nn.Softmin`).
    Softmin => |x| softmin(x, -1);
}

/// Layers with one hyper-parameter (not a parameter of the model).
macro_rules! scalar_layers {
    ($($(#[$doc:meta])* $name:ident($field:ident: $t:ty = $default:expr) => $f:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Module)]
        #[module(crate = crate)]
        pub struct $name {
            #[doc = concat!("The `", stringify!($field), "` argument of [`", stringify!($f), "`].")]
            #[module(skip)]
            pub $field: $t,
        }

        impl $name {
            #[doc = concat!("A layer with this `", stringify!($field), "`.")]
            pub fn new($field: $t) -> Self {
                $name { $field }
            }

            #[doc = concat!("[`", stringify!($f), "`] of `x`.")]
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($f), "`].")]
            pub fn forward(&self, x: &Array) -> Result<Array> {
                $f(x, self.$field)
            }
        }

        impl Default for $name {
            #[doc = concat!("Python's default, `", stringify!($field), " = ", stringify!($default), "`.")]
            fn default() -> Self {
                $name { $field: $default }
            }
        }
    )*};
}

scalar_layers! {
    /// [`glu`] along `axis` as a layer (Python's `nn.GLU`).
    Glu(axis: i32 = -1) => glu;
    /// [`leaky_relu`] as a layer (Python's `nn.LeakyReLU`).
    LeakyRelu(negative_slope: f64 = 0.01) => leaky_relu;
    /// [`elu`] as a layer (Python's `nn.ELU`).
    Elu(alpha: f64 = 1.0) => elu;
    /// [`softshrink`] as a layer (Python's `nn.Softshrink`).
    Softshrink(lambd: f64 = 0.5) => softshrink;
    /// [`celu`] as a layer (Python's `nn.CELU`).
    Celu(alpha: f64 = 1.0) => celu;
    /// [`step`] as a layer (Python's `nn.Step`).
    Step(threshold: f64 = 0.0) => step;
    /// [`hard_shrink`] as a layer (Python's `nn.HardShrink`).
    HardShrink(lambd: f64 = 0.5) => hard_shrink;
}

/// Which GELU [`Gelu`] computes (Python's `approx` argument).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GeluApprox {
    /// [`gelu`], exact (Python's `"none"`, the default).
    #[default]
    None,
    /// [`gelu_approx`], the tanh approximation (Python's `"precise"`, or
    /// its alias `"tanh"`).
    Precise,
    /// [`gelu_fast_approx`], the sigmoid approximation (Python's `"fast"`).
    Fast,
}

impl FromStr for GeluApprox {
    type Err = Error;

    /// Python's names: `"none"`, `"precise"` (or `"tanh"`), `"fast"`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `GELU` for another name (Python's
    /// message).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(GeluApprox::None),
            "precise" | "tanh" => Ok(GeluApprox::Precise),
            "fast" => Ok(GeluApprox::Fast),
            _ => Err(invalid(
                "GELU",
                format!(
                    "The approximation should be in ['none', 'precise', 'tanh', 'fast'] but \
                     '{s}' was given"
                ),
            )),
        }
    }
}

/// GELU as a layer, exact or approximated (Python's `nn.GELU`).
///
/// ```
/// use mlx_rs::nn::{Gelu, GeluApprox};
/// use mlx_rs::Array;
/// let layer = Gelu::new("tanh".parse()?);
/// assert_eq!(layer.approx, GeluApprox::Precise);
/// assert!(layer.forward(&Array::from_slice(&[1.0f32], &[1])?)?.item::<f32>()? > 0.84);
/// assert!("erf".parse::<GeluApprox>().is_err());
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Module)]
#[module(crate = crate)]
pub struct Gelu {
    /// Which GELU.
    #[module(skip)]
    pub approx: GeluApprox,
}

impl Gelu {
    /// A layer computing `approx`.
    pub fn new(approx: GeluApprox) -> Self {
        Gelu { approx }
    }

    /// [`gelu`], [`gelu_approx`] or [`gelu_fast_approx`] of `x`.
    ///
    /// # Errors
    /// As [`gelu`].
    pub fn forward(&self, x: &Array) -> Result<Array> {
        match self.approx {
            GeluApprox::None => gelu(x),
            GeluApprox::Precise => gelu_approx(x),
            GeluApprox::Fast => gelu_fast_approx(x),
        }
    }
}

/// [`prelu`] with a learned slope (Python's `nn.PReLU`).
///
/// Parameter: `weight`.
///
/// ```
/// use mlx_rs::nn::{Module, Prelu};
/// use mlx_rs::Array;
/// let layer = Prelu::new(1, 0.25)?;
/// assert_eq!(layer.parameters()["weight"].to_vec::<f32>()?, [0.25]);
/// let y = layer.forward(&Array::from_slice(&[-4.0f32, 2.0], &[2])?)?;
/// assert_eq!(y.to_vec::<f32>()?, [-1.0, 2.0]);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
#[derive(Debug, Clone, Module)]
#[module(crate = crate)]
pub struct Prelu {
    /// `[num_parameters]`, the slopes of the negative part.
    pub weight: Array,
}

impl Prelu {
    /// A layer with `num_parameters` slopes, each `init`, in `float32` (as
    /// Python's `mx.full([num_parameters], init)`; Python's defaults are 1
    /// and 0.25).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `PReLU` for a negative
    /// `num_parameters`.
    #[doc(alias = "mlx_full")]
    pub fn new(num_parameters: i32, init: f32) -> Result<Self> {
        if num_parameters < 0 {
            return Err(invalid(
                "PReLU",
                format!("num_parameters must not be negative but got {num_parameters}"),
            ));
        }
        Ok(Prelu {
            weight: Array::full(&[num_parameters], init)?,
        })
    }

    /// [`prelu`] of `x` with the layer's slopes.
    ///
    /// # Errors
    /// As [`prelu`] (the slopes must broadcast against `x`).
    pub fn forward(&self, x: &Array) -> Result<Array> {
        prelu(x, &self.weight)
    }
}
