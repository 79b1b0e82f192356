//! Safe Rust bindings to Apple's [MLX] array framework, through its C API
//! mlx-c.
//!
//! The core is [`Array`]: lazy, cheap to clone, exact about dtypes, and
//! unable to end the process: every MLX failure comes back as an
//! [`Error`], never as a panic or an `exit`.
//!
//! ```
//! use mlx_rs::{Array, Dtype};
//! let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! let b = Array::ones(&[2], Dtype::Float32)?;
//! let c = ((&a + &b)? * 2.0)?;           // broadcasting; operators return Result
//! assert_eq!(c.to_vec::<f32>()?, [4.0, 6.0, 8.0, 10.0]);
//! assert_eq!(c.index((.., 1))?.to_vec::<f32>()?, [6.0, 10.0]);
//! // Prints as Python MLX does: array([[4, 6],
//! //                                   [8, 10]], dtype=float32)
//! assert_eq!(c.to_string(), "array([[4, 6],\n       [8, 10]], dtype=float32)");
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! - [`array`](Array): construction, queries, evaluation, reading back.
//! - [`ops`]: arithmetic (also as operators), comparisons, shapes.
//! - [`index`]: NumPy/MLX indexing and indexed updates.
//! - [`ops::linalg`], [`ops::fft`], [`random`]: linear algebra (on the CPU
//!   stream by default), Fourier transforms, random numbers with explicit
//!   keys or MLX's per-thread default key state.
//! - [`Device`], [`Stream`], [`with_stream`]: where work runs.
//! - [`memory`]: allocator statistics and limits.
//! - [`Device::info`], [`metal`], [`cuda`], [`version`]: what MLX reports
//!   about devices, backends and itself.
//! - [`io`]: safetensors, GGUF and `.npy` files, strict weight loading.
//! - [`quantization`]: affine, mxfp4, mxfp8 and nvfp4 quantization and the
//!   quantized matrix products.
//! - [`export`]: functions to and from `.mlxfn` files (interchangeable
//!   with Python MLX), graph pictures.
//! - [`fast`]: fused attention, normalization and rotary embeddings.
//! - [`nn`]: layers for inference, the [`nn::Module`] trait and its derive,
//!   whole-model quantization, mlx-lm compatibility.
//!
//! # What can still end the process
//! Running out of memory, as in Rust's standard library. MLX's CPU
//! allocator does not check for a failed `malloc` (evaluating an array of
//! terabytes segfaults in MLX 0.32.2), and Rust's own allocations abort.
//! Everything else is checked: MLX's C++ exceptions become [`Error::Mlx`],
//! and what MLX does *not* check but would read or write out of bounds
//! (out-of-range gather/scatter indices) is checked here first.
//!
//! [MLX]: https://github.com/ml-explore/mlx

mod array;
pub mod cuda;
mod device;
pub mod distributed;
mod dtype;
mod error;
pub mod export;
pub mod fast;
pub mod index;
pub mod io;
pub mod memory;
pub mod metal;
pub mod nn;
pub mod ops;
pub mod optimizers;
pub mod quantization;
pub mod random;
mod raw;
mod stream;
pub mod transforms;
pub mod version;

pub use array::{async_eval, eval, Array};
pub use device::{Device, DeviceInfo, DeviceInfoValue, DeviceType, DEFAULT_DEVICE_ENV};
pub use dtype::{ArrayElement, Dtype};
pub use error::{Error, Result};
pub use stream::{synchronize, with_stream, Stream, ThreadLocalStream};

/// Re-exported so users can name the element types without extra
/// dependencies.
pub use half::{bf16, f16};
/// Re-exported complex type used for `complex64` elements.
pub use num_complex::Complex32;
