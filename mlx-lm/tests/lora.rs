//! LoRA / QLoRA fine-tuning against Python mlx-lm 0.32.2.
//!
//! The base: SmolLM2-135M-Instruct converted here (GGUF → affine 4-bit,
//! groups of 64, `float32` scales and norms: a QLoRA base both sides run in
//! `float32`), cut to its first [`LAYERS`] blocks to keep the CPU cost
//! small. The data: `tests/data/lora/train.jsonl`. Adapters on the last 2
//! blocks, rank 8, scale 20, Adam at 1e-4, batches of 2, seed 0, 20 steps.
//!
//! When Python mlx-lm is found (`$MLX_LM_PYTHON`, else
//! `/work/venv/bin/python`), `scripts/golden/lora.py` trains the same way
//! on the same files, then decodes greedily with its own adapters and with
//! the ones Rust trained; otherwise the stored `golden/lora.json` (written
//! by that script: `MLX_LM_LORA_GOLDEN=write cargo test -p mlx-lm --test
//! lora`) stands in. Checked:
//!
//! - the initial adapters are Python's (the sum of each `lora_a`, drawn from
//!   the seeded default key in mlx-lm's order);
//! - the loss of each of the 20 steps equals Python's within 1e-4;
//! - Rust-trained adapters loaded in Python give Rust's greedy tokens, and
//!   Python-trained adapters loaded in Rust give Python's;
//! - NumPy's legacy permutation (the batch order) is reproduced exactly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mlx_lm::convert::{convert_gguf, ConvertOptions};
use mlx_lm::generate::{generate, GenerateOptions};
use mlx_lm::lora::data::{DataOptions, Dataset, NumpyRandom};
use mlx_lm::lora::train::{train, TrainOptions};
use mlx_lm::lora::{self, AdapterConfig, LoraParameters};
use mlx_lm::models::{self, FetchError};
use mlx_lm::{Error, Llama, Tokenizer};
use mlx_rs::nn::Module;
use mlx_rs::quantization::QuantMode;
use mlx_rs::{Array, Dtype};
use serde::Deserialize;

/// Blocks kept of SmolLM2's 30.
const LAYERS: usize = 4;
const NUM_LAYERS: i32 = 2;
const ITERS: usize = 20;
const BATCH: usize = 2;
const LR: f32 = 1e-4;
const SEED: u32 = 0;
const MAX_TOKENS: usize = 16;
const PROMPT: &str = "The capital of Zorblax is";
const LOSS_TOL: f32 = 1e-4;

#[derive(Debug, Deserialize)]
struct Permutation {
    seed: u32,
    n: usize,
    perm: Vec<usize>,
}

#[derive(Debug, Deserialize)]
struct Golden {
    losses: Vec<f32>,
    init: HashMap<String, f64>,
    permutations: Vec<Permutation>,
    prompt_ids: Vec<u32>,
    python_tokens: Vec<u32>,
    #[serde(default)]
    rust_tokens: Vec<u32>,
}

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lora.json")
}

fn stored_golden() -> Golden {
    serde_json::from_str(&std::fs::read_to_string(golden_path()).unwrap()).unwrap()
}

/// The prepared base model and data, shared by the tests of this binary.
struct Setup {
    model: PathBuf,
    data: PathBuf,
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlx-lm-lora-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `src` cut to its first `LAYERS` blocks, in `dst`.
fn truncate_model(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config["num_hidden_layers"] = LAYERS.into();
    std::fs::write(
        dst.join("config.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    let file = mlx_rs::io::load_safetensors(src.join("model.safetensors")).unwrap();
    let keep: HashMap<String, Array> = file
        .arrays
        .into_iter()
        .filter(|(k, _)| match k.strip_prefix("model.layers.") {
            Some(rest) => rest.split('.').next().unwrap().parse::<usize>().unwrap() < LAYERS,
            None => true,
        })
        .collect();
    mlx_rs::io::save_safetensors(dst.join("model.safetensors"), &keep, &file.metadata).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("tokenizer")
            || name.ends_with(".jinja")
            || name == "special_tokens_map.json"
        {
            std::fs::copy(&p, dst.join(&name)).unwrap();
        }
    }
}

fn setup() -> Option<&'static Setup> {
    static SETUP: OnceLock<Option<Setup>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let gguf = match models::smollm2_gguf() {
                Ok(p) => p,
                Err(FetchError::Unreachable(m)) => {
                    eprintln!("skipped: SmolLM2 GGUF unavailable offline: {m}");
                    return None;
                }
                Err(e) => panic!("{e}"),
            };
            // kept between runs in the target's scratch directory, built
            // under a temporary name and renamed when complete
            let root =
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lora-smollm2-{LAYERS}l"));
            let (model, data) = (root.join("model"), root.join("data"));
            if !root.join("READY").is_file() {
                let tmp = scratch("setup");
                let full = tmp.join("full");
                let options = ConvertOptions {
                    mode: QuantMode::affine(4, 64).unwrap(),
                    dtype: Dtype::Float32,
                    progress: false,
                };
                convert_gguf(&gguf, &full, &options).unwrap();
                truncate_model(&full, &tmp.join("model"));
                std::fs::remove_dir_all(&full).unwrap();
                std::fs::write(tmp.join("READY"), "").unwrap();
                let _ = std::fs::remove_dir_all(&root);
                std::fs::rename(&tmp, &root).unwrap();
            }
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir_all(&data).unwrap();
            std::fs::copy(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lora/train.jsonl"),
                data.join("train.jsonl"),
            )
            .unwrap();
            Some(Setup { model, data })
        })
        .as_ref()
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("MLX_LM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import mlx_lm"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(p)
}

fn load(s: &Setup) -> (Llama, Tokenizer) {
    (
        Llama::load_as(&s.model, Some(Dtype::Float32)).unwrap(),
        Tokenizer::from_dir(&s.model).unwrap(),
    )
}

fn greedy(model: &Llama, ids: &[u32]) -> Vec<u32> {
    let options = GenerateOptions {
        max_tokens: MAX_TOKENS,
        ..GenerateOptions::default()
    };
    generate(model, ids, &options, |_| Ok(())).unwrap().tokens
}

fn config() -> AdapterConfig {
    AdapterConfig::new(NUM_LAYERS, LoraParameters::default())
}

#[test]
fn training_matches_python_mlx_lm_and_adapters_interchange() {
    let Some(s) = setup() else { return };
    let (mut model, tok) = load(s);
    let prompt_ids = tok.encode(PROMPT, true).unwrap();
    let train_set =
        Dataset::load(&s.data.join("train.jsonl"), &tok, DataOptions::default()).unwrap();
    assert_eq!(train_set.len(), 8);

    mlx_rs::random::seed(u64::from(SEED)).unwrap();
    let adapted = lora::apply_lora(&mut model, NUM_LAYERS, &LoraParameters::default()).unwrap();
    assert_eq!(adapted.len(), 14);
    let init: HashMap<String, f64> = lora::adapter_parameters(&model)
        .into_iter()
        .filter(|(k, _)| k.ends_with("lora_a"))
        .map(|(k, v)| {
            let sum = mlx_rs::ops::sum(&v, mlx_rs::ops::Axes::All, false).unwrap();
            (k, f64::from(sum.item::<f32>().unwrap()))
        })
        .collect();

    let adapters = scratch("rust-adapters");
    let options = TrainOptions {
        batch_size: BATCH,
        iters: ITERS,
        learning_rate: LR,
        seed: SEED,
        ..TrainOptions::default()
    };
    let losses = train(
        &mut model,
        &train_set,
        None,
        &options,
        Some((&adapters, &config())),
        |_| {},
    )
    .unwrap();
    let rust_tokens = greedy(&model, &prompt_ids);
    // only the two files, no temporary left
    let mut files: Vec<String> = std::fs::read_dir(&adapters)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["adapter_config.json", "adapters.safetensors"]);

    let (golden, live) = match python() {
        Some(py) => {
            let out = scratch("python");
            let status = Command::new(py)
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/golden/lora.py"))
                .arg("--model")
                .arg(&s.model)
                .arg("--data")
                .arg(&s.data)
                .arg("--out")
                .arg(out.join("golden.json"))
                .arg("--adapters-out")
                .arg(out.join("adapters"))
                .arg("--rust-adapters")
                .arg(&adapters)
                .args(["--num-layers", &NUM_LAYERS.to_string()])
                .args(["--batch-size", &BATCH.to_string()])
                .args(["--iters", &ITERS.to_string()])
                .args(["--learning-rate", &LR.to_string()])
                .args(["--seed", &SEED.to_string()])
                .args(["--max-tokens", &MAX_TOKENS.to_string()])
                .arg("--prompt-ids")
                .arg(
                    prompt_ids
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/golden"))
                .status()
                .unwrap();
            assert!(status.success(), "scripts/golden/lora.py failed");
            let text = std::fs::read_to_string(out.join("golden.json")).unwrap();
            if std::env::var("MLX_LM_LORA_GOLDEN").as_deref() == Ok("write") {
                std::fs::write(golden_path(), &text).unwrap();
            }
            let g: Golden = serde_json::from_str(&text).unwrap();
            (g, Some(out))
        }
        None => {
            eprintln!("Python mlx-lm not found: comparing with the stored golden");
            (stored_golden(), None)
        }
    };

    assert_eq!(golden.prompt_ids, prompt_ids);
    assert_eq!(golden.init.len(), init.len());
    for (k, v) in &golden.init {
        let r = init
            .get(k)
            .unwrap_or_else(|| panic!("no adapter {k} in Rust"));
        assert!(
            (r - v).abs() <= 1e-6 * v.abs().max(1.0),
            "{k}: initial lora_a sum {r} vs Python {v}"
        );
    }
    assert_eq!(losses.len(), ITERS);
    assert_eq!(golden.losses.len(), ITERS);
    let mut worst = 0.0f32;
    for (i, (r, p)) in losses.iter().zip(&golden.losses).enumerate() {
        eprintln!(
            "step {:2}: rust {r:.7} python {p:.7} diff {:.2e}",
            i + 1,
            (r - p).abs()
        );
        worst = worst.max((r - p).abs());
        assert!(
            (r - p).abs() <= LOSS_TOL,
            "step {}: loss {r} vs Python {p}",
            i + 1
        );
    }
    eprintln!("max |loss diff| over {ITERS} steps: {worst:.3e}");
    assert!(
        losses[ITERS - 1] < losses[0],
        "training did not lower the loss: {losses:?}"
    );

    // Python decoding with its own adapters, Rust decoding with its own:
    // the same training gives the same greedy tokens.
    assert_eq!(rust_tokens, golden.python_tokens);
    if let Some(out) = live {
        // Rust's adapters in Python
        assert_eq!(
            golden.rust_tokens, rust_tokens,
            "Python with Rust's adapters"
        );
        // Python's adapters in Rust
        let (mut base, _) = load(s);
        lora::load_adapters(&mut base, &out.join("adapters")).unwrap();
        assert_eq!(
            greedy(&base, &prompt_ids),
            golden.python_tokens,
            "Rust with Python's adapters"
        );
        std::fs::remove_dir_all(&out).unwrap();
    } else {
        assert_eq!(
            golden.rust_tokens, rust_tokens,
            "stored: Python with Rust's adapters"
        );
    }

    // the saved adapters load back to the same model
    let (mut reloaded, _) = load(s);
    let config = lora::load_adapters(&mut reloaded, &adapters).unwrap();
    assert_eq!(config.num_layers, NUM_LAYERS);
    assert_eq!(greedy(&reloaded, &prompt_ids), rust_tokens);

    // fused (dequantized): the same logits as base + adapters
    let fused_dir = scratch("fused").join("model");
    let report = lora::fuse(&s.model, &adapters, &fused_dir, true).unwrap();
    assert_eq!(report.fused.len(), 14);
    let fused = Llama::load_as(&fused_dir, Some(Dtype::Float32)).unwrap();
    assert!(fused
        .parameters()
        .keys()
        .all(|k| !k.contains("lora") && !k.ends_with("scales")));
    let ids = Array::from_slice(&prompt_ids, &[1, prompt_ids.len() as i32]).unwrap();
    let a = reloaded
        .forward(&ids, None)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let b = fused.forward(&ids, None).unwrap().to_vec::<f32>().unwrap();
    let max = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(max < 1e-2, "fused logits differ by {max}");
    // fused, re-quantized: loads as a quantized model
    let requant_dir = fused_dir.with_file_name("requant");
    lora::fuse(&s.model, &adapters, &requant_dir, false).unwrap();
    let requant = Llama::load(&requant_dir).unwrap();
    assert!(requant.model.layers[LAYERS - 1]
        .self_attn
        .q_proj
        .is_quantized());
    std::fs::remove_dir_all(fused_dir.parent().unwrap()).unwrap();
    std::fs::remove_dir_all(&adapters).unwrap();
}

#[test]
fn numpy_legacy_permutation_is_reproduced() {
    for p in stored_golden().permutations {
        assert_eq!(
            NumpyRandom::new(p.seed).permutation(p.n),
            p.perm,
            "seed {} n {}",
            p.seed,
            p.n
        );
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn malformed_line_and_empty_data_are_errors_naming_them() {
    let Some(s) = setup() else { return };
    let tok = Tokenizer::from_dir(&s.model).unwrap();
    let d = scratch("bad-data");
    let p = write(
        &d,
        "bad.jsonl",
        "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"\n",
    );
    let e = Dataset::load(&p, &tok, DataOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Dataset { line: Some(3), .. }), "{e}");
    assert!(e.to_string().contains("bad.jsonl:3: not JSON"), "{e}");

    let p = write(&d, "nokey.jsonl", "{\"text\": \"a\"}\n{\"txt\": \"b\"}\n");
    let e = Dataset::load(&p, &tok, DataOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("nokey.jsonl:2: no `text` key"),
        "{e}"
    );

    let p = write(&d, "empty.jsonl", "\n");
    let e = Dataset::load(&p, &tok, DataOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("empty.jsonl: the data set is empty"),
        "{e}"
    );

    let p = write(&d, "fmt.jsonl", "{\"question\": \"a\"}\n");
    let e = Dataset::load(&p, &tok, DataOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("fmt.jsonl:1: unsupported data format"),
        "{e}"
    );

    // fewer examples than the batch: an error before anything is written
    let p = write(&d, "one.jsonl", "{\"text\": \"a\"}\n");
    let one = Dataset::load(&p, &tok, DataOptions::default()).unwrap();
    let (mut model, _) = load(s);
    lora::apply_lora(&mut model, 1, &LoraParameters::default()).unwrap();
    let out = d.join("adapters");
    let options = TrainOptions {
        batch_size: 2,
        iters: 1,
        ..TrainOptions::default()
    };
    let e = train(
        &mut model,
        &one,
        None,
        &options,
        Some((&out, &config())),
        |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("at least batch_size=2"), "{e}");
    assert!(!out.exists(), "nothing written on error");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn chat_and_completions_use_the_chat_template() {
    let Some(s) = setup() else { return };
    let tok = Tokenizer::from_dir(&s.model).unwrap();
    let d = scratch("chat");
    let c = write(
        &d,
        "c.jsonl",
        "{\"prompt\": \"Hi?\", \"completion\": \"Hello.\"}\n",
    );
    let m = write(
        &d,
        "m.jsonl",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi?\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"}]}\n",
    );
    let masked = DataOptions { mask_prompt: true };
    let dc = Dataset::load(&c, &tok, masked).unwrap();
    let dm = Dataset::load(&m, &tok, masked).unwrap();
    assert_eq!(dc.examples[0].ids, dm.examples[0].ids);
    assert_eq!(dc.examples[0].offset, dm.examples[0].offset);
    assert_eq!((dc.examples[0].sort_len, dm.examples[0].sort_len), (2, 1));
    let msgs = [
        mlx_lm::Message::user("Hi?"),
        mlx_lm::Message::new("assistant", "Hello."),
    ];
    let full = tok
        .encode(&tok.apply_chat_template(&msgs, false).unwrap(), false)
        .unwrap();
    let prompt = tok
        .encode(&tok.apply_chat_template(&msgs[..1], true).unwrap(), false)
        .unwrap();
    assert_eq!(dc.examples[0].ids, full);
    assert_eq!(dc.examples[0].offset, prompt.len());
    assert!(full.starts_with(&prompt));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn adapters_that_do_not_fit_the_model_are_errors() {
    let Some(s) = setup() else { return };
    let d = scratch("bad-adapters");
    // more layers than the model has
    let (mut model, _) = load(s);
    let mut c = config();
    c.num_layers = 40;
    lora::write_adapter_config(&d, &c).unwrap();
    let (mut other, _) = load(s);
    lora::apply_lora(&mut other, 1, &LoraParameters::default()).unwrap();
    lora::save_adapters(&other, &d.join("x"), &config()).unwrap();
    std::fs::copy(
        d.join("x/adapters.safetensors"),
        d.join("adapters.safetensors"),
    )
    .unwrap();
    let e = lora::load_adapters(&mut model, &d).unwrap_err();
    assert!(
        e.to_string()
            .contains("num_layers: 40 layers requested but the model has 4"),
        "{e}"
    );
    assert!(
        lora::adapter_parameters(&model).is_empty(),
        "model left unchanged"
    );

    // rank 4 in the config, rank 8 in the file
    let mut c = config();
    c.num_layers = 1;
    c.lora_parameters.rank = 4;
    lora::write_adapter_config(&d, &c).unwrap();
    let e = lora::load_adapters(&mut model, &d).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("model.layers.3.self_attn.q_proj.lora_a: adapter shape [576, 8] does not match model parameter shape [576, 4]"),
        "{msg}"
    );
    assert!(
        lora::adapter_parameters(&model).is_empty(),
        "model left unchanged"
    );

    // a tensor the model has no adapter for (layer 2 with num_layers 1)
    let mut c = config();
    c.num_layers = 1;
    lora::write_adapter_config(&d, &c).unwrap();
    let (mut two, _) = load(s);
    lora::apply_lora(&mut two, 2, &LoraParameters::default()).unwrap();
    lora::save_adapters(&two, &d.join("y"), &config()).unwrap();
    std::fs::copy(
        d.join("y/adapters.safetensors"),
        d.join("adapters.safetensors"),
    )
    .unwrap();
    let e = lora::load_adapters(&mut model, &d).unwrap_err();
    assert!(
        e.to_string()
            .contains("model.layers.2.mlp.down_proj.lora_a: not an adapter parameter in the model"),
        "{e}"
    );
    // a missing adapter directory
    let e = lora::load_adapters(&mut model, &d.join("nope")).unwrap_err();
    assert!(
        e.to_string().contains("the adapter path does not exist"),
        "{e}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
