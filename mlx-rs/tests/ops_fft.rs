//! `mlx_rs::ops::fft` against Python MLX 0.32.2: every expected value and
//! message comes from `scripts/golden/linalg_fft_random.py` (fixed seeds,
//! CPU), stored in `tests/golden/lfr_fft.json`.
//!
//! # Tolerances
//! On the CPU (pocketfft, compiled into MLX) every result must be
//! bit-identical to Python MLX. On a GPU (cuFFT, Metal) the transforms
//! round differently; there [`Family::Fft`]'s tolerance applies
//! (`tests/device`, the suite's one table).

mod common;
mod device;
mod lfr_support;

use common::golden::{array, float, golden_file, int, opt_ints, pinned};
use device::{host_bits, Family};
use lfr_support::{run_cases, run_errors};
use mlx_rs::ops::fft::{self, FftNorm};
use mlx_rs::{Array, Complex32, Device, Dtype, Stream};
use serde_json::Value;

fn golden() -> &'static Value {
    pinned(golden_file!("lfr_fft.json"))
}

fn norm(v: &Value) -> FftNorm {
    match v.as_str().unwrap() {
        "backward" => FftNorm::Backward,
        "ortho" => FftNorm::Ortho,
        "forward" => FftNorm::Forward,
        other => panic!("unknown norm {other}"),
    }
}

type OneAxis = fn(&Array, Option<i32>, i32, FftNorm) -> mlx_rs::Result<Array>;
type ManyAxes = fn(&Array, Option<&[i32]>, Option<&[i32]>, FftNorm) -> mlx_rs::Result<Array>;

/// Calls the Rust function `name` as the golden table describes.
fn dispatch(name: &str, x: &[Array], p: &Value) -> mlx_rs::Result<Vec<Array>> {
    let one: Option<OneAxis> = match name {
        "fft" => Some(fft::fft),
        "ifft" => Some(fft::ifft),
        "rfft" => Some(fft::rfft),
        "irfft" => Some(fft::irfft),
        _ => None,
    };
    if let Some(f) = one {
        let n = (!p["n"].is_null()).then(|| int(&p["n"]));
        return Ok(vec![f(&x[0], n, int(&p["axis"]), norm(&p["norm"]))?]);
    }
    let many: Option<ManyAxes> = match name {
        "fft2" => Some(fft::fft2),
        "ifft2" => Some(fft::ifft2),
        "rfft2" => Some(fft::rfft2),
        "irfft2" => Some(fft::irfft2),
        "fftn" => Some(fft::fftn),
        "ifftn" => Some(fft::ifftn),
        "rfftn" => Some(fft::rfftn),
        "irfftn" => Some(fft::irfftn),
        _ => None,
    };
    if let Some(f) = many {
        let (s, axes) = (opt_ints(&p["s"]), opt_ints(&p["axes"]));
        return Ok(vec![f(
            &x[0],
            s.as_deref(),
            axes.as_deref(),
            norm(&p["norm"]),
        )?]);
    }
    Ok(match name {
        "fftfreq" => vec![fft::fftfreq(int(&p["n"]), float(&p["d"]))?],
        "rfftfreq" => vec![fft::rfftfreq(int(&p["n"]), float(&p["d"]))?],
        "fftshift" => vec![fft::fftshift(&x[0], opt_ints(&p["axes"]).as_deref())?],
        "ifftshift" => vec![fft::ifftshift(&x[0], opt_ints(&p["axes"]).as_deref())?],
        other => panic!("no dispatcher entry for {other}"),
    })
}

#[test]
fn golden_cases_match_python() {
    let seen = run_cases(golden(), &dispatch, |_| Family::Fft);
    // every wrapper of fft.h (16 C functions)
    let all = [
        "fft",
        "fft2",
        "fftfreq",
        "fftn",
        "fftshift",
        "ifft",
        "ifft2",
        "ifftn",
        "ifftshift",
        "irfft",
        "irfft2",
        "irfftn",
        "rfft",
        "rfft2",
        "rfftfreq",
        "rfftn",
    ];
    assert_eq!(seen.keys().map(String::as_str).collect::<Vec<_>>(), all);
    assert!(seen.values().sum::<usize>() >= 70);
}

#[test]
fn bad_inputs_fail_with_mlx_messages() {
    let n = run_errors(golden(), &dispatch);
    assert!(n >= 70, "{n} bad-input cases");
}

#[test]
fn round_trips_and_defaults() {
    let x = array(&golden()["inputs"]["x234"]);
    let b = FftNorm::Backward;
    // default sizes and axes: the whole array / the last two axes
    let all = fft::fftn(&x, None, None, b).unwrap();
    let explicit = fft::fftn(&x, Some(&[2, 3, 4]), Some(&[0, 1, 2]), b).unwrap();
    assert_eq!(host_bits(&all), host_bits(&explicit));
    let two = fft::fft2(&x, None, None, b).unwrap();
    let last_two = fft::fftn(&x, None, Some(&[-2, -1]), b).unwrap();
    assert_eq!(host_bits(&two), host_bits(&last_two));
    // sizes alone pick the last axes
    let s = fft::rfftn(&x, Some(&[3, 4]), None, b).unwrap();
    assert_eq!(s.shape(), [2, 3, 3]);
    // real round trip: irfftn(rfftn(x)) == x (float32 rounding)
    let back = fft::irfftn(&fft::rfftn(&x, None, None, b).unwrap(), None, None, b).unwrap();
    assert_eq!(back.dtype(), Dtype::Float32);
    assert_eq!(back.shape(), x.shape());
    let (g, w) = (back.to_vec::<f32>().unwrap(), x.to_vec::<f32>().unwrap());
    assert!(g.iter().zip(&w).all(|(a, b)| (a - b).abs() < 1e-5));
    // complex round trip with the orthonormal scaling
    let c = fft::ifft(
        &fft::fft(&x, None, 1, FftNorm::Ortho).unwrap(),
        None,
        1,
        FftNorm::Ortho,
    )
    .unwrap();
    let c = c.to_vec::<Complex32>().unwrap();
    assert!(c
        .iter()
        .zip(&w)
        .all(|(a, b)| (a.re - b).abs() < 1e-5 && a.im.abs() < 1e-5));
    // shifts undo each other, odd lengths included
    let v = Array::from_slice(&[0i32, 1, 2, 3, 4], &[5]).unwrap();
    let sh = fft::fftshift(&v, None).unwrap();
    assert_eq!(sh.to_vec::<i32>().unwrap(), [3, 4, 0, 1, 2]);
    let un = fft::ifftshift(&sh, None).unwrap();
    assert_eq!(un.to_vec::<i32>().unwrap(), [0, 1, 2, 3, 4]);
    // `_on` forms
    let cpu = Stream::new(Device::cpu()).unwrap();
    let on = fft::rfft_on(&x, Some(6), 0, b, &cpu).unwrap();
    let plain = fft::rfft(&x, Some(6), 0, b).unwrap();
    assert_eq!(host_bits(&on), host_bits(&plain));
    let f = fft::fftfreq_on(4, 0.25, &cpu).unwrap();
    assert_eq!(f.to_vec::<f32>().unwrap(), [0.0, 1.0, -2.0, -1.0]);
}
