//! GGML block formats in pure Rust: the layout of every GGML tensor type
//! and dequantizers for those llama.cpp's `gguf-py` can dequantize.
//!
//! [`dequantize`] turns the raw bytes of a GGUF tensor into float32 values
//! bit-identical to `gguf.quants.dequantize` (gguf-py 0.19, the Python
//! package of llama.cpp); the goldens in `mlx-rs/tests/golden/ggml/` (from
//! `scripts/golden/ggml.py`) check each type. [`load_gguf`](super::load_gguf)
//! uses these kernels for every tensor type MLX's own GGUF reader does not
//! read, through [`load_gguf_native`].
//!
//! Not done: the grid-coded types `IQ1_S`, `IQ1_M`, `IQ2_XXS`, `IQ2_XS`,
//! `IQ2_S`, `IQ3_XXS`, `IQ3_S`. Their dequantizers need llama.cpp's code
//! book tables (several KB of data from `ggml-common.h`), which this
//! workspace does not vendor; a file holding one is an
//! [`Error::InvalidFile`](crate::Error::InvalidFile) naming the type.

mod blocks;
mod kquants;
mod load;

use half::f16;

use super::invalid;
use super::GgmlType;
use crate::error::Result;

pub use load::load_gguf_native;
pub(crate) use load::load_with_info;

/// A block kernel: one block's bytes to its elements.
type Kernel = fn(&[u8], &mut [f32]);

/// How a GGML type is laid out, and how mlx-rs reads it.
#[derive(Clone, Copy)]
pub(crate) struct Layout {
    /// GGML's name.
    pub name: &'static str,
    /// Elements per block.
    pub block: usize,
    /// Bytes per block.
    pub bytes: usize,
    /// The dequantizer (`None`: not ported).
    kernel: Option<Kernel>,
    /// Whether the block holds float16/float32 scales worth checking for
    /// NaN and infinity.
    scaled: bool,
}

const fn lay(name: &'static str, block: usize, bytes: usize, kernel: Option<Kernel>) -> Layout {
    Layout {
        name,
        block,
        bytes,
        kernel,
        scaled: block > 1,
    }
}

/// The layout of GGML type `code` (every type ggml 0.19 defines), `None`
/// for an unknown code.
pub(crate) fn layout(code: u32) -> Option<Layout> {
    use blocks as b;
    use kquants as k;
    Some(match code {
        0 => lay("F32", 1, 4, Some(b::f32_)),
        1 => lay("F16", 1, 2, Some(b::f16_)),
        2 => lay("Q4_0", 32, 18, Some(b::q4_0)),
        3 => lay("Q4_1", 32, 20, Some(b::q4_1)),
        6 => lay("Q5_0", 32, 22, Some(b::q5_0)),
        7 => lay("Q5_1", 32, 24, Some(b::q5_1)),
        8 => lay("Q8_0", 32, 34, Some(b::q8_0)),
        9 => lay("Q8_1", 32, 36, Some(b::q8_1)),
        10 => lay("Q2_K", 256, 84, Some(k::q2_k)),
        11 => lay("Q3_K", 256, 110, Some(k::q3_k)),
        12 => lay("Q4_K", 256, 144, Some(k::q4_k)),
        13 => lay("Q5_K", 256, 176, Some(k::q5_k)),
        14 => lay("Q6_K", 256, 210, Some(k::q6_k)),
        15 => lay("Q8_K", 256, 292, Some(k::q8_k)),
        16 => lay("IQ2_XXS", 256, 66, None),
        17 => lay("IQ2_XS", 256, 74, None),
        18 => lay("IQ3_XXS", 256, 98, None),
        19 => lay("IQ1_S", 256, 50, None),
        20 => lay("IQ4_NL", 32, 18, Some(b::iq4_nl)),
        21 => lay("IQ3_S", 256, 110, None),
        22 => lay("IQ2_S", 256, 82, None),
        23 => lay("IQ4_XS", 256, 136, Some(k::iq4_xs)),
        24 => lay("I8", 1, 1, None),
        25 => lay("I16", 1, 2, None),
        26 => lay("I32", 1, 4, None),
        27 => lay("I64", 1, 8, None),
        28 => lay("F64", 1, 8, None),
        29 => lay("IQ1_M", 256, 56, None),
        30 => lay("BF16", 1, 2, Some(b::bf16_)),
        34 => lay("TQ1_0", 256, 54, Some(k::tq1_0)),
        35 => lay("TQ2_0", 256, 66, Some(k::tq2_0)),
        39 => Layout {
            // An e8m0 exponent: never NaN as ggml decodes it.
            scaled: false,
            ..lay("MXFP4", 32, 17, Some(b::mxfp4))
        },
        40 => Layout {
            scaled: false,
            ..lay("NVFP4", 64, 36, Some(b::nvfp4))
        },
        _ => return None,
    })
}

/// Why mlx-rs cannot dequantize GGML type `code`, `None` when it can.
pub(crate) fn unsupported_reason(code: u32) -> Option<String> {
    match layout(code) {
        None => Some(format!("GGML type code {code} is unknown")),
        Some(l) if l.kernel.is_some() || matches!(code, 24..=26) => None,
        Some(l) if matches!(code, 16..=19 | 21 | 22 | 29) => Some(format!(
            "{} needs llama.cpp's grid tables, which mlx-rs does not include",
            l.name
        )),
        Some(l) => Some(format!("{} tensors are not supported", l.name)),
    }
}

/// Elements (about) handed to one task of the parallel dequantizer.
const TASK_ELEMENTS: usize = 1 << 16;

/// Dequantizes `data` (whole blocks of one type) into `out`, in parallel,
/// converting each element with `cvt`; a block whose values are not
/// finite (a NaN or infinite scale) is an error naming it.
fn run<T: Send>(
    ty: GgmlType,
    data: &[u8],
    out: &mut [T],
    origin: &str,
    cvt: impl Fn(f32) -> T + Sync,
) -> Result<()> {
    use rayon::prelude::*;
    let l = layout(ty.code())
        .filter(|l| l.kernel.is_some())
        .ok_or_else(|| {
            invalid(
                "gguf",
                origin,
                unsupported_reason(ty.code()).unwrap_or_else(|| format!("{ty}: no dequantizer")),
            )
        })?;
    let kernel = l.kernel.unwrap_or(blocks::f32_);
    if data.len() % l.bytes != 0 || data.len() / l.bytes * l.block != out.len() {
        return Err(invalid(
            "gguf",
            origin,
            format!(
                "{}: {} bytes are not {} whole blocks of {} bytes",
                l.name,
                data.len(),
                out.len() / l.block,
                l.bytes
            ),
        ));
    }
    let task_blocks = (TASK_ELEMENTS / l.block).max(1);
    let task = task_blocks * l.block;
    let task_bytes = task_blocks * l.bytes;
    data.par_chunks(task_bytes)
        .zip(out.par_chunks_mut(task))
        .enumerate()
        .try_for_each(|(t, (src, dst))| {
            let mut tmp = [0f32; 256];
            for (i, (b, o)) in src
                .chunks_exact(l.bytes)
                .zip(dst.chunks_exact_mut(l.block))
                .enumerate()
            {
                let vals = &mut tmp[..l.block];
                kernel(b, vals);
                if l.scaled && !vals.iter().all(|v| v.is_finite()) {
                    let block = t * task_blocks + i;
                    return Err(invalid(
                        "gguf",
                        origin,
                        format!(
                            "{} block {block} has a NaN or infinite scale (values {:?}...)",
                            l.name,
                            &vals[..2]
                        ),
                    ));
                }
                for (o, &v) in o.iter_mut().zip(vals.iter()) {
                    *o = cvt(v);
                }
            }
            Ok(())
        })
}

/// Dequantizes the raw bytes of a GGML tensor of type `ty` to float32,
/// exactly as llama.cpp's `gguf.quants.dequantize` does (same float32
/// operations in the same order). `data` must be whole blocks.
///
/// Supported: `F32`, `F16`, `BF16`, `Q4_0`, `Q4_1`, `Q5_0`, `Q5_1`,
/// `Q8_0`, `Q8_1`, `Q2_K`, `Q3_K`, `Q4_K`, `Q5_K`, `Q6_K`, `Q8_K`,
/// `IQ4_NL`, `IQ4_XS`, `TQ1_0`, `TQ2_0`, `MXFP4`, `NVFP4`.
///
/// ```
/// use mlx_rs::io::{ggml, GgmlType};
/// // One Q8_0 block: scale 0.5 (float16 0x3800), then 32 int8 codes.
/// let mut block = vec![0x00, 0x38];
/// block.extend((0..32).map(|i| (i as i8 - 16) as u8));
/// let x = ggml::dequantize(GgmlType::Q8_0, &block)?;
/// assert_eq!(x[0], -8.0);
/// assert_eq!(x[31], 7.5);
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidFile`](crate::Error::InvalidFile) for a type without a dequantizer, a length
/// that is not whole blocks, or a quantized block with a NaN or infinite
/// scale (its values would not be finite).
pub fn dequantize(ty: GgmlType, data: &[u8]) -> Result<Vec<f32>> {
    let n = elements(ty, data.len())?;
    let mut out = vec![0f32; n];
    run(ty, data, &mut out, "GGML blocks", |v| v)?;
    Ok(out)
}

/// As [`dequantize`], rounded to float16 (round to nearest even; values
/// beyond float16's range become infinite), how
/// [`load_gguf`](super::load_gguf) loads these types.
///
/// # Errors
/// As [`dequantize`].
pub fn dequantize_f16(ty: GgmlType, data: &[u8]) -> Result<Vec<f16>> {
    let n = elements(ty, data.len())?;
    let mut out = vec![f16::ZERO; n];
    run(ty, data, &mut out, "GGML blocks", f16::from_f32)?;
    Ok(out)
}

/// Elements held by `len` bytes of type `ty` (at least a count to check).
fn elements(ty: GgmlType, len: usize) -> Result<usize> {
    let l = layout(ty.code()).ok_or_else(|| {
        invalid(
            "gguf",
            "GGML blocks",
            format!("GGML type code {} is unknown", ty.code()),
        )
    })?;
    Ok(len / l.bytes * l.block)
}
