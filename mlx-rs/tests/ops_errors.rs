//! Invalid arguments to `mlx_rs::ops` return `Err`, never abort: a table
//! of bad inputs (bad axes, shapes that do not match, wrong dtypes,
//! out-of-range indices and windows, unsupported parameters), one call
//! each. Where Python MLX 0.32.2 rejects the same call, `golden/
//! ops_cases.json` holds its message (MLX's C++ exception text), and the
//! `Error::Mlx` message must be exactly that. The rest are checked by
//! mlx-rs itself before MLX is called (index values, `as_strided` views,
//! which MLX does not check) or have no Python equivalent.
//!
//! A few Python messages come from MLX's CPU kernels (`*_cpu` cases, and
//! messages naming `eval_cpu`): on the GPU those calls must still fail with
//! an `Error::Mlx`, whose (GPU) message is printed as a `GPU-NOTE` line.

mod common;
mod device;
mod ops_support;

use device::{float64_op, on_gpu, stderr_line};
use mlx_rs::ops::{
    self, Axes, Conv, ConvGeneral, ConvTranspose, Indexing, PadMode, Scan, Side, Update,
};
use mlx_rs::quantization::raw::Params;
use mlx_rs::quantization::{self, GatherIndices, QuantMode};
use mlx_rs::{Array, Dtype, Error, Result};
use ops_support::{golden, inputs};

fn one(a: Result<Array>) -> Result<Vec<Array>> {
    Ok(vec![a?])
}

/// The mlx-rs call of bad case `name`.
fn run(name: &str, x: &[Array]) -> Result<Vec<Array>> {
    let all = Scan::default();
    match name {
        "sum_bad_axis" => one(ops::sum(&x[0], 2, false)),
        "sum_repeated_axes" => one(ops::sum(&x[0], &[0, 0], false)),
        "mean_bad_axis" => one(ops::mean(&x[0], -3, false)),
        "var_bad_axis" => one(ops::var(&x[0], 5, false, 0)),
        "argmax_bad_axis" => one(ops::argmax(&x[0], Some(2), false)),
        "softmax_bad_axis" => one(ops::softmax(&x[0], 3, false)),
        "logsumexp_bad_axis" => one(ops::logsumexp(&x[0], &[0, 4], false)),
        "cumsum_bad_axis" => one(ops::cumsum(&x[0], Some(2), all, None)),
        "cummax_bad_axis" => one(ops::cummax(&x[0], Some(-3), all)),
        "sort_bad_axis" => one(ops::sort(&x[0], Some(2))),
        "argsort_bad_axis" => one(ops::argsort(&x[0], Some(-4))),
        "partition_bad_kth" => one(ops::partition(&x[0], 5, Some(1))),
        "topk_too_many" => one(ops::topk(&x[0], 4, Some(1))),
        "add_shapes" => one(ops::add(&x[0], &x[1])),
        "maximum_shapes" => one(ops::maximum(&x[0], &x[1])),
        "matmul_shapes" | "matmul_int" => one(ops::matmul(&x[0], &x[1])),
        "addmm_shapes" => one(ops::addmm(&x[0], &x[1], &x[2], 1.0, 1.0)),
        "inner_shapes" => one(ops::inner(&x[0], &x[1])),
        "tensordot_shapes" => one(ops::tensordot(&x[0], &x[1], 1)),
        "tensordot_axes_len" => one(ops::tensordot_axes(&x[0], &x[1], &[0, 1], &[0])),
        "vecdot_shapes" => one(ops::vecdot(&x[0], &x[1], -1)),
        "einsum_bad" => one(ops::einsum("ij,jk->ik", &x[..2])),
        "einsum_syntax" => one(ops::einsum("ij->iz", &x[..1])),
        "einsum_nul" => one(ops::einsum("i\0->i", &x[..1])),
        "bitwise_and_float" => one(ops::bitwise_and(&x[0], &x[1])),
        "bitwise_invert_float" => one(ops::bitwise_invert(&x[0])),
        "left_shift_float" => one(ops::left_shift(&x[0], &x[1])),
        "remainder_shapes" => one(ops::remainder(&x[0], &x[1])),
        "divmod_complex" => ops::divmod(&x[0], &x[1]),
        "concatenate_shapes" => one(ops::concatenate(&x[..2], Some(0))),
        "concatenate_bad_axis" => one(ops::concatenate(&x[..2], Some(2))),
        "concatenate_empty" => one(ops::concatenate([], Some(0))),
        "stack_shapes" => one(ops::stack(&x[..2], 0)),
        "stack_bad_axis" => one(ops::stack(&x[..2], 3)),
        "split_uneven" => ops::split(&x[0], 2, 0),
        "split_bad_axis" => ops::split(&x[0], 2, 1),
        "unstack_scalar" => ops::unstack(&x[0], 0),
        "reshape_size" => one(x[0].reshape(&[4, 2])),
        "reshape_two_infer" => one(x[0].reshape(&[-1, -1])),
        "transpose_not_perm" => one(x[0].transpose_axes(&[0, 0])),
        "broadcast_to_bad" => one(x[0].broadcast_to(&[3, 3])),
        "broadcast_arrays_bad" => ops::broadcast_arrays(&x[..2]),
        "expand_dims_bad_axis" => one(ops::expand_dims(&x[0], &[3])),
        "squeeze_not_one" => one(ops::squeeze(&x[0], 0)),
        "squeeze_bad_axis" => one(ops::squeeze(&x[0], &[1, 5])),
        "flatten_bad_axes" => one(ops::flatten(&x[0], 2, 1)),
        "unflatten_bad_shape" => one(ops::unflatten(&x[0], 1, &[4, 2])),
        "moveaxis_bad" => one(ops::moveaxis(&x[0], 0, 2)),
        "swapaxes_bad" => one(ops::swapaxes(&x[0], 0, -3)),
        "flip_bad_axis" => one(ops::flip(&x[0], &[0, 1, 2])),
        "roll_bad_axis" => one(ops::roll(&x[0], &[1], 2)),
        "tile_negative" => one(ops::tile(&x[0], &[-1])),
        "repeat_negative" => one(ops::repeat(&x[0], -1, None)),
        "repeat_bad_axis" => one(ops::repeat(&x[0], 2, Some(1))),
        "pad_negative" => one(ops::pad(
            &x[0],
            &[0, 1],
            &[0, 0],
            &[-1, 0],
            0,
            PadMode::Constant,
        )),
        "pad_lengths" => one(ops::pad(
            &x[0],
            &[0, 1],
            &[1],
            &[1, 1],
            0,
            PadMode::Constant,
        )),
        "pad_symmetric_negative" => one(ops::pad_symmetric(&x[0], -1, 0, PadMode::Constant)),
        "diff_negative" => one(ops::diff(&x[0], -1, -1)),
        "diff_bad_axis" => one(ops::diff(&x[0], 1, 1)),
        "tril_1d" => one(ops::tril(&x[0], 0)),
        "diag_3d" => one(ops::diag(&x[0], 0)),
        "diagonal_same_axes" => one(ops::diagonal(&x[0], 0, 1, 1)),
        "trace_bad_axes" => one(ops::trace(&x[0], 0, 0, 3, None)),
        "identity_negative" => one(ops::identity(-1, Dtype::Float32)),
        "tri_negative" => one(ops::tri(-1, 2, 0, Dtype::Float32)),
        "linspace_negative" => one(ops::linspace(0.0, 1.0, -1, true, Dtype::Float32)),
        "window_negative" => one(ops::hanning(-3)),
        "take_out_of_range" => one(ops::take(&x[0], &x[1], None).and_then(|_| {
            let big = Array::from_slice(&[12i32], &[1])?;
            ops::take(&x[0], &big, None)
        })),
        "take_axis_out_of_range" => one(ops::take(&x[0], &x[1], Some(0))),
        "take_float_indices" => one(ops::take(&x[0], &x[1], Some(0))),
        "take_bad_axis" => one(ops::take(&x[0], &x[1], Some(2))),
        "take_along_axis_out_of_range" => one(ops::take_along_axis(&x[0], &x[1], 1)),
        "take_along_axis_ndim" => one(ops::take_along_axis(&x[0], &x[1], 1)),
        "put_along_axis_out_of_range" => one(ops::put_along_axis(&x[0], &x[1], &x[2], 1)),
        "scatter_add_axis_out_of_range" => one(ops::scatter_add_axis(&x[0], &x[1], &x[2], 1)),
        "gather_out_of_range" => one(ops::gather(&x[0], [&x[1]], &[0], &[1, 3])),
        "gather_axes_count" => one(ops::gather(&x[0], [&x[1]], &[0, 1], &[1, 3])),
        "scatter_out_of_range" => one(ops::scatter(&x[0], [&x[1]], &x[2], &[0], Update::Set)),
        "scatter_updates_shape" => one(ops::scatter(&x[0], [&x[1]], &x[2], &[0], Update::Add)),
        "scatter_max_out_of_range" => one(ops::scatter(&x[0], [&x[1]], &x[2], &[0], Update::Max)),
        "masked_scatter_short_source" | "masked_scatter_float_mask" => {
            one(ops::masked_scatter(&x[0], &x[1], &x[2]))
        }
        "slice_zero_step" => one(ops::slice(&x[0], &[0, 0], &[4, 5], &[1, 0])),
        "slice_lengths" => one(ops::slice(&x[0], &[0], &[4, 5], &[1, 1])),
        "slice_dynamic_out_of_range" => one(ops::slice_dynamic(&x[0], &x[1], &[0, 1], &[2, 3])),
        "slice_update_shape" => one(ops::slice_update(
            &x[0],
            &x[1],
            &[0, 0],
            &[2, 2],
            &[1, 1],
            Update::Set,
        )),
        "slice_update_dynamic_out_of_range" => {
            one(ops::slice_update_dynamic(&x[0], &x[1], &x[2], &[0, 1]))
        }
        "as_strided_out_of_range" => one(ops::as_strided(&x[0], &[3, 2], &[2, 1], 1)),
        "as_strided_negative_reach" => one(ops::as_strided(&x[0], &[3], &[-1], 1)),
        "as_strided_lengths" => one(ops::as_strided(&x[0], &[3, 2], &[1], 0)),
        "view_bad_size" => one(ops::view(&x[0], Dtype::Float64)),
        "gather_mm_out_of_range" => one(ops::gather_mm(
            &x[0],
            &x[1],
            GatherIndices {
                rhs: Some(&x[2]),
                ..Default::default()
            },
        )),
        "gather_mm_shapes" => one(ops::gather_mm(&x[0], &x[1], GatherIndices::default())),
        "segmented_mm_out_of_range" => one(ops::segmented_mm(&x[0], &x[1], &x[2])),
        "conv1d_channels" | "conv1d_ndim" => one(ops::conv1d(&x[0], &x[1], &Conv::default())),
        "conv2d_groups" => one(ops::conv2d(
            &x[0],
            &x[1],
            &Conv {
                groups: 2,
                ..Conv::default()
            },
        )),
        "conv3d_ndim" => one(ops::conv3d(&x[0], &x[1], &Conv::default())),
        "conv_transpose1d_channels" => one(ops::conv_transpose1d(
            &x[0],
            &x[1],
            &ConvTranspose::default(),
        )),
        "conv_transpose2d_ndim" => one(ops::conv_transpose2d(
            &x[0],
            &x[1],
            &ConvTranspose::default(),
        )),
        "conv_transpose3d_ndim" => one(ops::conv_transpose3d(
            &x[0],
            &x[1],
            &ConvTranspose::default(),
        )),
        "conv_general_stride" => one(ops::conv_general(
            &x[0],
            &x[1],
            &ConvGeneral {
                stride: vec![1, 1],
                ..ConvGeneral::default()
            },
        )),
        "hadamard_bad_size" => one(ops::hadamard_transform(&x[0], None)),
        "from_fp8_float_input" => one(ops::from_fp8(&x[0], Dtype::Float32)),
        "searchsorted_0d" => one(ops::searchsorted(&x[0], &x[1], Side::Left)),
        "where_shapes" => one(ops::select(&x[0], &x[1], &x[2])),
        "clip_no_bounds" => one(ops::clip(&x[0], None, None)),
        "isclose_shapes" => one(ops::isclose(&x[0], &x[1], Default::default())),
        "allclose_shapes" => one(ops::allclose(&x[0], &x[1], Default::default())),
        "negative_bool" => one(ops::negative(&x[0])),
        "quantize_bad_group" => {
            let p = Params {
                mode: "affine",
                group_size: Some(48),
                bits: Some(4),
            };
            quantization::raw::quantize(&x[0], &p, None)
        }
        "gather_qqmm_cpu" => one(ops::gather_qqmm(
            &x[0],
            &x[1],
            None,
            GatherIndices {
                rhs: Some(&x[2]),
                ..Default::default()
            },
            &Params {
                mode: "mxfp8",
                group_size: None,
                bits: None,
            },
            None,
            None,
        )),
        "gather_qqmm_out_of_range" => one(ops::gather_qqmm(
            &x[0],
            &x[1],
            None,
            GatherIndices {
                rhs: Some(&x[2]),
                ..Default::default()
            },
            &Params {
                mode: "mxfp8",
                group_size: None,
                bits: None,
            },
            None,
            None,
        )),
        "number_of_elements_bad_axis" => {
            one(ops::number_of_elements(&x[0], &[4], false, Dtype::Int32))
        }
        "argpartition_bad_kth" => one(ops::argpartition(&x[0], -4, Some(1))),
        "cumprod_bad_axis" => one(ops::cumprod(&x[0], Some(3), all, None)),
        "logcumsumexp_bad_axis" => one(ops::logcumsumexp(&x[0], Some(3), all)),
        "count_nonzero_bad_axis" => one(ops::count_nonzero(&x[0], 3, false)),
        "median_bad_axis" => one(ops::median(&x[0], 3, false)),
        "std_bad_axes" => one(ops::std(&x[0], &[0, 0], false, 0)),
        "conv1d_zero_stride" => one(ops::conv1d(
            &x[0],
            &x[1],
            &Conv {
                stride: [0],
                ..Conv::default()
            },
        )),
        "conv1d_zero_dilation" => one(ops::conv1d(
            &x[0],
            &x[1],
            &Conv {
                dilation: [0],
                ..Conv::default()
            },
        )),
        "conv2d_zero_groups" => one(ops::conv2d(
            &x[0],
            &x[1],
            &Conv {
                groups: 0,
                ..Conv::default()
            },
        )),
        "conv_transpose1d_zero_stride" => one(ops::conv_transpose1d(
            &x[0],
            &x[1],
            &ConvTranspose {
                stride: [0],
                ..ConvTranspose::default()
            },
        )),
        "conv_transpose1d_zero_groups" => one(ops::conv_transpose1d(
            &x[0],
            &x[1],
            &ConvTranspose {
                groups: 0,
                ..ConvTranspose::default()
            },
        )),
        "conv_general_zero_groups" => one(ops::conv_general(
            &x[0],
            &x[1],
            &ConvGeneral {
                groups: 0,
                ..ConvGeneral::default()
            },
        )),
        "conv1d_kernel_too_big" => one(ops::conv1d(&x[0], &x[1], &Conv::default())),
        "split_zero" => ops::split(&x[0], 0, 0),
        "argmax_empty" => one(ops::argmax(&x[0], None, false)),
        "topk_zero_size" => one(ops::topk(&x[0], 1, Some(-1))),
        "sum_axis_min" => one(ops::sum(&x[0], i32::MIN, false)),
        "expand_dims_axis_max" => one(ops::expand_dims(&x[0], &[i32::MAX])),
        "number_of_elements_0d" => one(ops::number_of_elements(&x[0], &[0], false, Dtype::Int32)),
        "take_empty_axis" => one(ops::take(&x[0], &x[1], Some(0))),
        "gather_no_indices_wrong_sizes" => one(ops::gather(&x[0], [], &[], &[1])),
        "scatter_no_indices_wrong_shape" => one(ops::scatter(&x[0], [], &x[1], &[], Update::Set)),
        "slice_dynamic_lengths" => one(ops::slice_dynamic(&x[0], &x[1], &[0, 1], &[2])),
        "slice_dynamic_float_start" => one(ops::slice_dynamic(&x[0], &x[1], &[0, 1], &[2, 2])),
        "slice_dynamic_negative_start" => one(ops::slice_dynamic(&x[0], &x[1], &[0, 1], &[2, 2])),
        "slice_update_dynamic_bigger" | "slice_update_dynamic_broadcast_window" => {
            one(ops::slice_update_dynamic(
                &x[0],
                &x[1],
                &x[2],
                if x[2].size() == 1 { &[1] } else { &[0, 1] },
            ))
        }
        "as_strided_empty_source" => one(ops::as_strided(&x[0], &[1], &[1], 0)),
        "view_0d_bigger" => one(ops::view(&x[0], Dtype::Float64)),
        "diagonal_bad_axis" => one(ops::diagonal(&x[0], 0, 0, 5)),
        "unflatten_zero" => one(ops::unflatten(&x[0], 1, &[0, -1])),
        "put_along_axis_shapes" => one(ops::put_along_axis(&x[0], &x[1], &x[2], 1)),
        "gather_mm_float_indices" => one(ops::gather_mm(
            &x[0],
            &x[1],
            GatherIndices {
                rhs: Some(&x[2]),
                ..Default::default()
            },
        )),
        "segmented_mm_float_segments" => one(ops::segmented_mm(&x[0], &x[1], &x[2])),
        "einsum_too_few_operands" => one(ops::einsum("ij,jk->ik", &x[..1])),
        "median_empty" => one(ops::median(&x[0], Axes::All, false)),
        "repeat_0d_axis" => one(ops::repeat(&x[0], 2, Some(0))),
        "roll_0d_axis" => one(ops::roll(&x[0], &[1], 0)),
        "tensordot_negative" => one(ops::tensordot(&x[0], &x[1], -1)),
        "softmax_int_axes_dup" => one(ops::softmax(&x[0], &[1, 1], false)),
        "sort_empty_is_not_an_error_but_kth_is" => one(ops::partition(&x[0], 1, Some(-1))),
        "floor_divide_int_zero" => one(ops::floor_divide(&x[0], &x[1])),
        "remainder_int_zero" | "remainder_min_by_minus_one" => one(ops::remainder(&x[0], &x[1])),
        "divmod_int_zero" => ops::divmod(&x[0], &x[1]),
        "gather_slice_too_big" => one(ops::gather(&x[0], [&x[1]], &[0], &[1, 5])),
        "gather_slice_negative" => one(ops::gather(&x[0], [&x[1]], &[0], &[1, -1])),
        "scatter_window_too_big" => one(ops::scatter(&x[0], [&x[1]], &x[2], &[0], Update::Set)),
        "take_along_axis_bad_axis" => one(ops::take_along_axis(&x[0], &x[1], 2)),
        "put_along_axis_float_indices" => one(ops::put_along_axis(&x[0], &x[1], &x[2], 1)),
        "as_strided_huge" => {
            let m = i32::MAX;
            one(ops::as_strided(&x[0], &[m, m, m], &[0, 0, 0], 0))
        }
        "broadcast_arrays_huge" => {
            let m = i32::MAX;
            let a = Array::zeros(&[1], Dtype::Float32)?.broadcast_to(&[m, 1, 1])?;
            let b = Array::zeros(&[1], Dtype::Float32)?.broadcast_to(&[m, m])?;
            ops::broadcast_arrays([&a, &b])
        }
        "outer_huge" => {
            let a = Array::zeros(&[1], Dtype::Float64)?.broadcast_to(&[i32::MAX])?;
            one(ops::outer(&a, &a).and_then(|o| ops::outer(&o, &a)))
        }
        "masked_scatter_rows_short_source" => one(ops::masked_scatter(&x[0], &x[1], &x[2])),
        "depends_on_nothing_is_fine_but_shapes" => {
            // No inputs is fine (no outputs); a bad dependency is not.
            assert!(ops::depends([], [&x[0]])?.is_empty());
            let bad = Array::from_slice(&[5i32], &[1])?;
            ops::depends([&x[0]], [&ops::take(&x[0], &bad, None)?])
        }
        "add_huge_broadcast" => {
            let m = i32::MAX;
            let a = Array::zeros(&[1], Dtype::Float32)?.broadcast_to(&[m, 1, m])?;
            let b = Array::zeros(&[1], Dtype::Float32)?.broadcast_to(&[m, m, 1])?;
            one(&a + &b)
        }
        "exp_huge_broadcast" => {
            let m = i32::MAX;
            let a = Array::zeros(&[1], Dtype::Float32)?.broadcast_to(&[m, m, m])?;
            one(ops::exp(&a))
        }
        other => panic!("no Rust call for bad case {other}"),
    }
}

/// Bad cases that Python MLX refuses only when its CPU kernel runs
/// (`[ScatterAxis::eval_cpu] Cannot scatter with indices type.`), while the
/// CUDA kernel scatters to offsets read from float bits: mlx-rs refuses
/// them before evaluation, with [`Error::InvalidIndex`].
const REFUSED_BEFORE_MLX: &[&str] = &["put_along_axis_float_indices"];

/// Bad cases only because Python's golden run was on the CPU, which has no
/// kernel for them (`gather_qqmm`); MLX's CUDA backend has one.
const GPU_HAS_KERNEL: &[&str] = &["gather_qqmm_cpu"];

#[test]
fn bad_inputs_are_errors_with_mlx_messages() {
    let _ = (Axes::All, Indexing::Xy, QuantMode::Mxfp8);
    let cases = golden()["bad"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = inputs(case);
        // Evaluate, so errors MLX reports only when it runs (CPU kernels
        // that do not exist) are seen too.
        let res = run(name, &x).and_then(|v| {
            mlx_rs::eval(&v)?;
            Ok(v)
        });
        let message = case["message"].as_str();
        // MLX refuses these only in its CPU kernel (and its CUDA kernel runs
        // them on garbage): mlx-rs refuses them itself, on every device.
        if REFUSED_BEFORE_MLX.contains(&name) {
            match res {
                Err(Error::InvalidIndex { op, reason }) => println!("{name}: {op}: {reason}"),
                other => failures.push(format!("{name}: {other:?}, not Error::InvalidIndex")),
            }
            continue;
        }
        // CPU-only in Python's golden run, but MLX's CUDA backend has a
        // kernel (docs/gpu.md): on the GPU it must run.
        if on_gpu() && GPU_HAS_KERNEL.contains(&name) {
            match res {
                Ok(v) => stderr_line(&format!(
                    "GPU-NOTE ops_errors {name} runs on the GPU: shape {:?}",
                    v[0].shape()
                )),
                Err(e) => failures.push(format!("{name}: on the GPU {e:?}, expected a result")),
            }
            continue;
        }
        // a message from a CPU kernel: on the GPU any MLX error will do
        let cpu_kernel = name.ends_with("_cpu") || message.is_some_and(|m| m.contains("eval_cpu"));
        if on_gpu() && cpu_kernel {
            match res {
                Err(Error::Mlx { message, .. }) => {
                    stderr_line(&format!("GPU-NOTE ops_errors {name} message={message:?}"))
                }
                other => failures.push(format!("{name}: on the GPU {other:?}, not Error::Mlx")),
            }
            continue;
        }
        match (res, message) {
            (Ok(_), _) => failures.push(format!("{name}: succeeded")),
            (Err(Error::Mlx { message, .. }), Some(want)) if message != want => {
                failures.push(format!("{name}: message {message:?}, Python {want:?}"))
            }
            (Err(e), Some(_)) if !matches!(e, Error::Mlx { .. }) => {
                failures.push(format!("{name}: {e:?} is not Error::Mlx"))
            }
            (Err(e), _) => println!("{name}: {e}"),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad cases:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
    println!("{} bad-input cases", cases.len());
}

/// Empty inputs that MLX 0.32.2's CPU kernels divide by zero on (SIGFPE in
/// Python MLX): mlx-rs returns the empty (or zero) result instead.
#[test]
fn empty_inputs_do_not_crash() {
    let e = Array::zeros(&[0], Dtype::Float32).unwrap();
    let z = Array::zeros(&[2, 0], Dtype::Float32).unwrap();
    let all = Scan::default();
    let outs = [
        ops::sort(&e, None),
        ops::argsort(&e, None),
        ops::sort(&z, Some(1)),
        ops::cumsum(&e, None, all, None),
        float64_op("cumsum to float64", || {
            ops::cumsum(&z, Some(0), all, Some(Dtype::Float64))
        }),
        ops::cumprod(&z, Some(1), all, None),
        ops::cummax(&e, None, all),
        ops::cummin(&e, None, all),
        ops::logcumsumexp(&e, None, all),
        ops::topk(&e, 0, None),
    ];
    for (i, o) in outs.into_iter().enumerate() {
        let o = o.unwrap_or_else(|err| panic!("case {i}: {err}"));
        o.eval().unwrap();
        assert_eq!(o.size(), 0, "case {i}");
    }
    assert_eq!(ops::argsort(&e, None).unwrap().dtype(), Dtype::Uint32);
    assert_eq!(
        float64_op("cumsum to float64", || {
            ops::cumsum(&z, Some(0), all, Some(Dtype::Float64))
        })
        .unwrap()
        .dtype(),
        Dtype::Float64
    );
    // No input channels: the convolution is an empty sum, zeros.
    let x = Array::zeros(&[1, 3, 0], Dtype::Float32).unwrap();
    let w = Array::zeros(&[2, 1, 0], Dtype::Float32).unwrap();
    let y = ops::conv1d(&x, &w, &Conv::default()).unwrap();
    assert_eq!(y.shape(), [1, 3, 2]);
    assert_eq!(y.to_vec::<f32>().unwrap(), [0.0; 6]);
    let y = ops::conv_transpose1d(&x, &w, &ConvTranspose::default()).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), [0.0; 6]);
    let y = ops::conv_general(&x, &w, &ConvGeneral::default()).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), [0.0; 6]);
}

/// Integer division that does not trap still works, on the checked path.
#[test]
fn integer_division_still_works() {
    let a = Array::from_slice(&[7i32, -7, i32::MIN], &[3]).unwrap();
    let b = Array::from_slice(&[2i32, 2, 1], &[3]).unwrap();
    // MLX 0.32.2's integer floor_divide truncates (Python MLX gives -3 too),
    // while divmod floors.
    assert_eq!(
        ops::floor_divide(&a, &b).unwrap().to_vec::<i32>().unwrap(),
        [3, -3, i32::MIN]
    );
    assert_eq!(
        ops::remainder(&a, &b).unwrap().to_vec::<i32>().unwrap(),
        [1, 1, 0]
    );
    let q = ops::divmod(&a, 2).unwrap();
    assert_eq!(q[0].to_vec::<i32>().unwrap(), [3, -4, i32::MIN / 2]);
    assert_eq!(q[1].to_vec::<i32>().unwrap(), [1, 1, 0]);
    // Float division by zero is IEEE, not an error.
    let f = Array::from_slice(&[1.0f32], &[1]).unwrap();
    assert!(ops::floor_divide(&f, 0.0)
        .unwrap()
        .item::<f32>()
        .unwrap()
        .is_infinite());
    // Through the operator too.
    assert!((&a % 0).is_err());
}

/// Both axis scatters refuse float indices before evaluation (on every
/// device: MLX's CUDA kernel would scatter to garbage offsets), and take
/// integer ones.
#[test]
fn axis_scatters_refuse_float_indices() {
    let a = Array::zeros(&[2, 3], Dtype::Float32).unwrap();
    let v = Array::ones(&[2, 1], Dtype::Float32).unwrap();
    let float_idx = Array::from_slice(&[0.0f32, 2.0], &[2, 1]).unwrap();
    let int_idx = Array::from_slice(&[0i32, 2], &[2, 1]).unwrap();
    for (name, r) in [
        ("put_along_axis", ops::put_along_axis(&a, &float_idx, &v, 1)),
        (
            "scatter_add_axis",
            ops::scatter_add_axis(&a, &float_idx, &v, 1),
        ),
    ] {
        match r {
            Err(Error::InvalidIndex { op, reason }) => {
                assert_eq!(op, format!("mlx_{name}"));
                assert_eq!(reason, "indices must be integers, got float32");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let put = ops::put_along_axis(&a, &int_idx, &v, 1).unwrap();
    let add = ops::scatter_add_axis(&a, &int_idx, &v, 1).unwrap();
    let want = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    assert_eq!(put.to_vec::<f32>().unwrap(), want);
    assert_eq!(add.to_vec::<f32>().unwrap(), want);
}
