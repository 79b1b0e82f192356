//! Convolution layers: [`Conv1d`], [`Conv2d`], [`Conv3d`], channels-last as
//! in MLX (`[N, *spatial, C]`).

use crate::error::Result;
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::ops::{conv1d, conv2d, conv3d, Conv};
use crate::{random, Array, Dtype};

/// Checks the input of an `n`-d convolution layer: `n + 2` axes (batch,
/// spatial, channels) and `in_channels` channels.
pub(crate) fn check_input(
    layer: &'static str,
    x: &Array,
    spatial: usize,
    in_channels: i32,
) -> Result<()> {
    let shape = x.shape();
    if shape.len() != spatial + 2 {
        return Err(invalid(
            layer,
            format!(
                "expects an input of {} axes [N, {}C], got shape {shape:?}",
                spatial + 2,
                "S, ".repeat(spatial)
            ),
        ));
    }
    if shape[spatial + 1] != in_channels {
        return Err(invalid(
            layer,
            format!("expects {in_channels} input channels (the last axis), got shape {shape:?}"),
        ));
    }
    Ok(())
}

macro_rules! conv_layer {
    ($(#[$doc:meta])* $name:ident, $n:literal, $op:ident, $alias:literal, $layout:literal) => {
        $(#[$doc])*
        ///
        /// Parameters: `weight` (`[C_out,
        #[doc = $layout]
        /// C_in / groups]`) and `bias` (`[C_out]`, optional), MLX's names and
        /// layout.
        #[derive(Debug, Clone, Module)]
        #[module(crate = crate)]
        pub struct $name {
            /// The kernel.
            pub weight: Array,
            /// Added to every output position, if the layer has one.
            pub bias: Option<Array>,
            /// Stride, padding, dilation and groups.
            #[module(skip)]
            pub params: Conv<$n>,
        }

        impl $name {
            /// A layer initialised as Python MLX's: the kernel uniform in
            /// `±sqrt(1 / (C_in · prod(kernel)))` from the global random
            /// state ([`random::seed`]), the bias zeros; `float32`.
            ///
            /// # Errors
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)
            /// for non-positive sizes or groups, or `in_channels` or
            /// `out_channels` not divisible by `groups`.
            #[doc(alias = "mlx_random_uniform")]
            pub fn new(
                in_channels: i32,
                out_channels: i32,
                kernel_size: [i32; $n],
                bias: bool,
                params: Conv<$n>,
            ) -> Result<Self> {
                let layer = stringify!($name);
                if in_channels < 1 || out_channels < 1 || kernel_size.iter().any(|&k| k < 1) {
                    return Err(invalid(
                        layer,
                        format!(
                            "channels and kernel sizes must be positive, got in_channels \
                             {in_channels}, out_channels {out_channels}, kernel_size {kernel_size:?}"
                        ),
                    ));
                }
                if params.groups < 1
                    || in_channels % params.groups != 0
                    || out_channels % params.groups != 0
                {
                    return Err(invalid(
                        layer,
                        format!(
                            "the number of input channels ({in_channels}) and output channels \
                             ({out_channels}) must be divisible by the number of groups ({})",
                            params.groups
                        ),
                    ));
                }
                let fan_in: i64 =
                    i64::from(in_channels) * kernel_size.iter().map(|&k| i64::from(k)).product::<i64>();
                let scale = (1.0 / fan_in as f64).sqrt() as f32;
                let mut shape = vec![out_channels];
                shape.extend_from_slice(&kernel_size);
                shape.push(in_channels / params.groups);
                let weight = random::uniform(-scale, scale, &shape, Dtype::Float32, None)?;
                let bias = if bias {
                    Some(Array::zeros(&[out_channels], Dtype::Float32)?)
                } else {
                    None
                };
                Ok($name { weight, bias, params })
            }

            /// The number of input channels the layer takes.
            pub fn in_channels(&self) -> i32 {
                self.weight.shape().last().copied().unwrap_or(0) * self.params.groups
            }

            /// The convolution of `x` plus the bias, as Python MLX's layer.
            ///
            /// # Errors
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)
            /// naming the layer for an input of the wrong rank or channel
            /// count; as the op otherwise.
            #[doc(alias = $alias)]
            pub fn forward(&self, x: &Array) -> Result<Array> {
                check_input(stringify!($name), x, $n, self.in_channels())?;
                let y = $op(x, &self.weight, &self.params)?;
                match &self.bias {
                    Some(b) => &y + b,
                    None => Ok(y),
                }
            }
        }
    };
}

conv_layer!(
    /// 1-d convolution over `[N, L, C_in]` (MLX's `nn.Conv1d`).
    Conv1d, 1, conv1d, "mlx_conv1d", "K,"
);
conv_layer!(
    /// 2-d convolution over `[N, H, W, C_in]` (MLX's `nn.Conv2d`).
    ///
    /// ```
    /// use mlx_rs::nn::Conv2d;
    /// use mlx_rs::ops::Conv;
    /// use mlx_rs::{Array, Dtype};
    /// let conv = Conv2d::new(1, 4, [3, 3], true, Conv { padding: [1, 1], ..Conv::default() })?;
    /// let y = conv.forward(&Array::ones(&[2, 8, 8, 1], Dtype::Float32)?)?;
    /// assert_eq!(y.shape(), [2, 8, 8, 4]);
    /// assert!(conv.forward(&Array::ones(&[2, 8, 8, 3], Dtype::Float32)?).is_err());
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    Conv2d, 2, conv2d, "mlx_conv2d", "KH, KW,"
);
conv_layer!(
    /// 3-d convolution over `[N, D, H, W, C_in]` (MLX's `nn.Conv3d`).
    Conv3d, 3, conv3d, "mlx_conv3d", "KD, KH, KW,"
);
