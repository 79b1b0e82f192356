//! safetensors through MLX, with the header validated in Rust first.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::reader::{
    check_file, check_source, load_through_reader, save_through_writer, stream_source, BytesSource,
    RandomAccess, ReadAt,
};
use super::{invalid, path_cstring, with_default_stream, ArrayMap, StringMap};
use crate::error::{check, Result};
use crate::raw;
use crate::{Array, Dtype};

const FORMAT: &str = "safetensors";

/// The largest header accepted (the `safetensors` crate's limit).
pub(crate) const MAX_HEADER: u64 = 100_000_000;

/// The arrays and metadata of a safetensors file.
#[derive(Debug)]
pub struct Safetensors {
    /// The tensors, by name. Loading is lazy: each array reads its bytes
    /// when first evaluated.
    pub arrays: HashMap<String, Array>,
    /// The `__metadata__` string map (empty when the file has none).
    pub metadata: HashMap<String, String>,
}

/// One tensor entry of a safetensors header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetensorsTensorInfo {
    /// The tensor's name.
    pub name: String,
    /// The dtype as the file spells it (`"F32"`, `"BF16"`, `"F8_E4M3"`, …).
    pub file_dtype: String,
    /// The dtype MLX loads it as (`F8_E4M3` loads as raw `uint8`).
    pub dtype: Dtype,
    /// The shape.
    pub shape: Vec<i32>,
    /// Byte range in the data section, `[begin, end)`.
    pub data_offsets: (u64, u64),
}

/// A validated safetensors header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetensorsHeader {
    /// The tensors, in the order of the header.
    pub tensors: Vec<SafetensorsTensorInfo>,
    /// The `__metadata__` map.
    pub metadata: HashMap<String, String>,
    /// Offset of the data section in the file (`8 + header length`).
    pub data_start: u64,
}

/// The dtype MLX 0.32 loads for a safetensors dtype string (and the size
/// of one element in the file), or `None` when MLX rejects it.
fn mlx_dtype(s: &str) -> Option<(Dtype, u64)> {
    Some(match s {
        "BOOL" => (Dtype::Bool, 1),
        "U8" => (Dtype::Uint8, 1),
        "I8" => (Dtype::Int8, 1),
        "U16" => (Dtype::Uint16, 2),
        "I16" => (Dtype::Int16, 2),
        "U32" => (Dtype::Uint32, 4),
        "I32" => (Dtype::Int32, 4),
        "U64" => (Dtype::Uint64, 8),
        "I64" => (Dtype::Int64, 8),
        "F16" => (Dtype::Float16, 2),
        "BF16" => (Dtype::Bfloat16, 2),
        "F32" => (Dtype::Float32, 4),
        "C64" => (Dtype::Complex64, 8),
        "F8_E4M3" => (Dtype::Uint8, 1),
        _ => return None,
    })
}

/// The header's top level as a list, so duplicate names can be caught
/// (a JSON map would keep one silently).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = m.next_entry::<String, serde_json::Value>()? {
                    v.push(entry);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// Validates a header (`json`, the bytes after the 8-byte length) for a
/// file of `file_len` bytes.
pub(crate) fn parse_header(json: &[u8], file_len: u64, origin: &str) -> Result<SafetensorsHeader> {
    let bad = |reason: String| invalid(FORMAT, origin, reason);
    let data_start = 8 + json.len() as u64;
    let data_len = file_len
        .checked_sub(data_start)
        .ok_or_else(|| bad("the header runs past the end of the file".into()))?;
    let text =
        std::str::from_utf8(json).map_err(|e| bad(format!("the header is not UTF-8: {e}")))?;
    let Entries(entries) = serde_json::from_str(text)
        .map_err(|e| bad(format!("the header is not a JSON object: {e}")))?;
    let mut seen = HashSet::new();
    let mut tensors = Vec::new();
    let mut metadata = HashMap::new();
    for (name, value) in entries {
        if !seen.insert(name.clone()) {
            return Err(bad(format!("duplicate entry {name:?}")));
        }
        if name.contains('\0') {
            return Err(bad(format!("the name {name:?} contains a NUL byte")));
        }
        if name == "__metadata__" {
            match value {
                serde_json::Value::Null => {}
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match v {
                            serde_json::Value::String(s)
                                if !k.contains('\0') && !s.contains('\0') =>
                            {
                                metadata.insert(k, s);
                            }
                            _ => return Err(bad(format!("metadata {k:?} is not a string"))),
                        }
                    }
                }
                _ => return Err(bad("__metadata__ is not an object".into())),
            }
            continue;
        }
        let serde_json::Value::Object(fields) = value else {
            return Err(bad(format!("tensor {name:?} is not an object")));
        };
        let file_dtype = fields
            .get("dtype")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad(format!("tensor {name:?} has no dtype string")))?
            .to_owned();
        let (dtype, item) = mlx_dtype(&file_dtype).ok_or_else(|| {
            bad(format!(
                "tensor {name:?} has unknown or unsupported dtype {file_dtype:?}"
            ))
        })?;
        let shape_v = fields
            .get("shape")
            .and_then(|v| v.as_array())
            .ok_or_else(|| bad(format!("tensor {name:?} has no shape array")))?;
        let mut shape = Vec::with_capacity(shape_v.len().min(64));
        let mut numel: u64 = 1;
        for d in shape_v {
            let d = d
                .as_u64()
                .and_then(|d| i32::try_from(d).ok())
                .ok_or_else(|| bad(format!("tensor {name:?} has an invalid dimension {d}")))?;
            numel = numel
                .checked_mul(d as u64)
                .ok_or_else(|| bad(format!("tensor {name:?}: element count overflows")))?;
            shape.push(d);
        }
        let offs = fields
            .get("data_offsets")
            .and_then(|v| v.as_array())
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)))
            .ok_or_else(|| bad(format!("tensor {name:?} has no valid data_offsets pair")))?;
        let (begin, end) = offs;
        if begin > end {
            return Err(bad(format!(
                "tensor {name:?}: data_offsets [{begin}, {end}] are reversed"
            )));
        }
        let nbytes = numel
            .checked_mul(item)
            .ok_or_else(|| bad(format!("tensor {name:?}: byte size overflows")))?;
        if end - begin != nbytes {
            return Err(bad(format!(
                "tensor {name:?}: data_offsets [{begin}, {end}] hold {} bytes, shape {shape:?} of {file_dtype} needs {nbytes}",
                end - begin
            )));
        }
        if end > data_len {
            return Err(bad(format!(
                "tensor {name:?}: data ends at byte {end} of the data section, which has only {data_len} bytes (truncated file?)"
            )));
        }
        tensors.push(SafetensorsTensorInfo {
            name,
            file_dtype,
            dtype,
            shape,
            data_offsets: (begin, end),
        });
    }
    Ok(SafetensorsHeader {
        tensors,
        metadata,
        data_start,
    })
}

/// Reads and validates the header of a source of `len` bytes.
fn read_header(read_at: &mut ReadAt<'_>, len: u64, origin: &str) -> Result<SafetensorsHeader> {
    if len < 8 {
        return Err(invalid(
            FORMAT,
            origin,
            format!("{len} bytes is too short for a header"),
        ));
    }
    let mut n = [0u8; 8];
    read_at(&mut n, 0).map_err(|e| invalid(FORMAT, origin, e.to_string()))?;
    let n = u64::from_le_bytes(n);
    if n > len - 8 {
        return Err(invalid(
            FORMAT,
            origin,
            format!(
                "the header claims {n} bytes but the file has only {} after the length",
                len - 8
            ),
        ));
    }
    if n > MAX_HEADER {
        return Err(invalid(
            FORMAT,
            origin,
            format!("the header claims {n} bytes, more than {MAX_HEADER}"),
        ));
    }
    if n < 2 {
        return Err(invalid(
            FORMAT,
            origin,
            format!("a header of {n} bytes cannot be a JSON object"),
        ));
    }
    let mut json = vec![0u8; n as usize];
    read_at(&mut json, 8).map_err(|e| invalid(FORMAT, origin, e.to_string()))?;
    parse_header(&json, len, origin)
}

/// Reads and validates the header of a safetensors file, without loading
/// any tensor.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) if the file cannot be read;
/// [`Error::InvalidFile`](crate::Error::InvalidFile) if the header is
/// malformed, names a dtype MLX cannot load, or claims data beyond the end
/// of the file.
pub fn inspect_safetensors(path: impl AsRef<Path>) -> Result<SafetensorsHeader> {
    check_file(path.as_ref(), read_header)
}

/// Checks that what MLX loaded is what the header described.
fn finish(
    header: &SafetensorsHeader,
    arrays: &ArrayMap,
    meta: &StringMap,
    origin: &str,
) -> Result<Safetensors> {
    let arrays = arrays.to_hash_map()?;
    let metadata = meta.to_hash_map()?;
    if arrays.len() != header.tensors.len() {
        return Err(invalid(
            FORMAT,
            origin,
            "MLX read a different set of tensors than the header lists",
        ));
    }
    for t in &header.tensors {
        match arrays.get(&t.name) {
            Some(a) if a.shape() == t.shape.as_slice() && a.dtype() == t.dtype => {}
            _ => {
                return Err(invalid(
                    FORMAT,
                    origin,
                    format!(
                        "MLX read tensor {:?} differently than the header describes it",
                        t.name
                    ),
                ))
            }
        }
    }
    Ok(Safetensors { arrays, metadata })
}

/// Loads a safetensors file: every tensor (lazily: each is read when
/// first evaluated) and the metadata.
///
/// The header is read and checked first (see [`inspect_safetensors`]).
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) and
/// [`Error::InvalidFile`](crate::Error::InvalidFile) as
/// [`inspect_safetensors`]; [`Error::Mlx`](crate::Error::Mlx) if MLX fails
/// to load the file.
#[doc(alias = "mlx_load_safetensors")]
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<Safetensors> {
    let path = path.as_ref();
    let header = inspect_safetensors(path)?;
    let file = path_cstring(path)?;
    let mut arrays = ArrayMap::new()?;
    let mut meta = StringMap::new()?;
    let status = with_default_stream(|s| {
        // SAFETY: the out-params are live maps owned by `arrays` / `meta`
        // (mlx-c assigns into them in place), `file` a valid C string and
        // `s` the live default stream.
        unsafe {
            mlx_sys::mlx_load_safetensors(
                arrays.0.as_mut_ptr(),
                meta.0.as_mut_ptr(),
                file.as_ptr(),
                s,
            )
        }
    })?;
    check("mlx_load_safetensors", status)?;
    finish(&header, &arrays, &meta, &path.display().to_string())
}

/// Loads safetensors from a `RandomAccess` source through an mlx-c reader.
fn load_from_source(source: Box<dyn RandomAccess>, origin: &str) -> Result<Safetensors> {
    let header = check_source(&*source, origin, read_header)?;
    let mut arrays = ArrayMap::new()?;
    let mut meta = StringMap::new()?;
    load_through_reader(source, origin, |reader, s| {
        // SAFETY: the out-params are live maps owned by `arrays` / `meta`,
        // `reader` the reader that `load_through_reader` keeps alive for
        // the call (the arrays share it from here on), `s` the live
        // default stream.
        raw::call("mlx_load_safetensors_reader", || unsafe {
            mlx_sys::mlx_load_safetensors_reader(
                arrays.0.as_mut_ptr(),
                meta.0.as_mut_ptr(),
                reader,
                s,
            )
        })
    })??;
    finish(&header, &arrays, &meta, origin)
}

/// Loads safetensors from bytes in memory (a `Vec<u8>`, an `Arc<[u8]>`, a
/// `&'static [u8]`, a memory map, …). The bytes are moved into MLX's
/// reader and dropped when the last loaded array is.
///
/// # Errors
/// [`Error::InvalidFile`](crate::Error::InvalidFile) if the header is
/// invalid; [`Error::Mlx`](crate::Error::Mlx) if MLX fails to load.
#[doc(alias = "mlx_load_safetensors_reader")]
pub fn load_safetensors_from_bytes<B>(bytes: B) -> Result<Safetensors>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    load_from_source(Box::new(BytesSource(bytes)), "<memory>")
}

/// Loads safetensors from a seekable stream. The stream is moved into
/// MLX's reader: the lazily loaded arrays read from it when evaluated
/// (from any thread, one read at a time), and it is dropped with the last
/// of them.
///
/// A read error or panic of the stream while arrays are evaluated makes
/// that evaluation fail (MLX reports a short read).
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) if the stream cannot be measured; otherwise as
/// [`load_safetensors_from_bytes`].
#[doc(alias = "mlx_load_safetensors_reader")]
pub fn load_safetensors_from_reader<R>(reader: R) -> Result<Safetensors>
where
    R: Read + Seek + Send + 'static,
{
    load_from_source(stream_source(reader)?, "<reader>")
}

/// Saves `arrays` and `metadata` as a safetensors file.
///
/// ```
/// use std::collections::HashMap;
/// use mlx_rs::{io, Array};
/// let dir = std::env::temp_dir().join(format!("mlx-rs-doc-st-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("w.safetensors");
/// let a = Array::from_slice(&[1i32, 2, 3], &[3])?;
/// io::save_safetensors(&path, [("a", &a)], [("k", "v")])?;
/// let st = io::load_safetensors(&path)?;
/// assert_eq!(st.arrays["a"].to_vec::<i32>()?, [1, 2, 3]);
/// assert_eq!(st.metadata["k"], "v");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidData`](crate::Error::InvalidData) for a name, value or path with a NUL byte;
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails (an unsupported dtype such as `float64`,
/// an unwritable file, a failing evaluation).
#[doc(alias = "mlx_save_safetensors")]
pub fn save_safetensors<'a, K, MK, MV>(
    path: impl AsRef<Path>,
    arrays: impl IntoIterator<Item = (K, &'a Array)>,
    metadata: impl IntoIterator<Item = (MK, MV)>,
) -> Result<()>
where
    K: AsRef<str>,
    MK: AsRef<str>,
    MV: AsRef<str>,
{
    let file = path_cstring(path.as_ref())?;
    let arrays = ArrayMap::from_arrays(arrays)?;
    let meta = StringMap::from_entries(metadata)?;
    // SAFETY: live maps and a valid C string; mlx-c only reads them.
    raw::call("mlx_save_safetensors", || unsafe {
        mlx_sys::mlx_save_safetensors(file.as_ptr(), arrays.0.get(), meta.0.get())
    })
}

/// Saves safetensors into a seekable writer, borrowed for the call.
///
/// # Errors
/// As [`save_safetensors`]; a write error of `writer` is an [`Error::Mlx`](crate::Error::Mlx)
/// (MLX reports a short write). A panic of `writer` is re-raised.
#[doc(alias = "mlx_save_safetensors_writer")]
pub fn save_safetensors_to_writer<'a, W, K, MK, MV>(
    writer: &mut W,
    arrays: impl IntoIterator<Item = (K, &'a Array)>,
    metadata: impl IntoIterator<Item = (MK, MV)>,
) -> Result<()>
where
    W: Write + Seek + Send,
    K: AsRef<str>,
    MK: AsRef<str>,
    MV: AsRef<str>,
{
    let arrays = ArrayMap::from_arrays(arrays)?;
    let meta = StringMap::from_entries(metadata)?;
    save_through_writer(writer, "mlx_save_safetensors_writer", |w| {
        // SAFETY: live maps and a live writer; mlx-c reads the maps and
        // calls the writer's callbacks before returning.
        unsafe { mlx_sys::mlx_save_safetensors_writer(w, arrays.0.get(), meta.0.get()) }
    })
}

/// Saves safetensors into a new `Vec<u8>`.
///
/// # Errors
/// As [`save_safetensors`].
#[doc(alias = "mlx_save_safetensors_writer")]
pub fn save_safetensors_to_vec<'a, K, MK, MV>(
    arrays: impl IntoIterator<Item = (K, &'a Array)>,
    metadata: impl IntoIterator<Item = (MK, MV)>,
) -> Result<Vec<u8>>
where
    K: AsRef<str>,
    MK: AsRef<str>,
    MV: AsRef<str>,
{
    let mut cur = Cursor::new(Vec::new());
    save_safetensors_to_writer(&mut cur, arrays, metadata)?;
    Ok(cur.into_inner())
}
