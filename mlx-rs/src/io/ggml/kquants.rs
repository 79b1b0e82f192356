//! Dequantizers for GGML's 256-element super-block types: the K-quants,
//! `IQ4_XS` and the ternary `TQ1_0` / `TQ2_0`.
//!
//! Same float32 operations in the same order as llama.cpp's `gguf-py`
//! (`gguf/quants.py`), so results are bit-identical to
//! `gguf.quants.dequantize`. Element `e` of a super-block is decoded from
//! the bit positions gguf-py's reshapes give it (noted per kernel).

use super::blocks::{h, KVALUES_IQ4NL};

/// Q2_K / Q3_K / TQ2_0 2-bit codes: element `e = half*128 + s*32 + l`
/// sits in bits `2s` of `qs[half*32 + l]`.
#[inline(always)]
fn crumb(qs: &[u8], e: usize) -> u8 {
    let (half, s, l) = (e / 128, (e / 32) % 4, e % 32);
    (qs[half * 32 + l] >> (2 * s)) & 3
}

/// `Q2_K`: 16 groups of 16, `d * sc * q - dmin * m` (4-bit `sc`, `m`).
pub(super) fn q2_k(b: &[u8], out: &mut [f32]) {
    let scales = &b[0..16];
    let qs = &b[16..80];
    let (d, dmin) = (h(b, 80), h(b, 82));
    for (g, chunk) in out.chunks_exact_mut(16).enumerate() {
        let dl = d * (scales[g] & 0x0F) as f32;
        let ml = dmin * (scales[g] >> 4) as f32;
        for (i, o) in chunk.iter_mut().enumerate() {
            *o = dl * crumb(qs, g * 16 + i) as f32 - ml;
        }
    }
}

/// `Q3_K`: 16 groups of 16, `d * (sc - 32) * q`, `q` from two low bits
/// and an inverted high bit (`hmask`), 6-bit `sc` split over 12 bytes.
pub(super) fn q3_k(b: &[u8], out: &mut [f32]) {
    let hmask = &b[0..32];
    let qs = &b[32..96];
    let sc = &b[96..108];
    let d = h(b, 108);
    for (g, chunk) in out.chunks_exact_mut(16).enumerate() {
        let low = if g < 8 { sc[g] & 0x0F } else { sc[g - 8] >> 4 };
        let high = (sc[8 + g % 4] >> (2 * (g / 4))) & 3;
        let s = ((low | (high << 4)) as i8 - 32) as f32;
        let dl = d * s;
        for (i, o) in chunk.iter_mut().enumerate() {
            let e = g * 16 + i;
            let hbit = ((hmask[e % 32] >> (e / 32)) & 1) ^ 1;
            let q = crumb(qs, e) as i8 - (hbit << 2) as i8;
            *o = dl * q as f32;
        }
    }
}

/// The eight 6-bit scales and mins of Q4_K / Q5_K (gguf-py's
/// `Q4_K.get_scale_min`).
#[inline(always)]
fn scale_min(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut sc = [0u8; 8];
    let mut mn = [0u8; 8];
    for j in 0..4 {
        sc[j] = s[j] & 0x3F;
        mn[j] = s[4 + j] & 0x3F;
        sc[4 + j] = (s[8 + j] & 0x0F) | ((s[j] >> 2) & 0x30);
        mn[4 + j] = (s[8 + j] >> 4) | ((s[4 + j] >> 2) & 0x30);
    }
    (sc, mn)
}

/// Q4_K / Q5_K low nibbles: group `g` (of 32) takes nibble `g % 2` of
/// `qs[(g / 2) * 32 + l]`.
#[inline(always)]
fn k_nib(qs: &[u8], g: usize, l: usize) -> u8 {
    (qs[(g / 2) * 32 + l] >> (4 * (g % 2))) & 0x0F
}

/// `Q4_K`: 8 groups of 32, `d * sc * q - dmin * m`.
pub(super) fn q4_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (h(b, 0), h(b, 2));
    let (sc, mn) = scale_min(&b[4..16]);
    let qs = &b[16..144];
    for (g, chunk) in out.chunks_exact_mut(32).enumerate() {
        let dg = d * sc[g] as f32;
        let mg = dmin * mn[g] as f32;
        for (l, o) in chunk.iter_mut().enumerate() {
            *o = dg * k_nib(qs, g, l) as f32 - mg;
        }
    }
}

/// `Q5_K`: as Q4_K with a fifth bit (`qh[l]` bit `g`).
pub(super) fn q5_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (h(b, 0), h(b, 2));
    let (sc, mn) = scale_min(&b[4..16]);
    let qh = &b[16..48];
    let qs = &b[48..176];
    for (g, chunk) in out.chunks_exact_mut(32).enumerate() {
        let dg = d * sc[g] as f32;
        let mg = dmin * mn[g] as f32;
        for (l, o) in chunk.iter_mut().enumerate() {
            let q = k_nib(qs, g, l) | (((qh[l] >> g) & 1) << 4);
            *o = dg * q as f32 - mg;
        }
    }
}

/// `Q6_K`: 16 groups of 16, `(d * sc) * (q - 32)`, `sc` int8, `q` from
/// 4 low bits (`ql`) and 2 high bits (`qh`).
pub(super) fn q6_k(b: &[u8], out: &mut [f32]) {
    let ql = &b[0..128];
    let qh = &b[128..192];
    let sc = &b[192..208];
    let d = h(b, 208);
    for (g, chunk) in out.chunks_exact_mut(16).enumerate() {
        let dg = d * (sc[g] as i8) as f32;
        for (i, o) in chunk.iter_mut().enumerate() {
            let e = g * 16 + i;
            let (half, r) = (e / 128, e % 128);
            let lo = (ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
            let hi = crumb(&qh[half * 32..half * 32 + 32], r);
            let q = (lo | (hi << 4)) as i8 - 32;
            *o = dg * q as f32;
        }
    }
}

/// `Q8_K`: a float32 `d` and 256 int8 (the 16 block sums are for dot
/// products): `d * q`.
pub(super) fn q8_k(b: &[u8], out: &mut [f32]) {
    let d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for (o, &q) in out.iter_mut().zip(&b[4..260]) {
        *o = d * (q as i8) as f32;
    }
}

/// `IQ4_XS`: 8 groups of 32, `(d * (sc - 32)) * kvalues[q]`, 6-bit `sc`
/// from a 4-bit low part and a 2-bit high part.
pub(super) fn iq4_xs(b: &[u8], out: &mut [f32]) {
    let d = h(b, 0);
    let sh = u16::from_le_bytes([b[2], b[3]]);
    let sl = &b[4..8];
    let qs = &b[8..136];
    for (g, chunk) in out.chunks_exact_mut(32).enumerate() {
        let low = (sl[g / 2] >> (4 * (g % 2))) & 0x0F;
        let high = ((sh >> (2 * g)) & 3) as u8;
        let dl = d * ((low | (high << 4)) as i8 - 32) as f32;
        let q = &qs[g * 16..g * 16 + 16];
        for (e, o) in chunk.iter_mut().enumerate() {
            let code = if e < 16 { q[e] & 0x0F } else { q[e - 16] >> 4 };
            *o = dl * KVALUES_IQ4NL[code as usize] as f32;
        }
    }
}

/// A base-3 digit of a TQ1_0 byte: `((b * 3^p mod 256) * 3) >> 8`.
#[inline(always)]
fn trit(b: u8, p: u32) -> i8 {
    let v = b.wrapping_mul(3u8.pow(p));
    ((u16::from(v) * 3) >> 8) as i8 - 1
}

/// `TQ1_0`: ternary, five digits per byte (then four per `qh` byte),
/// `d * t`.
pub(super) fn tq1_0(b: &[u8], out: &mut [f32]) {
    let qs = &b[0..48];
    let qh = &b[48..52];
    let d = h(b, 52);
    for (e, o) in out.iter_mut().enumerate() {
        let t = if e < 160 {
            trit(qs[e % 32], (e / 32) as u32)
        } else if e < 240 {
            let r = e - 160;
            trit(qs[32 + r % 16], (r / 16) as u32)
        } else {
            let r = e - 240;
            trit(qh[r % 4], (r / 4) as u32)
        };
        *o = d * t as f32;
    }
}

/// `TQ2_0`: ternary, 2-bit codes minus one, `d * t`.
pub(super) fn tq2_0(b: &[u8], out: &mut [f32]) {
    let qs = &b[0..64];
    let d = h(b, 64);
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * (crumb(qs, e) as i8 - 1) as f32;
    }
}
