//! GGUF through MLX, with the whole header validated in Rust first.
//!
//! MLX reads GGUF with gguflib, which trusts every length and offset in the
//! file. [`inspect_gguf`] parses the header with bounds checks on every
//! read, and checks each tensor's type, shape and byte range against the
//! file length, before MLX opens the file.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read};
use std::path::Path;

use super::reader::open_file;
use super::{invalid, with_default_stream};
use crate::error::{self, check, Error, Result};
use crate::raw::{self, cstring, path_cstring, strings_in, strings_out, Owned};
use crate::{Array, Dtype};

const FORMAT: &str = "gguf";
/// gguflib's fixed alignment of the data section and of tensor offsets.
const ALIGNMENT: u64 = 32;
/// Deepest nesting of metadata arrays accepted.
const MAX_DEPTH: u32 = 3;

/// A GGML tensor type, as a GGUF file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GgmlType {
    /// `F32`: loaded as `float32`.
    F32,
    /// `F16`: loaded as `float16`.
    F16,
    /// `BF16`: loaded as `float16` (converted).
    Bf16,
    /// `Q4_0`: loaded as MLX affine 4-bit weights (`uint32` packed),
    /// `.scales` and `.biases` (`float16`), group size 32.
    Q4_0,
    /// `Q4_1`: as `Q4_0`.
    Q4_1,
    /// `Q8_0`: as `Q4_0`, 8 bits.
    Q8_0,
    /// `Q2_K`: dequantized to `float16` (in Rust, see [`ggml`](super::ggml)).
    Q2K,
    /// `Q4_K`: dequantized to `float16`.
    Q4K,
    /// `Q6_K`: dequantized to `float16`.
    Q6K,
    /// `Q5_0`: dequantized to `float16`.
    Q5_0,
    /// `Q5_1`: dequantized to `float16`.
    Q5_1,
    /// `Q8_1`: dequantized to `float16`.
    Q8_1,
    /// `Q3_K`: dequantized to `float16`.
    Q3K,
    /// `Q5_K`: dequantized to `float16`.
    Q5K,
    /// `Q8_K`: dequantized to `float16`.
    Q8K,
    /// `IQ4_NL`: dequantized to `float16`.
    Iq4Nl,
    /// `IQ4_XS`: dequantized to `float16`.
    Iq4Xs,
    /// `TQ1_0`: dequantized to `float16`.
    Tq1_0,
    /// `TQ2_0`: dequantized to `float16`.
    Tq2_0,
    /// `MXFP4`: dequantized to `float16`.
    Mxfp4,
    /// `NVFP4`: dequantized to `float16`.
    Nvfp4,
    /// `I8`: loaded as `int8`.
    I8,
    /// `I16`: loaded as `int16`.
    I16,
    /// `I32`: loaded as `int32`.
    I32,
    /// Any other GGML type (mlx-rs cannot load it).
    Other(u32),
}

impl GgmlType {
    /// From the file's type code.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            10 => GgmlType::Q2K,
            12 => GgmlType::Q4K,
            14 => GgmlType::Q6K,
            6 => GgmlType::Q5_0,
            7 => GgmlType::Q5_1,
            9 => GgmlType::Q8_1,
            11 => GgmlType::Q3K,
            13 => GgmlType::Q5K,
            15 => GgmlType::Q8K,
            20 => GgmlType::Iq4Nl,
            23 => GgmlType::Iq4Xs,
            34 => GgmlType::Tq1_0,
            35 => GgmlType::Tq2_0,
            39 => GgmlType::Mxfp4,
            40 => GgmlType::Nvfp4,
            24 => GgmlType::I8,
            25 => GgmlType::I16,
            26 => GgmlType::I32,
            30 => GgmlType::Bf16,
            other => GgmlType::Other(other),
        }
    }

    /// The file's type code.
    pub fn code(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q8_0 => 8,
            GgmlType::Q2K => 10,
            GgmlType::Q4K => 12,
            GgmlType::Q6K => 14,
            GgmlType::Q5_0 => 6,
            GgmlType::Q5_1 => 7,
            GgmlType::Q8_1 => 9,
            GgmlType::Q3K => 11,
            GgmlType::Q5K => 13,
            GgmlType::Q8K => 15,
            GgmlType::Iq4Nl => 20,
            GgmlType::Iq4Xs => 23,
            GgmlType::Tq1_0 => 34,
            GgmlType::Tq2_0 => 35,
            GgmlType::Mxfp4 => 39,
            GgmlType::Nvfp4 => 40,
            GgmlType::I8 => 24,
            GgmlType::I16 => 25,
            GgmlType::I32 => 26,
            GgmlType::Bf16 => 30,
            GgmlType::Other(c) => c,
        }
    }

    /// GGML's name, e.g. `"Q4_1"` (`"type 99"` for an unknown code).
    pub fn name(self) -> String {
        match super::ggml::layout(self.code()) {
            Some(l) => l.name.into(),
            None => format!("type {}", self.code()),
        }
    }

    /// `(elements per block, bytes per block)` for the types mlx-rs loads.
    fn block(self) -> Option<(u64, u64)> {
        if super::ggml::unsupported_reason(self.code()).is_some() {
            return None;
        }
        super::ggml::layout(self.code()).map(|l| (l.block as u64, l.bytes as u64))
    }

    /// Whether MLX's own GGUF reader reads the type (`F32`, `F16`, `BF16`,
    /// `I8`, `I16`, `I32`, `Q4_0`, `Q4_1`, `Q8_0`): [`load_gguf`] hands MLX
    /// only files whose tensors are all of these types, and reads the
    /// others in Rust ([`ggml::load_gguf_native`](super::ggml::load_gguf_native)).
    pub fn mlx_reads(self) -> bool {
        use GgmlType::*;
        matches!(self, F32 | F16 | Bf16 | I8 | I16 | I32 | Q4_0 | Q4_1 | Q8_0)
    }

    /// Whether MLX loads the type as affine-quantized weights
    /// (`.weight`, `.scales`, `.biases`).
    pub fn is_mlx_quantized(self) -> bool {
        matches!(self, GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0)
    }

    /// The dtype MLX loads a tensor of this type as (for quantized types,
    /// the packed `uint32` weight), or `None` when MLX cannot load it.
    pub fn mlx_dtype(self) -> Option<Dtype> {
        Some(match self {
            GgmlType::F32 => Dtype::Float32,
            GgmlType::I8 => Dtype::Int8,
            GgmlType::I16 => Dtype::Int16,
            GgmlType::I32 => Dtype::Int32,
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0 => Dtype::Uint32,
            GgmlType::Other(_) => return None,
            _ => Dtype::Float16,
        })
    }
}

impl std::fmt::Display for GgmlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The type of a GGUF metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GgufValueType {
    /// `uint8`
    U8,
    /// `int8`
    I8,
    /// `uint16`
    U16,
    /// `int16`
    I16,
    /// `uint32`
    U32,
    /// `int32`
    I32,
    /// `float32`
    F32,
    /// `bool`
    Bool,
    /// a string
    String,
    /// an array
    Array,
    /// `uint64`
    U64,
    /// `int64`
    I64,
    /// `float64`
    F64,
}

impl GgufValueType {
    fn from_code(code: u32) -> Option<Self> {
        use GgufValueType::*;
        Some(match code {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    fn fixed_size(self) -> Option<u64> {
        use GgufValueType::*;
        match self {
            U8 | I8 | Bool => Some(1),
            U16 | I16 => Some(2),
            U32 | I32 | F32 => Some(4),
            U64 | I64 | F64 => Some(8),
            String | Array => None,
        }
    }
}

/// What a metadata entry of a GGUF header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgufMetadataKind {
    /// One value (number, bool or string).
    Scalar(GgufValueType),
    /// An array of `len` values of type `element`.
    Array {
        /// The element type.
        element: GgufValueType,
        /// The number of elements.
        len: u64,
    },
}

/// One tensor of a GGUF header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufTensorInfo {
    /// The tensor's name.
    pub name: String,
    /// Its GGML type.
    pub ggml_type: GgmlType,
    /// Its shape in MLX (row-major) order: GGML's dimensions reversed.
    pub shape: Vec<i32>,
    /// Offset of its data from the start of the data section.
    pub offset: u64,
    /// Size of its data in the file, in bytes.
    pub nbytes: u64,
}

/// A validated GGUF header.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufInfo {
    /// The GGUF version (2 or 3).
    pub version: u32,
    /// The metadata entries, in file order.
    pub metadata: Vec<(String, GgufMetadataKind)>,
    /// The tensors, in file order.
    pub tensors: Vec<GgufTensorInfo>,
    /// Offset of the data section in the file.
    pub data_start: u64,
    /// The file's length.
    pub file_len: u64,
}

/// A bounds-checked little-endian reader over the file.
struct Cur<R> {
    r: R,
    pos: u64,
    len: u64,
    origin: String,
}

impl<R: Read> Cur<R> {
    fn bad(&self, reason: impl Into<String>) -> Error {
        invalid(FORMAT, &self.origin, reason)
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        if n > self.len - self.pos {
            return Err(self.bad(format!(
                "{what} claims {n} bytes at offset {} but the file has {} left (truncated?)",
                self.pos,
                self.len - self.pos
            )));
        }
        let mut buf = vec![0u8; n as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| self.bad(format!("reading {what}: {e}")))?;
        self.pos += n;
        Ok(buf)
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        if n > self.len - self.pos {
            return Err(self.bad(format!(
                "{what} claims {n} bytes at offset {} but the file has {} left (truncated?)",
                self.pos,
                self.len - self.pos
            )));
        }
        let copied = std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())
            .map_err(|e| self.bad(format!("reading {what}: {e}")))?;
        if copied != n {
            return Err(self.bad(format!("{what}: unexpected end of file")));
        }
        self.pos += n;
        Ok(())
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.u64(what)?;
        let b = self.bytes(n, what)?;
        if b.contains(&0) {
            return Err(self.bad(format!("{what} contains a NUL byte")));
        }
        String::from_utf8(b).map_err(|_| self.bad(format!("{what} is not valid UTF-8")))
    }

    /// Validates (and skips) one value of type `t`.
    fn value(&mut self, t: GgufValueType, key: &str, depth: u32) -> Result<GgufMetadataKind> {
        match t {
            GgufValueType::String => {
                self.string(&format!("the string value of {key:?}"))?;
                Ok(GgufMetadataKind::Scalar(t))
            }
            GgufValueType::Bool => {
                let b = self.bytes(1, "a bool")?;
                if b[0] > 1 {
                    return Err(self.bad(format!("{key:?}: bool value {}", b[0])));
                }
                Ok(GgufMetadataKind::Scalar(t))
            }
            GgufValueType::Array => {
                if depth >= MAX_DEPTH {
                    return Err(self.bad(format!("{key:?}: arrays nested too deep")));
                }
                let code = self.u32("an array element type")?;
                let element = GgufValueType::from_code(code).ok_or_else(|| {
                    self.bad(format!("{key:?}: unknown array element type {code}"))
                })?;
                let len = self.u64("an array length")?;
                let min = element.fixed_size().unwrap_or(8);
                if len.checked_mul(min).is_none_or(|n| n > self.len - self.pos) {
                    return Err(self.bad(format!(
                        "{key:?}: array of {len} elements does not fit in the {} bytes left",
                        self.len - self.pos
                    )));
                }
                match element.fixed_size() {
                    Some(size) if element != GgufValueType::Bool => {
                        self.skip(len * size, "array data")?;
                    }
                    _ => {
                        for _ in 0..len {
                            self.value(element, key, depth + 1)?;
                        }
                    }
                }
                Ok(GgufMetadataKind::Array { element, len })
            }
            _ => {
                let size = t.fixed_size().unwrap_or(0);
                self.skip(size, "a number")?;
                Ok(GgufMetadataKind::Scalar(t))
            }
        }
    }
}

/// Parses and validates a GGUF header from `r` (positioned at the start of
/// a file of `len` bytes).
fn parse<R: Read>(r: R, len: u64, origin: &str) -> Result<GgufInfo> {
    let mut c = Cur {
        r,
        pos: 0,
        len,
        origin: origin.to_owned(),
    };
    if len < 24 {
        return Err(c.bad(format!("{len} bytes is too short for a GGUF header")));
    }
    let magic = c.bytes(4, "the magic")?;
    if magic != b"GGUF" {
        return Err(c.bad(format!("wrong magic {magic:?}, expected \"GGUF\"")));
    }
    let version = c.u32("the version")?;
    if version != 2 && version != 3 {
        return Err(c.bad(format!(
            "unsupported GGUF version {version} (2 and 3 are supported)"
        )));
    }
    let n_tensors = c.u64("the tensor count")?;
    let n_kv = c.u64("the metadata count")?;
    // Each entry takes at least 13 bytes, each tensor 24: bound the counts
    // by the file before trusting them.
    if n_kv.checked_mul(13).is_none_or(|n| n > len)
        || n_tensors.checked_mul(24).is_none_or(|n| n > len)
    {
        return Err(c.bad(format!(
            "the header claims {n_kv} metadata entries and {n_tensors} tensors, more than {len} bytes can hold"
        )));
    }
    let mut metadata = Vec::with_capacity(n_kv.min(4096) as usize);
    let mut keys = HashSet::new();
    for _ in 0..n_kv {
        let key = c.string("a metadata key")?;
        if !keys.insert(key.clone()) {
            return Err(c.bad(format!("duplicate metadata key {key:?}")));
        }
        let code = c.u32("a value type")?;
        let t = GgufValueType::from_code(code)
            .ok_or_else(|| c.bad(format!("{key:?}: unknown value type {code}")))?;
        let kind = if key == "general.alignment" {
            // gguflib always aligns to 32; a file aligned otherwise would be
            // read at the wrong offsets.
            if t != GgufValueType::U32 {
                return Err(c.bad("general.alignment is not a uint32"));
            }
            let a = c.u32("general.alignment")?;
            if u64::from(a) != ALIGNMENT {
                return Err(c.bad(format!(
                    "general.alignment is {a}; MLX reads only 32-byte aligned files"
                )));
            }
            GgufMetadataKind::Scalar(t)
        } else {
            c.value(t, &key, 0)?
        };
        metadata.push((key, kind));
    }
    let mut tensors = Vec::with_capacity(n_tensors.min(65536) as usize);
    let mut names = HashSet::new();
    for _ in 0..n_tensors {
        let name = c.string("a tensor name")?;
        if !names.insert(name.clone()) {
            return Err(c.bad(format!("duplicate tensor {name:?}")));
        }
        let ndim = c.u32("a dimension count")?;
        if ndim > 4 {
            return Err(c.bad(format!("tensor {name:?} has {ndim} dimensions (at most 4)")));
        }
        let mut dims = Vec::with_capacity(ndim as usize);
        for _ in 0..ndim {
            dims.push(c.u64("a dimension")?);
        }
        let code = c.u32("a tensor type")?;
        let ggml_type = GgmlType::from_code(code);
        let offset = c.u64("a tensor offset")?;
        let (items, block_bytes) = ggml_type.block().ok_or_else(|| {
            let why = super::ggml::unsupported_reason(code).unwrap_or_default();
            c.bad(format!(
                "tensor {name:?} has GGML type {code} ({ggml_type}), which mlx-rs cannot load: {why}"
            ))
        })?;
        let mut numel: u64 = 1;
        for &d in &dims {
            if d > i32::MAX as u64 {
                return Err(c.bad(format!("tensor {name:?}: dimension {d} is too large")));
            }
            numel = numel
                .checked_mul(d)
                .ok_or_else(|| c.bad(format!("tensor {name:?}: element count overflows")))?;
        }
        if items > 1 && dims.first().is_none_or(|&d| d % items != 0) {
            return Err(c.bad(format!(
                "tensor {name:?}: {ggml_type} needs a first dimension divisible by {items}, found {dims:?}"
            )));
        }
        let nbytes = (numel / items)
            .checked_mul(block_bytes)
            .ok_or_else(|| c.bad(format!("tensor {name:?}: byte size overflows")))?;
        if offset % ALIGNMENT != 0 {
            return Err(c.bad(format!(
                "tensor {name:?}: offset {offset} is not aligned to {ALIGNMENT}"
            )));
        }
        tensors.push(GgufTensorInfo {
            name,
            ggml_type,
            shape: dims.iter().rev().map(|&d| d as i32).collect(),
            offset,
            nbytes,
        });
    }
    let data_start = c.pos.div_ceil(ALIGNMENT) * ALIGNMENT;
    if data_start > len {
        return Err(c.bad("the data section starts past the end of the file"));
    }
    let data_len = len - data_start;
    for t in &tensors {
        if t.offset
            .checked_add(t.nbytes)
            .is_none_or(|end| end > data_len)
        {
            return Err(c.bad(format!(
                "tensor {:?}: {} bytes at data offset {} run past the end of the file ({} data bytes; truncated?)",
                t.name, t.nbytes, t.offset, data_len
            )));
        }
    }
    Ok(GgufInfo {
        version,
        metadata,
        tensors,
        data_start,
        file_len: len,
    })
}

/// Reads and validates the header of a GGUF file (metadata types, tensor
/// names, types, shapes and byte ranges) without loading any data.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::InvalidFile`] for a
/// wrong magic or version, a length or count that runs past the end of
/// the file, a tensor type MLX cannot load, invalid UTF-8 in a name or
/// string, or a tensor whose data lies beyond the end of the file.
pub fn inspect_gguf(path: impl AsRef<Path>) -> Result<GgufInfo> {
    let path = path.as_ref();
    let (f, len) = open_file(path)?;
    parse(
        BufReader::with_capacity(1 << 16, f),
        len,
        &path.display().to_string(),
    )
}

/// A metadata value as MLX loads it.
#[derive(Debug, Clone)]
pub enum GgufValue {
    /// A number or bool (a 0-d array), or an array of them (1-d).
    Array(Array),
    /// A string.
    String(String),
    /// An array of strings (e.g. a tokenizer's vocabulary).
    Strings(Vec<String>),
}

impl GgufValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The strings, if this is an array of them.
    pub fn as_strings(&self) -> Option<&[String]> {
        match self {
            GgufValue::Strings(v) => Some(v),
            _ => None,
        }
    }

    /// The array, if this is a number, bool or array of them.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// The arrays and metadata of a GGUF file.
#[derive(Debug)]
pub struct Gguf {
    /// The tensors by name. A `Q4_0`, `Q4_1` or `Q8_0` tensor `x.weight`
    /// becomes three arrays: `x.weight` (packed `uint32`), `x.scales` and
    /// `x.biases` (`float16`), MLX affine quantization with group size 32
    /// (4 or 8 bits). Other quantized types are dequantized to `float16`.
    pub arrays: HashMap<String, Array>,
    /// The metadata MLX represents (every entry of [`Gguf::info`] except
    /// nested arrays).
    pub metadata: HashMap<String, GgufValue>,
    /// The validated header.
    pub info: GgufInfo,
}

/// An owned `mlx_io_gguf`.
type GgufHandle = Owned<mlx_sys::mlx_io_gguf>;

/// Fetches metadata `key` from a loaded GGUF: `None` when MLX did not
/// keep it.
fn get_metadata(g: &GgufHandle, key: &str) -> Result<Option<GgufValue>> {
    let k = cstring(key)?;
    // mlx-c's getters answer 0 (found), 2 (no such key, or another type)
    // or 1 (failure); each is tried in turn on a fresh out-param.
    let mut arr = Owned::<mlx_sys::mlx_array>::new();
    // SAFETY: live handle, valid C string and a fresh out-param.
    let st =
        unsafe { mlx_sys::mlx_io_gguf_get_metadata_array(arr.as_mut_ptr(), g.get(), k.as_ptr()) };
    if st == 0 && !arr.is_empty() {
        // SAFETY: on success `arr` holds a live array, handed over whole.
        return Ok(Some(GgufValue::Array(unsafe {
            Array::from_raw(arr.into_raw())
        })));
    }
    if st == 1 {
        check("mlx_io_gguf_get_metadata_array", st)?;
    }
    let mut s = Owned::<mlx_sys::mlx_string>::new();
    // SAFETY: live handle, valid C string and a fresh out-param.
    let st =
        unsafe { mlx_sys::mlx_io_gguf_get_metadata_string(s.as_mut_ptr(), g.get(), k.as_ptr()) };
    if st == 0 {
        // SAFETY: `s` holds the string; its data is alive while `s` is.
        let v = unsafe {
            raw::string_from_c(
                mlx_sys::mlx_string_data(s.get()),
                "a GGUF string is not valid UTF-8",
            )
        };
        return v.map(|v| Some(GgufValue::String(v)));
    }
    if st == 1 {
        check("mlx_io_gguf_get_metadata_string", st)?;
    }
    let mut v = Owned::<mlx_sys::mlx_vector_string>::new();
    // SAFETY: live handle, valid C string; `v` a live vector assigned in
    // place.
    let st = unsafe {
        mlx_sys::mlx_io_gguf_get_metadata_vector_string(v.as_mut_ptr(), g.get(), k.as_ptr())
    };
    match st {
        0 => Ok(Some(GgufValue::Strings(strings_out(&v)?))),
        1 => check("mlx_io_gguf_get_metadata_vector_string", st).map(|()| None),
        _ => {
            let _ = error::take_message();
            Ok(None)
        }
    }
}

/// Loads a GGUF file: tensors (see [`Gguf::arrays`] for how quantized
/// types are represented) and metadata. Data is read eagerly.
///
/// The header is validated first (see [`inspect_gguf`]). MLX's loader
/// (gguflib) opens the file read-write, so a read-only file is an
/// [`Error::Io`] (it does not write to it).
///
/// # Errors
/// As [`inspect_gguf`]; [`Error::Io`] when the file cannot be opened
/// read-write; [`Error::Mlx`] if MLX fails to load the file.
#[doc(alias = "mlx_load_gguf")]
#[doc(alias = "mlx_io_gguf_get_array")]
pub fn load_gguf(path: impl AsRef<Path>) -> Result<Gguf> {
    let path = path.as_ref();
    let info = inspect_gguf(path)?;
    if !info.tensors.iter().all(|t| t.ggml_type.mlx_reads()) {
        return super::ggml::load_with_info(path, info);
    }
    // gguflib opens the file with O_RDWR | O_APPEND (it never writes while
    // loading); say so instead of MLX's bare "gguf_init failed".
    std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            let why = format!("MLX's GGUF reader opens files read-write and could not: {e}");
            Error::io(path.display(), std::io::Error::new(e.kind(), why))
        })?;
    let file = path_cstring(path)?;
    let g: GgufHandle = with_default_stream(|s| {
        // SAFETY: `res` is a fresh handle that mlx-c assigns in place; `file`
        // a valid C string; `s` the live default stream.
        raw::out("mlx_load_gguf", |res| unsafe {
            mlx_sys::mlx_load_gguf(res, file.as_ptr(), s)
        })
    })??;
    // SAFETY: live handle; `res` a fresh vector assigned in place.
    let keys = raw::out("mlx_io_gguf_get_keys", |res| unsafe {
        mlx_sys::mlx_io_gguf_get_keys(res, g.get())
    })?;
    let mut arrays = HashMap::new();
    for key in strings_out(&keys)? {
        let k = cstring(&key)?;
        let a = Array::build("mlx_io_gguf_get_array", |out| {
            // SAFETY: live handle, valid C string, `out` a fresh handle.
            unsafe { mlx_sys::mlx_io_gguf_get_array(out, g.get(), k.as_ptr()) }
        })?;
        arrays.insert(key, a);
    }
    let origin = path.display().to_string();
    for t in &info.tensors {
        let expect = t.ggml_type.mlx_dtype();
        let mut shape = t.shape.clone();
        if t.ggml_type.is_mlx_quantized() {
            let bits = if t.ggml_type == GgmlType::Q8_0 { 8 } else { 4 };
            if let Some(last) = shape.last_mut() {
                *last = *last * bits / 32;
            }
        }
        match arrays.get(&t.name) {
            Some(a) if Some(a.dtype()) == expect && a.shape() == shape.as_slice() => {}
            _ => {
                return Err(invalid(
                    FORMAT,
                    &origin,
                    format!(
                        "MLX loaded tensor {:?} differently than the header describes it",
                        t.name
                    ),
                ))
            }
        }
    }
    let mut metadata = HashMap::new();
    for (key, _) in &info.metadata {
        if let Some(v) = get_metadata(&g, key)? {
            metadata.insert(key.clone(), v);
        }
    }
    Ok(Gguf {
        arrays,
        metadata,
        info,
    })
}

/// Saves arrays and metadata as a GGUF file.
///
/// MLX 0.32 saves `float32`, `float16`, `int8`, `int16` and `int32`
/// tensors; metadata arrays must be 0-d or 1-d, of an integer, `float32`
/// or `bool` dtype.
///
/// ```
/// use std::collections::HashMap;
/// use mlx_rs::io::{self, GgufValue};
/// use mlx_rs::Array;
/// let dir = std::env::temp_dir().join(format!("mlx-rs-doc-gguf-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("m.gguf");
/// let w = Array::from_slice(&[1.0f32; 32], &[32])?;
/// let name = GgufValue::String("tiny".into());
/// io::save_gguf(&path, [("w", &w)], [("general.name", &name)])?;
/// let g = io::load_gguf(&path)?;
/// assert_eq!(g.metadata["general.name"].as_str(), Some("tiny"));
/// assert_eq!(g.arrays["w"].shape(), &[32]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidData`] for a name, string or path with a NUL byte;
/// [`Error::Mlx`] if MLX fails (an unsupported dtype, an unwritable file).
#[doc(alias = "mlx_save_gguf")]
#[doc(alias = "mlx_io_gguf_set_array")]
pub fn save_gguf<'a, 'b, K, MK>(
    path: impl AsRef<Path>,
    arrays: impl IntoIterator<Item = (K, &'a Array)>,
    metadata: impl IntoIterator<Item = (MK, &'b GgufValue)>,
) -> Result<()>
where
    K: AsRef<str>,
    MK: AsRef<str>,
{
    let file = path_cstring(path.as_ref())?;
    let g: GgufHandle = raw::fresh("mlx_io_gguf_new")?;
    for (k, a) in arrays {
        let key = cstring(k.as_ref())?;
        // SAFETY: live handles, valid C string; MLX shares the array.
        raw::call("mlx_io_gguf_set_array", || unsafe {
            mlx_sys::mlx_io_gguf_set_array(g.get(), key.as_ptr(), a.as_raw())
        })?;
    }
    for (k, v) in metadata {
        let key = cstring(k.as_ref())?;
        match v {
            GgufValue::Array(a) => {
                // SAFETY: live handles, valid C string.
                raw::call("mlx_io_gguf_set_metadata_array", || unsafe {
                    mlx_sys::mlx_io_gguf_set_metadata_array(g.get(), key.as_ptr(), a.as_raw())
                })?
            }
            GgufValue::String(s) => {
                let s = cstring(s)?;
                // SAFETY: live handle, valid C strings (copied by mlx-c).
                raw::call("mlx_io_gguf_set_metadata_string", || unsafe {
                    mlx_sys::mlx_io_gguf_set_metadata_string(g.get(), key.as_ptr(), s.as_ptr())
                })?
            }
            GgufValue::Strings(list) => {
                let vs = strings_in(list)?;
                // SAFETY: live handles, valid C string; the vector is copied.
                raw::call("mlx_io_gguf_set_metadata_vector_string", || unsafe {
                    mlx_sys::mlx_io_gguf_set_metadata_vector_string(g.get(), key.as_ptr(), vs.get())
                })?
            }
        }
    }
    // SAFETY: live handle and valid C string.
    raw::call("mlx_save_gguf", || unsafe {
        mlx_sys::mlx_save_gguf(file.as_ptr(), g.get())
    })
}
