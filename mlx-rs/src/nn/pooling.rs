//! Pooling layers: [`MaxPool1d`], [`MaxPool2d`], [`MaxPool3d`],
//! [`AvgPool1d`], [`AvgPool2d`], [`AvgPool3d`], channels-last, computed as
//! Python MLX's `nn` computes them (sliding windows through a reshape when
//! they tile the input, `as_strided` otherwise, then `max` or `mean` over
//! the window axes).

use crate::error::Result;
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::ops::{as_strided, max, mean, pad, Axes, PadMode};
use crate::Array;

/// The windows of `x` (`[N, *spatial, C]`) as `[N, *out, *window, C]`,
/// Python MLX's `_sliding_windows`.
fn sliding_windows(
    layer: &'static str,
    x: &Array,
    window: &[i32],
    stride: &[i32],
) -> Result<Array> {
    let shape = x.shape().to_vec();
    let n = window.len();
    if shape.len() != n + 2 {
        return Err(invalid(
            layer,
            format!(
                "expects an input of {} axes [N, {}C], got shape {shape:?}",
                n + 2,
                "S, ".repeat(n)
            ),
        ));
    }
    let spatial = &shape[1..=n];
    if let Some(i) = (0..n).find(|&i| spatial[i] < window[i]) {
        return Err(invalid(
            layer,
            format!(
                "the window {window:?} does not fit the input {shape:?} (spatial axis {i} is {} \
                 after padding)",
                spatial[i]
            ),
        ));
    }
    if (0..n).all(|i| window[i] == stride[i] && spatial[i] % window[i] == 0) {
        let mut new_shape = vec![shape[0]];
        for i in 0..n {
            new_shape.push(spatial[i] / window[i]);
            new_shape.push(window[i]);
        }
        new_shape.push(shape[n + 1]);
        let last = (2 * n + 1) as i32;
        let mut order = vec![0];
        order.extend((1..last).step_by(2));
        order.extend((2..last).step_by(2));
        order.push(last);
        return x.reshape(&new_shape)?.transpose_axes(&order);
    }
    // Row-major strides of `shape`, in elements.
    let mut strides = vec![1i64; shape.len()];
    for i in (0..shape.len() - 1).rev() {
        strides[i] = strides[i + 1] * i64::from(shape[i + 1]);
    }
    let mut final_shape = vec![shape[0]];
    final_shape.extend((0..n).map(|i| (spatial[i] - window[i]) / stride[i] + 1));
    final_shape.extend_from_slice(window);
    final_shape.push(shape[n + 1]);
    let mut final_strides = vec![strides[0]];
    final_strides.extend((0..n).map(|i| strides[1 + i] * i64::from(stride[i])));
    final_strides.extend_from_slice(&strides[1..=n]);
    final_strides.push(strides[n + 1]);
    as_strided(x, &final_shape, &final_strides, 0)
}

/// Python's checks of `_Pool.__init__`: positive kernel and stride,
/// non-negative padding.
fn check<const N: usize>(layer: &'static str, k: [i32; N], s: [i32; N], p: [i32; N]) -> Result<()> {
    for (name, v) in [("kernel_size", k), ("stride", s)] {
        if v.iter().any(|&x| x <= 0) {
            return Err(invalid(
                layer,
                format!("'{name}' must be positive but got {v:?}."),
            ));
        }
    }
    if p.iter().any(|&x| x < 0) {
        return Err(invalid(
            layer,
            format!("'padding' must be non-negative but got {p:?}."),
        ));
    }
    Ok(())
}

macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident, $n:literal, $reduce:ident, $pad_value:expr, $alias:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Module)]
        #[module(crate = crate)]
        pub struct $name {
            /// The window size per spatial axis.
            #[module(skip)]
            pub kernel_size: [i32; $n],
            /// The step between windows per spatial axis.
            #[module(skip)]
            pub stride: [i32; $n],
            /// Added on both sides of each spatial axis.
            #[module(skip)]
            pub padding: [i32; $n],
        }

        impl $name {
            /// A pooling layer; `stride` defaults to `kernel_size` as in
            /// Python.
            ///
            /// # Errors
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)
            /// for a non-positive kernel size or stride, or a negative
            /// padding (Python's messages).
            pub fn new(
                kernel_size: [i32; $n],
                stride: Option<[i32; $n]>,
                padding: [i32; $n],
            ) -> Result<Self> {
                let stride = stride.unwrap_or(kernel_size);
                check(stringify!($name), kernel_size, stride, padding)?;
                Ok($name { kernel_size, stride, padding })
            }

            /// Pools `x` (`[N, *spatial, C]`).
            ///
            /// # Errors
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)
            /// naming the layer for an input of the wrong rank or smaller
            /// than the window.
            #[doc(alias = $alias)]
            #[doc(alias = "mlx_as_strided")]
            pub fn forward(&self, x: &Array) -> Result<Array> {
                let layer = stringify!($name);
                let x = if self.padding.iter().any(|&p| p > 0) {
                    if x.ndim() != $n + 2 {
                        return sliding_windows(layer, x, &self.kernel_size, &self.stride);
                    }
                    let axes: Vec<i32> = (0..x.ndim() as i32).collect();
                    let mut widths = vec![0];
                    widths.extend_from_slice(&self.padding);
                    widths.push(0);
                    pad(x, &axes, &widths, &widths, $pad_value, PadMode::Constant)?
                } else {
                    x.clone()
                };
                let w = sliding_windows(layer, &x, &self.kernel_size, &self.stride)?;
                let axes: Vec<i32> = (-($n as i32) - 1..-1).collect();
                $reduce(&w, Axes::Many(&axes), false)
            }
        }
    };
}

pool_layer!(
    /// 1-d max pooling over `[N, L, C]` (MLX's `nn.MaxPool1d`; padding
    /// is `-inf`).
    MaxPool1d, 1, max, f32::NEG_INFINITY, "mlx_max_axes"
);
pool_layer!(
    /// 2-d max pooling over `[N, H, W, C]` (MLX's `nn.MaxPool2d`; padding
    /// is `-inf`).
    ///
    /// ```
    /// use mlx_rs::nn::MaxPool2d;
    /// use mlx_rs::{Array, Dtype};
    /// let x = Array::arange(0.0, 16.0, 1.0, Dtype::Float32)?.reshape(&[1, 4, 4, 1])?;
    /// let y = MaxPool2d::new([2, 2], None, [0, 0])?.forward(&x)?;
    /// assert_eq!(y.to_vec::<f32>()?, [5.0, 7.0, 13.0, 15.0]);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    MaxPool2d, 2, max, f32::NEG_INFINITY, "mlx_max_axes"
);
pool_layer!(
    /// 3-d max pooling over `[N, D, H, W, C]` (MLX's `nn.MaxPool3d`).
    MaxPool3d, 3, max, f32::NEG_INFINITY, "mlx_max_axes"
);
pool_layer!(
    /// 1-d average pooling over `[N, L, C]` (MLX's `nn.AvgPool1d`; padding
    /// is zeros and counts in the mean).
    AvgPool1d, 1, mean, 0.0f32, "mlx_mean_axes"
);
pool_layer!(
    /// 2-d average pooling over `[N, H, W, C]` (MLX's `nn.AvgPool2d`).
    AvgPool2d, 2, mean, 0.0f32, "mlx_mean_axes"
);
pool_layer!(
    /// 3-d average pooling over `[N, D, H, W, C]` (MLX's `nn.AvgPool3d`).
    AvgPool3d, 3, mean, 0.0f32, "mlx_mean_axes"
);
