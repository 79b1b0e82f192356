//! Shared by `port_autograd.rs`, `port_vmap.rs` and `port_compile.rs`, the
//! ports of MLX's own `python/tests/test_autograd.py`, `test_vmap.py` and
//! `test_compile.py`: array literals, adapters from functions of a few
//! arrays to the `&[Array]` closures the transforms take, and the
//! assertions of those tests (`mx.array_equal`, `mx.allclose`,
//! `assertEqual` on an item), device-aware through `crate::device`.

#![allow(dead_code)]

use mlx_rs::{Array, Dtype, Result};

use crate::device::{host_f64, on_gpu, Family, Report, Tol};

/// A float32 array of `shape` from row-major values.
pub fn arr(v: &[f32], shape: &[i32]) -> Array {
    Array::from_slice(v, shape).unwrap()
}

/// A 1-D float32 array.
pub fn a1(v: &[f32]) -> Array {
    arr(v, &[v.len() as i32])
}

/// A float32 scalar (Python's `mx.array(1.0)`).
pub fn sc(v: f32) -> Array {
    Array::scalar(v).unwrap()
}

/// A 1-D int32 array.
pub fn i1(v: &[i32]) -> Array {
    Array::from_slice(v, &[v.len() as i32]).unwrap()
}

/// `mx.ones(shape)`.
pub fn ones(shape: &[i32]) -> Array {
    Array::ones(shape, Dtype::Float32).unwrap()
}

/// `mx.zeros(shape)`.
pub fn zeros(shape: &[i32]) -> Array {
    Array::zeros(shape, Dtype::Float32).unwrap()
}

/// `mx.random.uniform(shape=shape)`.
pub fn uniform(shape: &[i32]) -> Array {
    mlx_rs::random::uniform(0.0f32, 1.0f32, shape, Dtype::Float32, None).unwrap()
}

/// `mx.random.normal(shape)`.
pub fn normal(shape: &[i32]) -> Array {
    mlx_rs::random::normal(shape, Dtype::Float32, 0.0, 1.0, None).unwrap()
}

/// A function of one array as a transformable closure.
pub fn one(
    f: impl Fn(&Array) -> Result<Array> + 'static,
) -> impl FnMut(&[Array]) -> Result<Vec<Array>> + 'static {
    move |a: &[Array]| Ok(vec![f(&a[0])?])
}

/// A function of two arrays as a transformable closure.
pub fn two(
    f: impl Fn(&Array, &Array) -> Result<Array> + 'static,
) -> impl FnMut(&[Array]) -> Result<Vec<Array>> + 'static {
    move |a: &[Array]| Ok(vec![f(&a[0], &a[1])?])
}

/// A function of three arrays as a transformable closure.
pub fn three(
    f: impl Fn(&Array, &Array, &Array) -> Result<Array> + 'static,
) -> impl FnMut(&[Array]) -> Result<Vec<Array>> + 'static {
    move |a: &[Array]| Ok(vec![f(&a[0], &a[1], &a[2])?])
}

/// `x.sum()`.
pub fn sum(x: &Array) -> Result<Array> {
    mlx_rs::ops::sum(x, mlx_rs::ops::Axes::All, false)
}

/// The single float element of `a` (`a.item()`), read on the host.
pub fn item(a: &Array) -> f64 {
    let v = host_f64(a);
    assert_eq!(v.len(), 1, "item of an array of shape {:?}", a.shape());
    v[0]
}

/// `a`'s values as f64, read on the host.
pub fn vals(a: &Array) -> Vec<f64> {
    host_f64(a)
}

/// `mx.array_equal(got, want)`: same shape and equal values (after
/// promotion: the dtypes may differ, as in MLX); exact on every device.
#[track_caller]
pub fn assert_equal(got: &Array, want: &Array, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (g, w) = (host_f64(got), host_f64(want));
    assert_eq!(g, w, "{what}: values");
}

/// `mx.allclose(got, want)` with Python's defaults (rtol 1e-5, atol 1e-8)
/// on the CPU; on the GPU the looser of those and `family`'s tolerance.
#[track_caller]
pub fn assert_close(got: &Array, want: &Array, family: Family, what: &str) {
    assert_close_tol(got, want, family, Tol::new(1e-8, 1e-5), what);
}

/// `mx.allclose(got, want, rtol, atol)` as [`assert_close`] with the
/// test's own tolerance `cpu`.
#[track_caller]
pub fn assert_close_tol(got: &Array, want: &Array, family: Family, cpu: Tol, what: &str) {
    let mut r = Report::new();
    // `allclose` broadcasts; the ported tests compare same-shaped arrays
    // except where a scalar stands for a filled array.
    let want = if got.shape() != want.shape() && want.ndim() == 0 {
        want.broadcast_to(got.shape()).unwrap()
    } else {
        want.clone()
    };
    r.close_arrays(family, what, got, &want, cpu);
    r.finish();
}

/// `assertAlmostEqual(got, want, places=p)` (|got − want| < 0.5·10^-p on
/// the CPU; on the GPU also within `family`'s tolerance).
#[track_caller]
pub fn assert_almost(got: f64, want: f64, places: i32, family: Family, what: &str) {
    let atol = 0.5 * 10f64.powi(-places);
    let tol = if on_gpu() {
        Tol::new(atol, 0.0).max(family.gpu_tol())
    } else {
        Tol::new(atol, 0.0)
    };
    assert!(
        tol.accepts(got, want),
        "{what}: got {got}, want {want} (tol {tol:?})"
    );
}

/// The text of an `Err` (the error's `Display`), for matching MLX's or
/// mlx-rs's message.
#[track_caller]
pub fn err_text<T: std::fmt::Debug>(r: Result<T>, what: &str) -> String {
    match r {
        Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts `r` is an `Err` whose message contains `needle`.
#[track_caller]
pub fn assert_err_contains<T: std::fmt::Debug>(r: Result<T>, needle: &str, what: &str) {
    let e = err_text(r, what);
    assert!(e.contains(needle), "{what}: {e:?} lacks {needle:?}");
}

/// The lock that keeps the `test_leaks` ports alone: they compare MLX's
/// process-wide active memory before and after, which the other tests of
/// the binary (run on other threads) change. Every test takes it shared
/// ([`shared`]), `test_leaks` exclusively ([`exclusive`]).
static SERIAL: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Held by every test but `test_leaks` for its whole body.
pub fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SERIAL.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by `test_leaks`: no other test runs meanwhile.
pub fn exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    SERIAL.write().unwrap_or_else(|e| e.into_inner())
}

/// MLX's active memory once it has settled: the same value three reads in
/// a row, 5 ms apart (buffers of arrays that earlier tests dropped can be
/// given back by a stream's worker thread a moment later), after a
/// synchronize. For the `test_leaks` ports, which hold [`exclusive`].
pub fn settled_active_memory() -> usize {
    mlx_rs::synchronize().unwrap();
    let read = || mlx_rs::memory::active_memory().unwrap();
    let mut last = read();
    let mut same = 0;
    for _ in 0..200 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let now = read();
        same = if now == last { same + 1 } else { 0 };
        last = now;
        if same >= 2 {
            break;
        }
    }
    last
}
