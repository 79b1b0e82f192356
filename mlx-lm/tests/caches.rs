//! KV caches against Python mlx-lm 0.32.2 (`scripts/golden/lm_caches.py`,
//! golden `golden/lm_caches.json`), on the CPU.
//!
//! A random-weight llama and gemma3_text (weights drawn from the recipe as
//! `families.rs` draws them) run a 300-token sequence as prefill chunks
//! then single tokens, with standard, rotating (`max_kv_size` 64, keep 4)
//! and quantized caches (`kv_bits` 4 and 8, groups 32 and 64,
//! `quantized_kv_start` 0 and 108): the stored logits rows within 1e-4,
//! the caches' kinds as Python's, and 16 greedy tokens of
//! [`generate`] equal to `generate_step`'s. Then the caches' own behaviour
//! (growth, ring buffer, trim, state round trips, masks) and the refusals.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mlx_lm::generate::{generate, maybe_quantize_kv_cache, GenerateOptions};
use mlx_lm::models::{self, LanguageModel};
use mlx_rs::nn::{CacheMask, KvCache, LayerCache, QuantizedKvCache, RotatingKvCache};
use mlx_rs::{random, Array, Dtype};
use serde_json::Value;

const TOL: f64 = 1e-4;

fn golden() -> &'static Value {
    static G: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    G.get_or_init(|| serde_json::from_str(include_str!("golden/lm_caches.json")).unwrap())
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn golden_f32(v: &Value) -> Vec<f32> {
    assert_eq!(v["dtype"], "float32");
    let hex = v["hex"].as_str().unwrap();
    (0..hex.len() / 8)
        .map(|i| f32::from_bits(u32::from_str_radix(&hex[8 * i..8 * i + 8], 16).unwrap()))
        .collect()
}

/// The recipe's parameters (as lm_families.py's `draw`).
fn draw(params: &Value, seed: u64) -> BTreeMap<String, Array> {
    let mut out = BTreeMap::new();
    for (i, p) in params.as_array().unwrap().iter().enumerate() {
        let name = p[0].as_str().unwrap().to_owned();
        let shape: Vec<i32> = ints(&p[1]).into_iter().map(|x| x as i32).collect();
        let key = random::key(seed + i as u64).unwrap();
        let n = random::normal(&shape, Dtype::Float32, 0.0, 1.0, Some(&key)).unwrap();
        let w = if shape.len() == 1 {
            let t = (0.1 * &n).unwrap();
            if name.ends_with("norm.weight") {
                (1.0 + &t).unwrap()
            } else {
                t
            }
        } else {
            (&n * f64::from(*shape.last().unwrap()).powf(-0.5)).unwrap()
        };
        w.eval().unwrap();
        out.insert(name, w);
    }
    out
}

fn model(name: &str) -> Box<dyn LanguageModel> {
    let g = &golden()["models"][name];
    let tensors = draw(&g["params"], golden()["seed"].as_u64().unwrap());
    let dir: PathBuf =
        std::env::temp_dir().join(format!("mlx-lm-caches-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&g["config"]).unwrap(),
    )
    .unwrap();
    let sorted: Vec<(&String, &Array)> = tensors.iter().collect();
    mlx_rs::io::save_safetensors(dir.join("model.safetensors"), sorted, [("format", "mlx")])
        .unwrap();
    let m = models::load(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    m
}

fn tokens() -> Vec<u32> {
    ints(&golden()["tokens"])
        .into_iter()
        .map(|x| x as u32)
        .collect()
}

fn options(case: &Value) -> GenerateOptions {
    GenerateOptions {
        max_tokens: golden()["greedy"].as_u64().unwrap() as usize,
        prefill_step: golden()["prefill_step"].as_u64().unwrap() as usize,
        max_kv_size: case["max_kv_size"].as_u64().map(|x| x as usize),
        kv_bits: case["kv_bits"].as_i64().map(|x| x as i32),
        kv_group_size: case["kv_group_size"].as_i64().unwrap() as i32,
        quantized_kv_start: case["quantized_kv_start"].as_u64().unwrap() as usize,
        ..GenerateOptions::default()
    }
}

/// The script's `logits_run`: prefill chunks, then single tokens, the
/// caches quantized after every call; the logits of the golden's rows and
/// the caches at the end.
fn logits_run(model: &dyn LanguageModel, opts: &GenerateOptions) -> (Vec<f32>, Vec<LayerCache>) {
    let toks = tokens();
    let rows = ints(&golden()["rows"]);
    let mut caches = model.make_caches(opts.max_kv_size).unwrap();
    let mut spans: Vec<(usize, usize)> = golden()["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[0].as_u64().unwrap() as usize,
                c[1].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let start = spans.last().unwrap().1;
    spans.extend((start..toks.len()).map(|t| (t, t + 1)));
    let mut got = Vec::new();
    for (lo, hi) in spans {
        let ids = Array::from_slice(&toks[lo..hi], &[1, (hi - lo) as i32]).unwrap();
        let out = model.forward(&ids, Some(&mut caches)).unwrap();
        maybe_quantize_kv_cache(&mut caches, opts).unwrap();
        if rows.contains(&((hi - 1) as i64)) {
            let last = out.index((0, (hi - lo - 1) as i32)).unwrap();
            got.extend(
                last.astype(Dtype::Float32)
                    .unwrap()
                    .to_vec::<f32>()
                    .unwrap(),
            );
        }
    }
    (got, caches)
}

fn max_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold(0.0, f64::max)
}

fn check_model(name: &str) {
    let m = model(name);
    let toks = tokens();
    let prompt = golden()["prompt"].as_u64().unwrap() as usize;
    let mut failures = Vec::new();
    for (case, g) in golden()["models"][name]["cases"].as_object().unwrap() {
        let opts = options(g);
        let (got, caches) = logits_run(m.as_ref(), &opts);
        let d = max_diff(&got, &golden_f32(&g["logits"]));
        if d > TOL {
            failures.push(format!("{name}/{case}: logits differ by {d:e}"));
        }
        let classes: Vec<&str> = caches.iter().map(LayerCache::class_name).collect();
        let want: Vec<&str> = g["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        if classes != want {
            failures.push(format!(
                "{name}/{case}: caches {classes:?}, Python's {want:?}"
            ));
        }
        let stats = generate(m.as_ref(), &toks[..prompt], &opts, |_| Ok(())).unwrap();
        let want: Vec<u32> = ints(&g["tokens"]).into_iter().map(|x| x as u32).collect();
        if stats.tokens != want {
            failures.push(format!(
                "{name}/{case}: greedy {:?}, Python's {want:?}",
                stats.tokens
            ));
        }
        eprintln!("{name}/{case}: logits max diff {d:e}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn llama_caches_match_python() {
    check_model("llama");
}

#[test]
fn gemma3_sliding_window_caches_match_python() {
    check_model("gemma3_text");
}

/// `[1, 1, t, 2]` whose position `p` holds `start + p`.
fn positions(start: i32, t: i32) -> Array {
    Array::arange(f64::from(start), f64::from(start + t), 1.0, Dtype::Float32)
        .unwrap()
        .reshape(&[1, 1, t, 1])
        .unwrap()
        .broadcast_to(&[1, 1, t, 2])
        .unwrap()
}

fn column(k: &Array) -> Vec<f32> {
    k.index((0, 0, .., 0)).unwrap().to_vec::<f32>().unwrap()
}

#[test]
fn rotating_cache_is_a_ring_buffer_as_mlx_lm() {
    let mut c = RotatingKvCache::new(8, 2).unwrap();
    let kv = positions(0, 6);
    let (k, _) = c.update_and_fetch(&kv, &kv).unwrap();
    assert_eq!(column(&k), [0., 1., 2., 3., 4., 5.]);
    assert!(c.is_trimmable());
    let mut k = k;
    for p in 6..11 {
        let one = positions(p, 1);
        k = c.update_and_fetch(&one, &one).unwrap().0;
    }
    // 6 and 7 fill the storage; 8, 9, 10 overwrite after the 2 kept ones.
    assert_eq!(column(&k), [0., 1., 8., 9., 10., 5., 6., 7.]);
    assert_eq!((c.offset(), c.size()), (11, 8));
    assert!(!c.is_trimmable());
    // Two tokens: temporal order, the oldest non-kept one dropped, appended.
    let mask = c.make_mask(2, None, false).unwrap();
    let CacheMask::Array(m) = mask else {
        panic!("a windowed mask")
    };
    assert_eq!(m.shape(), [2, 9]);
    let two = positions(11, 2);
    let (k, _) = c.update_and_fetch(&two, &two).unwrap();
    assert_eq!(column(&k), [0., 1., 6., 7., 8., 9., 10., 11., 12.]);
    assert_eq!(c.offset(), 13);
    // A window smaller than the storage masks the ring for one token.
    let CacheMask::Array(m) = c.make_mask(1, Some(4), false).unwrap() else {
        panic!("a ring mask")
    };
    assert_eq!(m.shape(), [8]);
    assert!(matches!(
        c.make_mask(1, None, false).unwrap(),
        CacheMask::None
    ));
    // State round trip.
    let (k, v, meta) = c.raw_state().unwrap();
    let mut d = RotatingKvCache::new(4, 0).unwrap();
    d.set_state(k, v, meta).unwrap();
    assert_eq!((d.offset(), d.max_size(), d.keep()), (13, 8, 2));
    let one = positions(13, 1);
    let a = column(&c.update_and_fetch(&one, &one).unwrap().0);
    let b = column(&d.update_and_fetch(&one, &one).unwrap().0);
    assert_eq!(a, b);
    assert!(RotatingKvCache::new(0, 0).is_err());
    assert!(RotatingKvCache::new(4, 4).is_err());
}

#[test]
fn standard_cache_trims_and_round_trips() {
    let mut c = KvCache::new();
    let kv = positions(0, 10);
    c.update_and_fetch(&kv, &kv).unwrap();
    assert!(c.is_trimmable());
    assert_eq!(c.trim(3), 3);
    assert_eq!(c.offset(), 7);
    assert_eq!(c.trim(100), 7);
    assert_eq!(c.offset(), 0);
    let kv = positions(0, 5);
    let (k, _) = c.update_and_fetch(&kv, &kv).unwrap();
    assert_eq!(column(&k), [0., 1., 2., 3., 4.]);
    assert_eq!(c.capacity(), 256);
    let (k, v, off) = c.raw_state().unwrap();
    assert_eq!((k.shape()[2], off), (256, 5));
    let mut d = KvCache::new();
    d.set_state(k.clone(), v.clone(), off).unwrap();
    assert_eq!(d.offset(), 5);
    assert!(d.set_state(k, v, 300).is_err());
    // Masks: causal for several tokens, none for one, windowed arrays.
    assert!(matches!(
        c.make_mask(3, None, false).unwrap(),
        CacheMask::Causal
    ));
    assert!(matches!(
        c.make_mask(1, None, false).unwrap(),
        CacheMask::None
    ));
    let CacheMask::Array(m) = c.make_mask(3, Some(2), false).unwrap() else {
        panic!("windowed")
    };
    assert_eq!(m.shape(), [3, 8]);
    // to_quantized keeps the offset; its values dequantize close.
    let q = c.to_quantized(64, 8);
    assert!(q.is_err(), "a head dimension of 2 is not a multiple of 64");
}

#[test]
fn quantized_cache_stores_packed_tuples() {
    let mut c = QuantizedKvCache::new(32, 8).unwrap();
    let kv = Array::arange(0.0, 64.0 * 3.0, 1.0, Dtype::Float32)
        .unwrap()
        .reshape(&[1, 1, 3, 64])
        .unwrap();
    let (k, _) = c.update_and_fetch(&kv, &kv).unwrap();
    assert_eq!(k.weights.shape(), [1, 1, 3, 16]);
    assert_eq!(k.scales.shape(), [1, 1, 3, 2]);
    assert_eq!((c.offset(), c.capacity()), (3, 256));
    let back = k.dequantize(None).unwrap().to_vec::<f32>().unwrap();
    let want = kv.to_vec::<f32>().unwrap();
    assert!(
        max_diff(&back, &want) < 0.07,
        "8-bit groups of 32 spanning 31"
    );
    assert_eq!(c.trim(1), 1);
    let one = (Array::ones(&[1, 1, 1, 64], Dtype::Float32).unwrap() * 5.0).unwrap();
    let (k, _) = c.update_and_fetch(&one, &one).unwrap();
    assert_eq!(k.weights.shape()[2], 3);
    let last = k.dequantize(None).unwrap().index((0, 0, 2, 0)).unwrap();
    assert!((last.item::<f32>().unwrap() - 5.0).abs() < 1e-3);
    let (qk, qv, off) = c.raw_state().unwrap();
    let mut d = QuantizedKvCache::new(32, 8).unwrap();
    d.set_state(qk.clone(), qv.clone(), off).unwrap();
    assert_eq!(d.offset(), 3);
    let mut e = QuantizedKvCache::new(64, 4).unwrap();
    assert!(e.set_state(qk, qv, off).is_err(), "another mode");
    assert!(QuantizedKvCache::new(48, 4).is_err());
    assert!(QuantizedKvCache::new(64, 7).is_err());
    let mut f = QuantizedKvCache::new(128, 4).unwrap();
    let err = f.update_and_fetch(&kv, &kv).unwrap_err().to_string();
    assert!(err.contains("kv_group_size 128"), "{err}");
    // A standard cache converts, keeping its offset.
    let mut s = KvCache::new();
    s.update_and_fetch(&kv, &kv).unwrap();
    let q = s.to_quantized(64, 4).unwrap();
    assert_eq!((q.offset(), q.bits(), q.group_size()), (3, 4, 64));
    let mut l = LayerCache::from(s);
    l.maybe_quantize(32, 8, 4).unwrap();
    assert_eq!(l.class_name(), "KVCache", "below quantized_kv_start");
    l.maybe_quantize(32, 8, 3).unwrap();
    assert_eq!(l.class_name(), "QuantizedKVCache");
    let mut r = LayerCache::from(RotatingKvCache::new(8, 0).unwrap());
    r.update_and_fetch(&kv, &kv).unwrap();
    assert!(r.maybe_quantize(32, 8, 0).is_err());
}

#[test]
fn bad_cache_options_are_refused_by_name() {
    let m = model("llama");
    let prompt: Vec<u32> = tokens()[..20].to_vec();
    let run = |opts: GenerateOptions| {
        generate(m.as_ref(), &prompt, &opts, |_| Ok(()))
            .unwrap_err()
            .to_string()
    };
    let base = GenerateOptions {
        max_tokens: 4,
        ..GenerateOptions::default()
    };
    for bits in [1, 7, 9] {
        let e = run(GenerateOptions {
            kv_bits: Some(bits),
            ..base.clone()
        });
        assert!(
            e.contains("kv_bits") && e.contains(&bits.to_string()),
            "{e}"
        );
    }
    let e = run(GenerateOptions {
        kv_bits: Some(4),
        kv_group_size: 48,
        ..base.clone()
    });
    assert!(e.contains("kv_group_size") && e.contains("48"), "{e}");
    // 128 is a valid group size, but the head dimension is 64.
    let e = run(GenerateOptions {
        kv_bits: Some(4),
        kv_group_size: 128,
        quantized_kv_start: 0,
        ..base.clone()
    });
    assert!(
        e.contains("kv_group_size") && e.contains("head dimension 64"),
        "{e}"
    );
    for size in [0, 3] {
        let e = run(GenerateOptions {
            max_kv_size: Some(size),
            ..base.clone()
        });
        assert!(e.contains("max_kv_size"), "{e}");
    }
    let e = run(GenerateOptions {
        max_kv_size: Some(64),
        kv_bits: Some(4),
        ..base.clone()
    });
    assert!(e.contains("kv_bits") && e.contains("max_kv_size"), "{e}");
    let e = run(GenerateOptions {
        prefill_step: 0,
        ..base.clone()
    });
    assert!(e.contains("prefill_step"), "{e}");
    assert!(m.make_caches(Some(0)).is_err());
}

/// The safetensors entries of a file: name → (dtype, shape), and its
/// metadata.
type Layout = (
    BTreeMap<String, (Dtype, Vec<i32>)>,
    BTreeMap<String, String>,
);

fn layout(path: &std::path::Path) -> Layout {
    let f = mlx_rs::io::load_safetensors(path).unwrap();
    let arrays = f
        .arrays
        .iter()
        .map(|(k, a)| (k.clone(), (a.dtype(), a.shape().to_vec())))
        .collect();
    (arrays, f.metadata.into_iter().collect())
}

/// A prompt cache Python saved loads and continues to Python's tokens; the
/// same caches made and saved by Rust have the layout of Python's file and
/// continue to the same tokens after loading.
fn check_prompt_cache(name: &str) {
    let m = model(name);
    let g = &golden()["models"][name]["prompt_cache"];
    let py_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(g["file"].as_str().unwrap());
    let toks = tokens();
    let prompt = golden()["prompt"].as_u64().unwrap() as usize;
    let want: Vec<u32> = ints(&g["tokens"]).into_iter().map(|x| x as u32).collect();
    let opts = GenerateOptions {
        max_tokens: want.len(),
        kv_bits: g["kv_bits"].as_i64().map(|b| b as i32),
        kv_group_size: g["kv_group_size"].as_i64().unwrap() as i32,
        quantized_kv_start: 0,
        ..GenerateOptions::default()
    };
    let continue_from = |caches: &mut Vec<LayerCache>| {
        mlx_lm::generate::generate_with_cache(
            m.as_ref(),
            &toks[prompt - 1..prompt],
            &opts,
            caches,
            |_| Ok(std::ops::ControlFlow::Continue(())),
        )
        .unwrap()
        .tokens
    };
    let (mut caches, meta) = mlx_rs::nn::load_prompt_cache(&py_path).unwrap();
    let classes: Vec<&str> = caches.iter().map(LayerCache::class_name).collect();
    let want_classes: Vec<&str> = g["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(classes, want_classes);
    assert_eq!(meta.get("model").map(String::as_str), Some(name));
    assert_eq!(caches[0].offset(), (prompt - 1) as i32);
    assert_eq!(
        continue_from(&mut caches),
        want,
        "{name}: from Python's file"
    );

    // And back: Rust's own caches after the same tokens, saved and loaded.
    let mut caches = m.new_caches();
    let ids = Array::from_slice(&toks[..prompt - 1], &[1, (prompt - 1) as i32]).unwrap();
    m.forward(&ids, Some(&mut caches)).unwrap();
    if let Some(bits) = opts.kv_bits {
        for c in &mut caches {
            c.maybe_quantize(opts.kv_group_size, bits, 0).unwrap();
        }
    }
    let meta: BTreeMap<String, String> = [
        ("model".to_owned(), name.to_owned()),
        ("tokens".to_owned(), (prompt - 1).to_string()),
    ]
    .into();
    let out = std::env::temp_dir().join(format!(
        "mlx-lm-prompt-cache-{}-{name}.safetensors",
        std::process::id()
    ));
    mlx_rs::nn::save_prompt_cache(&out, &caches, &meta).unwrap();
    if let Some(dir) = std::env::var_os("MLX_LM_PROMPT_CACHE_OUT") {
        std::fs::copy(
            &out,
            std::path::Path::new(&dir).join(g["file"].as_str().unwrap()),
        )
        .unwrap();
    }
    assert_eq!(
        layout(&out),
        layout(&py_path),
        "{name}: Rust's file vs Python's"
    );
    let (mut back, _) = mlx_rs::nn::load_prompt_cache(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(continue_from(&mut back), want, "{name}: from Rust's file");
}

#[test]
fn llama_quantized_prompt_cache_interchanges_with_python() {
    check_prompt_cache("llama");
}

#[test]
fn gemma3_rotating_prompt_cache_interchanges_with_python() {
    check_prompt_cache("gemma3_text");
}

#[test]
fn prompt_cache_files_that_are_not_are_refused() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "mlx-lm-bad-cache-{}.safetensors",
        std::process::id()
    ));
    let a = Array::scalar(3i32).unwrap();
    mlx_rs::io::save_safetensors(
        &path,
        [("0.0", &a)],
        [("1.0", "ChunkedKVCache"), ("2.0", "")],
    )
    .unwrap();
    let e = mlx_rs::nn::load_prompt_cache(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ChunkedKVCache"), "{e}");
    mlx_rs::io::save_safetensors(&path, [("0.0", &a)], [("1.0", "KVCache"), ("2.0", "")]).unwrap();
    let e = mlx_rs::nn::load_prompt_cache(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no array \"0.1\""), "{e}");
    std::fs::remove_file(&path).unwrap();
}
