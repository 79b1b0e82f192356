//! Custom GPU kernels: CUDA source run by MLX's CUDA backend
//! ([`CudaKernel`]) and Metal source run by its Metal backend
//! ([`MetalKernel`]).
//!
//! MLX compiles the source on first use (NVRTC on CUDA, the Metal compiler
//! on macOS), caches it, and runs it as a graph node like any other op: the
//! kernel is lazy, composes with other ops, and its outputs are ordinary
//! arrays. You write only the kernel *body*; MLX generates the signature
//! from the input and output names, adding for every input `name_shape`,
//! `name_strides` and `name_ndim` when the body mentions them.
//!
//! A kernel needs its backend: on a build or device without it, `apply`
//! returns MLX's error (an `Err`, as always). [`CudaKernel`] is exercised on
//! an NVIDIA GPU by this crate's GPU test run; [`MetalKernel`] is written to
//! MLX's documented conventions but is **not run on the machines this crate
//! is tested on** (there is no Apple hardware there).
//!
//! ```
//! use mlx_rs::fast::{CudaKernel, KernelConfig};
//! use mlx_rs::{Array, Dtype};
//! // y = 2 x + 1, one thread per element.
//! let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3])?;
//! let config = KernelConfig::new()
//!     .output(&[3], Dtype::Float32)
//!     .grid(3, 1, 1)
//!     .thread_group(256, 1, 1);
//! let out = CudaKernel::new(
//!     "axpb",
//!     &["x"],
//!     &["y"],
//!     "auto i = cooperative_groups::this_grid().thread_rank();
//!      if (i < x_shape[0]) { y[i] = 2.0f * x[i] + 1.0f; }",
//! )
//! .and_then(|kernel| kernel.apply(&[&x], &config));
//! match out {
//!     Ok(out) => assert_eq!(out[0].to_vec::<f32>()?, [3.0, 5.0, 7.0]), // on a CUDA GPU
//!     Err(e) => println!("no CUDA here: {e}"), // "[cuda_kernel] No CUDA back-end."
//! }
//! # Ok::<(), mlx_rs::Error>(())
//! ```

use crate::array::vector;
use crate::error::Result;
use crate::raw::{self, cstring, strings_in, Owned};
use crate::{Array, Dtype, Stream};

/// A template argument of a kernel: becomes `template <...>` parameter
/// `name` of the generated kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateArg {
    /// A type parameter (`typename T`).
    Dtype(Dtype),
    /// An `int` parameter.
    Int(i32),
    /// A `bool` parameter.
    Bool(bool),
}

/// How one launch of a kernel looks: its outputs, grid, thread group,
/// template arguments. Shared by [`CudaKernel`] and [`MetalKernel`].
#[derive(Debug, Clone, PartialEq)]
pub struct KernelConfig {
    outputs: Vec<(Vec<i32>, Dtype)>,
    grid: (i32, i32, i32),
    thread_group: (i32, i32, i32),
    init_value: Option<f32>,
    verbose: bool,
    template: Vec<(String, TemplateArg)>,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig::new()
    }
}

impl KernelConfig {
    /// A launch with no outputs yet, a 1×1×1 grid and thread group.
    pub fn new() -> Self {
        KernelConfig {
            outputs: Vec::new(),
            grid: (1, 1, 1),
            thread_group: (1, 1, 1),
            init_value: None,
            verbose: false,
            template: Vec::new(),
        }
    }

    /// Adds an output of this shape and dtype (in the order of the
    /// kernel's output names).
    pub fn output(mut self, shape: &[i32], dtype: Dtype) -> Self {
        self.outputs.push((shape.to_vec(), dtype));
        self
    }

    /// The total number of threads in each dimension (MLX's convention:
    /// threads, not blocks).
    pub fn grid(mut self, x: i32, y: i32, z: i32) -> Self {
        self.grid = (x, y, z);
        self
    }

    /// Threads per block (CUDA) / threadgroup (Metal).
    pub fn thread_group(mut self, x: i32, y: i32, z: i32) -> Self {
        self.thread_group = (x, y, z);
        self
    }

    /// Fills every output with `value` before the kernel runs (otherwise
    /// outputs start uninitialised).
    pub fn init_value(mut self, value: f32) -> Self {
        self.init_value = Some(value);
        self
    }

    /// Prints the generated source when MLX compiles it.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Adds a template argument.
    pub fn template(mut self, name: &str, arg: TemplateArg) -> Self {
        self.template.push((name.to_owned(), arg));
        self
    }
}

/// Generates the owned-config and kernel plumbing, the constructors and the
/// options type for one backend; the mlx-c API of the two is identical but
/// for names and one constructor option.
macro_rules! kernel_backend {
    (
        $(#[$doc:meta])*
        $Kernel:ident, $Config:ident,
        config_name = $config_name:literal,
        add_output = $add_output:ident, set_grid = $set_grid:ident,
        set_thread_group = $set_tg:ident, set_init_value = $set_init:ident,
        set_verbose = $set_verbose:ident, tmpl_dtype = $t_dtype:ident,
        tmpl_int = $t_int:ident, tmpl_bool = $t_bool:ident,
        apply = $apply:ident, apply_name = $apply_name:literal, raw = $raw:ident,
        raw_config = $raw_config:ident,
        kernel_new = $kernel_new:ident, new_name = $new_name:literal,
        options = $Options:ident { $(#[$opt_doc:meta])* $opt:ident: $opt_ty:ty = $opt_default:expr }
    ) => {
        /// An owned mlx-c launch configuration, filled from a [`KernelConfig`].
        struct $Config(Owned<mlx_sys::$raw_config>);

        impl $Config {
            fn from_config(c: &KernelConfig) -> Result<Self> {
                let cfg = raw::fresh::<mlx_sys::$raw_config>($config_name)?;
                for (shape, dtype) in &c.outputs {
                    // SAFETY: `cfg.0` is live; `shape` points at `len` ints
                    // that mlx-c copies.
                    raw::call(stringify!($add_output), || unsafe {
                        mlx_sys::$add_output(cfg.get(), shape.as_ptr(), shape.len(), dtype.as_raw())
                    })?;
                }
                let (g, t) = (c.grid, c.thread_group);
                // SAFETY: `cfg` is a live config and the arguments are
                // plain scalars (the same holds for the setters below).
                raw::call(stringify!($set_grid), || unsafe { mlx_sys::$set_grid(cfg.get(), g.0, g.1, g.2) })?;
                // SAFETY: as above.
                raw::call(stringify!($set_tg), || unsafe { mlx_sys::$set_tg(cfg.get(), t.0, t.1, t.2) })?;
                if let Some(v) = c.init_value {
                    // SAFETY: as above.
                    raw::call(stringify!($set_init), || unsafe { mlx_sys::$set_init(cfg.get(), v) })?;
                }
                // SAFETY: as above.
                raw::call(stringify!($set_verbose), || unsafe { mlx_sys::$set_verbose(cfg.get(), c.verbose) })?;
                for (name, arg) in &c.template {
                    let name = cstring(name)?;
                    // SAFETY: `cfg` is live; `name` is NUL-terminated and
                    // alive for the call (mlx-c copies it).
                    raw::call("kernel template argument", || unsafe {
                        match *arg {
                            TemplateArg::Dtype(d) => mlx_sys::$t_dtype(cfg.get(), name.as_ptr(), d.as_raw()),
                            TemplateArg::Int(i) => mlx_sys::$t_int(cfg.get(), name.as_ptr(), i),
                            TemplateArg::Bool(b) => mlx_sys::$t_bool(cfg.get(), name.as_ptr(), b),
                        }
                    })?;
                }
                Ok($Config(cfg))
            }
        }

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $Kernel {
            raw: Owned<mlx_sys::$raw>,
        }

        impl $Kernel {
            /// Runs the kernel on `inputs` (in the order of its input
            /// names) on the current stream, returning its outputs.
            ///
            /// # Errors
            /// [`Error::Mlx`](crate::Error::Mlx) when the backend is missing,
            /// the source does not compile, or the launch is invalid.
            #[doc(alias = $apply_name)]
            pub fn apply(&self, inputs: &[&Array], config: &KernelConfig) -> Result<Vec<Array>> {
                self.apply_on(inputs, config, &Stream::current()?)
            }

            /// [`apply`](Self::apply) on an explicit stream.
            ///
            /// # Errors
            /// As [`apply`](Self::apply).
            #[doc(alias = $apply_name)]
            pub fn apply_on(
                &self,
                inputs: &[&Array],
                config: &KernelConfig,
                stream: &Stream,
            ) -> Result<Vec<Array>> {
                let cfg = $Config::from_config(config)?;
                let ins = vector(inputs.iter().copied())?;
                Array::build_vec($apply_name, |res| {
                    // SAFETY: `res` is a fresh out-vector; the kernel, the
                    // input vector, the config and the stream are live.
                    unsafe { mlx_sys::$apply(res, self.raw.get(), ins.get(), cfg.0.get(), stream.as_raw()) }
                })
            }
        }

        #[doc = concat!("Options of [`", stringify!($Kernel), "::with_options`].")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $Options<'a> {
            /// Source placed before the kernel (includes, helpers).
            pub header: &'a str,
            /// Copy inputs to row-contiguous layout first (default `true`).
            pub ensure_row_contiguous: bool,
            $(#[$opt_doc])*
            pub $opt: $opt_ty,
        }

        impl Default for $Options<'_> {
            fn default() -> Self {
                $Options {
                    header: "",
                    ensure_row_contiguous: true,
                    $opt: $opt_default,
                }
            }
        }

        impl $Kernel {
            /// A kernel named `name` with the given input and output names and
            #[doc = concat!("body, with default [`", stringify!($Options), "`].")]
            ///
            /// # Errors
            /// [`Error::InvalidData`](crate::Error::InvalidData) for a string with
            /// a NUL byte; [`Error::Mlx`](crate::Error::Mlx) if MLX refuses it.
            #[doc(alias = $new_name)]
            pub fn new(name: &str, inputs: &[&str], outputs: &[&str], source: &str) -> Result<Self> {
                $Kernel::with_options(name, inputs, outputs, source, $Options::default())
            }

            #[doc = concat!("As [`new`](Self::new), with a header and [`", stringify!($Options), "`].")]
            ///
            /// # Errors
            /// As [`new`](Self::new).
            #[doc(alias = $new_name)]
            pub fn with_options(
                name: &str,
                inputs: &[&str],
                outputs: &[&str],
                source: &str,
                options: $Options<'_>,
            ) -> Result<Self> {
                let s = KernelSource::new(name, inputs, outputs, source, options.header)?;
                // SAFETY: every pointer is a NUL-terminated string alive for the
                // call and the vectors are live; mlx-c copies all of them.
                let raw = raw::returned($new_name, || unsafe {
                    mlx_sys::$kernel_new(
                        s.name.as_ptr(),
                        s.inputs.get(),
                        s.outputs.get(),
                        s.source.as_ptr(),
                        s.header.as_ptr(),
                        options.ensure_row_contiguous,
                        options.$opt,
                    )
                })?;
                Ok($Kernel { raw })
            }
        }
    };
}

kernel_backend! {
    /// A CUDA kernel for MLX's CUDA backend (`fast::cuda_kernel`).
    ///
    /// The body is CUDA C++; inputs are `const T*`, outputs `T*`, and
    /// `cooperative_groups` is available for thread indices.
    CudaKernel, CudaConfig,
    config_name = "mlx_fast_cuda_kernel_config_new",
    add_output = mlx_fast_cuda_kernel_config_add_output_arg,
    set_grid = mlx_fast_cuda_kernel_config_set_grid,
    set_thread_group = mlx_fast_cuda_kernel_config_set_thread_group,
    set_init_value = mlx_fast_cuda_kernel_config_set_init_value,
    set_verbose = mlx_fast_cuda_kernel_config_set_verbose,
    tmpl_dtype = mlx_fast_cuda_kernel_config_add_template_arg_dtype,
    tmpl_int = mlx_fast_cuda_kernel_config_add_template_arg_int,
    tmpl_bool = mlx_fast_cuda_kernel_config_add_template_arg_bool,
    apply = mlx_fast_cuda_kernel_apply, apply_name = "mlx_fast_cuda_kernel_apply", raw = mlx_fast_cuda_kernel,
    raw_config = mlx_fast_cuda_kernel_config,
    kernel_new = mlx_fast_cuda_kernel_new, new_name = "mlx_fast_cuda_kernel_new",
    options = CudaKernelOptions {
        /// Dynamic shared memory in bytes (default 0).
        shared_memory: i32 = 0
    }
}

kernel_backend! {
    /// A Metal kernel for MLX's Metal backend (`fast::metal_kernel`).
    ///
    /// The body is Metal Shading Language; `thread_position_in_grid` and the
    /// other Metal attributes are available. Not exercised on the machines
    /// this crate is tested on (no Apple hardware there).
    MetalKernel, MetalConfig,
    config_name = "mlx_fast_metal_kernel_config_new",
    add_output = mlx_fast_metal_kernel_config_add_output_arg,
    set_grid = mlx_fast_metal_kernel_config_set_grid,
    set_thread_group = mlx_fast_metal_kernel_config_set_thread_group,
    set_init_value = mlx_fast_metal_kernel_config_set_init_value,
    set_verbose = mlx_fast_metal_kernel_config_set_verbose,
    tmpl_dtype = mlx_fast_metal_kernel_config_add_template_arg_dtype,
    tmpl_int = mlx_fast_metal_kernel_config_add_template_arg_int,
    tmpl_bool = mlx_fast_metal_kernel_config_add_template_arg_bool,
    apply = mlx_fast_metal_kernel_apply, apply_name = "mlx_fast_metal_kernel_apply", raw = mlx_fast_metal_kernel,
    raw_config = mlx_fast_metal_kernel_config,
    kernel_new = mlx_fast_metal_kernel_new, new_name = "mlx_fast_metal_kernel_new",
    options = MetalKernelOptions {
        /// Declare outputs as `device atomic<T>*` (default `false`).
        atomic_outputs: bool = false
    }
}

/// The shared part of both constructors: names and sources as C strings.
struct KernelSource {
    name: std::ffi::CString,
    inputs: Owned<mlx_sys::mlx_vector_string>,
    outputs: Owned<mlx_sys::mlx_vector_string>,
    source: std::ffi::CString,
    header: std::ffi::CString,
}

impl KernelSource {
    fn new(
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        source: &str,
        header: &str,
    ) -> Result<Self> {
        Ok(KernelSource {
            name: cstring(name)?,
            inputs: strings_in(inputs)?,
            outputs: strings_in(outputs)?,
            source: cstring(source)?,
            header: cstring(header)?,
        })
    }
}
