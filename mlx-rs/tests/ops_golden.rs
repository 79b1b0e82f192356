//! mlx-rs's ops (`mlx_rs::ops`) against Python MLX 0.32.2: every case of
//! `golden/ops_cases.json` (written by `scripts/golden/ops.py` from fixed
//! seeds) is run through the Rust wrapper of the same name, and the
//! outputs must have Python's dtype and shape and its values: integers and
//! booleans exactly, floats within `1e-5` relative plus `1e-6` absolute
//! (NaN equals NaN). Python MLX and mlx-rs run the same libmlx, so in
//! practice the values are identical; the tolerance only keeps the test
//! from depending on that. On the GPU each float output is compared within
//! the looser of that and its op family's tolerance ([`family`],
//! `tests/device`), with a `GPU-DIFF` line each; inputs are decoded on the
//! CPU stream and results read on the host.
//!
//! A second test checks that every function of mlx-c's `ops.h` is
//! exercised by at least one case (or by a test named in
//! [`NOT_NUMERIC`]).

mod common;
mod device;
mod ops_support;

use std::collections::BTreeSet;

use common::compare::same_dtype_and_shape;
use common::golden::values;
use device::{host_f64, on_cpu_stream, on_gpu, Family, Report, Tol};
use mlx_rs::ops::{
    self, Axes, Conv, ConvGeneral, ConvTranspose, Indexing, PadMode, Scan, Side, Tolerance, Update,
};
use mlx_rs::quantization::{self, GatherIndices, QuantMode};
use mlx_rs::{Array, Dtype, Result};
use ops_support::{decode, golden, inputs};
use serde_json::Value;

/// ops.h functions with no numeric golden case, and where they are tested
/// instead.
const NOT_NUMERIC: &[(&str, &str)] = &[(
    "mlx_gather_qqmm",
    "no CPU kernel in MLX 0.32.2: ops_errors.rs checks it fails with MLX's message on the CPU and runs on the GPU",
)];

/// `w` quantized on the CPU stream, evaluated there.
fn quantize_on_cpu(w: &Array, mode: QuantMode) -> Result<quantization::Quantized> {
    on_cpu_stream(|| {
        let q = quantization::quantize(w, mode)?;
        mlx_rs::eval([&q.weights, &q.scales].into_iter().chain(q.biases.as_ref()))?;
        Ok(q)
    })
}

fn one(a: Result<Array>) -> Result<Vec<Array>> {
    Ok(vec![a?])
}

/// Sorted along the last axis: for outputs whose order MLX leaves
/// unspecified (partition, topk), sorted the same way in the generator.
fn sorted(a: Result<Array>) -> Result<Array> {
    ops::sort(&a?, Some(-1))
}

/// Runs the case `name` through mlx-rs.
fn run(name: &str, x: &[Array]) -> Result<Vec<Array>> {
    if let Some(op) = unary(name) {
        return one(op(&x[0]));
    }
    if let Some(op) = binary(name) {
        return one(op(&x[0], &x[1]));
    }
    match name {
        "copy" => one(ops::copy(&x[0])),
        "round" => one(ops::round(&x[0], 1)),
        "round_neg" => one(ops::round(&x[0], -1)),
        "from_fp8" => one(ops::from_fp8(&x[0], Dtype::Float32)),
        "nan_to_num" => one(ops::nan_to_num(&x[0], 0.5, None, None)),
        "nan_to_num_opts" => one(ops::nan_to_num(&x[0], 0.0, Some(7.0), Some(-7.0))),
        "hadamard_transform" => one(ops::hadamard_transform(&x[0], None)),
        "hadamard_transform_scale" => one(ops::hadamard_transform(&x[0], Some(0.5))),
        "divmod" => ops::divmod(&x[0], &x[1]),
        "isclose" => one(ops::isclose(&x[0], &x[1], Tolerance::default())),
        "isclose_nan" => one(ops::isclose(
            &x[0],
            &x[1],
            Tolerance {
                rtol: 0.1,
                atol: 0.0,
                equal_nan: true,
            },
        )),
        "allclose" => one(ops::allclose(&x[0], &x[1], Tolerance::default())),
        "allclose_loose" => one(ops::allclose(
            &x[0],
            &x[1],
            Tolerance {
                rtol: 0.1,
                equal_nan: true,
                ..Tolerance::default()
            },
        )),
        "array_equal" => one(ops::array_equal(&x[0], &x[1], true)),
        "where" => one(ops::select(&x[0], &x[1], &x[2])),
        "clip" => one(ops::clip(&x[0], Some(&x[1]), Some(&x[2]))),
        "clip_min" => one(ops::clip(&x[0], Some(&x[1]), None)),
        "clip_max" => one(ops::clip(&x[0], None, Some(&x[1]))),
        // Reductions: the generator's three forms per op.
        n if reduction(n, x).is_some() => one(reduction(n, x).unwrap()),
        "var" => one(ops::var(&x[0], Axes::All, false, 0)),
        "var_axis" => one(ops::var(&x[0], 1, true, 1)),
        "var_axes" => one(ops::var(&x[0], &[0, 1], false, 1)),
        "std" => one(ops::std(&x[0], Axes::All, false, 0)),
        "std_axis" => one(ops::std(&x[0], 1, true, 1)),
        "std_axes" => one(ops::std(&x[0], &[0, 1], false, 1)),
        "argmax" => one(ops::argmax(&x[0], None, false)),
        "argmax_axis" => one(ops::argmax(&x[0], Some(0), true)),
        "argmin" => one(ops::argmin(&x[0], None, false)),
        "argmin_axis" => one(ops::argmin(&x[0], Some(0), true)),
        "softmax" => one(ops::softmax(&x[0], Axes::All, false)),
        "softmax_axis" => one(ops::softmax(&x[0], -1, false)),
        "softmax_axes" => one(ops::softmax(&x[0], &[0, 2], true)),
        // Scans.
        "cumsum" => one(ops::cumsum(&x[0], None, Scan::default(), None)),
        "cumprod" => one(ops::cumprod(&x[0], None, Scan::default(), None)),
        "cummax" => one(ops::cummax(&x[0], None, Scan::default())),
        "cummin" => one(ops::cummin(&x[0], None, Scan::default())),
        "logcumsumexp" => one(ops::logcumsumexp(&x[0], None, Scan::default())),
        "cumsum_axis" => one(ops::cumsum(&x[0], Some(1), rev_excl(), None)),
        "cumprod_axis" => one(ops::cumprod(&x[0], Some(1), rev_excl(), None)),
        "cummax_axis" => one(ops::cummax(&x[0], Some(1), rev_excl())),
        "cummin_axis" => one(ops::cummin(&x[0], Some(1), rev_excl())),
        "logcumsumexp_axis" => one(ops::logcumsumexp(&x[0], Some(1), rev_excl())),
        "cumsum_dtype" => one(ops::cumsum(
            &x[0],
            Some(0),
            Scan::default(),
            Some(Dtype::Float32),
        )),
        "cumprod_dtype" => one(ops::cumprod(
            &x[0],
            None,
            Scan::default(),
            Some(Dtype::Int64),
        )),
        // Sorting.
        "sort" => one(ops::sort(&x[0], None)),
        "sort_axis" => one(ops::sort(&x[0], Some(0))),
        "argsort" => one(ops::argsort(&x[0], None)),
        "argsort_axis" => one(ops::argsort(&x[0], Some(-1))),
        "partition" => one(sorted(ops::partition(&x[0], 4, None)?.index(..4))),
        "partition_axis" => one(ops::partition(&x[0], 1, Some(0))?.index(1)),
        "argpartition" => {
            let i = ops::argpartition(&x[0], 4, None)?.index(..4)?;
            one(sorted(ops::take(&x[0], &i, None)))
        }
        "argpartition_axis" => {
            let i = ops::argpartition(&x[0], 2, Some(1))?;
            one(ops::take_along_axis(&x[0], &i, 1)?.index((.., 2)))
        }
        "topk" => one(sorted(ops::topk(&x[0], 3, None))),
        "topk_axis" => one(sorted(ops::topk(&x[0], 2, Some(1)))),
        "searchsorted" => one(ops::searchsorted(&x[0], &x[1], Side::Left)),
        "searchsorted_right" => one(ops::searchsorted(&x[0], &x[1], Side::Right)),
        // Creation.
        "arange" => one(Array::arange(1.0, 3.0, 0.5, Dtype::Float32)),
        "linspace" => one(ops::linspace(0.0, 1.0, 5, true, Dtype::Float32)),
        "linspace_endpoint" => one(ops::linspace(0.0, 1.0, 4, false, Dtype::Float32)),
        "zeros" => one(Array::zeros(&[2, 3], Dtype::Int16)),
        "ones" => one(Array::ones(&[2, 2], Dtype::Float16)),
        "full" => one(Array::full(&[2, 2], 2.5f32)),
        "eye" => one(Array::eye(3, Some(4), 1, Dtype::Float32)),
        "identity" => one(ops::identity(3, Dtype::Int32)),
        "tri" => one(ops::tri(3, 4, 1, Dtype::Float32)),
        "tril" => one(ops::tril(&x[0], -1)),
        "triu" => one(ops::triu(&x[0], 1)),
        "zeros_like" => one(x[0].zeros_like()),
        "zeros_like_dtype" => one(ops::zeros_like(&x[0], Some(Dtype::Int32))),
        "ones_like" => one(ops::ones_like(&x[0], None)),
        "ones_like_dtype" => one(ops::ones_like(&x[0], Some(Dtype::Uint8))),
        "full_like" => one(x[0].full_like(3.0f32)),
        "bartlett" => one(ops::bartlett(6)),
        "blackman" => one(ops::blackman(6)),
        "hamming" => one(ops::hamming(6)),
        "hanning" => one(ops::hanning(6)),
        "diag" => one(ops::diag(&x[0], 1)),
        "diag_vector" => one(ops::diag(&x[0], -1)),
        "diagonal" => one(ops::diagonal(&x[0], 1, 1, 2)),
        "trace" => one(ops::trace(&x[0], 0, 0, 1, None)),
        "trace_axes" => one(ops::trace(&x[0], 1, 1, 2, Some(Dtype::Float32))),
        // Shapes.
        "reshape" => one(x[0].reshape(&[4, -1])),
        "transpose" => one(x[0].transpose()),
        "transpose_axes" => one(x[0].transpose_axes(&[1, 0, 2])),
        "broadcast_to" => one(x[0].broadcast_to(&[2, 3, 2])),
        "expand_dims" => one(ops::expand_dims(&x[0], &[1])),
        "expand_dims_axes" => one(x[0].expand_dims(&[0, 3])),
        "squeeze" => one(ops::squeeze(&x[0], Axes::All)),
        "squeeze_axis" => one(ops::squeeze(&x[0], 2)),
        "squeeze_axes" => one(ops::squeeze(&x[0], &[0, 2])),
        "flatten" => one(ops::flatten(&x[0], 1, 2)),
        "unflatten" => one(ops::unflatten(&x[0], 2, &[2, 2])),
        "moveaxis" => one(ops::moveaxis(&x[0], 0, -1)),
        "swapaxes" => one(ops::swapaxes(&x[0], 0, 2)),
        "atleast_1d" => one(ops::atleast_1d(&x[0])),
        "atleast_2d" => one(ops::atleast_2d(&x[0])),
        "atleast_3d" => one(ops::atleast_3d(&x[0])),
        "contiguous" => one(x[0].transpose()?.contiguous(false)),
        "contiguous_col_major" => one(ops::contiguous(&x[0].transpose()?, true)),
        "astype" => one(x[0].astype(Dtype::Int32)),
        "concatenate" => one(ops::concatenate([&x[0], &x[1]], None)),
        "concatenate_axis" => one(ops::concatenate(&x[..2], Some(1))),
        "stack" => one(ops::stack(&x[..2], 0)),
        "stack_axis" => one(ops::stack(&x[..2], -1)),
        "split" => ops::split(&x[0], 2, 0),
        "split_sections" => ops::split_sections(&x[0], &[1, 3], 1),
        "unstack" => ops::unstack(&x[0], 0),
        "unstack_axis" => ops::unstack(&x[0], 1),
        "pad" => one(ops::pad(
            &x[0],
            &[0, 1],
            &[1, 0],
            &[0, 2],
            9.0,
            PadMode::Constant,
        )),
        "pad_edge" => one(ops::pad(&x[0], &[0, 1], &[0, 2], &[0, 1], 0, PadMode::Edge)),
        "pad_reflect" => one(ops::pad(&x[0], &[0], &[2], &[1], 0, PadMode::Reflect)),
        "pad_symmetric" => one(ops::pad_symmetric(&x[0], 1, 0, PadMode::Symmetric)),
        "roll" => one(ops::roll(&x[0], &[2], Axes::All)),
        "roll_axis" => one(ops::roll(&x[0], &[-1], 1)),
        "roll_axes" => one(ops::roll(&x[0], &[1, 2], &[0, 1])),
        "tile" => one(ops::tile(&x[0], &[2, 1, 3])),
        "repeat" => one(ops::repeat(&x[0], 2, None)),
        "repeat_axis" => one(ops::repeat(&x[0], 3, Some(1))),
        "flip" => one(ops::flip(&x[0], Axes::All)),
        "flip_axis" => one(ops::flip(&x[0], 1)),
        "flip_axes" => one(ops::flip(&x[0], &[0, 2])),
        "broadcast_arrays" => ops::broadcast_arrays(&x[..2]),
        "meshgrid" => ops::meshgrid(&x[..2], false, Indexing::Xy),
        "meshgrid_ij_sparse" => ops::meshgrid(&x[..2], true, Indexing::Ij),
        "diff" => one(ops::diff(&x[0], 2, 1)),
        "as_strided" => one(ops::as_strided(&x[0], &[3, 2], &[1, 2], 1)),
        "view" => one(ops::view(&x[0], Dtype::Int32)),
        "number_of_elements" => one(ops::number_of_elements(&x[0], &[0, 2], false, Dtype::Int32)),
        "number_of_elements_inv" => one(ops::number_of_elements(
            &x[0],
            &[0, 2],
            true,
            Dtype::Float32,
        )),
        "depends" => ops::depends([&x[0]], [&x[1]]),
        // Indexing.
        "take" => one(ops::take(&x[0], &x[1], None)),
        "take_axis" => one(ops::take(&x[0], &x[1], Some(0))),
        "take_along_axis" => one(ops::take_along_axis(&x[0], &x[1], 1)),
        "put_along_axis" => one(ops::put_along_axis(&x[0], &x[1], &x[2], 1)),
        "scatter_add_axis" => one(ops::scatter_add_axis(&x[0], &x[1], &x[2], 1)),
        "gather_single" => one(ops::gather(&x[0], [&x[1]], &[0], &[1, 3])),
        "gather" => one(ops::gather(&x[0], [&x[1], &x[2]], &[0, 1], &[1, 1, 2])),
        n if n.starts_with("scatter") => {
            let kind = match n.trim_start_matches("scatter").trim_end_matches("_single") {
                "" => Update::Set,
                "_add" => Update::Add,
                "_prod" => Update::Prod,
                "_max" => Update::Max,
                "_min" => Update::Min,
                other => panic!("unknown scatter {other}"),
            };
            if n.ends_with("_single") {
                one(ops::scatter(&x[0], [&x[1]], &x[2], &[0], kind))
            } else {
                one(ops::scatter(&x[0], [&x[1], &x[2]], &x[3], &[0, 1], kind))
            }
        }
        "masked_scatter" | "masked_scatter_rows" => one(ops::masked_scatter(&x[0], &x[1], &x[2])),
        "slice" => one(ops::slice(&x[0], &[1, -1], &[4, -6], &[2, -2])),
        "slice_dynamic" => one(ops::slice_dynamic(&x[0], &x[1], &[0, 1], &[2, 3])),
        "slice_update" => one(ops::slice_update(
            &x[0],
            &x[1],
            &[1, 1],
            &[3, 3],
            &[1, 1],
            Update::Set,
        )),
        "slice_update_add" => one(ops::slice_update(
            &x[0],
            &x[1],
            &[1, 1],
            &[3, 3],
            &[1, 1],
            Update::Add,
        )),
        "slice_update_prod" => one(ops::slice_update(
            &x[0],
            &x[1],
            &[1, 1],
            &[3, 3],
            &[1, 1],
            Update::Prod,
        )),
        "slice_update_max" => one(ops::slice_update(
            &x[0],
            &x[1],
            &[1, 1],
            &[3, 3],
            &[1, 1],
            Update::Max,
        )),
        "slice_update_min" => one(ops::slice_update(
            &x[0],
            &x[1],
            &[1, 1],
            &[3, 3],
            &[1, 1],
            Update::Min,
        )),
        "slice_update_dynamic" => one(ops::slice_update_dynamic(&x[0], &x[1], &x[2], &[0, 1])),
        // Products.
        "matmul" => one(ops::matmul(&x[0], &x[1])),
        "addmm" => one(ops::addmm(&x[0], &x[1], &x[2], 0.5, 2.0)),
        "inner" => one(ops::inner(&x[0], &x[1])),
        "outer" => one(ops::outer(&x[0], &x[1])),
        "kron" => one(ops::kron(&x[0], &x[1])),
        "vecdot" => one(ops::vecdot(&x[0], &x[1], -1)),
        "tensordot" => one(ops::tensordot(&x[0], &x[1], 2)),
        "tensordot_axes" => one(ops::tensordot_axes(&x[0], &x[1], &[1, 2], &[2, 0])),
        "einsum" => one(ops::einsum("ij,jk->ki", &x[..2])),
        "block_masked_mm" => one(ops::block_masked_mm(
            &x[0],
            &x[1],
            32,
            Some(&x[2]),
            None,
            None,
        )),
        "block_masked_mm_operands" => one(ops::block_masked_mm(
            &x[0],
            &x[1],
            32,
            None,
            Some(&x[2]),
            Some(&x[3]),
        )),
        "gather_mm" => one(ops::gather_mm(
            &x[0],
            &x[1],
            GatherIndices {
                lhs: Some(&x[2]),
                rhs: Some(&x[3]),
                sorted: false,
            },
        )),
        "gather_mm_rhs" => one(ops::gather_mm(
            &x[0],
            &x[1],
            GatherIndices {
                rhs: Some(&x[2]),
                ..Default::default()
            },
        )),
        "segmented_mm" => one(ops::segmented_mm(&x[0], &x[1], &x[2])),
        // Convolutions.
        "conv1d" => one(ops::conv1d(
            &x[0],
            &x[1],
            &Conv {
                stride: [2],
                padding: [1],
                dilation: [1],
                groups: 2,
            },
        )),
        "conv2d" => one(ops::conv2d(
            &x[0],
            &x[1],
            &Conv {
                stride: [1, 2],
                padding: [1, 0],
                dilation: [2, 1],
                groups: 1,
            },
        )),
        "conv3d" => one(ops::conv3d(
            &x[0],
            &x[1],
            &Conv {
                stride: [1, 2, 1],
                padding: [0, 1, 0],
                ..Conv::default()
            },
        )),
        "conv_transpose1d" => one(ops::conv_transpose1d(
            &x[0],
            &x[1],
            &ConvTranspose {
                stride: [2],
                padding: [1],
                output_padding: [1],
                ..ConvTranspose::default()
            },
        )),
        "conv_transpose2d" => one(ops::conv_transpose2d(
            &x[0],
            &x[1],
            &ConvTranspose {
                stride: [2, 1],
                padding: [0, 1],
                ..ConvTranspose::default()
            },
        )),
        "conv_transpose3d" => one(ops::conv_transpose3d(
            &x[0],
            &x[1],
            &ConvTranspose {
                stride: [1, 1, 2],
                ..ConvTranspose::default()
            },
        )),
        "conv_general" => one(ops::conv_general(
            &x[0],
            &x[1],
            &ConvGeneral {
                stride: vec![1],
                padding_lo: vec![1],
                padding_hi: vec![2],
                kernel_dilation: vec![1],
                input_dilation: vec![2],
                groups: 1,
                flip: true,
            },
        )),
        // Quantization (mlx_rs::quantization).
        "quantize" => {
            let q = quantization::quantize(&x[0], QuantMode::affine(4, 64)?)?;
            Ok(vec![q.weights, q.scales, q.biases.unwrap()])
        }
        "dequantize" => {
            let q = quantization::quantize(&x[0], QuantMode::affine(4, 64)?)?;
            one(quantization::dequantize(&q, None))
        }
        // The packed weights are the input of these two: quantized on the
        // CPU (GPU quantize rounds differently, docs/gpu.md), so the op
        // under test gets Python's.
        "quantized_matmul" => {
            let q = quantize_on_cpu(&x[1], QuantMode::affine(4, 64)?)?;
            one(quantization::quantized_matmul(&x[0], &q, true))
        }
        "gather_qmm" => {
            let q = quantize_on_cpu(&x[1], QuantMode::affine(4, 64)?)?;
            let idx = GatherIndices {
                rhs: Some(&x[2]),
                ..Default::default()
            };
            one(quantization::gather_qmm(&x[0], &q, idx, true))
        }
        "qqmm" => {
            let q = quantization::quantize(&x[1], QuantMode::Mxfp8)?;
            one(quantization::qqmm(&x[0], &q, None))
        }
        other => panic!("no Rust closure for golden case {other}"),
    }
}

fn rev_excl() -> Scan {
    Scan::default().reverse(true).inclusive(false)
}

type UnaryOp = fn(&Array) -> Result<Array>;

fn unary(name: &str) -> Option<UnaryOp> {
    Some(match name {
        "abs" => ops::abs,
        "arccos" => ops::arccos,
        "arccosh" => ops::arccosh,
        "arcsin" => ops::arcsin,
        "arcsinh" => ops::arcsinh,
        "arctan" => ops::arctan,
        "arctanh" => ops::arctanh,
        "ceil" => ops::ceil,
        "cos" => ops::cos,
        "cosh" => ops::cosh,
        "degrees" => ops::degrees,
        "erf" => ops::erf,
        "erfinv" => ops::erfinv,
        "exp" => ops::exp,
        "expm1" => ops::expm1,
        "floor" => ops::floor,
        "log" => ops::log,
        "log10" => ops::log10,
        "log1p" => ops::log1p,
        "log2" => ops::log2,
        "positive" => ops::positive,
        "radians" => ops::radians,
        "reciprocal" => ops::reciprocal,
        "rsqrt" => ops::rsqrt,
        "sigmoid" => ops::sigmoid,
        "sign" => ops::sign,
        "sin" => ops::sin,
        "sinh" => ops::sinh,
        "sqrt" => ops::sqrt,
        "square" => ops::square,
        "stop_gradient" => ops::stop_gradient,
        "tan" => ops::tan,
        "tanh" => ops::tanh,
        "trunc" => ops::trunc,
        "negative" => ops::negative,
        "bitwise_invert" => ops::bitwise_invert,
        "conjugate" => ops::conjugate,
        "real" => ops::real,
        "imag" => ops::imag,
        "isfinite" => ops::isfinite,
        "isinf" => ops::isinf,
        "isnan" => ops::isnan,
        "isneginf" => ops::isneginf,
        "isposinf" => ops::isposinf,
        "logical_not" => ops::logical_not,
        "to_fp8" => ops::to_fp8,
        _ => return None,
    })
}

type BinaryOp = fn(&Array, &Array) -> Result<Array>;

fn binary(name: &str) -> Option<BinaryOp> {
    macro_rules! b {
        ($f:path) => {
            |a: &Array, b: &Array| $f(a, b)
        };
    }
    Some(match name {
        "add" => b!(ops::add),
        "subtract" => b!(ops::subtract),
        "multiply" => b!(ops::multiply),
        "divide" => b!(ops::divide),
        "maximum" => b!(ops::maximum),
        "minimum" => b!(ops::minimum),
        "logaddexp" => b!(ops::logaddexp),
        "arctan2" => b!(ops::arctan2),
        "equal" => b!(ops::equal),
        "not_equal" => b!(ops::not_equal),
        "less" => b!(ops::less),
        "less_equal" => b!(ops::less_equal),
        "greater" => b!(ops::greater),
        "greater_equal" => b!(ops::greater_equal),
        "power" => b!(ops::power),
        "remainder" => b!(ops::remainder),
        "floor_divide" => b!(ops::floor_divide),
        "bitwise_and" => b!(ops::bitwise_and),
        "bitwise_or" => b!(ops::bitwise_or),
        "bitwise_xor" => b!(ops::bitwise_xor),
        "left_shift" => b!(ops::left_shift),
        "right_shift" => b!(ops::right_shift),
        "logical_and" => b!(ops::logical_and),
        "logical_or" => b!(ops::logical_or),
        "logical_xor" => b!(ops::logical_xor),
        _ => return None,
    })
}

/// The `(Axes, keepdims)` reductions in the generator's three forms:
/// `op` (all axes), `op_axis` (axis -1, keepdims; `all`/`any`: axis 1)
/// and `op_axes` (axes 0 and 2).
fn reduction(name: &str, x: &[Array]) -> Option<Result<Array>> {
    type Red = fn(&Array, Axes<'_>, bool) -> Result<Array>;
    let (base, form) = match name.rsplit_once('_') {
        Some((b, f @ ("axis" | "axes"))) => (b, f),
        _ => (name, ""),
    };
    let f: Red = match base {
        "all" => |a, x, k| ops::all(a, x, k),
        "any" => |a, x, k| ops::any(a, x, k),
        "max" => |a, x, k| ops::max(a, x, k),
        "min" => |a, x, k| ops::min(a, x, k),
        "mean" => |a, x, k| ops::mean(a, x, k),
        "sum" => |a, x, k| ops::sum(a, x, k),
        "prod" => |a, x, k| ops::prod(a, x, k),
        "logsumexp" => |a, x, k| ops::logsumexp(a, x, k),
        "median" => |a, x, k| ops::median(a, x, k),
        "count_nonzero" => |a, x, k| ops::count_nonzero(a, x, k),
        _ => return None,
    };
    let one_axis = if matches!(base, "all" | "any") { 1 } else { -1 };
    Some(match form {
        "" => f(&x[0], Axes::All, false),
        "axis" => f(&x[0], Axes::One(one_axis), true),
        _ => f(&x[0], Axes::Many(&[0, 2]), false),
    })
}

/// Floats on the CPU: `1e-6` absolute plus `1e-5` relative.
const CPU_TOL: Tol = Tol::new(1e-6, 1e-5);

/// The op family of a golden case, for its tolerance on the GPU.
fn family(name: &str) -> Family {
    let base = name
        .trim_end_matches("_axis")
        .trim_end_matches("_axes")
        .trim_end_matches("_dtype");
    match base {
        "matmul"
        | "addmm"
        | "inner"
        | "vecdot"
        | "tensordot"
        | "einsum"
        | "block_masked_mm"
        | "block_masked_mm_operands"
        | "gather_mm"
        | "gather_mm_rhs"
        | "segmented_mm" => Family::Matmul,
        n if n.starts_with("conv") => Family::Matmul,
        "sum"
        | "mean"
        | "prod"
        | "logsumexp"
        | "var"
        | "std"
        | "softmax"
        | "cumsum"
        | "cumprod"
        | "logcumsumexp"
        | "median"
        | "trace"
        | "hadamard_transform"
        | "hadamard_transform_scale" => Family::Reduction,
        "arccos" | "arccosh" | "arcsin" | "arcsinh" | "arctan" | "arctanh" | "cos" | "cosh"
        | "erf" | "erfinv" | "exp" | "expm1" | "log" | "log10" | "log1p" | "log2" | "sigmoid"
        | "sin" | "sinh" | "tan" | "tanh" | "logaddexp" | "arctan2" | "power" | "rsqrt"
        | "bartlett" | "blackman" | "hamming" | "hanning" => Family::Transcendental,
        // random inputs: no all-negative group, no exact tie, so the
        // devices' affine formulas agree (quantization.rs)
        "quantize" => Family::Exact,
        "dequantize" => Family::Dequantize,
        "quantized_matmul" => Family::QuantizedMatmul,
        "gather_qmm" => Family::GatherQmm,
        "qqmm" => Family::Qqmm,
        _ => Family::Elementwise,
    }
}

fn close(got: f64, want: f64) -> bool {
    CPU_TOL.accepts(got, want)
}

fn compare(r: &mut Report, case: &str, i: usize, got: &Array, want: &Value) {
    let what = format!("{case} output {i}");
    if !same_dtype_and_shape(r, got, want, &what) {
        return;
    }
    // complex values as (re, im) pairs, as host_f64 reads them
    let w = values(&want["values"]);
    let g = host_f64(got);
    if !r.check(g.len() == w.len(), || format!("{what}: size")) {
        return;
    }
    if case == "quantized_matmul"
        && device::known_gpu_qmm_mismatch("affine (4 bits, group size 64)", 2, 4, 64)
    {
        device::assert_known_mismatch(r, &g, &w, &what);
        return;
    }
    let float = got.dtype().is_floating() || got.dtype() == Dtype::Complex64;
    if float && on_gpu() {
        r.close_as(got.dtype(), family(case), &what, &g, &w, CPU_TOL);
        return;
    }
    for (k, (&g, &w)) in g.iter().zip(&w).enumerate() {
        let ok = if float { close(g, w) } else { g == w };
        if !r.check(ok, || format!("{what}[{k}] = {g}, Python {w}")) {
            return;
        }
    }
}

#[test]
fn ops_match_python_mlx() {
    let g = golden();
    assert_eq!(g["mlx"], "0.32.2");
    let cases = g["cases"].as_array().unwrap();
    let mut r = Report::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = inputs(case);
        let got = match run(name, &x) {
            Ok(got) => got,
            Err(e) => {
                r.fail(format!("{name}: {e}"));
                continue;
            }
        };
        let want = case["outputs"].as_array().unwrap();
        if !r.check(got.len() == want.len(), || {
            format!("{name}: number of outputs")
        }) {
            continue;
        }
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            compare(&mut r, name, i, g, w);
        }
    }
    println!("{} golden cases", cases.len());
    r.finish();
}

#[test]
fn every_ops_h_function_has_a_golden_case() {
    // embedded when compiled: the test binary also runs where the build
    // tree is not (the GPU machine)
    let text = include_str!(concat!(env!("MLX_RS_MLX_C_INCLUDE"), "/mlx/c/ops.h"));
    let declared: BTreeSet<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.starts_with("mlx_") && text.contains(&format!("int {t}(")))
        .map(str::to_owned)
        .collect();
    let mut exercised: BTreeSet<String> = golden()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["c"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
        })
        .collect();
    exercised.extend(NOT_NUMERIC.iter().map(|(f, _)| (*f).to_owned()));
    let missing: Vec<_> = declared.difference(&exercised).collect();
    assert!(
        missing.is_empty(),
        "ops.h functions without a golden case: {missing:?}"
    );
    assert_eq!(declared.len(), 265);
}

#[test]
fn the_on_forms_take_the_stream() {
    let s = mlx_rs::Stream::current().unwrap();
    let a = decode(&golden()["cases"][0]["inputs"][0]);
    let x = ops::sum_on(&a, Axes::All, false, &s).unwrap();
    let y = ops::sum(&a, Axes::All, false).unwrap();
    assert_eq!(x.item::<f32>().unwrap(), y.item::<f32>().unwrap());
    let c = ops::cumsum_on(&a, Some(0), Scan::default(), None, &s).unwrap();
    assert_eq!(c.shape(), a.shape());
    let t = ops::take_on(&a, &Array::scalar(0i32).unwrap(), Some(0), &s).unwrap();
    assert_eq!(t.shape(), &a.shape()[1..]);
}
