//! [`Dropout`], [`Dropout2d`] and [`Dropout3d`]: random zeroing in training
//! mode (see [`Module::train`]), the identity in evaluation mode.

use std::any::Any;

use crate::error::Result;
use crate::nn::Module;
use crate::ops::support::invalid;
use crate::{random, Array};

macro_rules! dropout_layer {
    ($(#[$doc:meta])* $name:ident, $channels:expr, $ndims:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name {
            /// The probability of keeping an element, `1 - p`.
            p_1: f64,
            /// Whether the layer drops (training mode, the default).
            pub training: bool,
        }

        impl $name {
            /// A layer that zeroes with probability `p`, in training mode.
            ///
            /// # Errors
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)
            /// unless `0 <= p < 1` (Python's message).
            pub fn new(p: f64) -> Result<Self> {
                if !(0.0..1.0).contains(&p) {
                    return Err(invalid(
                        stringify!($name),
                        format!("The dropout probability {p} is not in [0, 1)"),
                    ));
                }
                Ok($name { p_1: 1.0 - p, training: true })
            }

            /// The probability of zeroing.
            pub fn p(&self) -> f64 {
                1.0 - self.p_1
            }

            /// In training mode `(mask · x) · 1 / (1 − p)`, the mask drawn
            /// with `bernoulli(1 − p)` from the global random state (Python's
            /// computation, so the same seed gives the same mask); `x`
            /// itself in evaluation mode or for `p = 0`.
            ///
            /// # Errors
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)
            /// naming the layer for an input of the wrong rank.
            #[doc(alias = "mlx_random_bernoulli")]
            pub fn forward(&self, x: &Array) -> Result<Array> {
                let ndims: &[usize] = $ndims;
                if !ndims.is_empty() && !ndims.contains(&x.ndim()) {
                    return Err(invalid(
                        stringify!($name),
                        format!(
                            "Received input with {} dimensions. Expected {} dimensions.",
                            x.ndim(),
                            ndims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" or ")
                        ),
                    ));
                }
                if self.p_1 == 1.0 || !self.training {
                    return Ok(x.clone());
                }
                let channels: usize = $channels;
                let mut shape = x.shape().to_vec();
                let n = shape.len();
                for d in &mut shape[n.saturating_sub(channels + 1)..n.saturating_sub(1)] {
                    *d = 1;
                }
                let mask = random::bernoulli(self.p_1 as f32, Some(&shape), None)?;
                (&mask * x)? * ((1.0 / self.p_1) as f32)
            }
        }

        impl Module for $name {
            fn visit_params<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a Array)) {}

            fn visit_params_mut(&mut self, _: &str, _: &mut dyn FnMut(&str, &mut Array)) {}

            fn visit_modules(
                &self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &dyn Module) -> Result<()>,
            ) -> Result<()> {
                f(prefix, self)
            }

            fn visit_modules_mut(
                &mut self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &mut dyn Module) -> Result<()>,
            ) -> Result<()> {
                f(prefix, self)
            }

            fn as_any(&self) -> &dyn Any {
                self
            }

            fn as_any_mut(&mut self) -> &mut dyn Any {
                self
            }

            fn set_training(&mut self, training: bool) {
                self.training = training;
            }
        }
    };
}

dropout_layer!(
    /// Zeroes each element with probability `p` and scales the rest by
    /// `1 / (1 − p)` (MLX's `nn.Dropout`).
    ///
    /// ```
    /// use mlx_rs::nn::Dropout;
    /// use mlx_rs::{Array, Dtype};
    /// let d = Dropout::new(0.5)?;
    /// let y = d.forward(&Array::ones(&[1000], Dtype::Float32)?)?.to_vec::<f32>()?;
    /// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    Dropout, 0, &[]
);
dropout_layer!(
    /// Zeroes whole channels of `[N, H, W, C]` or `[H, W, C]` with
    /// probability `p` (MLX's `nn.Dropout2d`).
    Dropout2d, 2, &[3, 4]
);
dropout_layer!(
    /// Zeroes whole channels of `[N, D, H, W, C]` or `[D, H, W, C]` with
    /// probability `p` (MLX's `nn.Dropout3d`).
    Dropout3d, 3, &[4, 5]
);
