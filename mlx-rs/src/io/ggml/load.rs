//! A GGUF reader in pure Rust, for files MLX's reader cannot take.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use half::{bf16, f16};

use super::super::reader::open_file;
use super::super::{inspect_gguf, invalid, Gguf, GgufInfo, GgufTensorInfo, GgufValue};
use super::{run, GgmlType};
use crate::error::Result;
use crate::{Array, ArrayElement};

const FORMAT: &str = "gguf";
/// GGML's group size for the types MLX maps to affine quantization.
const GROUP: usize = 32;

/// A bounds-checked little-endian reader over an in-memory header.
struct Slice<'a> {
    b: &'a [u8],
    pos: usize,
    origin: &'a str,
}

impl<'a> Slice<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.b.len() - self.pos);
        let n = n.ok_or_else(|| invalid(FORMAT, self.origin, "the header ends early"))?;
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> Result<String> {
        let n = self.u64()?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| invalid(FORMAT, self.origin, "a string is not valid UTF-8"))
    }
}

/// Little-endian numbers of type `T` from `bytes`, as a 0-d (`scalar`)
/// or 1-d array.
fn numbers<T: ArrayElement + bytemuck::Pod>(bytes: &[u8], scalar: bool) -> Result<Array> {
    let v: Vec<T> = bytes
        .chunks_exact(std::mem::size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
        .collect();
    let shape = [v.len() as i32];
    Array::from_slice(&v, if scalar { &[] } else { &shape })
}

/// One metadata value of GGUF type `t` (`None`: not represented, as MLX
/// does not represent nested arrays).
fn value(c: &mut Slice<'_>, t: u32, scalar: bool, len: u64) -> Result<Option<GgufValue>> {
    let size: u64 = match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        8 => {
            let mut v = Vec::new();
            for _ in 0..len {
                v.push(c.string()?);
            }
            return Ok(Some(if scalar {
                GgufValue::String(v.pop().unwrap_or_default())
            } else {
                GgufValue::Strings(v)
            }));
        }
        9 => {
            for _ in 0..len {
                let et = c.u32()?;
                let n = c.u64()?;
                value(c, et, false, n)?;
            }
            return Ok(None);
        }
        _ => return Err(invalid(FORMAT, c.origin, format!("value type {t}"))),
    };
    let total = size
        .checked_mul(len)
        .ok_or_else(|| invalid(FORMAT, c.origin, "an array is too long"))?;
    let b = c.take(total)?;
    let a = match t {
        0 => numbers::<u8>(b, scalar)?,
        1 => numbers::<i8>(b, scalar)?,
        2 => numbers::<u16>(b, scalar)?,
        3 => numbers::<i16>(b, scalar)?,
        4 => numbers::<u32>(b, scalar)?,
        5 => numbers::<i32>(b, scalar)?,
        6 => numbers::<f32>(b, scalar)?,
        7 => {
            let v: Vec<bool> = b.iter().map(|&x| x != 0).collect();
            let shape = [v.len() as i32];
            Array::from_slice(&v, if scalar { &[] } else { &shape })?
        }
        10 => numbers::<u64>(b, scalar)?,
        11 => numbers::<i64>(b, scalar)?,
        _ => {
            // float64 as float32, as MLX stores it.
            let v: Vec<f32> = b
                .chunks_exact(8)
                .map(|x| bytemuck::pod_read_unaligned::<f64>(x) as f32)
                .collect();
            let shape = [v.len() as i32];
            Array::from_slice(&v, if scalar { &[] } else { &shape })?
        }
    };
    Ok(Some(GgufValue::Array(a)))
}

/// The metadata of a header already validated by `inspect_gguf`.
fn metadata(header: &[u8], origin: &str) -> Result<HashMap<String, GgufValue>> {
    let mut c = Slice {
        b: header,
        pos: 8,
        origin,
    };
    let _n_tensors = c.u64()?;
    let n_kv = c.u64()?;
    let mut out = HashMap::new();
    for _ in 0..n_kv {
        let key = c.string()?;
        let t = c.u32()?;
        let v = if t == 9 {
            let et = c.u32()?;
            let n = c.u64()?;
            value(&mut c, et, false, n)?
        } else {
            value(&mut c, t, true, 1)?
        };
        if let Some(v) = v {
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// Packs `codes` (each below `1 << bits`) into `uint32` words, element
/// `i` of each word at bits `bits * i` (MLX's affine layout).
fn pack(codes: &[u8], bits: usize) -> Vec<u32> {
    let per = 32 / bits;
    codes
        .chunks_exact(per)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u32, |w, (i, &q)| w | (u32::from(q) << (bits * i)))
        })
        .collect()
}

/// A `Q4_0`, `Q4_1` or `Q8_0` tensor as MLX's GGUF reader represents it:
/// packed `uint32` codes and `float16` scales and biases (groups of 32).
fn affine(t: &GgufTensorInfo, data: &[u8], origin: &str) -> Result<[Array; 3]> {
    let (bits, bytes) = match t.ggml_type {
        GgmlType::Q4_0 => (4, 18),
        GgmlType::Q4_1 => (4, 20),
        _ => (8, 34),
    };
    let n = data.len() / bytes;
    let mut codes = Vec::with_capacity(n * GROUP);
    let mut scales = Vec::with_capacity(n);
    let mut biases = Vec::with_capacity(n);
    for (i, b) in data.chunks_exact(bytes).enumerate() {
        let d = f16::from_le_bytes([b[0], b[1]]);
        let (bias, qs) = match t.ggml_type {
            GgmlType::Q4_0 => (f16::from_f32(-8.0 * d.to_f32()), &b[2..]),
            GgmlType::Q4_1 => (f16::from_le_bytes([b[2], b[3]]), &b[4..]),
            _ => (f16::from_f32(-128.0 * d.to_f32()), &b[2..]),
        };
        if !d.is_finite() || !bias.is_finite() {
            return Err(invalid(
                FORMAT,
                origin,
                format!(
                    "tensor {:?}: {} block {i} has a NaN or infinite scale",
                    t.name, t.ggml_type
                ),
            ));
        }
        scales.push(d);
        biases.push(bias);
        if bits == 4 {
            codes.extend(qs.iter().map(|&q| q & 0x0F));
            codes.extend(qs.iter().map(|&q| q >> 4));
        } else {
            codes.extend(qs.iter().map(|&q| q ^ 0x80));
        }
    }
    let mut shape = t.shape.clone();
    let last = shape.last().copied().unwrap_or(1);
    let mut sshape = shape.clone();
    if let Some(l) = sshape.last_mut() {
        *l = last / GROUP as i32;
    }
    if let Some(l) = shape.last_mut() {
        *l = last * bits as i32 / 32;
    }
    Ok([
        Array::from_slice(&pack(&codes, bits), &shape)?,
        Array::from_slice(&scales, &sshape)?,
        Array::from_slice(&biases, &sshape)?,
    ])
}

/// One tensor's data as MLX's reader would give it, or dequantized to
/// `float16` for the types MLX does not read.
fn tensor(t: &GgufTensorInfo, data: &[u8], origin: &str) -> Result<Vec<(String, Array)>> {
    let shape = &t.shape;
    let one = |a: Array| Ok(vec![(t.name.clone(), a)]);
    match t.ggml_type {
        GgmlType::F32 => one(numbers::<f32>(data, false)?.reshape(shape)?),
        GgmlType::I8 => one(numbers::<i8>(data, false)?.reshape(shape)?),
        GgmlType::I16 => one(numbers::<i16>(data, false)?.reshape(shape)?),
        GgmlType::I32 => one(numbers::<i32>(data, false)?.reshape(shape)?),
        GgmlType::F16 => one(numbers::<f16>(data, false)?.reshape(shape)?),
        GgmlType::Bf16 => {
            let v: Vec<f16> = data
                .chunks_exact(2)
                .map(|b| f16::from_f32(bf16::from_le_bytes([b[0], b[1]]).to_f32()))
                .collect();
            one(Array::from_slice(&v, shape)?)
        }
        GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0 => {
            let [w, s, b] = affine(t, data, origin)?;
            let stem = t.name.strip_suffix(".weight").unwrap_or(&t.name);
            Ok(vec![
                (t.name.clone(), w),
                (format!("{stem}.scales"), s),
                (format!("{stem}.biases"), b),
            ])
        }
        ty => {
            let n: usize = shape.iter().map(|&d| d as usize).product();
            let mut out = vec![f16::ZERO; n];
            let what = format!("{origin}: tensor {:?}", t.name);
            run(ty, data, &mut out, &what, f16::from_f32)?;
            one(Array::from_slice(&out, shape)?)
        }
    }
}

/// Reads `len` bytes at `offset` of `f`.
fn read_at(f: &mut std::fs::File, offset: u64, len: u64, path: &Path) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| super::super::io_error(path, e);
    let n = usize::try_from(len)
        .map_err(|_| invalid(FORMAT, &path.display().to_string(), "a tensor is too large"))?;
    let mut buf = vec![0u8; n];
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    f.read_exact(&mut buf).map_err(io)?;
    Ok(buf)
}

/// Loads a GGUF file entirely in Rust, without MLX's reader:
/// [`load_gguf`](super::super::load_gguf) calls it for files that hold a
/// tensor type MLX 0.32 does not read (its result has the same form as
/// MLX's for the types MLX reads, checked by the tests), and it takes
/// read-only files, which MLX's reader does not.
///
/// Tensors: `F32`, `F16`, `I8`, `I16`, `I32` as they are; `BF16` as
/// `float16` (as MLX); `Q4_0`, `Q4_1`, `Q8_0` as MLX affine weights
/// (`x.weight` packed `uint32`, `x.scales`, `x.biases` in `float16`,
/// groups of 32, as MLX); every other supported type dequantized to
/// `float16` with [`dequantize`](super::dequantize)'s kernels. Metadata:
/// numbers and bools as 0-d arrays of their dtype (float64 as float32),
/// arrays of them as 1-d arrays, strings and string arrays; nested
/// arrays are not represented.
///
/// # Errors
/// As [`inspect_gguf`]; [`Error::InvalidFile`] for a type mlx-rs cannot
/// dequantize or a quantized block with a NaN or infinite scale;
/// [`Error::Io`] when the file cannot be read.
pub fn load_gguf_native(path: impl AsRef<Path>) -> Result<Gguf> {
    let path = path.as_ref();
    let info = inspect_gguf(path)?;
    load_with_info(path, info)
}

/// As [`load_gguf_native`] with the validated header `info` of `path`.
pub(crate) fn load_with_info(path: &Path, info: GgufInfo) -> Result<Gguf> {
    let origin = path.display().to_string();
    let (mut f, len) = open_file(path)?;
    if len != info.file_len {
        return Err(invalid(FORMAT, &origin, "the file changed while loading"));
    }
    let header = read_at(&mut f, 0, info.data_start, path)?;
    let metadata = metadata(&header, &origin)?;
    let mut arrays = HashMap::new();
    for t in &info.tensors {
        let data = read_at(&mut f, info.data_start + t.offset, t.nbytes, path)?;
        for (k, a) in tensor(t, &data, &origin)? {
            if arrays.insert(k.clone(), a).is_some() {
                return Err(invalid(FORMAT, &origin, format!("two tensors named {k:?}")));
            }
        }
    }
    Ok(Gguf {
        arrays,
        metadata,
        info,
    })
}
