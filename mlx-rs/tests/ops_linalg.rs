//! `mlx_rs::ops::linalg` against Python MLX 0.32.2: every expected value
//! and message comes from `scripts/golden/linalg_fft_random.py` (fixed
//! seeds, CPU), stored in `tests/golden/lfr_linalg.json`.
//!
//! # Tolerances
//! The factorizations run on the CPU whatever the default device (see the
//! module docs), through the reference LAPACK and BLAS that MLX 0.32.2
//! ships, which have no run-time CPU dispatch: on the CPU every result must
//! be bit-identical to Python MLX, eigen- and singular vectors included
//! (same library, same sign and phase choices). Only [`norm`] and [`cross`]
//! can run elsewhere; on the GPU they get [`Family::Reduction`]'s
//! tolerance (`tests/device`, the suite's one table). The invariant tests
//! (reconstructing `A` from its factors) use [`tol::INVARIANT`] (float32
//! products of 3×3 matrices, on the CPU on every device).

mod common;
mod device;
mod lfr_support;

use common::golden::{array, float, golden_file, int, opt_ints, pinned};
use device::{host_bits, on_cpu, Family};
use lfr_support::{run_cases, run_errors};
use mlx_rs::ops::linalg::{self, NormOrd, Uplo};
use mlx_rs::{Array, Complex32, Device, DeviceType, Dtype, Error, Stream};
use serde_json::Value;

mod tol {
    /// Reconstructions `‖A − f(factors)‖` in float32.
    pub const INVARIANT: f64 = 1e-4;
}

fn golden() -> &'static Value {
    pinned(golden_file!("lfr_linalg.json"))
}

fn ord(v: &Value) -> Option<NormOrd> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(match s.as_str() {
            "fro" => NormOrd::Fro,
            "nuc" => NormOrd::Nuc,
            "inf" => NormOrd::P(f64::INFINITY),
            "-inf" => NormOrd::P(f64::NEG_INFINITY),
            other => panic!("unknown ord {other}"),
        }),
        n => Some(NormOrd::P(float(n))),
    }
}

fn uplo(v: &Value) -> Uplo {
    match v.as_str().unwrap() {
        "L" => Uplo::Lower,
        "U" => Uplo::Upper,
        other => panic!("unknown UPLO {other}"),
    }
}

/// Calls the Rust function `name` as the golden table describes.
fn dispatch(name: &str, x: &[Array], p: &Value) -> mlx_rs::Result<Vec<Array>> {
    let a = &x[0];
    let up = || p["upper"].as_bool().unwrap();
    Ok(match name {
        "norm" => {
            let axes = opt_ints(&p["axes"]);
            let keep = p["keepdims"].as_bool().unwrap();
            vec![linalg::norm(a, ord(&p["ord"]), axes.as_deref(), keep)?]
        }
        "inv" => vec![linalg::inv(a)?],
        "pinv" => vec![linalg::pinv(a)?],
        "det" => vec![linalg::det(a)?],
        "tri_inv" => vec![linalg::tri_inv(a, up())?],
        "cholesky" => vec![linalg::cholesky(a, up())?],
        "cholesky_inv" => vec![linalg::cholesky_inv(a, up())?],
        "qr" => {
            let (q, r) = linalg::qr(a)?;
            vec![q, r]
        }
        "svd" => {
            let (u, s, vt) = linalg::svd(a)?;
            vec![u, s, vt]
        }
        "svdvals" => vec![linalg::svdvals(a)?],
        "lu" => {
            let (pv, l, u) = linalg::lu(a)?;
            vec![pv, l, u]
        }
        "lu_factor" => {
            let (lu, piv) = linalg::lu_factor(a)?;
            vec![lu, piv]
        }
        "solve" => vec![linalg::solve(a, &x[1])?],
        "solve_triangular" => vec![linalg::solve_triangular(a, &x[1], up())?],
        "cross" => vec![linalg::cross(a, &x[1], int(&p["axis"]))?],
        "eig" => {
            let (w, v) = linalg::eig(a)?;
            vec![w, v]
        }
        "eigvals" => vec![linalg::eigvals(a)?],
        "eigh" => {
            let (w, v) = linalg::eigh(a, uplo(&p["uplo"]))?;
            vec![w, v]
        }
        "eigvalsh" => vec![linalg::eigvalsh(a, uplo(&p["uplo"]))?],
        "slogdet" => {
            let (s, l) = linalg::slogdet(a)?;
            vec![s, l]
        }
        other => panic!("no dispatcher entry for {other}"),
    })
}

fn tolerance(name: &str) -> Family {
    match name {
        // reductions in another order off the CPU
        "cross" => Family::Reduction,
        // ord 2 / nuc norms are singular values (LAPACK)
        "norm" => device::lapack_family(Family::Reduction),
        // Everything else runs on the CPU stream, through LAPACK: exact
        // with the wheel's reference LAPACK.
        _ => device::lapack_family(Family::Exact),
    }
}

#[test]
fn golden_cases_match_python() {
    let seen = run_cases(golden(), &dispatch, tolerance);
    // Every wrapper of linalg.h (21 C functions: norm's three variants are
    // the three kinds of `ord`, svd's two are `svd` and `svdvals`).
    let all = [
        "cholesky",
        "cholesky_inv",
        "cross",
        "det",
        "eig",
        "eigh",
        "eigvals",
        "eigvalsh",
        "inv",
        "lu",
        "lu_factor",
        "norm",
        "pinv",
        "qr",
        "slogdet",
        "solve",
        "solve_triangular",
        "svd",
        "svdvals",
        "tri_inv",
    ];
    assert_eq!(seen.keys().map(String::as_str).collect::<Vec<_>>(), all);
    let ords: std::collections::BTreeSet<&str> = golden()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["fn"] == "norm")
        .map(|c| match &c["p"]["ord"] {
            Value::Null => "l2",
            Value::String(s) if s == "fro" || s == "nuc" => "matrix",
            _ => "numeric",
        })
        .collect();
    assert_eq!(ords.len(), 3, "norm_l2, norm and norm_matrix all reached");
    assert!(seen.values().sum::<usize>() >= 100);
}

#[test]
fn bad_inputs_fail_with_mlx_messages() {
    let n = run_errors(golden(), &dispatch);
    assert!(n >= 90, "{n} bad-input cases");
}

/// Inputs on which MLX 0.32.2 would end the process (an integer division
/// by zero, or LAPACK's `xerbla` calling `STOP`), refused by mlx-rs.
#[test]
fn inputs_that_would_end_the_process_are_refused() {
    fn f(d: &[i32]) -> Array {
        Array::zeros(d, Dtype::Float32).unwrap()
    }
    type Case = (&'static str, Box<dyn Fn() -> mlx_rs::Result<Vec<Array>>>);
    let mut empty: Vec<Case> = Vec::new();
    for d in [vec![0, 0], vec![3, 0], vec![0, 3], vec![2, 0, 0]] {
        let square = d[d.len() - 1] == d[d.len() - 2];
        let a = f(&d);
        let b = if d.len() == 2 {
            f(&[d[0]])
        } else {
            f(&[2, 0, 1])
        };
        if square {
            let (a1, a2, a3, a4, a5) = (a.clone(), a.clone(), a.clone(), a.clone(), a.clone());
            let (b4, b5) = (b.clone(), b.clone());
            empty.push(("inv", Box::new(move || Ok(vec![linalg::inv(&a1)?]))));
            empty.push((
                "tri_inv",
                Box::new(move || Ok(vec![linalg::tri_inv(&a2, true)?])),
            ));
            empty.push((
                "cholesky_inv",
                Box::new(move || Ok(vec![linalg::cholesky_inv(&a3, false)?])),
            ));
            empty.push((
                "solve",
                Box::new(move || Ok(vec![linalg::solve(&a4, &b4)?])),
            ));
            empty.push((
                "solve_triangular",
                Box::new(move || Ok(vec![linalg::solve_triangular(&a5, &b5, false)?])),
            ));
        }
        let (a1, a2) = (a.clone(), a.clone());
        empty.push((
            "lu",
            Box::new(move || linalg::lu(&a1).map(|(p, l, u)| vec![p, l, u])),
        ));
        empty.push((
            "lu_factor",
            Box::new(move || linalg::lu_factor(&a2).map(|(lu, p)| vec![lu, p])),
        ));
    }
    assert_eq!(empty.len(), 2 * 5 + 4 * 2);
    for (what, call) in &empty {
        match call() {
            Err(Error::InvalidShape { reason, .. }) => {
                assert!(reason.contains("zero dimension"), "{what}: {reason}")
            }
            other => panic!("{what}: expected InvalidShape, got {other:?}"),
        }
    }

    let nan = f32::NAN;
    let inf = f32::INFINITY;
    // float64 (LAPACK's DGEBAL) made on the CPU: MLX has no float64 on GPUs
    let cpu = Stream::default_for(Device::cpu()).unwrap();
    let nan64 = mlx_rs::with_stream(&cpu, || Array::full(&[3, 3], f64::NAN)).unwrap();
    let bad = [
        nan64,
        Array::from_slice(&[1.0f32, nan, nan, 1.0], &[2, 2]).unwrap(),
        Array::from_slice(&[1.0f32, 2.0, 3.0, nan], &[2, 2]).unwrap(),
        Array::from_slice(&[1.0f32, inf, inf, 1.0], &[2, 2]).unwrap(),
        Array::full(&[3, 3], f32::NAN).unwrap(),
        Array::from_slice(&[Complex32::new(nan, 0.0); 4], &[2, 2]).unwrap(),
        // one bad matrix in a batch is enough
        Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 1.0, -inf, 0.0, 1.0], &[2, 2, 2]).unwrap(),
    ];
    for a in &bad {
        for (what, r) in [
            ("eig", linalg::eig(a).map(|_| ())),
            ("eigvals", linalg::eigvals(a).map(|_| ())),
        ] {
            assert!(
                matches!(r, Err(Error::InvalidData { .. })),
                "{what}: expected InvalidData, got {r:?}"
            );
        }
    }

    // Not refused: empty batches, and what LAPACK handles.
    let batch = f(&[0, 2, 2]);
    assert_eq!(linalg::inv(&batch).unwrap().shape(), [0, 2, 2]);
    assert_eq!(linalg::lu(&batch).unwrap().1.shape(), [0, 2, 2]);
    let e = f(&[0, 0]);
    let (w, v) = linalg::eig(&e).unwrap();
    assert_eq!((w.shape(), v.shape()), (&[0][..], &[0, 0][..]));
    assert_eq!(linalg::det(&e).unwrap().item::<f32>().unwrap(), 1.0);
    assert_eq!(linalg::cholesky(&e, false).unwrap().shape(), [0, 0]);
    let ok = linalg::solve(
        &Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0], &[2, 2]).unwrap(),
        &f(&[2, 0]),
    );
    assert_eq!(ok.unwrap().shape(), [2, 0]);
    // eigh and svd report NaN as errors (in the golden table).
    let w = linalg::eigvals(&Array::from_slice(&[1.0f32, 2.0, 2.0, 1.0], &[2, 2]).unwrap());
    let mut w = w.unwrap().to_vec::<Complex32>().unwrap();
    w.sort_by(|a, b| a.re.total_cmp(&b.re));
    for (got, want) in w.iter().zip([-1.0f32, 3.0]) {
        assert!((got - Complex32::new(want, 0.0)).norm() < 1e-5, "{got}");
    }
}

/// `(rows, cols, row-major f64 values)` of a 2-D real array.
fn mat(a: &Array) -> (usize, usize, Vec<f64>) {
    let s = a.shape();
    assert_eq!(s.len(), 2);
    // (through float32: MLX has no float64 on GPUs)
    let v = a.astype(Dtype::Float32).unwrap().to_vec::<f32>().unwrap();
    (
        s[0] as usize,
        s[1] as usize,
        v.into_iter().map(f64::from).collect(),
    )
}

fn matmul(a: &(usize, usize, Vec<f64>), b: &(usize, usize, Vec<f64>)) -> (usize, usize, Vec<f64>) {
    assert_eq!(a.1, b.0);
    let mut out = vec![0.0; a.0 * b.1];
    for i in 0..a.0 {
        for j in 0..b.1 {
            out[i * b.1 + j] = (0..a.1).map(|k| a.2[i * a.1 + k] * b.2[k * b.1 + j]).sum();
        }
    }
    (a.0, b.1, out)
}

fn assert_mat_close(got: &(usize, usize, Vec<f64>), want: &(usize, usize, Vec<f64>), what: &str) {
    assert_eq!((got.0, got.1), (want.0, want.1), "{what}: shape");
    for (i, (g, w)) in got.2.iter().zip(&want.2).enumerate() {
        assert!(
            (g - w).abs() <= tol::INVARIANT * (1.0 + w.abs()),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

fn input(name: &str) -> Array {
    array(&golden()["inputs"][name])
}

/// Sign and phase conventions aside, the factors reconstruct the input.
#[test]
fn factorizations_reconstruct_their_input() {
    for name in ["A", "R", "Rt"] {
        let a = input(name);
        let am = mat(&a);
        let (q, r) = linalg::qr(&a).unwrap();
        assert_mat_close(&matmul(&mat(&q), &mat(&r)), &am, &format!("qr {name}"));

        let (u, s, vt) = linalg::svd(&a).unwrap();
        let (m, n) = (am.0, am.1);
        let s = s.to_vec::<f32>().unwrap();
        let mut sig = (m, n, vec![0.0; m * n]);
        for (i, &x) in s.iter().enumerate() {
            sig.2[i * n + i] = f64::from(x);
        }
        let usv = matmul(&matmul(&mat(&u), &sig), &mat(&vt));
        assert_mat_close(&usv, &am, &format!("svd {name}"));
        assert!(s.windows(2).all(|w| w[0] >= w[1]), "descending");
        // (LAPACK computes the values alone by another path: last bits differ)
        let vals = linalg::svdvals(&a).unwrap().to_vec::<f32>().unwrap();
        for (x, y) in vals.iter().zip(&s) {
            assert!((x - y).abs() <= 1e-5 * y.abs(), "svdvals {name}");
        }

        // a = L[P, :] · U, i.e. row i of a is row P[i] of L · U
        let (p, l, u) = linalg::lu(&a).unwrap();
        let lu = matmul(&mat(&l), &mat(&u));
        let p = p.to_vec::<u32>().unwrap();
        let permuted: Vec<f64> = p
            .iter()
            .flat_map(|&i| lu.2[i as usize * n..(i as usize + 1) * n].to_vec())
            .collect();
        assert_mat_close(&(m, n, permuted), &am, &format!("lu {name}"));
    }

    let s = input("S");
    let l = mat(&linalg::cholesky(&s, false).unwrap());
    let lt = mat(&linalg::cholesky(&s, true).unwrap());
    assert_mat_close(&matmul(&l, &lt), &mat(&s), "cholesky L·Lᵀ");
    let inv = mat(&linalg::inv(&s).unwrap());
    let eye = (3, 3, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    assert_mat_close(&matmul(&inv, &mat(&s)), &eye, "inv");
    let ci = mat(&linalg::cholesky_inv(&linalg::cholesky(&s, false).unwrap(), false).unwrap());
    assert_mat_close(&ci, &inv, "cholesky_inv");

    // eigh: S v = w v
    let (w, v) = linalg::eigh(&s, Uplo::Lower).unwrap();
    let (w, vm) = (w.to_vec::<f32>().unwrap(), mat(&v));
    let sv = matmul(&mat(&s), &vm);
    for (j, &wj) in w.iter().enumerate() {
        for i in 0..3 {
            let lhs = sv.2[i * 3 + j];
            let rhs = f64::from(wj) * vm.2[i * 3 + j];
            assert!((lhs - rhs).abs() < tol::INVARIANT * 10.0, "eigh {i},{j}");
        }
    }
    // eig: E v = w v in complex arithmetic
    let e = input("E");
    let em = mat(&e);
    let (w, v) = linalg::eig(&e).unwrap();
    let w = w.to_vec::<Complex32>().unwrap();
    let v = v.to_vec::<Complex32>().unwrap();
    assert!(w.iter().any(|z| z.im.abs() > 0.5), "complex pair");
    for (j, &wj) in w.iter().enumerate() {
        for i in 0..3 {
            let lhs: Complex32 = (0..3).map(|k| v[k * 3 + j] * em.2[i * 3 + k] as f32).sum();
            let rhs = wj * v[i * 3 + j];
            assert!((lhs - rhs).norm() < 1e-4, "eig {i},{j}: {lhs} vs {rhs}");
        }
    }
}

#[test]
fn cpu_only_functions_default_to_a_cpu_stream() {
    let s = linalg::linalg_stream().unwrap();
    assert_eq!(s.device().unwrap().kind(), DeviceType::Cpu);
    // A CPU stream installed by `with_stream` is the one used.
    let mine = Stream::new(Device::cpu()).unwrap();
    let inside = mlx_rs::with_stream(&mine, linalg::linalg_stream).unwrap();
    assert_eq!(inside, mine);
    // The `_on` forms give the same results as the plain ones.
    let a = input("A");
    let b = input("b");
    let cpu = Stream::default_for(Device::cpu()).unwrap();
    let same = |x: &Array, y: &Array| assert_eq!(host_bits(x), host_bits(y), "_on form");
    same(
        &linalg::inv_on(&a, &cpu).unwrap(),
        &linalg::inv(&a).unwrap(),
    );
    same(
        &linalg::solve_on(&a, &b, &mine).unwrap(),
        &linalg::solve(&a, &b).unwrap(),
    );
    same(
        &linalg::eigvalsh_on(&a, Uplo::Upper, &cpu).unwrap(),
        &linalg::eigvalsh(&a, Uplo::Upper).unwrap(),
    );
    same(
        &linalg::norm_on(&a, Some(NormOrd::Nuc), None, false, &cpu).unwrap(),
        &linalg::norm(&a, Some(NormOrd::Nuc), None, false).unwrap(),
    );
    same(
        &linalg::cross_on(&input("v"), &input("w"), -1, &mine).unwrap(),
        &linalg::cross(&input("v"), &input("w"), -1).unwrap(),
    );
}

/// On a machine with a GPU, the factorizations refuse a GPU stream with
/// MLX's message, and the plain forms still work (on the CPU).
#[test]
fn gpu_stream_is_refused_by_the_factorizations() {
    if !Device::gpu().is_available().unwrap() {
        assert!(matches!(
            Stream::new(Device::gpu()),
            Err(Error::DeviceUnavailable(_))
        ));
        return;
    }
    let gpu = Stream::new(Device::gpu()).unwrap();
    let a = input("A");
    let err = linalg::inv_on(&a, &gpu).unwrap_err();
    match err {
        Error::Mlx { message, .. } => {
            assert!(
                message.contains("not yet supported on the GPU"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Plain forms run on the CPU even when the default device is the GPU.
    mlx_rs::with_stream(&gpu, || {
        assert!(linalg::inv(&a).unwrap().eval().is_ok());
        assert!(linalg::norm(&a, Some(NormOrd::P(2.0)), None, false)
            .unwrap()
            .eval()
            .is_ok());
    });
    let _ = on_cpu();
}
