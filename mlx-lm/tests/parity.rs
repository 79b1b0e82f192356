//! Greedy decoding of SmolLM2-135M-Instruct, converted here (GGUF → affine
//! 4-bit, groups of 64), against the Python MLX reference implementation
//! (`scripts/reference/llama_mlx.py`) run on the same converted weights.
//!
//! Regenerate the expected ids (after a change to the conversion):
//!
//! ```text
//! cargo run --release --example quantize_infer -- --out /tmp/smollm2-affine4-g64 --force
//! /tmp/venv-mlx/bin/python scripts/reference/llama_mlx.py --model /tmp/smollm2-affine4-g64 \
//!     --prompt-ids "$(python3 -c 'import json; print(json.load(open("mlx-lm/tests/golden/tokenizer_ids.json"))["chat"]["ids"])')" \
//!     --max-tokens 32 --out mlx-lm/tests/golden/parity_affine4_g64.json
//! ```

use mlx_lm::convert::{convert_gguf, ConvertOptions};
use mlx_lm::generate::{generate, GenerateOptions};
use mlx_lm::models::{self, FetchError};
use mlx_lm::{Llama, Tokenizer};
use mlx_rs::quantization::QuantMode;
use mlx_rs::{Device, Dtype};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    prompt_ids: Vec<u32>,
    max_tokens: usize,
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Chat {
    ids: Vec<u32>,
    messages: Vec<mlx_lm::Message>,
}

#[derive(Deserialize)]
struct TokGolden {
    chat: Chat,
}

#[test]
fn greedy_ids_match_python_reference() {
    let gguf = match models::smollm2_gguf() {
        Ok(p) => p,
        Err(FetchError::Unreachable(m)) => {
            eprintln!("skipped: SmolLM2 GGUF unavailable offline: {m}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    Device::cpu().set_as_default().unwrap();
    let expected: Expected =
        serde_json::from_str(include_str!("golden/parity_affine4_g64.json")).unwrap();
    let tok_golden: TokGolden =
        serde_json::from_str(include_str!("golden/tokenizer_ids.json")).unwrap();
    assert_eq!(expected.prompt_ids, tok_golden.chat.ids);
    assert!(expected.ids.len() >= 32);

    let dir = std::env::temp_dir().join(format!("mlx-lm-parity-{}", std::process::id()));
    let options = ConvertOptions {
        mode: QuantMode::affine(4, 64).unwrap(),
        dtype: Dtype::Bfloat16,
        progress: false,
    };
    let report = convert_gguf(&gguf, &dir, &options).unwrap();
    assert_eq!((report.quantized, report.float), (211, 61));

    let model = Llama::load_as(&dir, Some(Dtype::Float32)).unwrap();
    let tokenizer = Tokenizer::from_dir(&dir).unwrap();
    let prompt = tokenizer
        .apply_chat_template(&tok_golden.chat.messages, true)
        .unwrap();
    let ids = tokenizer.encode(&prompt, true).unwrap();
    assert_eq!(ids, expected.prompt_ids);

    let options = GenerateOptions {
        max_tokens: expected.max_tokens,
        ..GenerateOptions::default()
    };
    let stats = generate(&model, &ids, &options, |_| Ok(())).unwrap();
    let text = tokenizer.decode(&stats.tokens, false).unwrap();
    eprintln!("generated: {text:?}");
    assert_eq!(
        stats.tokens, expected.ids,
        "greedy ids differ; text: {text:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
