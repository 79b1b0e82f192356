//! Importing `.mlxfn` files: [`import_function`] and [`ImportedFunction`].

use std::path::Path;

use crate::array::vector;
use crate::error::{Error, Result};
use crate::io::{io_error, ArrayMap};
use crate::raw::{self, path_cstring, Owned};
use crate::transforms::Kwargs;
use crate::Array;

/// The longest version string a header may hold (MLX writes e.g.
/// `"0.32.2"`).
const MAX_VERSION_LEN: u64 = 64;

/// A function read from a `.mlxfn` file (written by Python's
/// `mx.export_function` / `mx.exporter`, C++, or
/// [`export_function`](super::export_function)).
///
/// Calls run the stored graph on new inputs: the trace whose number,
/// dtypes and shapes of inputs match (any shapes for a file exported
/// `shapeless`). Outputs are lazy arrays like any others.
///
/// MLX reads the stored constants (weights) from the file when the
/// outputs are first evaluated, not at import: the file must stay in
/// place, unchanged, while the function and its outputs are in use.
///
/// # Threads
/// MLX 0.32.2 runs the imported operations on the first stream the
/// process made on their device (its importer picks it from the list of
/// all streams), and MLX's streams are per thread: the outputs evaluate
/// only on the thread that made that stream, the thread that first used
/// MLX (in most programs the main thread). Evaluated elsewhere they give
/// [`Error::Mlx`] ("There is no Stream(cpu, 0) in current thread"), not a
/// crash. Not `Send` either: MLX's imported function shares its graph and
/// file reader without synchronisation.
///
/// # Trust
/// Import only files you trust, as with Python's pickle. This crate checks
/// the header (and MLX refuses a truncated file: every prefix of the test
/// exports is an `Err`), but MLX 0.32.2 trusts the lengths, shapes and ids
/// of the graph section it reads: a file damaged there can corrupt memory
/// inside MLX. Measured on 2,384 test files with 8 bytes overwritten in
/// place: 1,147 refused with an `Err`, 1,147 imported, 90 ended the
/// process (heap corruption, mostly while MLX parsed them, some when the
/// graph was evaluated; a few through the reference BLAS's `xerbla`, which
/// calls `exit`), all from the graph section (the census in
/// `tests/io_hostile_mlxfn.rs`). Checking that section here
/// would mean re-implementing the serialized state of every MLX primitive.
#[derive(Debug)]
pub struct ImportedFunction {
    raw: Owned<mlx_sys::mlx_imported_function>,
    header: Header,
}

/// What this crate reads from a file's header before MLX parses it.
#[derive(Debug, Clone)]
struct Header {
    version: String,
    functions: i32,
    shapeless: bool,
    metadata: String,
}

fn invalid(path: &Path, reason: impl Into<String>) -> Error {
    crate::io::invalid("mlxfn", &path.display().to_string(), reason)
}

/// Reads the header (MLX version, number of traces, shapeless flag and
/// metadata), checking each length against what the file holds, so that a
/// file of another kind is refused with a clear reason.
fn read_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let mut at = 0usize;
    let mut take = |n: u64, what: &str| -> Result<&[u8]> {
        let left = (bytes.len() - at) as u64;
        if n > left {
            return Err(invalid(
                path,
                format!("truncated header: {what} needs {n} bytes, {left} left"),
            ));
        }
        let s = &bytes[at..at + n as usize];
        at += n as usize;
        Ok(s)
    };
    let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let len = u64_of(take(8, "the version's length")?);
    if len == 0 || len > MAX_VERSION_LEN {
        return Err(invalid(
            path,
            format!("not an .mlxfn file: a version string of {len} bytes"),
        ));
    }
    let version = take(len, "the version")?;
    if !version.iter().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(path, "not an .mlxfn file: the version is not text"));
    }
    let version = String::from_utf8_lossy(version).into_owned();
    let functions = i32::from_le_bytes(take(4, "the trace count")?.try_into().expect("4 bytes"));
    if functions < 0 {
        return Err(invalid(
            path,
            format!("a negative trace count ({functions})"),
        ));
    }
    let shapeless = match take(1, "the shapeless flag")?[0] {
        0 => false,
        1 => true,
        b => {
            return Err(invalid(
                path,
                format!("a shapeless flag of {b} (not 0 or 1)"),
            ))
        }
    };
    let len = u64_of(take(8, "the metadata's length")?);
    let metadata = take(len, "the metadata")?;
    let metadata = String::from_utf8(metadata.to_vec())
        .map_err(|_| invalid(path, "the metadata is not UTF-8"))?;
    Ok(Header {
        version,
        functions,
        shapeless,
        metadata,
    })
}

/// Reads the function stored at `path` (Python's `mx.import_function`).
///
/// The header is checked here first (lengths within the file, a version
/// string, a trace count), then MLX parses the graph: a truncated file is
/// an `Err`; a graph damaged in place may not be (see "Trust" at
/// [`ImportedFunction`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::InvalidFile`]
/// (format `"mlxfn"`) for a header that is not one of an `.mlxfn` file;
/// [`Error::Mlx`] naming `mlx_imported_function_new` when MLX refuses the
/// graph (an unknown operation, a truncated or damaged trace).
#[doc(alias = "mlx_imported_function_new")]
pub fn import_function(path: impl AsRef<Path>) -> Result<ImportedFunction> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let header = read_header(path, &bytes)?;
    let file = path_cstring(path)?;
    // SAFETY: `file` is a NUL-terminated path; the handle returned is ours.
    let raw = raw::returned("mlx_imported_function_new", || unsafe {
        mlx_sys::mlx_imported_function_new(file.as_ptr())
    })?;
    Ok(ImportedFunction { raw, header })
}

impl ImportedFunction {
    /// Runs the function on positional inputs.
    ///
    /// # Errors
    /// [`Error::Mlx`] naming `mlx_imported_function_apply` when no stored
    /// trace takes these inputs (their number, dtypes or shapes), with
    /// MLX's list of the traces it has.
    #[doc(alias = "mlx_imported_function_apply")]
    pub fn call(&self, args: &[Array]) -> Result<Vec<Array>> {
        let inputs = vector(args)?;
        Array::build_vec("mlx_imported_function_apply", |res| {
            // SAFETY: the function and the vector are live; `res` is a
            // fresh out-param.
            unsafe { mlx_sys::mlx_imported_function_apply(res, self.raw.get(), inputs.get()) }
        })
    }

    /// Runs the function on positional and keyword inputs (a function
    /// exported with keywords, as Python's `f(*args, **kwargs)`).
    ///
    /// # Errors
    /// As [`ImportedFunction::call`] (missing, extra or misnamed keywords
    /// included); [`Error::InvalidData`] for a key with a NUL byte.
    #[doc(alias = "mlx_imported_function_apply_kwargs")]
    pub fn call_kwargs(&self, args: &[Array], kwargs: &Kwargs) -> Result<Vec<Array>> {
        let inputs = vector(args)?;
        let map = ArrayMap::from_arrays(kwargs.iter())?;
        Array::build_vec("mlx_imported_function_apply_kwargs", |res| {
            // SAFETY: the function, the vector and the map are live; `res`
            // is a fresh out-param.
            unsafe {
                mlx_sys::mlx_imported_function_apply_kwargs(
                    res,
                    self.raw.get(),
                    inputs.get(),
                    map.0.get(),
                )
            }
        })
    }

    /// The MLX version that wrote the file (e.g. `"0.32.2"`).
    pub fn mlx_version(&self) -> &str {
        &self.header.version
    }

    /// The number of traces in the file.
    pub fn trace_count(&self) -> usize {
        usize::try_from(self.header.functions).unwrap_or(0)
    }

    /// Whether the function was exported `shapeless`.
    pub fn is_shapeless(&self) -> bool {
        self.header.shapeless
    }

    /// The metadata string stored with the function (Python's
    /// `export_function(..., metadata=...)`; empty when none).
    pub fn metadata(&self) -> &str {
        &self.header.metadata
    }
}
