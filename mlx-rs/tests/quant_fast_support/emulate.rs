//! MLX 0.32.2's quantization kernels redone in Rust, to state what each
//! device must produce where the devices differ.
//!
//! Affine quantize, per group of `group_size` elements, all in float32:
//!
//! | step | CPU (`backend/cpu/quantized.cpp`) | CUDA (`backend/cuda/quantized/affine_quantize.cu`) |
//! |---|---|---|
//! | range | `w_min = +inf`, `w_max = -inf`, then min/max of the group | `w_min = FLT_MAX`, **`w_max = 0`**, then min/max |
//! | scale | `max((w_max − w_min) / n_bins, 1e-7)`, negated unless `abs(w_min) > abs(w_max)` | same |
//! | edge, q0 | `edge` = `w_min` or `w_max` (that side), `q0 = rint(edge / scale)` | `q0 = round(edge / scale)` |
//! | scale, bias | `q0 ≠ 0`: `scale = edge / q0`, `bias = edge`; else `bias = 0` | same |
//! | code | `clamp(rint((w − bias) / scale), 0, n_bins)` | `min(round((w − bias) / scale), n_bins)` |
//!
//! `rint` rounds ties to even, CUDA's `round` away from zero; with `w_max`
//! starting at 0 the GPU's range of an all-negative group is `[w_min, 0]`
//! (its top level dequantizes to 0), where the CPU's is `[w_min, w_max]`.
//! Everything else is the same float32 arithmetic (no fast math in MLX's
//! CUDA build: IEEE division), so codes, scales and biases are exact.
//! Codes are packed little-endian, element `k` at bit `k·bits` of the
//! group's bit stream, on both devices.

#![allow(dead_code)]

use mlx_rs::quantization::Quantized;
use mlx_rs::{bf16, f16, Dtype};

use crate::device::host_f64;

/// Whose affine quantize formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Cpu,
    Gpu,
}

impl Kernel {
    /// The kernel of the device the tests run on.
    pub fn current() -> Kernel {
        if crate::device::on_gpu() {
            Kernel::Gpu
        } else {
            Kernel::Cpu
        }
    }

    fn round(self, x: f32) -> f32 {
        match self {
            Kernel::Cpu => x.round_ties_even(),
            Kernel::Gpu => x.round(),
        }
    }
}

/// One quantized group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub codes: Vec<u32>,
    pub scale: f32,
    pub bias: f32,
    /// Elements whose `(w − bias) / scale` is exactly half-way between two
    /// codes (where `rint` and `round` disagree when the lower one is even).
    pub ties: Vec<usize>,
}

/// `w` (one group) quantized to `bits` as `kernel` does it.
pub fn affine_group(w: &[f32], bits: i32, kernel: Kernel) -> Group {
    let n_bins = ((1u32 << bits) - 1) as f32;
    let eps = 1e-7f32;
    let (mut w_min, mut w_max) = match kernel {
        Kernel::Cpu => (f32::INFINITY, f32::NEG_INFINITY),
        Kernel::Gpu => (f32::MAX, 0.0),
    };
    for &x in w {
        w_min = w_min.min(x);
        w_max = w_max.max(x);
    }
    let side = w_min.abs() > w_max.abs();
    let scale = ((w_max - w_min) / n_bins).max(eps);
    let scale = if side { scale } else { -scale };
    let edge = if side { w_min } else { w_max };
    let q0 = kernel.round(edge / scale);
    let (scale, bias) = if q0 != 0.0 {
        (edge / q0, edge)
    } else {
        (scale, 0.0)
    };
    let mut ties = Vec::new();
    let codes = w
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let t = (x - bias) / scale;
            if t - t.floor() == 0.5 {
                ties.push(i);
            }
            // the CPU clamps below at 0; the GPU's t is never below -0.5
            kernel.round(t).clamp(0.0, n_bins) as u32
        })
        .collect();
    Group {
        codes,
        scale,
        bias,
        ties,
    }
}

/// A whole matrix (row-major, `cols` a multiple of `group_size`),
/// quantized as `kernel` does it, with what dequantizing gives.
#[derive(Debug, Clone)]
pub struct Affine {
    pub groups: Vec<Group>,
    pub group_size: usize,
}

impl Affine {
    pub fn new(w: &[f32], group_size: usize, bits: i32, kernel: Kernel) -> Affine {
        assert_eq!(w.len() % group_size, 0);
        Affine {
            groups: w
                .chunks(group_size)
                .map(|g| affine_group(g, bits, kernel))
                .collect(),
            group_size,
        }
    }

    pub fn codes(&self) -> Vec<u32> {
        self.groups.iter().flat_map(|g| g.codes.clone()).collect()
    }

    /// The scales as stored in `dtype` (float32, float16 or bfloat16).
    pub fn scales(&self, dtype: Dtype) -> Vec<f64> {
        self.groups.iter().map(|g| stored(g.scale, dtype)).collect()
    }

    pub fn biases(&self, dtype: Dtype) -> Vec<f64> {
        self.groups.iter().map(|g| stored(g.bias, dtype)).collect()
    }

    /// The CPU's float32 dequantization: `q·scale`, then `+ bias`, each
    /// rounded to float32 (a GPU may fuse the two: compare within
    /// `Family::Dequantize`).
    pub fn dequantized(&self) -> Vec<f64> {
        self.groups
            .iter()
            .flat_map(|g| {
                g.codes
                    .iter()
                    .map(move |&q| f64::from(q as f32 * g.scale + g.bias))
            })
            .collect()
    }
}

/// `x` rounded to `dtype` (round to nearest even, as MLX casts), as `f64`.
pub fn stored(x: f32, dtype: Dtype) -> f64 {
    match dtype {
        Dtype::Float32 => f64::from(x),
        Dtype::Float16 => f64::from(f16::from_f32(x)),
        Dtype::Bfloat16 => f64::from(bf16::from_f32(x)),
        other => panic!("no scales of {other}"),
    }
}

/// The `bits`-bit codes packed in `words` (one row's or a whole matrix's,
/// rows of a whole number of words): a little-endian bit stream.
pub fn unpack(words: &[u32], bits: i32) -> Vec<u32> {
    let bits = bits as usize;
    let n = words.len() * 32 / bits;
    let bit = |i: usize| (words[i / 32] >> (i % 32)) & 1;
    (0..n)
        .map(|k| (0..bits).fold(0, |c, b| c | (bit(k * bits + b) << b)))
        .collect()
}

/// The codes of `q` (affine), read on the host.
pub fn codes_of(q: &Quantized, bits: i32) -> Vec<u32> {
    unpack(&q.weights.to_vec::<u32>().unwrap(), bits)
}

// ---------------------------------------------------------------- fp

/// The element format of an fp mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpElement {
    /// e2m1: 0, 0.5, 1, 1.5, 2, 3, 4, 6.
    Fp4,
    /// e4m3 (fn): 4 significant bits, largest 448.
    Fp8,
}

impl FpElement {
    /// The most a round-to-nearest, saturating conversion can move `t`
    /// (≥ 0, in units of the block scale).
    pub fn max_error(self, t: f64) -> f64 {
        match self {
            FpElement::Fp4 => match t {
                t if t > 6.0 => t - 6.0,
                t if t > 4.0 => 1.0,
                t if t > 2.0 => 0.5,
                _ => 0.25,
            },
            FpElement::Fp8 => {
                if t > 448.0 {
                    t - 448.0
                } else if t < 2f64.powi(-6) {
                    2f64.powi(-10)
                } else {
                    2f64.powi(t.log2().floor() as i32 - 4)
                }
            }
        }
    }
}

/// A block scale byte decoded: e8m0 (`2^(b − 127)`) for mxfp4/mxfp8, e4m3
/// for nvfp4.
pub fn block_scale(byte: u8, e8m0: bool) -> f64 {
    if e8m0 {
        2f64.powi(i32::from(byte) - 127)
    } else {
        let e = i32::from((byte >> 3) & 0xf);
        let m = f64::from(byte & 7);
        let mag = if e == 0 {
            m / 8.0 * 2f64.powi(-6)
        } else {
            (1.0 + m / 8.0) * 2f64.powi(e - 7)
        };
        if byte & 0x80 != 0 {
            -mag
        } else {
            mag
        }
    }
}

/// The round-trip bound of an fp mode without a global scale, on any
/// device whatever its choice of block scale: each dequantized element
/// `ŵ` of `q` is within one rounding of the element format of `w`, in
/// units of its own block's scale. Returns a message per violation.
pub fn fp_bound_violations(
    w: &[f32],
    q: &Quantized,
    element: FpElement,
    group_size: usize,
    e8m0: bool,
) -> Vec<String> {
    let w_hat = host_f64(&q.dequantize(Some(Dtype::Float32)).unwrap());
    let scales: Vec<f64> = q
        .scales
        .to_vec::<u8>()
        .unwrap()
        .into_iter()
        .map(|b| block_scale(b, e8m0))
        .collect();
    let mut bad = Vec::new();
    for (i, (&x, &y)) in w.iter().zip(&w_hat).enumerate() {
        let s = scales[i / group_size];
        let x = f64::from(x);
        let bound = element.max_error(x.abs() / s) * s + 1e-6 * x.abs();
        if (x - y).abs() > bound || y.is_nan() {
            bad.push(format!(
                "element {i}: |{x} - {y}| > {bound} (block scale {s})"
            ));
        }
    }
    bad
}
