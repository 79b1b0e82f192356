//! Typed access to GGUF metadata as [`mlx_rs::io::load_gguf`] returns it.

use std::collections::HashMap;

use mlx_rs::io::GgufValue;
use mlx_rs::Dtype;

use crate::error::{Error, Result};

/// GGUF metadata by key.
pub type Metadata = HashMap<String, GgufValue>;

fn get<'a>(m: &'a Metadata, key: &str) -> Result<&'a GgufValue> {
    m.get(key).ok_or_else(|| Error::metadata(key, "missing"))
}

/// A string entry.
pub(crate) fn string<'a>(m: &'a Metadata, key: &str) -> Result<&'a str> {
    get(m, key)?
        .as_str()
        .ok_or_else(|| Error::metadata(key, "not a string"))
}

/// A string entry, `None` when absent.
pub(crate) fn opt_string<'a>(m: &'a Metadata, key: &str) -> Result<Option<&'a str>> {
    m.contains_key(key).then(|| string(m, key)).transpose()
}

/// An array of strings.
pub(crate) fn strings<'a>(m: &'a Metadata, key: &str) -> Result<&'a [String]> {
    get(m, key)?
        .as_strings()
        .ok_or_else(|| Error::metadata(key, "not an array of strings"))
}

fn array<'a>(m: &'a Metadata, key: &str) -> Result<&'a mlx_rs::Array> {
    get(m, key)?
        .as_array()
        .ok_or_else(|| Error::metadata(key, "not a number or an array of numbers"))
}

/// One number (a float or an integer below 2^24).
pub(crate) fn number(m: &Metadata, key: &str) -> Result<f64> {
    match array(m, key)?
        .astype(Dtype::Float32)?
        .to_vec::<f32>()?
        .as_slice()
    {
        [x] => Ok(f64::from(*x)),
        _ => Err(Error::metadata(key, "not a single number")),
    }
}

/// One number, `None` when absent.
pub(crate) fn opt_number(m: &Metadata, key: &str) -> Result<Option<f64>> {
    m.contains_key(key).then(|| number(m, key)).transpose()
}

/// One integer that fits `u32`, `None` when absent.
pub(crate) fn opt_u32(m: &Metadata, key: &str) -> Result<Option<u32>> {
    if !m.contains_key(key) {
        return Ok(None);
    }
    match array(m, key)?
        .astype(Dtype::Int64)?
        .to_vec::<i64>()?
        .as_slice()
    {
        [x] => u32::try_from(*x)
            .map(Some)
            .map_err(|_| Error::metadata(key, format!("{x} is not a valid id"))),
        _ => Err(Error::metadata(key, "not a single integer")),
    }
}

/// An array of integers (e.g. token types), as `i32`s.
pub(crate) fn ints(m: &Metadata, key: &str) -> Result<Vec<i32>> {
    Ok(array(m, key)?.astype(Dtype::Int32)?.to_vec::<i32>()?)
}

/// A boolean, `None` when absent.
pub(crate) fn opt_bool(m: &Metadata, key: &str) -> Result<Option<bool>> {
    opt_number(m, key).map(|x| x.map(|x| x != 0.0))
}
