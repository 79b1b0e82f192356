//! Loading and saving arrays: safetensors, GGUF and `.npy` through MLX,
//! strict weight loading, and (feature `safetensors`) interop with the
//! [`safetensors`](https://docs.rs/safetensors) crate.
//!
//! Every file is checked by this module *before* MLX sees it: headers are
//! parsed in Rust and every size they claim is checked against the length
//! of the file, so a truncated or hostile file is an
//! [`Error::InvalidFile`], never a crash, and never an attempt to allocate
//! what a header claims. (The file is read twice, by these checks and by
//! MLX: a file changed in between is not covered.)
//!
//! ```
//! use std::collections::HashMap;
//! use mlx_rs::{io, Array};
//!
//! let w = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! let arrays = HashMap::from([("w".to_string(), w)]);
//! let metadata = HashMap::from([("format".to_string(), "mlx".to_string())]);
//! let bytes = io::save_safetensors_to_vec(&arrays, &metadata)?;
//! let loaded = io::load_safetensors_from_bytes(bytes)?;
//! assert_eq!(loaded.arrays["w"].to_vec::<f32>()?, [1.0, 2.0, 3.0, 4.0]);
//! assert_eq!(loaded.metadata["format"], "mlx");
//! # Ok::<(), mlx_rs::Error>(())
//! ```
//!
//! - safetensors: [`load_safetensors`], [`save_safetensors`], and the
//!   in-memory variants; [`inspect_safetensors`] reads only the header.
//! - GGUF: [`load_gguf`], [`save_gguf`], [`inspect_gguf`]; [`ggml`]: every
//!   GGML block type dequantized in Rust, and [`load_gguf_native`].
//! - `.npy`: [`load_npy`], [`save_npy`] and in-memory variants.
//! - strict loading: [`check_weights`], [`load_weights_into`].
//! - with the cargo feature `safetensors`: `ArrayView` (an evaluated array
//!   as a `safetensors::View`, without copying), `array_from_view`,
//!   `arrays_from_safetensors`, `serialize_arrays` and the dtype mappings.

use std::collections::HashMap;
use std::ffi::c_char;
use std::path::Path;

use crate::error::{self, check, Error, Result};
use crate::raw::{self, Owned};
pub(crate) use crate::raw::{cstring, path_cstring, string_from_c};
use crate::Array;

pub mod ggml;
mod gguf;
#[cfg(feature = "safetensors")]
mod interop;
mod npy;
mod reader;
pub(crate) mod report;
mod safetensors;
mod weights;

pub use ggml::load_gguf_native;
pub use gguf::{
    inspect_gguf, load_gguf, save_gguf, GgmlType, Gguf, GgufInfo, GgufMetadataKind, GgufTensorInfo,
    GgufValue, GgufValueType,
};
#[cfg(feature = "safetensors")]
pub use interop::{
    array_from_view, arrays_from_safetensors, dtype_from_safetensors, dtype_to_safetensors,
    serialize_arrays, ArrayView,
};
pub use npy::{
    load_npy, load_npy_from_bytes, load_npy_from_reader, save_npy, save_npy_to_vec,
    save_npy_to_writer,
};
pub use report::{LoadOptions, Mismatch, WeightSpec, WeightSpecs, WeightsReport};
pub use safetensors::{
    inspect_safetensors, load_safetensors, load_safetensors_from_bytes,
    load_safetensors_from_reader, save_safetensors, save_safetensors_to_vec,
    save_safetensors_to_writer, Safetensors, SafetensorsHeader, SafetensorsTensorInfo,
};
pub use weights::{check_weights, load_weights_into, specs_of};

/// `Error::Io` for `path`.
pub(crate) fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::io(path.display(), e)
}

/// `Error::InvalidFile`.
pub(crate) fn invalid(format: &'static str, origin: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFile {
        format,
        path: origin.to_owned(),
        reason: reason.into(),
    }
}

/// An owned `mlx_map_string_to_array`.
pub(crate) struct ArrayMap(pub(crate) Owned<mlx_sys::mlx_map_string_to_array>);

impl ArrayMap {
    #[doc(alias = "mlx_map_string_to_array_new")]
    pub(crate) fn new() -> Result<Self> {
        raw::fresh("mlx_map_string_to_array_new").map(ArrayMap)
    }

    /// A map holding `arrays` (MLX shares, not copies, each array).
    pub(crate) fn from_arrays<'a, K: AsRef<str>>(
        arrays: impl IntoIterator<Item = (K, &'a Array)>,
    ) -> Result<Self> {
        let map = ArrayMap::new()?;
        for (k, a) in arrays {
            let key = cstring(k.as_ref())?;
            // SAFETY: `map.0` and `a` are live handles, `key` a valid C
            // string; mlx-c copies the key and shares the array.
            raw::call("mlx_map_string_to_array_insert", || unsafe {
                mlx_sys::mlx_map_string_to_array_insert(map.0.get(), key.as_ptr(), a.as_raw())
            })?;
        }
        Ok(map)
    }

    /// The entries as a `HashMap` (sharing the arrays).
    #[doc(alias = "mlxs_map_string_to_array_iterator_next")]
    pub(crate) fn to_hash_map(&self) -> Result<HashMap<String, Array>> {
        let mut it = mlx_sys::mlx_map_string_to_array_iterator {
            ctx: std::ptr::null_mut(),
            map_ctx: std::ptr::null_mut(),
        };
        // SAFETY: `it` is a valid out-param, `self.0` a live map.
        raw::call("mlx_map_string_to_array_iterator_new", || unsafe {
            mlx_sys::mlxs_map_string_to_array_iterator_new(&mut it, self.0.get())
        })?;
        let mut out = HashMap::new();
        let result = (|| loop {
            let mut key: *const c_char = std::ptr::null();
            let mut value = Owned::<mlx_sys::mlx_array>::new();
            // SAFETY: `it` is the live iterator made above; `key` and
            // `value` are valid out-params.
            let status = unsafe {
                mlx_sys::mlxs_map_string_to_array_iterator_next(&mut key, value.as_mut_ptr(), &it)
            };
            if status == 2 {
                let _ = error::take_message();
                return Ok(());
            }
            check("mlx_map_string_to_array_iterator_next", status)?;
            // SAFETY: on success `value` holds a live array of the map,
            // shared (refcount bumped) into a handle handed over whole.
            let value = unsafe { Array::from_raw(value.into_raw()) };
            // SAFETY: `key` points into the map's node, alive while the map
            // lives (we copy it at once).
            let key = unsafe { string_from_c(key, "a key is not valid UTF-8") }?;
            out.insert(key, value);
        })();
        // SAFETY: `it` is the live iterator made above, freed once.
        unsafe { mlx_sys::mlxs_map_string_to_array_iterator_free(&it) };
        result.map(|()| out)
    }
}

/// An owned `mlx_map_string_to_string`.
pub(crate) struct StringMap(pub(crate) Owned<mlx_sys::mlx_map_string_to_string>);

impl StringMap {
    #[doc(alias = "mlx_map_string_to_string_new")]
    pub(crate) fn new() -> Result<Self> {
        raw::fresh("mlx_map_string_to_string_new").map(StringMap)
    }

    /// A map holding copies of `entries`.
    pub(crate) fn from_entries<K: AsRef<str>, V: AsRef<str>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self> {
        let map = StringMap::new()?;
        for (k, v) in entries {
            let key = cstring(k.as_ref())?;
            let value = cstring(v.as_ref())?;
            // SAFETY: `map.0` is live; key and value are valid C strings
            // that mlx-c copies.
            raw::call("mlx_map_string_to_string_insert", || unsafe {
                mlx_sys::mlx_map_string_to_string_insert(map.0.get(), key.as_ptr(), value.as_ptr())
            })?;
        }
        Ok(map)
    }

    /// The entries as a `HashMap`.
    #[doc(alias = "mlxs_map_string_to_string_iterator_next")]
    pub(crate) fn to_hash_map(&self) -> Result<HashMap<String, String>> {
        let mut it = mlx_sys::mlx_map_string_to_string_iterator {
            ctx: std::ptr::null_mut(),
            map_ctx: std::ptr::null_mut(),
        };
        // SAFETY: `it` is a valid out-param, `self.0` a live map.
        raw::call("mlx_map_string_to_string_iterator_new", || unsafe {
            mlx_sys::mlxs_map_string_to_string_iterator_new(&mut it, self.0.get())
        })?;
        let mut out = HashMap::new();
        let result = (|| loop {
            let mut key: *const c_char = std::ptr::null();
            let mut value: *const c_char = std::ptr::null();
            // SAFETY: `it` is the live iterator made above; `key` and
            // `value` are valid out-params.
            let status = unsafe {
                mlx_sys::mlxs_map_string_to_string_iterator_next(&mut key, &mut value, &it)
            };
            if status == 2 {
                let _ = error::take_message();
                return Ok(());
            }
            check("mlx_map_string_to_string_iterator_next", status)?;
            // SAFETY: both point into the map's node, alive while the map
            // lives; copied at once.
            let k = unsafe { string_from_c(key, "a metadata key is not valid UTF-8") }?;
            // SAFETY: as above.
            let v = unsafe { string_from_c(value, "a metadata value is not valid UTF-8") }?;
            out.insert(k, v);
        })();
        // SAFETY: `it` is the live iterator made above, freed once.
        unsafe { mlx_sys::mlxs_map_string_to_string_iterator_free(&it) };
        result.map(|()| out)
    }
}

/// Runs `f` with the raw handle of the current default stream, which stays
/// alive for the call.
pub(crate) fn with_default_stream<T>(f: impl FnOnce(mlx_sys::mlx_stream) -> T) -> Result<T> {
    let s = crate::Stream::current()?;
    Ok(f(s.as_raw()))
}
