//! Custom kernels. With `MLX_RS_DEFAULT_DEVICE=gpu` on the CUDA build (the GPU
//! test run) the CUDA kernel must compute the right values; elsewhere both
//! kernel kinds must fail with MLX's message, as an `Err` (a CPU build
//! already refuses to create one: "[cuda_kernel] No CUDA back-end.").

use mlx_rs::fast::{CudaKernel, CudaKernelOptions, KernelConfig, MetalKernel, TemplateArg};
use mlx_rs::{Array, Device, Dtype, Error};

/// Whether this run is the GPU one (mlx-rs then makes the GPU the default
/// device by itself).
fn on_gpu() -> bool {
    std::env::var(mlx_rs::DEFAULT_DEVICE_ENV).as_deref() == Ok("gpu")
}

/// `out[i] = a * x[i] + y[i]` with `a` a template argument and `T` the
/// dtype, over a 2-D input read through its strides.
fn saxpy() -> Result<CudaKernel, Error> {
    CudaKernel::with_options(
        "saxpy",
        &["x", "y"],
        &["out"],
        "auto i = cooperative_groups::this_grid().thread_rank();
         if (i < out_size) { out[i] = static_cast<T>(A) * x[i] + y[i]; }",
        CudaKernelOptions {
            header: "constexpr int out_size = 6;",
            ..Default::default()
        },
    )
}

#[test]
fn cuda_kernel_runs_on_the_gpu_or_errs_elsewhere() {
    let gpu = on_gpu();
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let y = Array::from_slice(&[10.0f32, 20.0, 30.0, 40.0, 50.0, 60.0], &[2, 3]).unwrap();
    let config = KernelConfig::new()
        .output(&[2, 3], Dtype::Float32)
        .grid(6, 1, 1)
        .thread_group(32, 1, 1)
        .template("T", TemplateArg::Dtype(Dtype::Float32))
        .template("A", TemplateArg::Int(3));
    let result = saxpy()
        .and_then(|kernel| kernel.apply(&[&x, &y], &config))
        .and_then(|out| {
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].shape(), [2, 3]);
            out[0].to_vec::<f32>()
        });
    if gpu {
        assert_eq!(result.unwrap(), [13.0, 26.0, 39.0, 52.0, 65.0, 78.0]);
    } else {
        match result {
            Err(Error::Mlx { op, message, .. }) => {
                assert!(op.starts_with("mlx_fast_cuda_kernel"), "{op}");
                assert!(!message.is_empty());
            }
            other => panic!("a CUDA kernel on a CPU build must fail, got {other:?}"),
        }
    }
}

#[test]
fn cuda_kernel_init_value_fills_untouched_outputs() {
    let gpu = on_gpu();
    // Writes only the first element; the rest keep the init value.
    let x = Array::from_slice(&[7.0f32, 8.0, 9.0], &[3]).unwrap();
    let config = KernelConfig::new()
        .output(&[3], Dtype::Float32)
        .grid(1, 1, 1)
        .thread_group(1, 1, 1)
        .init_value(-1.0);
    let result = CudaKernel::new(
        "first_only",
        &["x"],
        &["out"],
        "if (cooperative_groups::this_grid().thread_rank() == 0) { out[0] = x[0]; }",
    )
    .and_then(|kernel| kernel.apply(&[&x], &config))
    .and_then(|o| o[0].to_vec::<f32>());
    if gpu {
        assert_eq!(result.unwrap(), [7.0, -1.0, -1.0]);
    } else {
        assert!(result.is_err());
    }
}

#[test]
fn a_kernel_that_does_not_compile_is_an_error() {
    if !on_gpu() {
        return; // compilation happens on the CUDA backend only
    }
    let kernel = CudaKernel::new("broken", &["x"], &["out"], "this is not C++;").unwrap();
    let x = Array::from_slice(&[1.0f32], &[1]).unwrap();
    let config = KernelConfig::new().output(&[1], Dtype::Float32);
    let err = kernel
        .apply(&[&x], &config)
        .and_then(|o| o[0].to_vec::<f32>())
        .unwrap_err();
    assert!(matches!(err, Error::Mlx { .. }), "{err:?}");
}

#[test]
fn metal_kernel_is_an_error_without_metal() {
    let gpu = on_gpu();
    let x = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let config = KernelConfig::new()
        .output(&[2], Dtype::Float32)
        .grid(2, 1, 1)
        .thread_group(2, 1, 1);
    let result = MetalKernel::new(
        "copy",
        &["x"],
        &["out"],
        "uint i = thread_position_in_grid.x; out[i] = x[i];",
    )
    .and_then(|kernel| kernel.apply(&[&x], &config))
    .and_then(|o| o[0].to_vec::<f32>());
    // Only macOS has Metal; this suite runs on Linux CPU and CUDA.
    assert!(
        result.is_err(),
        "Metal ran on {:?} (gpu={gpu})",
        Device::default_device()
    );
}

#[test]
fn nul_bytes_in_a_kernel_source_are_rejected_before_mlx() {
    let err = CudaKernel::new("k", &["x"], &["o"], "a\0b").unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
}
