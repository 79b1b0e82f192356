//! Convolutions, channels-last as in MLX: inputs are `[N, *spatial, C_in]`
//! and weights `[C_out, *kernel, C_in / groups]` (transposed:
//! `[C_out, *kernel, C_in / groups]` as well, MLX's layout).
//!
//! Parameters come in small structs with MLX's defaults ([`Conv`],
//! [`ConvTranspose`], [`ConvGeneral`]).
//!
//! ```
//! use mlx_rs::ops::{conv1d, Conv};
//! use mlx_rs::{Array, Dtype};
//! let x = Array::ones(&[1, 5, 1], Dtype::Float32)?; // N, L, C
//! let w = Array::ones(&[1, 3, 1], Dtype::Float32)?; // O, K, C
//! let y = conv1d(&x, &w, &Conv { padding: [1], ..Conv::default() })?;
//! assert_eq!(y.to_vec::<f32>()?, [2.0, 3.0, 3.0, 3.0, 2.0]);
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use super::support::{empty_safe, invalid, op};
use crate::Array;

/// Parameters of an `N`-d convolution; the default is MLX's (stride 1, no
/// padding, no dilation, one group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv<const N: usize> {
    /// Step of the kernel per spatial axis.
    pub stride: [i32; N],
    /// Zeros added on both sides per spatial axis.
    pub padding: [i32; N],
    /// Spacing of kernel elements per spatial axis.
    pub dilation: [i32; N],
    /// Number of channel groups (`C_in` and `C_out` must divide by it).
    pub groups: i32,
}

impl<const N: usize> Default for Conv<N> {
    fn default() -> Self {
        Conv {
            stride: [1; N],
            padding: [0; N],
            dilation: [1; N],
            groups: 1,
        }
    }
}

/// Parameters of an `N`-d transposed convolution; the default is MLX's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvTranspose<const N: usize> {
    /// Step of the kernel per spatial axis (upsampling factor).
    pub stride: [i32; N],
    /// Padding removed from both sides per spatial axis.
    pub padding: [i32; N],
    /// Spacing of kernel elements per spatial axis.
    pub dilation: [i32; N],
    /// Extra size added on one side of the output per spatial axis.
    pub output_padding: [i32; N],
    /// Number of channel groups.
    pub groups: i32,
}

impl<const N: usize> Default for ConvTranspose<N> {
    fn default() -> Self {
        ConvTranspose {
            stride: [1; N],
            padding: [0; N],
            dilation: [1; N],
            output_padding: [0; N],
            groups: 1,
        }
    }
}

/// Parameters of [`conv_general`]. Each list has one entry per spatial
/// axis, or is empty for MLX's default (stride 1, no padding, no
/// dilation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvGeneral {
    /// Step of the kernel.
    pub stride: Vec<i32>,
    /// Zeros added before each spatial axis.
    pub padding_lo: Vec<i32>,
    /// Zeros added after each spatial axis.
    pub padding_hi: Vec<i32>,
    /// Spacing of kernel elements.
    pub kernel_dilation: Vec<i32>,
    /// Spacing inserted between input elements.
    pub input_dilation: Vec<i32>,
    /// Number of channel groups.
    pub groups: i32,
    /// Flip the kernel (a true convolution rather than a correlation).
    pub flip: bool,
}

impl Default for ConvGeneral {
    fn default() -> Self {
        ConvGeneral {
            stride: Vec::new(),
            padding_lo: Vec::new(),
            padding_hi: Vec::new(),
            kernel_dilation: Vec::new(),
            input_dilation: Vec::new(),
            groups: 1,
            flip: false,
        }
    }
}

/// MLX divides by `groups` before checking it (SIGFPE on zero).
fn check_groups(op: &'static str, groups: i32) -> crate::Result<()> {
    if groups < 1 {
        return Err(invalid(
            op,
            format!("groups must be positive, got {groups}"),
        ));
    }
    Ok(())
}

op! {
    /// 1-d convolution (cross-correlation) of `[N, L, C_in]` with
    /// `[C_out, K, C_in / groups]`.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message for shapes,
    /// channel counts or parameters that do not fit;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for
    /// `groups < 1` (which MLX divides by before checking).
    ["mlx_conv1d"]
    pub fn conv1d(input: &Array, weight: &Array, p: &Conv<1>) -> Array;
    on conv1d_on, s => {
        check_groups("mlx_conv1d", p.groups)?;
        let out = Array::build("mlx_conv1d", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe {
                mlx_sys::mlx_conv1d(res, input.as_raw(), weight.as_raw(), p.stride[0], p.padding[0], p.dilation[0], p.groups, s.as_raw())
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }

    /// 2-d convolution of `[N, H, W, C_in]` with `[C_out, KH, KW, C_in /
    /// groups]`.
    ///
    /// # Errors
    /// As [`conv1d`].
    ["mlx_conv2d"]
    pub fn conv2d(input: &Array, weight: &Array, p: &Conv<2>) -> Array;
    on conv2d_on, s => {
        check_groups("mlx_conv2d", p.groups)?;
        let out = Array::build("mlx_conv2d", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe {
                mlx_sys::mlx_conv2d(
                    res, input.as_raw(), weight.as_raw(),
                    p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1],
                    p.groups, s.as_raw(),
                )
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }

    /// 3-d convolution of `[N, D, H, W, C_in]` with `[C_out, KD, KH, KW,
    /// C_in / groups]`.
    ///
    /// # Errors
    /// As [`conv1d`].
    ["mlx_conv3d"]
    pub fn conv3d(input: &Array, weight: &Array, p: &Conv<3>) -> Array;
    on conv3d_on, s => {
        check_groups("mlx_conv3d", p.groups)?;
        let out = Array::build("mlx_conv3d", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe {
                mlx_sys::mlx_conv3d(
                    res, input.as_raw(), weight.as_raw(),
                    p.stride[0], p.stride[1], p.stride[2],
                    p.padding[0], p.padding[1], p.padding[2],
                    p.dilation[0], p.dilation[1], p.dilation[2],
                    p.groups, s.as_raw(),
                )
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }

    /// 1-d transposed convolution.
    ///
    /// # Errors
    /// As [`conv1d`].
    ["mlx_conv_transpose1d"]
    pub fn conv_transpose1d(input: &Array, weight: &Array, p: &ConvTranspose<1>) -> Array;
    on conv_transpose1d_on, s => {
        check_groups("mlx_conv_transpose1d", p.groups)?;
        let out = Array::build("mlx_conv_transpose1d", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe {
                mlx_sys::mlx_conv_transpose1d(
                    res, input.as_raw(), weight.as_raw(),
                    p.stride[0], p.padding[0], p.dilation[0], p.output_padding[0], p.groups, s.as_raw(),
                )
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }

    /// 2-d transposed convolution.
    ///
    /// # Errors
    /// As [`conv1d`].
    ["mlx_conv_transpose2d"]
    pub fn conv_transpose2d(input: &Array, weight: &Array, p: &ConvTranspose<2>) -> Array;
    on conv_transpose2d_on, s => {
        check_groups("mlx_conv_transpose2d", p.groups)?;
        let out = Array::build("mlx_conv_transpose2d", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe {
                mlx_sys::mlx_conv_transpose2d(
                    res, input.as_raw(), weight.as_raw(),
                    p.stride[0], p.stride[1], p.padding[0], p.padding[1],
                    p.dilation[0], p.dilation[1], p.output_padding[0], p.output_padding[1],
                    p.groups, s.as_raw(),
                )
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }

    /// 3-d transposed convolution.
    ///
    /// # Errors
    /// As [`conv1d`].
    ["mlx_conv_transpose3d"]
    pub fn conv_transpose3d(input: &Array, weight: &Array, p: &ConvTranspose<3>) -> Array;
    on conv_transpose3d_on, s => {
        check_groups("mlx_conv_transpose3d", p.groups)?;
        let out = Array::build("mlx_conv_transpose3d", |res| {
            // SAFETY: fresh out-param; live handles.
            unsafe {
                mlx_sys::mlx_conv_transpose3d(
                    res, input.as_raw(), weight.as_raw(),
                    p.stride[0], p.stride[1], p.stride[2],
                    p.padding[0], p.padding[1], p.padding[2],
                    p.dilation[0], p.dilation[1], p.dilation[2],
                    p.output_padding[0], p.output_padding[1], p.output_padding[2],
                    p.groups, s.as_raw(),
                )
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }

    /// The general convolution every other one is built on: any number of
    /// spatial axes, separate low and high padding, kernel and input
    /// dilation, and an optional kernel flip.
    ///
    /// # Errors
    /// As [`conv1d`].
    ["mlx_conv_general"]
    pub fn conv_general(input: &Array, weight: &Array, p: &ConvGeneral) -> Array;
    on conv_general_on, s => {
        check_groups("mlx_conv_general", p.groups)?;
        let out = Array::build("mlx_conv_general", |res| {
            // SAFETY: fresh out-param; each list holds its length in ints;
            // live handles.
            unsafe {
                mlx_sys::mlx_conv_general(
                    res, input.as_raw(), weight.as_raw(),
                    p.stride.as_ptr(), p.stride.len(),
                    p.padding_lo.as_ptr(), p.padding_lo.len(),
                    p.padding_hi.as_ptr(), p.padding_hi.len(),
                    p.kernel_dilation.as_ptr(), p.kernel_dilation.len(),
                    p.input_dilation.as_ptr(), p.input_dilation.len(),
                    p.groups, p.flip, s.as_raw(),
                )
            }
        })?;
        // MLX's CPU kernels divide by zero when there are no channels.
        empty_safe(input.size() == 0 || weight.size() == 0, out, s)
    }
}
