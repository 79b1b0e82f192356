//! A port of MLX's `python/tests/test_vmap.py` (the file passes on the
//! pinned Python MLX 0.32.2; checked with `/work/venv`): one `#[test]` per
//! Python test method, with the method's name, asserting what it asserts:
//! a vmapped function equals the loop (or the batched op) it stands for,
//! exactly where Python uses `mx.array_equal`, within `mx.allclose`'s
//! default tolerance on the CPU and the op family's of `tests/device` on
//! the GPU where Python uses `allclose`; shapes and errors as in Python.
//! Python's unseeded `mx.random` inputs are seeded here.
//!
//! Rust functions take and return flat lists of arrays, so Python's tree
//! arguments (dicts, tuples) become several arguments or outputs, with one
//! `in_axes` entry per argument and one `out_axes` entry per output.
//!
//! # Not ported
//! Every method is ported; parts left out of a test are named where they
//! were: non-array arguments and string axes (`test_basics`), the
//! tree-structure mismatch errors of `test_tree`, the NamedTuple and
//! tuple-subclass parts of `test_vmap_types` (Python only).
//!
//! # Differences of the Rust API met while porting
//! - mlx-rs checks index values before MLX reads them (`ops` module docs:
//!   "What mlx-rs checks that MLX does not"), by evaluating the index
//!   array. Under `vmap` an index that is an argument of the function is a
//!   tracer, which MLX refuses to evaluate; there mlx-rs clamps it into
//!   range instead (`test_vmap_indexing`, `test_vmap_gather`,
//!   `test_vmap_scatter`, `test_vmap_take_along_axis`,
//!   `test_vmap_put_along_axis`, `test_vmap_masked_scatter` run that
//!   path; `traced_out_of_range_indices_are_clamped` checks the clamping).
//! - `vmap` refuses negative `in_axes`/`out_axes` ("axes count from 0");
//!   Python counts them from the end (`test_vmap_pad` uses
//!   `in_axes=-1, out_axes=-1`; the port passes the equivalent 2 and
//!   checks the refusal).

mod common;
mod device;
mod port_support;

use std::cell::Cell;
use std::rc::Rc;

use mlx_rs::index::{Ellipsis, NewAxis};
use mlx_rs::ops::linalg::{inv, norm, svd, svdvals};
use mlx_rs::ops::{self, Axes, Conv, PadMode, Update};
use mlx_rs::transforms::{compile, vmap};
use mlx_rs::{Array, Dtype, Result};

use device::{Family, Tol};
use port_support::*;

/// `mx.vmap(f, in_axes, out_axes)(*args)`.
fn vm(
    f: impl FnMut(&[Array]) -> Result<Vec<Array>> + 'static,
    in_axes: &[Option<i32>],
    out_axes: &[i32],
    args: &[Array],
) -> Vec<Array> {
    vmap(f, in_axes, out_axes).unwrap().call(args).unwrap()
}

fn ints(v: &[i32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape).unwrap()
}

fn arange(n: i32, shape: &[i32]) -> Array {
    Array::arange(0.0, f64::from(n), 1.0, Dtype::Int32)
        .unwrap()
        .reshape(shape)
        .unwrap()
}

/// `[s.squeeze(axis) for s in mx.split(x, x.shape[axis], axis=axis)]`.
fn unstack(x: &Array, axis: i32) -> Vec<Array> {
    ops::unstack(x, axis).unwrap()
}

#[test]
fn test_basics() {
    let _serial = shared();
    // Can't vmap over scalars
    let r = vmap(one(ops::exp), &[], &[]).unwrap().call(&[sc(1.0)]);
    assert_err_contains(r, "has 0 dimensions", "scalar");
    // (Python: a string argument and string axes.)
    // Invalid axes
    let x = || ints(&[0, 1], &[2]);
    let r = vmap(one(ops::exp), &[Some(2)], &[]).unwrap().call(&[x()]);
    assert_err_contains(r, "in_axes[0] = 2", "in_axes=2");
    let r = vmap(one(ops::exp), &[], &[2]).unwrap().call(&[x()]);
    assert!(r.is_err(), "out_axes=2: {r:?}");
}

#[test]
fn test_unary() {
    let _serial = shared();
    type F = fn(&Array) -> Result<Array>;
    let ops_: [(&str, F); 20] = [
        ("abs", ops::abs),
        ("cos", ops::cos),
        ("erf", ops::erf),
        ("erfinv", ops::erfinv),
        ("exp", ops::exp),
        ("log", ops::log),
        ("log1p", ops::log1p),
        ("log2", ops::log2),
        ("log10", ops::log10),
        ("logical_not", ops::logical_not),
        ("negative", ops::negative),
        ("reciprocal", ops::reciprocal),
        ("rsqrt", ops::rsqrt),
        ("sigmoid", ops::sigmoid),
        ("sign", ops::sign),
        ("sin", ops::sin),
        ("sqrt", ops::sqrt),
        ("square", ops::square),
        ("degrees", ops::degrees),
        ("radians", ops::radians),
    ];
    let eq = |a: &Array, b: &Array, what: &str| {
        assert!(
            ops::array_equal(a, b, true)
                .unwrap()
                .item::<bool>()
                .unwrap(),
            "{what}: {a:?} vs {b:?}"
        );
    };
    for (name, op) in ops_ {
        let x = arange(5, &[5]);
        eq(
            &vm(one(op), &[], &[], std::slice::from_ref(&x))[0],
            &op(&x).unwrap(),
            name,
        );
        let x = arange(8, &[2, 4]);
        eq(
            &vm(one(op), &[], &[], std::slice::from_ref(&x))[0],
            &op(&x).unwrap(),
            name,
        );
        eq(
            &vm(one(op), &[Some(1)], &[1], std::slice::from_ref(&x))[0],
            &op(&x).unwrap(),
            name,
        );
    }
}

#[test]
fn test_binary() {
    let _serial = shared();
    type F = fn(&Array, &Array) -> Result<Array>;
    let ops_: [(&str, F); 15] = [
        ("add", |a, b| ops::add(a, b)),
        ("divide", |a, b| ops::divide(a, b)),
        ("equal", |a, b| ops::equal(a, b)),
        ("greater", |a, b| ops::greater(a, b)),
        ("greater_equal", |a, b| ops::greater_equal(a, b)),
        ("less", |a, b| ops::less(a, b)),
        ("less_equal", |a, b| ops::less_equal(a, b)),
        ("logaddexp", |a, b| ops::logaddexp(a, b)),
        ("maximum", |a, b| ops::maximum(a, b)),
        ("minimum", |a, b| ops::minimum(a, b)),
        ("multiply", |a, b| ops::multiply(a, b)),
        ("power", |a, b| ops::power(a, b)),
        ("subtract", |a, b| ops::subtract(a, b)),
        ("logical_or", |a, b| ops::logical_or(a, b)),
        ("logical_and", |a, b| ops::logical_and(a, b)),
    ];
    mlx_rs::random::seed(0).unwrap();
    for (name, op) in ops_ {
        let (x, y) = (uniform(&[5]), uniform(&[5]));
        let out = vm(two(op), &[], &[], &[x.clone(), y.clone()]);
        assert_equal(&out[0], &op(&x, &y).unwrap(), name);

        let (x, y) = (uniform(&[2, 4]), uniform(&[2, 4]));
        let out = vm(two(op), &[], &[], &[x.clone(), y.clone()]);
        assert_equal(&out[0], &op(&x, &y).unwrap(), name);
        let out = vm(two(op), &[Some(0), Some(0)], &[0], &[x.clone(), y.clone()]);
        assert_equal(&out[0], &op(&x, &y).unwrap(), name);

        let y = uniform(&[4, 2]);
        let out = vm(two(op), &[Some(0), Some(1)], &[0], &[x.clone(), y.clone()]);
        assert_equal(&out[0], &op(&x, &y.transpose().unwrap()).unwrap(), name);
        let out = vm(two(op), &[Some(0), Some(1)], &[1], &[x.clone(), y.clone()]);
        let want = op(&x, &y.transpose().unwrap())
            .unwrap()
            .transpose()
            .unwrap();
        assert_equal(&out[0], &want, name);
    }
}

#[test]
fn test_tree() {
    let _serial = shared();
    // The tree {"a": a, "b": (b0, b1)} as three arguments.
    let my_fun = || three(|a, b0, b1| (a + b0)? * b1);
    mlx_rs::random::seed(0).unwrap();
    let t = [uniform(&[2, 4]), uniform(&[2, 4]), uniform(&[2, 4])];
    let expected = ((&t[0] + &t[1]).unwrap() * &t[2]).unwrap();
    assert_equal(&vm(my_fun(), &[], &[], &t)[0], &expected, "default axes");
    assert_equal(
        &vm(my_fun(), &[Some(0), Some(0), Some(0)], &[0], &t)[0],
        &expected,
        "in_axes 0",
    );
    // (Python: in_axes that do not match the tree's structure raise.)

    let t = [uniform(&[2, 4]), uniform(&[4, 2]), uniform(&[4, 2])];
    let out = vm(my_fun(), &[Some(0), Some(1), Some(1)], &[0], &t);
    let expected =
        ((&t[0] + t[1].transpose().unwrap()).unwrap() * t[2].transpose().unwrap()).unwrap();
    assert_equal(&out[0], &expected, "in_axes (0, (1, 1))");

    // The output dict {"a": x + y, "b": x * y} as two outputs.
    let my_fun = || |a: &[Array]| Ok(vec![(&a[0] + &a[1])?, (&a[0] * &a[1])?]);
    let (x, y) = (uniform(&[2, 4]), uniform(&[2, 4]));
    let out = vm(
        my_fun(),
        &[Some(0), Some(0)],
        &[0, 0],
        &[x.clone(), y.clone()],
    );
    assert_equal(&out[0], &(&x + &y).unwrap(), "a");
    assert_equal(&out[1], &(&x * &y).unwrap(), "b");

    // Too few out_axes for the outputs (Python: a tree mismatch).
    let r = vmap(my_fun(), &[Some(0), Some(0)], &[0])
        .unwrap()
        .call(&[x.clone(), y.clone()]);
    assert_err_contains(r, "1 out_axes for 2 outputs", "out_axes");

    let out = vm(
        my_fun(),
        &[Some(0), Some(0)],
        &[1, 0],
        &[x.clone(), y.clone()],
    );
    assert_equal(
        &out[0].transpose().unwrap(),
        &(&x + &y).unwrap(),
        "a, out axis 1",
    );
    assert_equal(&out[1], &(&x * &y).unwrap(), "b, out axis 0");
}

#[test]
fn test_vmap_indexing() {
    let _serial = shared();
    let x = arange(16, &[2, 2, 2, 2]);
    let inds = ints(&[0, 1, 0, 1, 1, 0], &[2, 3]);
    let gather = || two(|x, y| x.index(y));

    let out = vm(
        gather(),
        &[Some(0), Some(0)],
        &[],
        &[x.clone(), inds.clone()],
    );
    let expected = ints(
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 12, 13, 14, 15, 8, 9, 10, 11,
        ],
        &[2, 3, 2, 2],
    );
    assert_equal(&out[0], &expected, "(0, 0)");

    let out = vm(gather(), &[Some(0), None], &[], &[x.clone(), inds.clone()]);
    let expected = ints(
        &[
            0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 0, 1, 2, 3, //
            8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15, 12, 13, 14, 15, 8, 9, 10,
            11,
        ],
        &[2, 2, 3, 2, 2],
    );
    assert_equal(&out[0], &expected, "(0, None)");

    let out = vm(gather(), &[None, Some(0)], &[], &[x.clone(), inds.clone()]);
    let first: Vec<i32> = (0..16).collect();
    let mut want = vec![];
    for row in [[0, 1, 0], [1, 1, 0]] {
        for i in row {
            want.extend_from_slice(&first[i * 8..i * 8 + 8]);
        }
    }
    assert_equal(&out[0], &ints(&want, &[2, 3, 2, 2, 2]), "(None, 0)");

    let inds2 = ints(&[0, 1, 0, 0, 1, 0], &[2, 3]);
    let out = vm(
        three(|x, y, z| x.index((y, z))),
        &[None, Some(0), Some(0)],
        &[],
        &[x, inds, inds2],
    );
    let expected = ints(
        &[
            0, 1, 2, 3, 12, 13, 14, 15, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3,
        ],
        &[2, 3, 2, 2],
    );
    assert_equal(&out[0], &expected, "(None, 0, 0)");
}

#[test]
fn test_vmap_reduce() {
    let _serial = shared();
    let a = Array::ones(&[5, 5], Dtype::Int32).unwrap();
    let full = |shape: &[i32], v: i32| Array::full(shape, v).unwrap();
    let out = vm(one(sum), &[], &[], std::slice::from_ref(&a));
    assert_equal(&out[0], &full(&[5], 5), "sum");
    let out = vm(
        one(|x| ops::sum(x, Axes::All, true)),
        &[],
        &[],
        std::slice::from_ref(&a),
    );
    assert_equal(&out[0], &full(&[5, 1], 5), "keepdims");
    let out = vm(
        one(|x| ops::sum(x, 0, false)),
        &[],
        &[],
        std::slice::from_ref(&a),
    );
    assert_equal(&out[0], &full(&[5], 5), "axis 0");

    let a = Array::ones(&[5, 3, 2], Dtype::Int32).unwrap();
    let f = || one(|x| ops::sum(x, &[0, 1], false));
    assert_equal(
        &vm(f(), &[], &[], std::slice::from_ref(&a))[0],
        &full(&[5], 6),
        "(0, 1)",
    );
    assert_equal(
        &vm(f(), &[Some(1)], &[], std::slice::from_ref(&a))[0],
        &full(&[3], 10),
        "in 1",
    );
    assert_equal(
        &vm(f(), &[Some(2)], &[], std::slice::from_ref(&a))[0],
        &full(&[2], 15),
        "in 2",
    );
}

#[test]
fn test_vmap_argreduce() {
    let _serial = shared();
    let a = ints(&[1, 2, 3, 2, 3, 1], &[2, 3]);
    let out = vm(
        one(|x| ops::argmin(x, None, false)),
        &[],
        &[],
        std::slice::from_ref(&a),
    );
    assert_equal(&out[0], &ints(&[0, 2], &[2]), "argmin");
    let out = vm(
        one(|x| ops::argmax(x, None, false)),
        &[],
        &[],
        std::slice::from_ref(&a),
    );
    assert_equal(&out[0], &ints(&[2, 1], &[2]), "argmax");
}

/// The shared loop of `test_vmap_partition` and `test_vmap_topk`: for each
/// input axis and inner axis, the axis of the batched output that the
/// inner axis maps onto.
fn axes_cases(ndim: i32) -> Vec<(i32, i32, i32)> {
    let mut out = vec![];
    for in_axis in 0..ndim {
        let map: Vec<i32> = (0..ndim).filter(|&d| d != in_axis).collect();
        for axis in [0, 1, -1] {
            let oaxis = map[if axis >= 0 { axis } else { axis + 2 } as usize];
            out.push((in_axis, axis, oaxis));
        }
    }
    out
}

fn permuted_234() -> Array {
    mlx_rs::random::seed(0).unwrap();
    mlx_rs::random::permutation_range(24, None)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap()
        .astype(Dtype::Float32)
        .unwrap()
}

#[test]
fn test_vmap_partition() {
    let _serial = shared();
    let a = permuted_234();
    for (in_axis, axis, oaxis) in axes_cases(3) {
        let slices = unstack(&a, in_axis);
        let n = slices[0].shape()[if axis >= 0 { axis } else { axis + 2 } as usize];
        for kth in 0..n {
            let parts: Vec<Array> = slices
                .iter()
                .map(|x| ops::partition(x, kth, Some(axis)).unwrap())
                .collect();
            let expected = ops::stack(&parts, in_axis).unwrap();
            let k = ints(&[kth], &[1]);
            let pivot = ops::take(&expected, &k, Some(oaxis)).unwrap();
            let sorted_a = ops::sort(&a, Some(oaxis)).unwrap();
            let what = format!("in_axis {in_axis} axis {axis} kth {kth}");

            let out = vm(
                one(move |x| ops::partition(x, kth, Some(axis))),
                &[Some(in_axis)],
                &[in_axis],
                std::slice::from_ref(&a),
            );
            assert_eq!(out[0].shape(), expected.shape(), "{what}");
            assert_equal(&ops::sort(&out[0], Some(oaxis)).unwrap(), &sorted_a, &what);
            assert_equal(&ops::take(&out[0], &k, Some(oaxis)).unwrap(), &pivot, &what);

            let idx = vm(
                one(move |x| ops::argpartition(x, kth, Some(axis))),
                &[Some(in_axis)],
                &[in_axis],
                std::slice::from_ref(&a),
            );
            assert_eq!(idx[0].shape(), expected.shape(), "{what}");
            let gathered = ops::take_along_axis(&a, &idx[0], oaxis).unwrap();
            assert_equal(
                &ops::sort(&gathered, Some(oaxis)).unwrap(),
                &sorted_a,
                &what,
            );
            assert_equal(
                &ops::take(&gathered, &k, Some(oaxis)).unwrap(),
                &pivot,
                &what,
            );
        }
    }
}

#[test]
fn test_vmap_topk() {
    let _serial = shared();
    let a = permuted_234();
    for (in_axis, axis, oaxis) in axes_cases(3) {
        let slices = unstack(&a, in_axis);
        let n = slices[0].shape()[if axis >= 0 { axis } else { axis + 2 } as usize];
        for k in 1..=n {
            let out = vm(
                one(move |x| ops::topk(x, k, Some(axis))),
                &[Some(in_axis)],
                &[in_axis],
                std::slice::from_ref(&a),
            );
            let parts: Vec<Array> = slices
                .iter()
                .map(|x| ops::topk(x, k, Some(axis)).unwrap())
                .collect();
            let expected = ops::stack(&parts, in_axis).unwrap();
            let what = format!("in_axis {in_axis} axis {axis} k {k}");
            assert_eq!(out[0].shape(), expected.shape(), "{what}");
            assert_equal(
                &ops::sort(&out[0], Some(oaxis)).unwrap(),
                &ops::sort(&expected, Some(oaxis)).unwrap(),
                &what,
            );
        }
    }
}

#[test]
fn test_vmap_mean() {
    let _serial = shared();
    let mean = |x: &Array| ops::mean(x, Axes::All, false);
    let a = arange(8, &[2, 4]);
    let out = vm(one(mean), &[], &[], std::slice::from_ref(&a));
    assert_close(
        &out[0],
        &ops::mean(&a, 1, false).unwrap(),
        Family::Reduction,
        "mean",
    );

    let a = arange(16, &[2, 2, 4]);
    let inner = vmap(one(mean), &[], &[]).unwrap();
    let out = vm(
        move |x: &[Array]| inner.call(x),
        &[],
        &[],
        std::slice::from_ref(&a),
    );
    assert_close(
        &out[0],
        &ops::mean(&a, 2, false).unwrap(),
        Family::Reduction,
        "vmap(vmap(mean))",
    );
}

#[test]
fn test_mismatch_input_sizes() {
    let _serial = shared();
    let add = || two(|x, y| x + y);
    let a = ones(&[10, 1]);
    let b = ones(&[1, 1, 1, 5]);
    let r = vmap(add(), &[], &[]).unwrap().call(&[a.clone(), b]);
    assert_err_contains(r, "Inconsistent axis sizes", "(0, 0)");
    let b = ones(&[10, 5]);
    let r = vmap(add(), &[Some(0), Some(1)], &[]).unwrap().call(&[a, b]);
    assert_err_contains(r, "Inconsistent axis sizes", "(0, 1)");
}

#[test]
fn test_vmap_matmul() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let m = Family::Matmul;
    let mm = |a: &Array, b: &Array| ops::matmul(a, b).unwrap();
    let matmul = || two(ops::matmul);
    let addmm = || three(|c, a, b| ops::addmm(c, a, b, 1.0, 1.0));
    let addmm_ = |c: &Array, a: &Array, b: &Array| ops::addmm(c, a, b, 1.0, 1.0).unwrap();
    let mv = |a: &Array, s, d| ops::moveaxis(a, s, d).unwrap();

    let a = uniform(&[2, 3, 4]);
    let b = uniform(&[4, 3]);
    let out = vm(matmul(), &[Some(0), None], &[], &[a.clone(), b.clone()]);
    assert_close(&out[0], &mm(&a, &b), m, "matmul (0, None)");
    let c = uniform(&[3]);
    let out = vm(
        addmm(),
        &[None, Some(0), None],
        &[],
        &[c.clone(), a.clone(), b.clone()],
    );
    assert_close(&out[0], &addmm_(&c, &a, &b), m, "addmm (None, 0, None)");

    let b = uniform(&[4, 2]);
    let out = vm(matmul(), &[Some(1), None], &[1], &[a.clone(), b.clone()]);
    assert_close(
        &out[0],
        &mv(&mm(&mv(&a, 1, 0), &b), 0, 1),
        m,
        "matmul (1, None) out 1",
    );
    let c = uniform(&[2]);
    let out = vm(
        addmm(),
        &[None, Some(1), None],
        &[],
        &[c.clone(), a.clone(), b.clone()],
    );
    assert_close(
        &out[0],
        &addmm_(&c, &mv(&a, 1, 0), &b),
        m,
        "addmm (None, 1, None)",
    );

    let a = uniform(&[2, 3, 4]);
    let b = uniform(&[4, 2, 3]);
    let out = vm(matmul(), &[Some(0), Some(1)], &[], &[a.clone(), b.clone()]);
    assert_close(&out[0], &mm(&a, &mv(&b, 1, 0)), m, "matmul (0, 1)");
    let c = uniform(&[3, 3, 2]);
    let out = vm(
        addmm(),
        &[Some(2), Some(0), Some(1)],
        &[],
        &[c.clone(), a.clone(), b.clone()],
    );
    assert_close(
        &out[0],
        &addmm_(&mv(&c, 2, 0), &a, &mv(&b, 1, 0)),
        m,
        "addmm (2, 0, 1)",
    );
}

#[test]
fn test_vmap_svd() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let a = uniform(&[3, 4, 2]);
    // The factorizations run on the CPU stream (as Python's `stream=mx.cpu`).
    let full = || {
        |x: &[Array]| {
            let (u, s, vt) = svd(&x[0])?;
            Ok(vec![u, s, vt])
        }
    };
    let singular = || one(svdvals);
    let tol = Tol::new(1e-7, 1e-5);
    let check = |us: &[Array], sv: &Array, m: Vec<Array>| {
        for (i, m) in m.iter().enumerate() {
            let i = i as i32;
            let (u, s, vt) = (
                us[0].index(i).unwrap(),
                us[1].index(i).unwrap(),
                us[2].index(i).unwrap(),
            );
            let k = s.shape()[0];
            let usv = ops::matmul(
                &ops::matmul(&u.index((.., ..k)).unwrap(), &ops::diag(&s, 0).unwrap()).unwrap(),
                &vt,
            )
            .unwrap();
            assert_close_tol(&usv, m, Family::Matmul, tol, "U S Vt");
            let n1 = norm(&sv.index(i).unwrap(), None, None, false).unwrap();
            let n2 = norm(m, Some(ops::linalg::NormOrd::Fro), None, false).unwrap();
            assert_close_tol(&n1, &n2, Family::Reduction, tol, "norms");
        }
    };

    let us = vm(full(), &[Some(0)], &[], std::slice::from_ref(&a));
    assert_eq!(us[0].shape(), [3, 4, 4]);
    assert_eq!(us[1].shape(), [3, 2]);
    assert_eq!(us[2].shape(), [3, 2, 2]);
    let sv = vm(singular(), &[Some(0)], &[], std::slice::from_ref(&a));
    assert_eq!(sv[0].shape(), [3, 2]);
    check(&us, &sv[0], (0..3).map(|i| a.index(i).unwrap()).collect());

    let us = vm(full(), &[Some(1)], &[], std::slice::from_ref(&a));
    assert_eq!(us[0].shape(), [4, 3, 3]);
    assert_eq!(us[1].shape(), [4, 2]);
    assert_eq!(us[2].shape(), [4, 2, 2]);
    let sv = vm(singular(), &[Some(1)], &[], std::slice::from_ref(&a));
    assert_eq!(sv[0].shape(), [4, 2]);
    check(
        &us,
        &sv[0],
        (0..4).map(|i| a.index((.., i, ..)).unwrap()).collect(),
    );
}

#[test]
fn test_vmap_inverse() {
    let _serial = shared();
    mlx_rs::random::seed(42).unwrap();
    let a = uniform(&[3, 4, 4]);
    // On the GPU the products run in TF32 and the inverse amplifies their
    // error by the matrices' condition number (seen: 1.9e-2 off the
    // identity on an H200).
    let tol = if device::on_gpu() {
        Tol::new(5e-2, 1e-2)
    } else {
        Tol::new(1e-5, 1e-4)
    };
    let invs = vm(one(inv), &[Some(0)], &[], std::slice::from_ref(&a));
    for i in 0..3 {
        let p = ops::matmul(&a.index(i).unwrap(), &invs[0].index(i).unwrap()).unwrap();
        let eye = Array::eye(4, None, 0, Dtype::Float32).unwrap();
        assert_close_tol(&p, &eye, Family::Matmul, tol, "a @ inv(a)");
    }

    let a = uniform(&[4, 3, 4]);
    // Without vmapping, each input matrix is not square.
    assert!(inv(&a).and_then(|x| x.eval()).is_err());

    let invs = vm(one(inv), &[Some(1)], &[], std::slice::from_ref(&a));
    for i in 0..3 {
        let p = ops::matmul(&a.index((.., i, ..)).unwrap(), &invs[0].index(i).unwrap()).unwrap();
        let eye = Array::eye(4, None, 0, Dtype::Float32).unwrap();
        assert_close_tol(&p, &eye, Family::Matmul, tol, "a[:, i] @ inv");
    }
}

#[test]
fn test_vmap_gather() {
    let _serial = shared();
    let gather = || two(|a, idx| a.index(idx));
    let a = ints(&[1, 2, 3, 4], &[2, 2]);
    let idx = Array::scalar(0i32).unwrap();
    let out = vm(gather(), &[Some(0), None], &[], &[a.clone(), idx.clone()]);
    assert_equal(&out[0], &ints(&[1, 3], &[2]), "(0, None)");
    let out = vm(gather(), &[Some(1), None], &[], &[a.clone(), idx]);
    assert_equal(&out[0], &ints(&[1, 2], &[2]), "(1, None)");
    let idx = ints(&[0, 1], &[2]);
    let out = vm(gather(), &[Some(0), Some(0)], &[], &[a, idx]);
    assert_equal(&out[0], &ints(&[1, 4], &[2]), "(0, 0)");

    let zi = |shape: &[i32]| Array::zeros(shape, Dtype::Int32).unwrap();
    let a = ones(&[2, 3, 4]);
    let out = vm(gather(), &[Some(2), Some(0)], &[], &[a.clone(), zi(&[4])]);
    assert_eq!(out[0].shape(), [4, 3]);

    let _f = vmap(gather(), &[Some(0), None], &[]).unwrap();
    let f = vmap(gather(), &[Some(0), Some(0)], &[]).unwrap();
    let out = f.call(&[ones(&[2, 3, 4]), zi(&[2])]).unwrap();
    assert_eq!(out[0].shape(), [2, 4]);

    let gather = || three(|a, ia, ib| a.index((ia, ib)));
    let out = vm(
        gather(),
        &[Some(0), Some(0), None],
        &[],
        &[a.clone(), zi(&[2, 3]), zi(&[3])],
    );
    assert_eq!(out[0].shape(), [2, 3]);
    let out = vm(
        gather(),
        &[Some(0), None, Some(0)],
        &[],
        &[a.clone(), zi(&[3, 1, 2]), zi(&[2, 3, 1, 2])],
    );
    assert_eq!(out[0].shape(), [2, 3, 1, 2]);
    let out = vm(
        gather(),
        &[Some(0), None, Some(3)],
        &[],
        &[a, zi(&[3, 1, 2]), zi(&[3, 1, 2, 2])],
    );
    assert_eq!(out[0].shape(), [2, 3, 1, 2]);
}

#[test]
fn test_vmap_scatter() {
    let _serial = shared();
    let e = Family::Exact;
    // a[mx.array(0)] = mx.array(0.0)
    let scatter = || one(|a| a.index_put(&Array::scalar(0i32)?, sc(0.0)));
    let a = arr(&[1.0, 2.0, 3.0, 2.0, 3.0, 4.0], &[2, 3]);
    let out = vm(scatter(), &[], &[], std::slice::from_ref(&a));
    assert_close(
        &out[0],
        &arr(&[0.0, 2.0, 3.0, 0.0, 3.0, 4.0], &[2, 3]),
        e,
        "set, axis 0",
    );
    let out = vm(scatter(), &[Some(1)], &[1], std::slice::from_ref(&a));
    assert_close(
        &out[0],
        &arr(&[0.0, 0.0, 0.0, 2.0, 3.0, 4.0], &[2, 3]),
        e,
        "set, axis 1",
    );

    // a.at[mx.array(0)].add(mx.array(1.0))
    let scatter_add = || {
        one(|a| {
            let u = sc(1.0).reshape(&[1, 1])?;
            ops::scatter(
                a,
                [&Array::scalar(0i32)?.reshape(&[1])?],
                &u,
                &[0],
                Update::Add,
            )
        })
    };
    let out = vm(scatter_add(), &[], &[], std::slice::from_ref(&a));
    assert_close(
        &out[0],
        &arr(&[2.0, 2.0, 3.0, 3.0, 3.0, 4.0], &[2, 3]),
        e,
        "add, axis 0",
    );
    let out = vm(scatter_add(), &[Some(1)], &[1], std::slice::from_ref(&a));
    assert_close(
        &out[0],
        &arr(&[2.0, 3.0, 4.0, 2.0, 3.0, 4.0], &[2, 3]),
        e,
        "add, axis 1",
    );

    // Multiple indices: a[[0, 1], [0, 1]] = (1.0, 1.0)
    let scatter = || {
        one(|a| {
            a.index_put(
                (&ints(&[0, 1], &[2]), &ints(&[0, 1], &[2])),
                a1(&[1.0, 1.0]),
            )
        })
    };
    let a = zeros(&[3, 3, 3]);
    let base = scatter()(&[zeros(&[3, 3])]).unwrap()[0].clone();
    let expected = ops::repeat(&base.index(NewAxis).unwrap(), 3, Some(0)).unwrap();
    let out = vm(scatter(), &[Some(0)], &[0], std::slice::from_ref(&a));
    assert_close(&out[0], &expected, e, "in 0");
    let expected = zeros(&[3, 3, 3])
        .index_put((0, .., 0), 1.0)
        .unwrap()
        .index_put((1, .., 1), 1.0)
        .unwrap();
    let out = vm(scatter(), &[Some(1)], &[1], std::slice::from_ref(&a));
    assert_close(&out[0], &expected, e, "in 1");
    let expected = zeros(&[3, 3, 3])
        .index_put((0, 0, ..), 1.0)
        .unwrap()
        .index_put((1, 1, ..), 1.0)
        .unwrap();
    let out = vm(scatter(), &[Some(2)], &[2], std::slice::from_ref(&a));
    assert_close(&out[0], &expected, e, "in 2");

    // vmap over src and indices: a[idx] = 1.0
    let scatter = || two(|a, idx| a.index_put(idx, sc(1.0)));
    let a = zeros(&[3, 4]);
    let idx = ints(&[0, 1, 2], &[3]);
    let out = vm(
        scatter(),
        &[Some(0), Some(0)],
        &[0],
        &[a.clone(), idx.clone()],
    );
    assert_close(
        &out[0],
        &Array::eye(3, Some(4), 0, Dtype::Float32).unwrap(),
        e,
        "src and idx",
    );
    // vmap over only indices
    let out = vm(scatter(), &[None, Some(0)], &[0], &[a.clone(), idx.clone()]);
    let mut expected = zeros(&[3, 3, 4]);
    for i in 0..3 {
        expected = expected.index_put((i, i), 1.0).unwrap();
    }
    assert_close(&out[0], &expected, e, "only idx");

    // vmap over src, indices, updates: a[idx] = updates
    let scatter = || three(|a, idx, u| a.index_put(idx, u));
    let updates = ints(&[1, 2, 3], &[3]);
    let out = vm(
        scatter(),
        &[Some(0), Some(0), Some(0)],
        &[0],
        &[a.clone(), idx, updates.clone()],
    );
    let expected = ops::diag(&updates, -1).unwrap().index(1..).unwrap();
    assert_close(&out[0], &expected, e, "src, idx, updates");

    // vmap over only updates
    let idx = ints(&[0], &[1]);
    let out = vm(
        scatter(),
        &[None, None, Some(0)],
        &[0],
        &[a, idx, updates.clone()],
    );
    let expected = zeros(&[3, 3, 4])
        .index_put((.., 0), updates.index((.., NewAxis)).unwrap())
        .unwrap();
    assert_close(&out[0], &expected, e, "only updates");
}

#[test]
fn test_vmap_const_func() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let a = uniform(&[2, 3, 4]);
    let b = uniform(&[4, 3]);
    let const_func = || two(|_, _| Array::scalar(2i32));
    let full = |n: i32| Array::full(&[n], 2i32).unwrap();
    let ab = [a.clone(), b.clone()];
    assert_equal(
        &vm(const_func(), &[Some(0), None], &[], &ab)[0],
        &full(2),
        "(0, None)",
    );
    assert_equal(
        &vm(const_func(), &[None, Some(0)], &[], &ab)[0],
        &full(4),
        "(None, 0)",
    );
    assert_equal(
        &vm(const_func(), &[Some(1), Some(1)], &[], &ab)[0],
        &full(3),
        "(1, 1)",
    );
    let r = vmap(const_func(), &[None, None], &[]).unwrap().call(&ab);
    assert_err_contains(r, "maps no argument", "(None, None)");
    let r = vmap(const_func(), &[Some(0), Some(0)], &[])
        .unwrap()
        .call(&ab);
    assert_err_contains(r, "Inconsistent axis sizes", "(0, 0)");
}

#[test]
fn test_vmap_concatenate() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let x = uniform(&[2, 2, 2]);
    let cat_fun = two(|x, y| ops::concatenate([x, y], Some(1)));
    let cat_constant = one(|x| ops::concatenate([x, &ones(&[2, 1])], Some(1)));

    let out = vm(cat_fun, &[Some(0), Some(2)], &[], &[x.clone(), x.clone()]);
    let parts: Vec<Array> = (0..2)
        .map(|i| {
            ops::concatenate(
                [&x.index(i).unwrap(), &x.index((.., .., i)).unwrap()],
                Some(1),
            )
            .unwrap()
        })
        .collect();
    assert_equal(&out[0], &ops::stack(&parts, 0).unwrap(), "(0, 2)");

    let out = vm(cat_constant, &[], &[], std::slice::from_ref(&x));
    let target = ops::concatenate([&x, &ones(&[2, 2, 1])], Some(2)).unwrap();
    assert_equal(&out[0], &target, "constant");
}

#[test]
fn test_vmap_take_along_axis() {
    let _serial = shared();
    let fun = || two(|a, idx| ops::take_along_axis(a, idx, 0));
    let zi = |shape: &[i32]| Array::zeros(shape, Dtype::Int32).unwrap();
    let out = vm(
        fun(),
        &[Some(0), Some(1)],
        &[],
        &[zeros(&[4, 5, 1]), zi(&[2, 4, 1])],
    );
    assert_eq!(out[0].shape(), [4, 2, 1]);
    let out = vm(
        fun(),
        &[Some(0), None],
        &[],
        &[zeros(&[4, 5, 1]), zi(&[2, 1])],
    );
    assert_eq!(out[0].shape(), [4, 2, 1]);
    let out = vm(
        fun(),
        &[None, Some(0)],
        &[],
        &[zeros(&[5, 1]), zi(&[4, 2, 1])],
    );
    assert_eq!(out[0].shape(), [4, 2, 1]);
    let out = vm(
        fun(),
        &[None, Some(0)],
        &[],
        &[zeros(&[4, 5, 3]), zi(&[2, 2, 1, 3])],
    );
    assert_eq!(out[0].shape(), [2, 2, 5, 3]);
}

#[test]
fn test_vmap_put_along_axis() {
    let _serial = shared();
    let fun = || three(|a, idx, upd| ops::put_along_axis(a, idx, upd, 0));
    let oi = |shape: &[i32]| Array::ones(shape, Dtype::Int32).unwrap();
    let a = zeros(&[4, 5, 1]);
    let out = vm(
        fun(),
        &[Some(0), Some(1), Some(1)],
        &[],
        &[a.clone(), oi(&[2, 4, 1]), ones(&[2, 4, 1])],
    );
    assert_eq!(out[0].shape(), [4, 5, 1]);
    let out = vm(
        fun(),
        &[Some(0), Some(1), None],
        &[],
        &[a.clone(), oi(&[2, 4, 1]), ones(&[2, 1])],
    );
    assert_eq!(out[0].shape(), [4, 5, 1]);
    let out = vm(
        fun(),
        &[Some(0), None, None],
        &[],
        &[a, oi(&[2, 1]), ones(&[2, 1])],
    );
    assert_eq!(out[0].shape(), [4, 5, 1]);
    let out = vm(
        fun(),
        &[None, Some(1), Some(1)],
        &[],
        &[zeros(&[5, 1]), oi(&[2, 4, 1]), ones(&[2, 4, 1])],
    );
    assert_eq!(out[0].shape(), [4, 5, 1]);
}

#[test]
fn test_vmap_split_vmap() {
    let _serial = shared();
    let fun = |x: &Array| {
        let p = ops::split(x, 2, 1)?;
        ops::concatenate([&p[1], &p[0]], Some(1))
    };
    let fx = fun(&ones(&[5, 6, 7])).unwrap();
    let fy = vm(one(fun), &[Some(1)], &[], &[ones(&[5, 4, 6, 7])]);
    assert_eq!(fx.shape(), [5, 6, 7]);
    assert_eq!(fy[0].shape(), [4, 5, 6, 7]);
}

#[test]
fn test_leaks() {
    let _serial = exclusive();
    // Python builds a reference cycle through a dict (and compares memory
    // only on Metal); here the vmapped closure owns an evaluated array,
    // and dropping the transform must give its memory back.
    let mem_pre = settled_active_memory();
    for _ in 0..5 {
        let x = Array::zeros(&[1000], Dtype::Int32).unwrap();
        x.eval().unwrap();
        let f = vmap(move |_: &[Array]| Ok(vec![x.clone()]), &[], &[]).unwrap();
        drop(f);
    }
    assert_eq!(mem_pre, settled_active_memory());
}

#[test]
fn test_vmap_flatten() {
    let _serial = shared();
    let fun = || one(|x| ops::flatten(x, 0, 1));
    let x = zeros(&[2, 3, 4]);
    assert_eq!(
        vm(fun(), &[], &[], std::slice::from_ref(&x))[0].shape(),
        [2, 12]
    );
    assert_eq!(
        vm(fun(), &[Some(1)], &[], std::slice::from_ref(&x))[0].shape(),
        [3, 8]
    );
    assert_eq!(
        vm(fun(), &[Some(2)], &[], std::slice::from_ref(&x))[0].shape(),
        [4, 6]
    );
}

#[test]
fn test_vmap_conv() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let m = Family::Matmul;
    let conv = |x: &Array, w: &Array| ops::conv1d(x, w, &Conv::default()).unwrap();
    let conv1d = || two(|x, w| ops::conv1d(x, w, &Conv::default()));
    let stack = |v: Vec<Array>| ops::stack(&v, 0).unwrap();

    // vmap input only
    let x = uniform(&[2, 2, 5, 4]);
    let w = uniform(&[8, 3, 4]);
    let expected = stack(unstack(&x, 0).iter().map(|xi| conv(xi, &w)).collect());
    let out = vm(conv1d(), &[Some(0), None], &[], &[x.clone(), w.clone()]);
    assert_close(&expected, &out[0], m, "input, axis 0");
    let x = ops::moveaxis(&x, 0, 2).unwrap();
    let out = vm(conv1d(), &[Some(2), None], &[], &[x, w]);
    assert_close(&expected, &out[0], m, "input, axis 2");

    // vmap weights only
    let x = uniform(&[2, 5, 4]);
    let w = uniform(&[3, 8, 3, 4]);
    let expected = stack(unstack(&w, 0).iter().map(|wi| conv(&x, wi)).collect());
    let out = vm(conv1d(), &[None, Some(0)], &[], &[x.clone(), w.clone()]);
    assert_close(&expected, &out[0], m, "weights, axis 0");
    let w = ops::moveaxis(&w, 0, 1).unwrap();
    let out = vm(conv1d(), &[None, Some(1)], &[], &[x, w]);
    assert_close(&expected, &out[0], m, "weights, axis 1");

    // vmap weights and input
    let x = uniform(&[3, 2, 5, 4]);
    let w = uniform(&[3, 8, 3, 4]);
    let expected = stack(
        unstack(&x, 0)
            .iter()
            .zip(unstack(&w, 0))
            .map(|(xi, wi)| conv(xi, &wi))
            .collect(),
    );
    let out = vm(conv1d(), &[Some(0), Some(0)], &[], &[x, w]);
    assert_close(&expected, &out[0], m, "both, (0, 0)");

    let x = uniform(&[2, 3, 5, 4]);
    let w = uniform(&[8, 3, 4, 3]);
    let expected = stack(
        (0..3)
            .map(|i| conv(&x.index((.., i)).unwrap(), &w.index((Ellipsis, i)).unwrap()))
            .collect(),
    );
    let out = vm(conv1d(), &[Some(1), Some(3)], &[], &[x, w]);
    assert_close(&expected, &out[0], m, "both, (1, 3)");

    // Test with groups
    let x = uniform(&[3, 2, 5, 8]);
    let w = uniform(&[3, 2, 3, 4]);
    let g = Conv {
        groups: 2,
        ..Conv::default()
    };
    let gconv = move |x: &Array, w: &Array| ops::conv1d(x, w, &g);
    let expected = stack(
        unstack(&x, 0)
            .iter()
            .zip(unstack(&w, 0))
            .map(|(xi, wi)| gconv(xi, &wi).unwrap())
            .collect(),
    );
    let out = vm(two(gconv), &[Some(0), Some(0)], &[], &[x, w]);
    assert_close(&expected, &out[0], m, "groups");
}

#[test]
fn test_vmap_pad() {
    let _serial = shared();
    // mx.pad(x, ((1, 2), (0, 1)), constant_values=value)
    let pad2d = |x: &Array| ops::pad(x, &[0, 1], &[1, 0], &[2, 1], 0.0, PadMode::Constant);
    let x = Array::arange(0.0, 24.0, 1.0, Dtype::Float32)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    let stack = |v: Vec<Array>, axis| ops::stack(&v, axis).unwrap();

    let expected = stack(
        unstack(&x, 0).iter().map(|xi| pad2d(xi).unwrap()).collect(),
        0,
    );
    assert_equal(
        &vm(one(pad2d), &[Some(0)], &[], std::slice::from_ref(&x))[0],
        &expected,
        "in 0",
    );
    let expected = stack(
        unstack(&x, 1).iter().map(|xi| pad2d(xi).unwrap()).collect(),
        0,
    );
    assert_equal(
        &vm(one(pad2d), &[Some(1)], &[], std::slice::from_ref(&x))[0],
        &expected,
        "in 1",
    );
    // Python: in_axes=-1, out_axes=-1 (refused here: see the header).
    let expected = stack(
        unstack(&x, 2).iter().map(|xi| pad2d(xi).unwrap()).collect(),
        2,
    );
    assert_equal(
        &vm(one(pad2d), &[Some(2)], &[2], std::slice::from_ref(&x))[0],
        &expected,
        "in 2",
    );
    assert_err_contains(
        vmap(one(pad2d), &[Some(-1)], &[-1]),
        "negative",
        "in_axes=-1",
    );

    // nested vmap of mx.pad(y, (1, 1))
    let inner = vmap(
        one(|y| ops::pad_symmetric(y, 1, 0.0, PadMode::Constant)),
        &[],
        &[],
    )
    .unwrap();
    let out = vm(
        move |a: &[Array]| inner.call(a),
        &[],
        &[],
        std::slice::from_ref(&x),
    );
    let expected = ops::pad(&x, &[2], &[1], &[1], 0.0, PadMode::Constant).unwrap();
    assert_equal(&out[0], &expected, "nested");

    let padv = || two(|a, v| ops::pad(a, &[0, 1], &[1, 1], &[1, 1], v, PadMode::Constant));
    let out = vm(padv(), &[Some(0), None], &[], &[x.clone(), sc(5.0)]);
    let expected = stack(
        unstack(&x, 0)
            .iter()
            .map(|xi| ops::pad(xi, &[0, 1], &[1, 1], &[1, 1], sc(5.0), PadMode::Constant).unwrap())
            .collect(),
        0,
    );
    assert_equal(&out[0], &expected, "constant value");

    let pad_values = a1(&[3.0, 4.0]);
    let r = vmap(padv(), &[], &[]).unwrap().call(&[x, pad_values]);
    assert!(r.is_err(), "a batched pad value: {r:?}");
}

#[test]
fn test_vmap_types() {
    let _serial = shared();
    // The plain-tuple part (two arguments, two outputs); the NamedTuple
    // and tuple-subclass parts are Python only.
    let transform_tuple = |t: &[Array]| Ok(vec![(&t[0] + 10)?, (&t[1] * 10)?]);
    let out = vm(
        transform_tuple,
        &[],
        &[],
        &[ints(&[1, 2, 3], &[3]), ints(&[4, 5, 6], &[3])],
    );
    assert_eq!(out.len(), 2);
    assert_equal(&out[0], &ints(&[11, 12, 13], &[3]), "t[0] + 10");
    assert_equal(&out[1], &ints(&[40, 50, 60], &[3]), "t[1] * 10");
}

#[test]
fn test_vmap_masked_scatter() {
    let _serial = shared();
    // x[m] = src
    let scatter_fn = |x: &Array, m: &Array, src: &Array| ops::masked_scatter(x, m, src);
    let b = |v: &[bool], shape: &[i32]| Array::from_slice(v, shape).unwrap();
    let (t, f) = (true, false);
    let run = |axes: &[Option<i32>], a: Array, m: Array, s: Array| {
        vm(three(scatter_fn), axes, &[], &[a, m, s])[0].clone()
    };

    // Batched sources
    let out = run(
        &[Some(0), Some(0), Some(0)],
        ints(&[10, 20, 30, 40, 50, 60, 70, 80], &[2, 4]),
        b(&[f, t, t, t, t, f, t, t], &[2, 4]),
        ints(&[1, 2, 3, 4, 5, 6], &[2, 3]),
    );
    assert_equal(
        &out,
        &ints(&[10, 1, 2, 3, 4, 60, 5, 6], &[2, 4]),
        "batched sources",
    );

    // Shared source across batch (matching mask populations)
    let out = run(
        &[Some(0), Some(0), None],
        ints(&[0, 0, 0, 5, 5, 5], &[2, 3]),
        b(&[t, f, t, f, t, t], &[2, 3]),
        ints(&[9, 8], &[2]),
    );
    assert_equal(&out, &ints(&[9, 0, 8, 5, 9, 8], &[2, 3]), "shared source");

    // Shared destination with batched mask and sources
    let out = run(
        &[None, Some(0), Some(0)],
        ints(&[10, 20, 30, 40], &[4]),
        b(&[t, f, f, t, f, t, t, f], &[2, 4]),
        ints(&[1, 2, 3, 4], &[2, 2]),
    );
    assert_equal(
        &out,
        &ints(&[1, 20, 30, 2, 10, 3, 4, 40], &[2, 4]),
        "shared destination",
    );

    // Shared mask across batch with batched sources
    let out = run(
        &[Some(0), None, Some(0)],
        ints(&[0, 0, 0, 0, 10, 20, 30, 40], &[2, 4]),
        b(&[t, f, t, f], &[4]),
        ints(&[7, 8, 9, 10], &[2, 2]),
    );
    assert_equal(
        &out,
        &ints(&[7, 0, 8, 0, 9, 20, 10, 40], &[2, 4]),
        "shared mask",
    );

    // Uneven mask populations with scalar broadcast
    let out = run(
        &[Some(0), Some(0), None],
        arr(&[0.0, 0.0, 0.0, 0.0, 10.0, 20.0, 30.0, 40.0], &[2, 4]),
        b(&[t, f, t, t, f, t, f, f], &[2, 4]),
        sc(1.5),
    );
    let expected = arr(&[1.5, 0.0, 1.5, 1.5, 10.0, 1.5, 30.0, 40.0], &[2, 4]);
    assert_equal(&out, &expected, "scalar source");

    // Shared src with identical masks must restart for each batch
    let out = run(
        &[Some(0), Some(0), None],
        ints(&[0, 0, 0, 0, 0, 10, 20, 30, 40, 50], &[2, 5]),
        b(&[t, t, t, f, f, t, t, t, f, f], &[2, 5]),
        ints(&[1, 2, 3, 4, 5], &[5]),
    );
    assert_equal(
        &out,
        &ints(&[1, 2, 3, 0, 0, 1, 2, 3, 40, 50], &[2, 5]),
        "restart",
    );

    // Double vmap
    mlx_rs::random::seed(0).unwrap();
    let a = zeros(&[8, 8, 8]);
    let mask = ops::greater(normal(&[8, 8, 8]), 0.0).unwrap();
    let src = normal(&[8, 8]);
    let rows: Vec<Array> = (0..8)
        .map(|i| {
            let cols: Vec<Array> = (0..8)
                .map(|j| {
                    scatter_fn(
                        &a.index((i, j)).unwrap(),
                        &mask.index((i, j)).unwrap(),
                        &src.index(i).unwrap(),
                    )
                    .unwrap()
                })
                .collect();
            ops::stack(&cols, 0).unwrap()
        })
        .collect();
    let expected = ops::stack(&rows, 0).unwrap();
    let inner = vmap(three(scatter_fn), &[Some(0), Some(0), None], &[]).unwrap();
    let out = vm(
        move |x: &[Array]| inner.call(x),
        &[Some(0), Some(0), Some(0)],
        &[],
        &[a, mask, src],
    );
    assert_equal(&out[0], &expected, "double vmap");
}

#[test]
fn test_broadcast_axes_vmap() {
    let _serial = shared();
    // Broadcast axes requires shapeless compile to properly test
    let counter = Rc::new(Cell::new(0));
    let make = |in_axes: &'static [Option<i32>]| {
        let c = counter.clone();
        let fun = move |a: &[Array]| {
            c.set(c.get() + 1);
            Ok(vec![ops::matmul(&a[0], &a[1])?])
        };
        let v = Rc::new(vmap(fun, in_axes, &[]).unwrap());
        let v2 = v.clone();
        (v, compile(move |a: &[Array]| v2.call(a), true).unwrap())
    };
    mlx_rs::random::seed(0).unwrap();

    let x = normal(&[2, 3, 1, 4, 5]);
    let y = normal(&[1, 2, 5, 6]);
    let z = normal(&[3, 2, 1, 4, 5]);
    let w = normal(&[2, 3, 5, 6]);
    let (vmap_fn, cvmap_fn) = make(&[Some(0), Some(1)]);
    let expected = vmap_fn.call(&[x.clone(), y.clone()]).unwrap();
    let out = cvmap_fn.call(&[x, y]).unwrap();
    assert_equal(&out[0], &expected[0], "(0, 1)");
    assert_eq!(counter.get(), 2);
    let expected = vmap_fn.call(&[z.clone(), w.clone()]).unwrap();
    let out = cvmap_fn.call(&[z, w]).unwrap();
    assert_equal(&out[0], &expected[0], "(0, 1), other shapes");
    assert_eq!(counter.get(), 3);

    let x = normal(&[2, 3, 1, 4, 5]);
    let y = normal(&[1, 2, 5, 6]);
    let z = normal(&[2, 3, 1, 7, 2]);
    let w = normal(&[1, 2, 2, 3]);
    let (vmap_fn, cvmap_fn) = make(&[Some(0), None]);
    let expected = vmap_fn.call(&[x.clone(), y.clone()]).unwrap();
    let out = cvmap_fn.call(&[x, y]).unwrap();
    assert_equal(&out[0], &expected[0], "(0, None)");
    assert_eq!(counter.get(), 5);
    let expected = vmap_fn.call(&[z.clone(), w.clone()]).unwrap();
    let out = cvmap_fn.call(&[z, w]).unwrap();
    assert_equal(&out[0], &expected[0], "(0, None), other shapes");
    assert_eq!(counter.get(), 6);
}

#[test]
fn test_vmap_sort() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let a = uniform(&[3, 5]);
    let cols: Vec<Array> = (0..5)
        .map(|i| ops::sort(&a.index((.., i)).unwrap(), Some(-1)).unwrap())
        .collect();
    let expected = ops::stack(&cols, 1).unwrap();
    for axis in [0, -1] {
        let out = vm(
            one(move |x| ops::sort(x, Some(axis))),
            &[Some(1)],
            &[1],
            std::slice::from_ref(&a),
        );
        assert_equal(&out[0], &expected, &format!("axis {axis}"));
    }
}

#[test]
fn test_vmap_argsort() {
    let _serial = shared();
    mlx_rs::random::seed(0).unwrap();
    let a = uniform(&[3, 5]);
    let cols: Vec<Array> = (0..5)
        .map(|i| ops::argsort(&a.index((.., i)).unwrap(), Some(-1)).unwrap())
        .collect();
    let expected = ops::stack(&cols, 1).unwrap();
    for axis in [0, -1] {
        let out = vm(
            one(move |x| ops::argsort(x, Some(axis))),
            &[Some(1)],
            &[1],
            std::slice::from_ref(&a),
        );
        assert_equal(&out[0], &expected, &format!("axis {axis}"));
    }
}
