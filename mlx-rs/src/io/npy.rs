//! NumPy `.npy` files through MLX, with the header validated in Rust.

use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

use super::reader::{
    check_file, check_source, load_through_reader, save_through_writer, stream_source, BytesSource,
    RandomAccess, ReadAt,
};
use super::{invalid, path_cstring, with_default_stream};
use crate::error::Result;
use crate::raw;
use crate::{Array, Dtype};

const FORMAT: &str = "npy";
/// Longest header accepted (NumPy itself refuses more than 10000 bytes by
/// default).
const MAX_HEADER: u64 = 1 << 20;

/// A validated `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NpyHeader {
    dtype: Dtype,
    shape: Vec<i32>,
    data_start: u64,
}

fn dtype_of(descr: &str) -> Option<(Dtype, u64)> {
    let body = descr.strip_prefix(['<', '>', '|', '=']).unwrap_or(descr);
    Some(match body {
        "b1" => (Dtype::Bool, 1),
        "i1" => (Dtype::Int8, 1),
        "i2" => (Dtype::Int16, 2),
        "i4" => (Dtype::Int32, 4),
        "i8" => (Dtype::Int64, 8),
        "u1" => (Dtype::Uint8, 1),
        "u2" => (Dtype::Uint16, 2),
        "u4" => (Dtype::Uint32, 4),
        "u8" => (Dtype::Uint64, 8),
        "f2" => (Dtype::Float16, 2),
        "f4" => (Dtype::Float32, 4),
        "f8" => (Dtype::Float64, 8),
        "c8" => (Dtype::Complex64, 8),
        "V2" => (Dtype::Bfloat16, 2),
        _ => return None,
    })
}

/// Parses the Python-literal dict of a `.npy` header.
fn parse_dict(
    text: &str,
    bad: &dyn Fn(String) -> crate::Error,
) -> Result<(String, bool, Vec<u64>)> {
    let t = text.trim_end_matches(['\n', ' ', '\0']).trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| bad("the header is not a dict".into()))?;
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (key, after) = quoted(rest).ok_or_else(|| bad("expected a quoted key".into()))?;
        let after = after
            .trim_start()
            .strip_prefix(':')
            .ok_or_else(|| bad(format!("expected ':' after {key:?}")))?
            .trim_start();
        let after = match key {
            "descr" => {
                let (v, a) = quoted(after).ok_or_else(|| bad("descr is not a string".into()))?;
                descr = Some(v.to_owned());
                a
            }
            "fortran_order" => {
                if let Some(a) = after.strip_prefix("True") {
                    fortran = Some(true);
                    a
                } else if let Some(a) = after.strip_prefix("False") {
                    fortran = Some(false);
                    a
                } else {
                    return Err(bad("fortran_order is not True or False".into()));
                }
            }
            "shape" => {
                let a = after
                    .strip_prefix('(')
                    .ok_or_else(|| bad("shape is not a tuple".into()))?;
                let end = a
                    .find(')')
                    .ok_or_else(|| bad("shape is not closed".into()))?;
                let dims = a[..end]
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim_end_matches('L').parse::<u64>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| bad(format!("invalid shape ({})", &a[..end])))?;
                shape = Some(dims);
                &a[end + 1..]
            }
            other => return Err(bad(format!("unexpected key {other:?}"))),
        };
        let after = after.trim_start();
        rest = after.strip_prefix(',').unwrap_or(after).trim_start();
        if !after.starts_with(',') && !rest.is_empty() {
            return Err(bad("expected ',' between entries".into()));
        }
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(bad("the header lacks descr, fortran_order or shape".into())),
    }
}

/// A leading `'…'` or `"…"` string and what follows it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &s[1..];
    let end = body.find(q)?;
    Some((&body[..end], &body[end + 1..]))
}

/// Validates the header of an `.npy` source of `len` bytes.
fn read_header(read_at: &mut ReadAt<'_>, len: u64, origin: &str) -> Result<NpyHeader> {
    let bad = |reason: String| invalid(FORMAT, origin, reason);
    if len < 10 {
        return Err(bad(format!("{len} bytes is too short for a header")));
    }
    let mut pre = [0u8; 12];
    let n = len.min(12) as usize;
    read_at(&mut pre[..n], 0).map_err(|e| bad(e.to_string()))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("wrong magic, expected \\x93NUMPY".into()));
    }
    let (hlen, start) = match pre[6] {
        1 => (u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10u64),
        2 | 3 if n >= 12 => (
            u64::from(u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]])),
            12,
        ),
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    if hlen > len - start || hlen > MAX_HEADER {
        return Err(bad(format!(
            "the header claims {hlen} bytes but the file has {} after the preamble",
            len - start
        )));
    }
    let mut h = vec![0u8; hlen as usize];
    read_at(&mut h, start).map_err(|e| bad(e.to_string()))?;
    let text = std::str::from_utf8(&h).map_err(|_| bad("the header is not UTF-8".into()))?;
    let (descr, _fortran, dims) = parse_dict(text, &bad)?;
    let (dtype, item) =
        dtype_of(&descr).ok_or_else(|| bad(format!("unsupported dtype {descr:?}")))?;
    let mut numel: u64 = 1;
    let mut shape = Vec::with_capacity(dims.len());
    for d in dims {
        let di = i32::try_from(d).map_err(|_| bad(format!("dimension {d} is too large")))?;
        numel = numel
            .checked_mul(d)
            .ok_or_else(|| bad("the element count overflows".into()))?;
        shape.push(di);
    }
    let data_start = start + hlen;
    let need = numel
        .checked_mul(item)
        .ok_or_else(|| bad("the byte size overflows".into()))?;
    if need > len - data_start {
        return Err(bad(format!(
            "shape {shape:?} of {descr} needs {need} bytes of data, the file has {} (truncated?)",
            len - data_start
        )));
    }
    Ok(NpyHeader {
        dtype,
        shape,
        data_start,
    })
}

fn finish(a: Array, h: &NpyHeader, origin: &str) -> Result<Array> {
    if a.dtype() != h.dtype || a.shape() != h.shape.as_slice() {
        return Err(invalid(
            FORMAT,
            origin,
            "MLX read the header differently than it reads",
        ));
    }
    Ok(a)
}

/// Loads an `.npy` file (lazily: the data is read when the array is first
/// evaluated). Fortran-ordered and big-endian files are converted.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) if the file cannot be read;
/// [`Error::InvalidFile`](crate::Error::InvalidFile) for a malformed
/// header, a dtype MLX cannot load, or too little data for the shape;
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails.
#[doc(alias = "mlx_load")]
pub fn load_npy(path: impl AsRef<Path>) -> Result<Array> {
    let path = path.as_ref();
    let h = check_file(path, read_header)?;
    let file = path_cstring(path)?;
    let a = with_default_stream(|s| {
        Array::build("mlx_load", |out| {
            // SAFETY: `out` is a fresh handle, `file` a valid C string, `s`
            // the live default stream.
            unsafe { mlx_sys::mlx_load(out, file.as_ptr(), s) }
        })
    })??;
    finish(a, &h, &path.display().to_string())
}

fn load_from_source(source: Box<dyn RandomAccess>, origin: &str) -> Result<Array> {
    let h = check_source(&*source, origin, read_header)?;
    let a = load_through_reader(source, origin, |reader, s| {
        Array::build("mlx_load_reader", |out| {
            // SAFETY: `out` is a fresh handle, `reader` the reader that
            // `load_through_reader` keeps alive for the call (the array
            // shares it), `s` the live default stream.
            unsafe { mlx_sys::mlx_load_reader(out, reader, s) }
        })
    })??;
    finish(a, &h, origin)
}

/// Loads `.npy` bytes held in memory (moved into MLX's reader).
///
/// # Errors
/// As [`load_npy`].
#[doc(alias = "mlx_load_reader")]
pub fn load_npy_from_bytes<B>(bytes: B) -> Result<Array>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    load_from_source(Box::new(BytesSource(bytes)), "<memory>")
}

/// Loads `.npy` data from a seekable stream (moved into MLX's reader,
/// read when the array is evaluated, dropped with it).
///
/// # Errors
/// As [`load_npy`].
#[doc(alias = "mlx_load_reader")]
pub fn load_npy_from_reader<R>(reader: R) -> Result<Array>
where
    R: Read + Seek + Send + 'static,
{
    load_from_source(stream_source(reader)?, "<reader>")
}

/// Saves an array as `.npy`. As in MLX, `.npy` is appended to a path that
/// does not end with it.
///
/// ```
/// use mlx_rs::{io, Array};
/// let dir = std::env::temp_dir().join(format!("mlx-rs-doc-npy-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let a = Array::from_slice(&[1u16, 2, 3, 4, 5, 6], &[2, 3])?;
/// io::save_npy(dir.join("a.npy"), &a)?;
/// assert_eq!(io::load_npy(dir.join("a.npy"))?.to_vec::<u16>()?, [1, 2, 3, 4, 5, 6]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX fails (unwritable file,
/// failing evaluation).
#[doc(alias = "mlx_save")]
pub fn save_npy(path: impl AsRef<Path>, array: &Array) -> Result<()> {
    let file = path_cstring(path.as_ref())?;
    // SAFETY: a valid C string and a live array.
    raw::call("mlx_save", || unsafe {
        mlx_sys::mlx_save(file.as_ptr(), array.as_raw())
    })
}

/// Saves an array as `.npy` into a seekable writer, borrowed for the call.
///
/// # Errors
/// As [`save_npy`]; a write error is an [`Error::Mlx`](crate::Error::Mlx).
/// A panic of `writer` is re-raised.
#[doc(alias = "mlx_save_writer")]
pub fn save_npy_to_writer<W: Write + Seek + Send>(writer: &mut W, array: &Array) -> Result<()> {
    save_through_writer(writer, "mlx_save_writer", |w| {
        // SAFETY: a live writer and array; mlx-c calls the writer's
        // callbacks before returning.
        unsafe { mlx_sys::mlx_save_writer(w, array.as_raw()) }
    })
}

/// Saves an array as `.npy` bytes.
///
/// # Errors
/// As [`save_npy`].
#[doc(alias = "mlx_save_writer")]
pub fn save_npy_to_vec(array: &Array) -> Result<Vec<u8>> {
    let mut cur = Cursor::new(Vec::new());
    save_npy_to_writer(&mut cur, array)?;
    Ok(cur.into_inner())
}
