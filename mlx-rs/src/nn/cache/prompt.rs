//! mlx-lm's prompt-cache files (`save_prompt_cache` / `load_prompt_cache`):
//! a safetensors file of every cache's state, with the cache classes and
//! the user's metadata in its `__metadata__`.
//!
//! The layout mlx-lm 0.32.2 writes (`tree_flatten` of the states and of
//! `[metadata, classes, scalars]`):
//!
//! - arrays `"{layer}.{i}"` for the `i`-th element of the layer's `state`
//!   (`"{layer}.{i}.{j}"` for the packed tuples of a quantized cache);
//!   integers are 0-d `int32` arrays, an absent array (an empty cache) an
//!   empty `float32` array;
//! - metadata `"0.{key}"`: the user's; `"1.{layer}"`: the class name
//!   (`KVCache`, `RotatingKVCache`, `QuantizedKVCache`); `"2.0"`: `""`,
//!   then `"2.{n}.0"` an array name and `"2.{n}.1"` its kind (`scalar`,
//!   `none`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::{KvCache, LayerCache, QuantizedKvCache, RotatingKvCache};
use crate::error::{Error, Result};
use crate::io::{load_safetensors, save_safetensors};
use crate::quantization::Quantized;
use crate::{Array, Dtype};

/// Writes `caches` to `path` in mlx-lm's prompt-cache format, with
/// `metadata` (mlx-lm's `save_prompt_cache(file, cache, metadata)`); Python
/// mlx-lm's `load_prompt_cache` reads it.
///
/// # Errors
/// [`Error::Io`] / [`Error::Mlx`] when the file cannot be written.
#[doc(alias = "mlx_save_safetensors")]
pub fn save_prompt_cache(
    path: impl AsRef<Path>,
    caches: &[LayerCache],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let mut arrays: BTreeMap<String, Array> = BTreeMap::new();
    let mut scalars: Vec<(String, &'static str)> = Vec::new();
    let mut put_int = |arrays: &mut BTreeMap<String, Array>, key: String, v: i32| -> Result<()> {
        arrays.insert(key.clone(), Array::scalar(v)?);
        scalars.push((key, "scalar"));
        Ok(())
    };
    let mut nones: Vec<String> = Vec::new();
    for (l, cache) in caches.iter().enumerate() {
        match cache {
            LayerCache::Standard(c) => {
                match c.raw_state() {
                    Some((k, v, _)) => {
                        arrays.insert(format!("{l}.0"), k);
                        arrays.insert(format!("{l}.1"), v);
                    }
                    None => nones.extend([format!("{l}.0"), format!("{l}.1")]),
                }
                put_int(&mut arrays, format!("{l}.2"), c.offset())?;
            }
            LayerCache::Rotating(c) => {
                match c.raw_state() {
                    Some((k, v, _)) => {
                        arrays.insert(format!("{l}.0"), k);
                        arrays.insert(format!("{l}.1"), v);
                    }
                    None => nones.extend([format!("{l}.0"), format!("{l}.1")]),
                }
                let meta = match c.raw_state() {
                    Some((_, _, m)) => m,
                    None => [c.offset(), c.keep(), c.max_size(), 0],
                };
                for (i, x) in meta.into_iter().enumerate() {
                    put_int(&mut arrays, format!("{l}.{}", i + 2), x)?;
                }
            }
            LayerCache::Quantized(c) => {
                match c.raw_state() {
                    Some((k, v, _)) => {
                        for (i, q) in [k, v].into_iter().enumerate() {
                            arrays.insert(format!("{l}.{i}.0"), q.weights);
                            arrays.insert(format!("{l}.{i}.1"), q.scales);
                            if let Some(b) = q.biases {
                                arrays.insert(format!("{l}.{i}.2"), b);
                            }
                        }
                    }
                    None => nones.extend([format!("{l}.0"), format!("{l}.1")]),
                }
                put_int(&mut arrays, format!("{l}.2"), c.offset())?;
                put_int(&mut arrays, format!("{l}.3"), c.group_size())?;
                put_int(&mut arrays, format!("{l}.4"), c.bits())?;
            }
        }
    }
    for key in nones {
        arrays.insert(key.clone(), Array::from_slice::<f32>(&[], &[0])?);
        scalars.push((key, "none"));
    }
    let mut meta: Vec<(String, String)> = metadata
        .iter()
        .map(|(k, v)| (format!("0.{k}"), v.clone()))
        .collect();
    meta.extend(
        caches
            .iter()
            .enumerate()
            .map(|(l, c)| (format!("1.{l}"), c.class_name().to_owned())),
    );
    meta.push(("2.0".to_owned(), String::new()));
    for (n, (key, kind)) in scalars.into_iter().enumerate() {
        meta.push((format!("2.{}.0", n + 1), key));
        meta.push((format!("2.{}.1", n + 1), kind.to_owned()));
    }
    save_safetensors(path, arrays.iter(), meta)
}

/// A prompt cache read from `path` (mlx-lm's `load_prompt_cache(file,
/// return_metadata=True)`): the caches, one per layer, and the user's
/// metadata.
///
/// # Errors
/// [`Error::InvalidFile`] for a file that is not a prompt cache (a class
/// this crate does not know, a missing array or class, a bad scalar);
/// as [`load_safetensors`].
#[doc(alias = "mlx_load_safetensors")]
pub fn load_prompt_cache(
    path: impl AsRef<Path>,
) -> Result<(Vec<LayerCache>, HashMap<String, String>)> {
    let path = path.as_ref();
    let bad = |reason: String| Error::InvalidFile {
        format: "safetensors",
        path: path.display().to_string(),
        reason: format!("not an mlx-lm prompt cache: {reason}"),
    };
    let file = load_safetensors(path)?;
    let mut user = HashMap::new();
    let mut classes: BTreeMap<usize, String> = BTreeMap::new();
    let mut kinds: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for (k, v) in &file.metadata {
        if let Some(key) = k.strip_prefix("0.") {
            user.insert(key.to_owned(), v.clone());
        } else if let Some(l) = k.strip_prefix("1.") {
            let l = l.parse().map_err(|_| bad(format!("metadata key {k:?}")))?;
            classes.insert(l, v.clone());
        } else if let Some(rest) = k.strip_prefix("2.") {
            if let Some((n, part)) = rest.split_once('.') {
                let e = kinds.entry(n.to_owned()).or_default();
                match part {
                    "0" => e.0 = Some(v.clone()),
                    "1" => e.1 = Some(v.clone()),
                    _ => return Err(bad(format!("metadata key {k:?}"))),
                }
            }
        }
    }
    let mut none = std::collections::HashSet::new();
    for (n, (key, kind)) in kinds {
        match (key, kind.as_deref()) {
            (Some(key), Some("none")) => {
                none.insert(key);
            }
            (Some(_), Some("scalar")) => {}
            (key, kind) => {
                return Err(bad(format!(
                    "scalar entry {n}: {key:?} of kind {kind:?} (this crate reads scalar and none)"
                )))
            }
        }
    }
    if classes.keys().copied().ne(0..classes.len()) {
        return Err(bad("cache classes are not numbered 0, 1, …".to_owned()));
    }
    let array = |key: &str| -> Result<Option<Array>> {
        if none.contains(key) {
            return Ok(None);
        }
        file.arrays
            .get(key)
            .cloned()
            .map(Some)
            .ok_or_else(|| bad(format!("no array {key:?}")))
    };
    let int = |key: &str| -> Result<i32> {
        let a = array(key)?.ok_or_else(|| bad(format!("{key:?} is none, not an integer")))?;
        if a.ndim() != 0 {
            return Err(bad(format!("{key:?} is not a scalar")));
        }
        a.astype(Dtype::Int32)?.item::<i32>()
    };
    let mut caches = Vec::with_capacity(classes.len());
    for (l, class) in classes {
        let cache = match class.as_str() {
            "KVCache" => {
                let mut c = KvCache::new();
                if let (Some(k), Some(v)) = (array(&format!("{l}.0"))?, array(&format!("{l}.1"))?) {
                    c.set_state(k, v, int(&format!("{l}.2"))?)?;
                }
                LayerCache::Standard(c)
            }
            "RotatingKVCache" => {
                let meta = [2, 3, 4, 5].map(|i| int(&format!("{l}.{i}")));
                let [offset, keep, max_size, idx] = meta;
                let meta = [offset?, keep?, max_size?, idx?];
                let mut c = RotatingKvCache::new(meta[2], meta[1])?;
                if let (Some(k), Some(v)) = (array(&format!("{l}.0"))?, array(&format!("{l}.1"))?) {
                    c.set_state(k, v, meta)?;
                }
                LayerCache::Rotating(c)
            }
            "QuantizedKVCache" => {
                let offset = int(&format!("{l}.2"))?;
                let mut c = QuantizedKvCache::new(int(&format!("{l}.3"))?, int(&format!("{l}.4"))?)?;
                let packed = |i: usize| -> Result<Option<Quantized>> {
                    let w = array(&format!("{l}.{i}.0"));
                    match w {
                        Ok(Some(weights)) => Ok(Some(Quantized {
                            weights,
                            scales: array(&format!("{l}.{i}.1"))?
                                .ok_or_else(|| bad(format!("no scales for layer {l}")))?,
                            biases: array(&format!("{l}.{i}.2"))?,
                            mode: crate::quantization::QuantMode::affine(c.bits(), c.group_size())?,
                        })),
                        _ if none.contains(&format!("{l}.{i}")) => Ok(None),
                        Ok(None) => Ok(None),
                        Err(e) => Err(e),
                    }
                };
                if let (Some(k), Some(v)) = (packed(0)?, packed(1)?) {
                    c.set_state(k, v, offset)?;
                }
                LayerCache::Quantized(c)
            }
            other => {
                return Err(bad(format!(
                    "layer {l} is a {other} (this crate reads KVCache, RotatingKVCache and QuantizedKVCache)"
                )))
            }
        };
        caches.push(cache);
    }
    Ok((caches, user))
}
