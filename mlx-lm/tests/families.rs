//! The model families against Python mlx-lm 0.32.2 on the same random
//! weights (`scripts/golden/lm_families.py`, golden `golden/lm_families.json`).
//!
//! For each family the test rebuilds the golden's mlx-lm directories from
//! its recipe: parameter `i` (sorted names) drawn with
//! `random::normal(key(SEED + i))` and scaled as the script does, saved
//! with the `config.json` Python wrote; the quantized directory quantizes
//! the layers Python quantized, each in the mode of Python's mixed
//! `quantization` block. Every tensor written must equal Python's, byte for
//! byte (checksums), so the directories are the ones Python mlx-lm saved
//! and loaded. Then, through the registry ([`mlx_lm::models::load`]):
//!
//! - the teacher-forced logits of a 40-token sequence, rows 0, 13, 26 and
//!   39, within 1e-4 on the CPU ([`Family::TransformerLogits`] on the GPU);
//! - 32 greedy tokens after a 12-token prompt equal to mlx-lm's
//!   `generate_step`'s on the CPU; on the GPU, where TF32 matmuls can move
//!   a near tie, at least [`MIN_MATCHING_GPU`] leading tokens;
//! - bad input: an unknown `model_type`, a missing config field, missing,
//!   unexpected and misshapen weights, each an `Err` naming it.
//!
//! The weights are drawn and quantized on the CPU stream (so that they are
//! the bits Python drew on every device); the model runs on the default
//! device.

#[path = "../../mlx-rs/tests/device/mod.rs"]
mod device;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use device::{host_bits, host_f32, on_cpu_stream, on_gpu, stderr_line, Family, Report, Tol};
use mlx_lm::generate::{generate, GenerateOptions};
use mlx_lm::models::{self, LanguageModel};
use mlx_rs::nn::mlx_lm::QuantizationConfig;
use mlx_rs::quantization::quantize;
use mlx_rs::{random, Array, Dtype};
use serde_json::Value;

/// On the GPU: the leading greedy tokens that must equal Python's.
const MIN_MATCHING_GPU: usize = 8;

fn golden() -> &'static Value {
    static G: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    G.get_or_init(|| serde_json::from_str(include_str!("golden/lm_families.json")).unwrap())
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

/// The script's checksum: `sum(byte_j · (j % 251 + 1))` mod 2^64 over the
/// raw little-endian bytes.
fn checksum(a: &Array) -> u64 {
    let size = a.dtype().size();
    let mut sum = 0u64;
    let mut j = 0u64;
    for bits in host_bits(a) {
        for byte in bits.to_le_bytes().into_iter().take(size) {
            sum = sum.wrapping_add(u64::from(byte) * (j % 251 + 1));
            j += 1;
        }
    }
    sum
}

/// The float parameters of the recipe, by name.
fn draw(params: &Value, seed: u64) -> BTreeMap<String, Array> {
    on_cpu_stream(|| {
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
                let last = *shape.last().unwrap();
                (&n * f64::from(last).powf(-0.5)).unwrap()
            };
            w.eval().unwrap();
            out.insert(name, w);
        }
        out
    })
}

/// The tensors of the quantized directory: the layers Python quantized
/// (those with `.scales` in its file) in their modes, the rest as drawn.
fn quantized(floats: &BTreeMap<String, Array>, variant: &Value) -> BTreeMap<String, Array> {
    let q = QuantizationConfig::from_config(&variant["config"])
        .unwrap()
        .expect("a quantization block");
    let tensors = variant["tensors"].as_object().unwrap();
    on_cpu_stream(|| {
        let mut out = BTreeMap::new();
        for (name, w) in floats {
            let stem = name.strip_suffix(".weight").unwrap_or(name);
            if tensors.contains_key(&format!("{stem}.scales")) {
                let mode = q.mode_for(stem).expect("a mode for a quantized layer");
                let qw = quantize(w, mode).unwrap();
                out.insert(format!("{stem}.weight"), qw.weights);
                out.insert(format!("{stem}.scales"), qw.scales);
                if let Some(b) = qw.biases {
                    out.insert(format!("{stem}.biases"), b);
                }
            } else {
                out.insert(name.clone(), w.clone());
            }
        }
        mlx_rs::eval(out.values()).unwrap();
        out
    })
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlx-lm-families-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_dir(dir: &Path, config: &Value, tensors: &BTreeMap<String, Array>) {
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(config).unwrap(),
    )
    .unwrap();
    let sorted: Vec<(&String, &Array)> = tensors.iter().collect();
    mlx_rs::io::save_safetensors(dir.join("model.safetensors"), sorted, [("format", "mlx")])
        .unwrap();
}

/// The hex-encoded float32 array of the golden.
fn golden_f32(v: &Value) -> Vec<f64> {
    assert_eq!(v["dtype"], "float32");
    let hex = v["hex"].as_str().unwrap();
    (0..hex.len() / 8)
        .map(|i| {
            let bits = u32::from_str_radix(&hex[8 * i..8 * i + 8], 16).unwrap();
            f64::from(f32::from_bits(bits))
        })
        .collect()
}

fn check_variant(r: &mut Report, family: &str, variant: &str, tensors: &BTreeMap<String, Array>) {
    let g = &golden()["families"][family][variant];
    let want = g["tensors"].as_object().unwrap();
    let names: Vec<&String> = tensors.keys().collect();
    let want_names: Vec<&String> = want.keys().collect();
    if !r.check(names == want_names, || {
        format!("{family}/{variant}: tensors {names:?}, Python's {want_names:?}")
    }) {
        return;
    }
    for (name, a) in tensors {
        let w = &want[name];
        let shape: Vec<i64> = ints(&w[1]);
        let got_shape: Vec<i64> = a.shape().iter().map(|&d| i64::from(d)).collect();
        let sum = checksum(a).to_string();
        r.check(
            a.dtype().name() == w[0].as_str().unwrap() && got_shape == shape && sum == w[2],
            || {
                format!(
                    "{family}/{variant}: {name} is {} {got_shape:?} checksum {sum}, \
                     Python's {} {shape:?} {}",
                    a.dtype().name(),
                    w[0],
                    w[2]
                )
            },
        );
    }
    let dir = temp_dir(&format!("{family}-{variant}"));
    write_dir(&dir, &g["config"], tensors);
    let model = models::load(&dir).unwrap();
    assert_eq!(model.model_type(), family);
    run_model(r, family, variant, model.as_ref(), g);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn run_model(r: &mut Report, family: &str, variant: &str, model: &dyn LanguageModel, g: &Value) {
    let top = golden();
    let tokens: Vec<u32> = ints(&top["tokens"]).into_iter().map(|x| x as u32).collect();
    let ids = Array::from_slice(&tokens, &[1, tokens.len() as i32]).unwrap();
    let logits = model.forward(&ids, None).unwrap();
    let mut got = Vec::new();
    for row in ints(&top["logit_rows"]) {
        let l = logits.index((0, row as i32)).unwrap();
        got.extend(host_f32(&l).into_iter().map(f64::from));
    }
    r.close(
        Family::TransformerLogits,
        &format!("{family}_{variant}_logits"),
        &got,
        &golden_f32(&g["logits"]),
        Tol::new(1e-4, 0.0),
    );
    let prompt: Vec<u32> = ints(&top["prompt"]).into_iter().map(|x| x as u32).collect();
    let want: Vec<u32> = ints(&g["greedy"]).into_iter().map(|x| x as u32).collect();
    let options = GenerateOptions {
        max_tokens: want.len(),
        ..GenerateOptions::default()
    };
    let stats = generate(model, &prompt, &options, |_| Ok(())).unwrap();
    if on_gpu() {
        let matching = stats
            .tokens
            .iter()
            .zip(&want)
            .take_while(|(a, b)| a == b)
            .count();
        stderr_line(&format!(
            "GPU-DIFF greedy {family}_{variant} matching={matching} of {}",
            want.len()
        ));
        r.check(matching >= MIN_MATCHING_GPU, || {
            format!("{family}/{variant}: {matching} leading greedy tokens equal Python's")
        });
    } else {
        r.check(stats.tokens == want, || {
            format!(
                "{family}/{variant}: greedy {:?}, Python's {want:?}",
                stats.tokens
            )
        });
    }
}

fn family(name: &str) {
    let g = &golden()["families"][name];
    let seed = golden()["seed"].as_u64().unwrap();
    let floats = draw(&g["params"], seed);
    let mut r = Report::new();
    check_variant(&mut r, name, "float", &floats);
    let q = quantized(&floats, &g["quantized"]);
    check_variant(&mut r, name, "quantized", &q);
    r.finish();
}

macro_rules! families {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            family(stringify!($name));
        }
    )*};
}

families!(
    llama,
    qwen2,
    qwen3,
    gemma2,
    gemma3_text,
    phi3,
    mixtral,
    qwen3_moe
);

/// A float directory of `family` from the recipe, with `edit` applied to
/// its config and tensors.
fn edited_dir(
    family: &str,
    tag: &str,
    edit: impl FnOnce(&mut Value, &mut BTreeMap<String, Array>),
) -> PathBuf {
    let g = &golden()["families"][family];
    let mut tensors = draw(&g["params"], golden()["seed"].as_u64().unwrap());
    let mut config = g["float"]["config"].clone();
    edit(&mut config, &mut tensors);
    let dir = temp_dir(tag);
    write_dir(&dir, &config, &tensors);
    dir
}

fn load_err(dir: &Path) -> String {
    let e = models::load(dir).map(|m| m.model_type().to_owned());
    std::fs::remove_dir_all(dir).unwrap();
    match e {
        Ok(t) => panic!("loaded a {t} model from bad input"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_model_type_lists_the_supported_ones() {
    let dir = edited_dir("qwen3", "unknown", |c, _| {
        c["model_type"] = "nonesuch".into()
    });
    let e = load_err(&dir);
    assert!(e.contains("\"nonesuch\""), "{e}");
    for t in models::SUPPORTED {
        assert!(e.contains(t), "{e} does not list {t}");
    }
    let dir = edited_dir("qwen3", "no-type", |c, _| {
        c.as_object_mut().unwrap().remove("model_type");
    });
    assert!(load_err(&dir).contains("model_type"));
}

#[test]
fn a_missing_config_field_is_named() {
    for (family, field) in [
        ("qwen3", "hidden_size"),
        ("qwen2", "num_key_value_heads"),
        ("gemma2", "head_dim"),
        ("phi3", "vocab_size"),
        ("qwen3_moe", "num_experts"),
        ("qwen3", "rope_theta"),
    ] {
        let dir = edited_dir(family, &format!("missing-{family}-{field}"), |c, _| {
            c.as_object_mut().unwrap().remove(field);
        });
        let e = load_err(&dir);
        assert!(e.contains(field) && e.contains("missing"), "{family}: {e}");
    }
}

#[test]
fn weights_that_do_not_match_are_named() {
    let name = "model.layers.0.self_attn.q_norm.weight";
    let dir = edited_dir("qwen3", "missing-weight", |_, t| {
        t.remove(name);
    });
    let e = load_err(&dir);
    assert!(e.contains(name), "{e}");

    let extra = "model.layers.0.self_attn.extra.weight";
    let dir = edited_dir("qwen3", "extra-weight", |_, t| {
        t.insert(extra.into(), Array::zeros(&[4], Dtype::Float32).unwrap());
    });
    let e = load_err(&dir);
    assert!(e.contains(extra), "{e}");

    let name = "model.layers.1.block_sparse_moe.switch_mlp.up_proj.weight";
    let dir = edited_dir("mixtral", "misshapen-weight", |_, t| {
        t.insert(
            name.into(),
            Array::zeros(&[4, 64, 32], Dtype::Float32).unwrap(),
        );
    });
    let e = load_err(&dir);
    assert!(e.contains(name), "{e}");
}

#[test]
fn rope_scaling_other_than_linear_is_refused() {
    let dir = edited_dir("qwen2", "rope-scaling", |c, _| {
        c["rope_scaling"] = serde_json::json!({"type": "yarn", "factor": 4.0});
    });
    let e = load_err(&dir);
    assert!(e.contains("yarn"), "{e}");
}

/// A word-level tokenizer over the families' 256 ids (`t0` … `t255`).
fn write_tokenizer(dir: &Path) {
    let vocab: serde_json::Map<String, Value> = (0..256)
        .map(|i| (format!("t{i}"), Value::from(i)))
        .collect();
    let tok = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "t0"}
    });
    std::fs::write(dir.join("tokenizer.json"), tok.to_string()).unwrap();
}

/// `mlx-lm generate -m <dir>` runs a family other than Llama through the
/// registry, and prints the library's greedy tokens.
#[test]
fn cli_generates_with_any_family() {
    for family in ["qwen3_moe", "gemma3_text"] {
        let dir = edited_dir(family, &format!("cli-{family}"), |_, _| {});
        write_tokenizer(&dir);
        let prompt: Vec<u32> = ints(&golden()["prompt"])
            .into_iter()
            .map(|x| x as u32)
            .collect();
        let text: Vec<String> = prompt.iter().map(|i| format!("t{i}")).collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlx-lm"))
            .args([
                "generate",
                "--ignore-chat-template",
                "--max-tokens",
                "8",
                "-p",
            ])
            .arg(text.join(" "))
            .arg("-m")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{family}: {out:?}");
        let model = models::load_as(&dir, Some(Dtype::Float32)).unwrap();
        let tokenizer = mlx_lm::Tokenizer::from_dir(&dir).unwrap();
        let options = GenerateOptions {
            max_tokens: 8,
            ..GenerateOptions::default()
        };
        let stats = generate(model.as_ref(), &prompt, &options, |_| Ok(())).unwrap();
        let want = tokenizer.decode(&stats.tokens, false).unwrap();
        let got = String::from_utf8_lossy(&out.stdout);
        assert_eq!(got.trim(), want.trim(), "{family}");
        assert!(!want.trim().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
