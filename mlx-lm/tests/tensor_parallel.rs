//! Tensor-parallel Llama (`Llama::shard`, mlx-lm's `shard` plan) over MLX's
//! ring backend on loopback: each test re-runs this binary as the ranks
//! (the ignored `child_*` test), through `mlx_rs::distributed::launch`
//! with a time limit, and each rank compares its sharded model with the
//! whole model it also holds.

use std::time::Duration;

#[path = "../../mlx-rs/tests/device/mod.rs"]
mod device;

use mlx_lm::{generate, GenerateOptions, Llama, LlamaConfig};
use mlx_rs::distributed::launch::Launch;
use mlx_rs::distributed::{Backend, Group};
use mlx_rs::nn::{quantize, Module, QuantizeConfig};
use mlx_rs::quantization::QuantMode;
use mlx_rs::{ops, random, Array, Dtype};

const CHILD: &str = "MLX_LM_TP_CHILD";

fn ranks_pass(n: usize, child: &str) {
    let out = Launch::new(n, std::env::current_exe().unwrap())
        .args([
            "--exact",
            child,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .timeout(Duration::from_secs(240))
        .run()
        .unwrap();
    if let Err(e) = out.check() {
        panic!("{e}");
    }
    for r in &out.ranks {
        assert!(
            r.stdout.contains("1 passed"),
            "rank {}: {}",
            r.rank,
            r.stdout
        );
    }
}

/// A small Llama with fixed pseudo-random weights (the same on every rank).
fn tiny() -> Llama {
    let config: LlamaConfig = serde_json::from_value(serde_json::json!({
        "model_type": "llama", "hidden_size": 128, "num_hidden_layers": 2,
        "intermediate_size": 256, "num_attention_heads": 4, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5, "vocab_size": 97, "tie_word_embeddings": true,
    }))
    .unwrap();
    let mut model = Llama::new(config).unwrap();
    let mut i = 0u64;
    model.visit_params_mut("", &mut |_, p| {
        i += 1;
        let key = random::key(i).unwrap();
        let r = random::normal(p.shape(), Dtype::Float32, 0.0, 0.1, Some(&key)).unwrap();
        *p = if p.ndim() == 1 {
            ops::add(&r, 1.0f32).unwrap()
        } else {
            r
        };
    });
    model
}

fn max_diff(a: &Array, b: &Array) -> f32 {
    ops::max(
        &ops::abs(&ops::subtract(a, b).unwrap()).unwrap(),
        ops::Axes::All,
        false,
    )
    .unwrap()
    .item::<f32>()
    .unwrap()
}

/// The logits' tolerance: 1e-4 on the CPU; on the GPU the table's
/// transformer-logits row (each rank's partial matmuls round to TF32 in
/// another order than the whole one's: 3.1e-3 measured on an H200).
fn logits_tol() -> f32 {
    if device::on_gpu() {
        device::Family::TransformerLogits.gpu_tol().atol as f32
    } else {
        1e-4
    }
}

fn compare(whole: &Llama, group: &Group, tol: f32) {
    let mut sharded = whole.clone();
    sharded.shard(group).unwrap();
    let ids = Array::from_slice(&[1i32, 5, 9, 2, 7], &[1, 5]).unwrap();
    let a = whole.forward(&ids, None).unwrap();
    let b = sharded.forward(&ids, None).unwrap();
    assert!(
        max_diff(&a, &b) < tol,
        "logits differ by {}",
        max_diff(&a, &b)
    );
    let opts = GenerateOptions {
        max_tokens: 12,
        ..Default::default()
    };
    let t1 = generate(whole, &[1, 5, 9], &opts, |_| Ok(()))
        .unwrap()
        .tokens;
    let t2 = generate(&sharded, &[1, 5, 9], &opts, |_| Ok(()))
        .unwrap()
        .tokens;
    assert_eq!(t1, t2, "greedy tokens");
    println!("rank {}: tokens {t2:?}", group.rank());
}

#[test]
#[ignore = "a rank of a_sharded_llama_matches_the_whole_one"]
fn child_tiny() {
    assert!(std::env::var_os(CHILD).is_some(), "run only as a rank");
    let g = Group::init(Backend::Ring, true).unwrap();
    let whole = tiny();
    compare(&whole, &g, logits_tol());
    // Quantized (affine 4-bit, groups of 32: o_proj's 64 input features per rank are 2 groups).
    let mut q = whole.clone();
    quantize(
        &mut q,
        &QuantizeConfig::new(QuantMode::affine(4, 32).unwrap()),
        None,
    )
    .unwrap();
    compare(&q, &g, logits_tol());
    // Heads that do not split.
    let e = Llama::new(LlamaConfig {
        num_attention_heads: 3,
        num_key_value_heads: 3,
        ..whole.config.clone()
    })
    .unwrap()
    .shard(&g)
    .unwrap_err();
    assert!(e.to_string().contains("do not split across 2 ranks"), "{e}");
}

#[test]
fn a_sharded_llama_matches_the_whole_one() {
    ranks_pass(2, "child_tiny");
}

#[test]
#[ignore = "a rank of smollm2_over_3_ranks_gives_the_tokens_of_1"]
fn child_smollm2() {
    assert!(std::env::var_os(CHILD).is_some(), "run only as a rank");
    let g = Group::init(Backend::Ring, true).unwrap();
    let path = std::env::var("MLX_LM_TP_GGUF").unwrap();
    let (whole, tok) =
        mlx_lm::convert::load_gguf_float(std::path::Path::new(&path), Dtype::Float32).unwrap();
    let mut sharded = whole.clone();
    sharded.shard(&g).unwrap();
    let prompt = tok.encode("The capital of France is", true).unwrap();
    let opts = GenerateOptions {
        max_tokens: 16,
        ..Default::default()
    };
    let t1 = generate(&whole, &prompt, &opts, |_| Ok(())).unwrap().tokens;
    let t2 = generate(&sharded, &prompt, &opts, |_| Ok(()))
        .unwrap()
        .tokens;
    assert_eq!(t1, t2, "greedy tokens, 1 rank vs {}", g.size());
    println!("rank {}: {:?}", g.rank(), tok.decode(&t2, true).unwrap());
}

/// SmolLM2-135M (float32 from its GGUF) sharded over 3 ranks, mlx-lm's
/// plan: its 9 query and 3 key/value heads do not split over 2.
#[test]
fn smollm2_over_3_ranks_gives_the_tokens_of_1() {
    let gguf = match mlx_lm::models::smollm2_gguf() {
        Ok(p) => p,
        Err(mlx_lm::models::FetchError::Unreachable(m)) => {
            eprintln!("skipped: SmolLM2 GGUF unavailable offline: {m}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let out = Launch::new(3, std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_smollm2",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("MLX_LM_TP_GGUF", gguf)
        .timeout(Duration::from_secs(400))
        .run()
        .unwrap();
    if let Err(e) = out.check() {
        panic!("{e}");
    }
    for r in &out.ranks {
        assert!(
            r.stdout.contains("1 passed"),
            "rank {}: {}",
            r.rank,
            r.stdout
        );
    }
    eprintln!("{}", out.ranks[0].stdout);
}
