//! The SmolLM2 tokenizer built from GGUF metadata against ids that Python
//! produced (`scripts/reference/tokenizer_ids.py`, from transformers' GGUF
//! tokenizer code with the "smollm" pre-tokenizer), and round trips.

use std::sync::OnceLock;

use mlx_lm::models::{self, FetchError};
use mlx_lm::{Message, Tokenizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    decoded: String,
}

#[derive(Deserialize)]
struct Chat {
    messages: Vec<Message>,
    prompt: String,
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Golden {
    bos_token_id: u32,
    eos_token_id: u32,
    cases: Vec<Case>,
    chat: Chat,
}

fn golden() -> Golden {
    let text = include_str!("golden/tokenizer_ids.json");
    serde_json::from_str(text).expect("golden JSON")
}

/// The tokenizer of the SmolLM2 GGUF, or `None` (test skipped) offline.
fn tokenizer() -> Option<&'static Tokenizer> {
    static TOK: OnceLock<Option<Tokenizer>> = OnceLock::new();
    TOK.get_or_init(|| {
        let path = match models::smollm2_gguf() {
            Ok(p) => p,
            Err(FetchError::Unreachable(m)) => {
                eprintln!("skipped: SmolLM2 GGUF unavailable offline: {m}");
                return None;
            }
            Err(e) => panic!("{e}"),
        };
        let info = mlx_rs::io::inspect_gguf(&path).expect("header");
        assert!(!info.tensors.is_empty());
        let meta = mlx_lm::gguf_metadata(&path).expect("metadata");
        Some(Tokenizer::from_gguf_metadata(&meta).expect("tokenizer"))
    })
    .as_ref()
}

#[test]
fn ids_match_python() {
    let Some(tok) = tokenizer() else { return };
    for case in golden().cases {
        let ids = tok.encode(&case.text, true).unwrap();
        assert_eq!(ids, case.ids, "ids of {:?}", case.text);
        let text = tok.decode(&ids, false).unwrap();
        assert_eq!(text, case.decoded, "decoded {:?}", case.text);
        assert_eq!(text, case.text, "round trip of {:?}", case.text);
    }
}

#[test]
fn special_ids_and_vocab() {
    let Some(tok) = tokenizer() else { return };
    let g = golden();
    assert_eq!(tok.bos_id(), Some(g.bos_token_id));
    assert_eq!(tok.eos_ids(), [g.eos_token_id]);
    assert_eq!(tok.vocab_size(), 49152);
    // Special tokens are skipped on request.
    let ids = tok.encode("<|im_start|>hi<|im_end|>", true).unwrap();
    assert_eq!(tok.decode(&ids, true).unwrap(), "hi");
}

#[test]
fn chat_template_matches_python() {
    let Some(tok) = tokenizer() else { return };
    let g = golden();
    let prompt = tok.apply_chat_template(&g.chat.messages, true).unwrap();
    assert_eq!(prompt, g.chat.prompt);
    assert_eq!(tok.encode(&prompt, true).unwrap(), g.chat.ids);
    // A system message replaces the default one.
    let msgs = [Message::system("Be brief."), Message::user("Hi")];
    let p = tok.apply_chat_template(&msgs, false).unwrap();
    assert_eq!(
        p,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    );
}

#[test]
fn streaming_decode_equals_decode() {
    let Some(tok) = tokenizer() else { return };
    for case in golden().cases {
        let mut stream = tok.decode_stream(false);
        let mut text = String::new();
        for &id in &case.ids {
            if let Some(piece) = stream.step(id).unwrap() {
                text.push_str(&piece);
            }
        }
        assert_eq!(text, case.text);
    }
}

#[test]
fn saved_tokenizer_reloads_identically() {
    let Some(tok) = tokenizer() else { return };
    let dir = std::env::temp_dir().join(format!("mlx-lm-tok-{}", std::process::id()));
    tok.save(&dir).unwrap();
    let back = Tokenizer::from_dir(&dir).unwrap();
    let g = golden();
    for case in &g.cases {
        assert_eq!(back.encode(&case.text, true).unwrap(), case.ids);
    }
    assert_eq!(back.bos_id(), tok.bos_id());
    assert_eq!(back.eos_ids(), tok.eos_ids());
    let prompt = back.apply_chat_template(&g.chat.messages, true).unwrap();
    assert_eq!(prompt, g.chat.prompt);
    std::fs::remove_dir_all(&dir).unwrap();
}
