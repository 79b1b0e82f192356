//! Dequantizers for GGML's 32-element block types (and the float types).
//!
//! Each kernel turns one block into floats with the same float32
//! operations, in the same order, as llama.cpp's `gguf-py`
//! (`gguf/quants.py`), so the results are bit-identical to
//! `gguf.quants.dequantize`.

use half::{bf16, f16};

/// The float16 at byte `o` of `b`, widened.
#[inline(always)]
pub(super) fn h(b: &[u8], o: usize) -> f32 {
    f16::from_le_bytes([b[o], b[o + 1]]).to_f32()
}

/// IQ4_NL's non-linear 4-bit code book (also used by IQ4_XS).
pub(super) const KVALUES_IQ4NL: [i8; 16] = [
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

/// The e2m1 values, doubled (MXFP4 and NVFP4).
const KVALUES_FP4: [i8; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

/// The 4-bit code of element `e` of a 32-element block whose codes are
/// packed as GGML packs them (low nibbles first, then high nibbles).
#[inline(always)]
fn nib(qs: &[u8], e: usize) -> u8 {
    if e < 16 {
        qs[e] & 0x0F
    } else {
        qs[e - 16] >> 4
    }
}

pub(super) fn f32_(b: &[u8], out: &mut [f32]) {
    out[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
}

pub(super) fn f16_(b: &[u8], out: &mut [f32]) {
    out[0] = h(b, 0);
}

pub(super) fn bf16_(b: &[u8], out: &mut [f32]) {
    out[0] = bf16::from_le_bytes([b[0], b[1]]).to_f32();
}

/// `Q4_0`: `d * (q - 8)`.
pub(super) fn q4_0(b: &[u8], out: &mut [f32]) {
    let d = h(b, 0);
    let qs = &b[2..18];
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * (nib(qs, e) as i8 - 8) as f32;
    }
}

/// `Q4_1`: `d * q + m`.
pub(super) fn q4_1(b: &[u8], out: &mut [f32]) {
    let (d, m) = (h(b, 0), h(b, 2));
    let qs = &b[4..20];
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * nib(qs, e) as f32 + m;
    }
}

#[inline(always)]
fn five_bit(qh: u32, qs: &[u8], e: usize) -> u8 {
    nib(qs, e) | ((((qh >> e) & 1) as u8) << 4)
}

/// `Q5_0`: `d * (q - 16)`, the fifth bit in a 32-bit mask.
pub(super) fn q5_0(b: &[u8], out: &mut [f32]) {
    let d = h(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * (five_bit(qh, qs, e) as i8 - 16) as f32;
    }
}

/// `Q5_1`: `d * q + m`.
pub(super) fn q5_1(b: &[u8], out: &mut [f32]) {
    let (d, m) = (h(b, 0), h(b, 2));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let qs = &b[8..24];
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * five_bit(qh, qs, e) as f32 + m;
    }
}

/// `Q8_0`: `q * d`.
pub(super) fn q8_0(b: &[u8], out: &mut [f32]) {
    let d = h(b, 0);
    for (o, &q) in out.iter_mut().zip(&b[2..34]) {
        *o = (q as i8) as f32 * d;
    }
}

/// `Q8_1` (ggml's 36-byte `block_q8_1`: `d`, `s = d * sum(q)`, 32 `q`):
/// `d * q` (`s` is only used by dot products).
pub(super) fn q8_1(b: &[u8], out: &mut [f32]) {
    let d = h(b, 0);
    for (o, &q) in out.iter_mut().zip(&b[4..36]) {
        *o = d * (q as i8) as f32;
    }
}

/// `IQ4_NL`: `d * kvalues[q]`.
pub(super) fn iq4_nl(b: &[u8], out: &mut [f32]) {
    let d = h(b, 0);
    let qs = &b[2..18];
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * KVALUES_IQ4NL[nib(qs, e) as usize] as f32;
    }
}

/// An e8m0 exponent as a float, halved (ggml's `ggml_e8m0_to_fp32_half`).
#[inline(always)]
fn e8m0_half(x: u8) -> f32 {
    let bits = if x < 2 {
        0x0020_0000u32 << x
    } else {
        u32::from(x - 1) << 23
    };
    f32::from_bits(bits)
}

/// `MXFP4`: an e8m0 scale and 32 e2m1 codes.
pub(super) fn mxfp4(b: &[u8], out: &mut [f32]) {
    let d = e8m0_half(b[0]);
    let qs = &b[1..17];
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * KVALUES_FP4[nib(qs, e) as usize] as f32;
    }
}

/// An unsigned e4m3 scale, halved (gguf-py's `NVFP4.ue4m3_to_fp32`).
#[inline(always)]
fn ue4m3_half(x: u8) -> f32 {
    let exp = i32::from((x >> 3) & 0x0F);
    let man = f32::from(x & 7);
    let raw = if exp == 0 {
        man * 2f32.powi(-9)
    } else {
        (1.0 + man / 8.0) * 2f32.powi(exp - 7)
    };
    if x == 0 || x == 0x7F {
        0.0
    } else {
        raw * 0.5
    }
}

/// `NVFP4`: 64 elements, four e4m3 scales of 16 e2m1 codes each.
pub(super) fn nvfp4(b: &[u8], out: &mut [f32]) {
    for (i, sub) in out.chunks_exact_mut(16).enumerate() {
        let d = ue4m3_half(b[i]);
        let qs = &b[4 + 8 * i..4 + 8 * i + 8];
        for (e, o) in sub.iter_mut().enumerate() {
            let q = if e < 8 { qs[e] & 0x0F } else { qs[e - 8] >> 4 };
            *o = d * KVALUES_FP4[q as usize] as f32;
        }
    }
}
