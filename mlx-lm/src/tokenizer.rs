//! Tokenizers from GGUF metadata or an mlx-lm / Hugging Face directory.
//!
//! A GGUF file describes its tokenizer in metadata: `tokenizer.ggml.model`
//! (`"gpt2"`: byte-level BPE), `tokenizer.ggml.tokens` (the vocabulary,
//! already spelled in the byte-level alphabet), `tokenizer.ggml.merges`,
//! `tokenizer.ggml.token_type` (3 marks control tokens such as
//! `<|im_end|>`, which become special tokens; 4 user-defined ones),
//! `tokenizer.ggml.pre` (how text is split before BPE), and the ids of the
//! BOS/EOS/padding tokens. [`Tokenizer::from_gguf_metadata`] builds the
//! equivalent [`tokenizers::Tokenizer`]; [`Tokenizer::save`] writes it as
//! `tokenizer.json` + `tokenizer_config.json`, which
//! [`Tokenizer::from_dir`] (and Python's `transformers`) read back.

use std::path::Path;

use serde_json::{json, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::AddedToken;

use crate::chat::{ChatTemplate, Message};
use crate::error::{Error, Result};
use crate::gguf_meta::{self, Metadata};

/// GGUF token type of control tokens (`<|im_start|>`, `<|endoftext|>`).
const TOKEN_TYPE_CONTROL: i32 = 3;
/// GGUF token type of user-defined tokens (matched whole, not special).
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// A tokenizer with its special tokens and chat template.
#[derive(Debug)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    bos: Option<u32>,
    eos: Vec<u32>,
    pad: Option<u32>,
    add_bos: bool,
    chat_template: Option<ChatTemplate>,
}

/// The pre-tokenizer that llama.cpp's `tokenizer.ggml.pre` names.
fn pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper> {
    // GPT-2's split regex, applied by ByteLevel with `use_regex`.
    let byte_level = ByteLevel::new(false, true, true);
    match pre {
        // llama.cpp: "\p{N}" then GPT-2's regex; SmolLM2's tokenizer.json:
        // Digits(individual_digits) then ByteLevel.
        "smollm" => Ok(PreTokenizerWrapper::Sequence(Sequence::new(vec![
            PreTokenizerWrapper::Digits(Digits::new(true)),
            PreTokenizerWrapper::ByteLevel(byte_level),
        ]))),
        "gpt-2" | "gpt2" | "default" => Ok(PreTokenizerWrapper::ByteLevel(byte_level)),
        other => Err(Error::Unsupported(format!(
            "GGUF pre-tokenizer `tokenizer.ggml.pre = {other:?}` (supported: smollm, gpt-2, default)"
        ))),
    }
}

impl Tokenizer {
    /// Builds the tokenizer a GGUF file describes (see the module docs).
    ///
    /// # Errors
    /// [`Error::Metadata`] for a missing or mistyped entry;
    /// [`Error::Unsupported`] for a tokenizer model other than byte-level
    /// BPE (`gpt2`) or an unknown pre-tokenizer; [`Error::Tokenizer`] when
    /// the vocabulary and merges do not fit; [`Error::Template`] for a chat
    /// template that does not parse.
    pub fn from_gguf_metadata(m: &Metadata) -> Result<Self> {
        let model = gguf_meta::string(m, "tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(Error::Unsupported(format!(
                "GGUF tokenizer model {model:?} (only byte-level BPE, \"gpt2\")"
            )));
        }
        let pre = gguf_meta::opt_string(m, "tokenizer.ggml.pre")?.unwrap_or("default");
        let tokens = gguf_meta::strings(m, "tokenizer.ggml.tokens")?;
        let merges = gguf_meta::strings(m, "tokenizer.ggml.merges")?
            .iter()
            .map(|s| {
                s.split_once(' ')
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .ok_or_else(|| {
                        Error::metadata(
                            "tokenizer.ggml.merges",
                            format!("merge {s:?} has no space"),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let types = if m.contains_key("tokenizer.ggml.token_type") {
            gguf_meta::ints(m, "tokenizer.ggml.token_type")?
        } else {
            vec![1; tokens.len()]
        };
        if types.len() != tokens.len() {
            return Err(Error::metadata(
                "tokenizer.ggml.token_type",
                format!("{} types for {} tokens", types.len(), tokens.len()),
            ));
        }
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let mut inner = tokenizers::Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(pre_tokenizer(pre)?));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let added = |kind: i32, special: bool| -> Vec<AddedToken> {
            tokens
                .iter()
                .zip(&types)
                .filter(|(_, &t)| t == kind)
                .map(|(tok, _)| AddedToken::from(tok.clone(), special).normalized(false))
                .collect()
        };
        inner.add_special_tokens(&added(TOKEN_TYPE_CONTROL, true));
        inner.add_tokens(&added(TOKEN_TYPE_USER_DEFINED, false));
        let bos = gguf_meta::opt_u32(m, "tokenizer.ggml.bos_token_id")?;
        let eos = gguf_meta::opt_u32(m, "tokenizer.ggml.eos_token_id")?;
        let eot = gguf_meta::opt_u32(m, "tokenizer.ggml.eot_token_id")?;
        let pad = gguf_meta::opt_u32(m, "tokenizer.ggml.padding_token_id")?;
        let add_bos = gguf_meta::opt_bool(m, "tokenizer.ggml.add_bos_token")?.unwrap_or(false);
        let chat_template = gguf_meta::opt_string(m, "tokenizer.chat_template")?
            .map(ChatTemplate::new)
            .transpose()?;
        let mut eos: Vec<u32> = eos.into_iter().chain(eot).collect();
        eos.dedup();
        Ok(Tokenizer {
            inner,
            bos,
            eos,
            pad,
            add_bos,
            chat_template,
        })
    }

    /// Reads `tokenizer.json` and `tokenizer_config.json` (chat template,
    /// BOS/EOS tokens, `add_bos_token`) of a model directory; further EOS
    /// ids come from `eos_token_id` in `config.json` (a number or a list).
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Tokenizer`] when `tokenizer.json` cannot be
    /// read; [`Error::Config`] for a `tokenizer_config.json` that is not
    /// JSON; [`Error::Template`] for a chat template that does not parse.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        let inner = tokenizers::Tokenizer::from_file(&path)
            .map_err(|e| Error::Tokenizer(format!("{}: {e}", path.display())))?;
        let read_json = |name: &str| -> Result<Value> {
            let p = dir.join(name);
            match std::fs::read_to_string(&p) {
                Ok(text) => serde_json::from_str(&text)
                    .map_err(|e| Error::config(p.display().to_string(), e.to_string())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Null),
                Err(e) => Err(Error::io(p, e)),
            }
        };
        let tc = read_json("tokenizer_config.json")?;
        let config = read_json("config.json")?;
        // A special token is written as a string or as {"content": ...}.
        let token_id = |v: &Value| -> Option<u32> {
            let s = v.as_str().or_else(|| v.get("content")?.as_str())?;
            inner.token_to_id(s)
        };
        let bos = tc.get("bos_token").and_then(token_id);
        let mut eos: Vec<u32> = tc.get("eos_token").and_then(token_id).into_iter().collect();
        match config.get("eos_token_id") {
            Some(Value::Number(n)) => eos.extend(n.as_u64().and_then(|x| u32::try_from(x).ok())),
            Some(Value::Array(v)) => eos.extend(
                v.iter()
                    .filter_map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok())),
            ),
            _ => {}
        }
        let mut seen = Vec::new();
        eos.retain(|x| {
            let new = !seen.contains(x);
            seen.push(*x);
            new
        });
        let pad = tc.get("pad_token").and_then(token_id);
        let add_bos = tc
            .get("add_bos_token")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let chat_template = match tc.get("chat_template") {
            Some(Value::String(s)) => Some(ChatTemplate::new(s)?),
            _ => match std::fs::read_to_string(dir.join("chat_template.jinja")) {
                Ok(s) => Some(ChatTemplate::new(&s)?),
                Err(_) => None,
            },
        };
        Ok(Tokenizer {
            inner,
            bos,
            eos,
            pad,
            add_bos,
            chat_template,
        })
    }

    /// Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (the
    /// files [`Tokenizer::from_dir`] and `transformers` read).
    ///
    /// # Errors
    /// [`Error::Tokenizer`] / [`Error::Io`] when a file cannot be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        self.inner
            .save(dir.join("tokenizer.json"), false)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let name = |id: Option<u32>| id.and_then(|i| self.inner.id_to_token(i));
        let mut tc = json!({
            "tokenizer_class": "PreTrainedTokenizerFast",
            "add_bos_token": self.add_bos,
            "bos_token": name(self.bos),
            "eos_token": name(self.eos.first().copied()),
            "pad_token": name(self.pad),
        });
        if let Some(t) = &self.chat_template {
            tc["chat_template"] = Value::String(t.source().to_owned());
        }
        let path = dir.join("tokenizer_config.json");
        let text = serde_json::to_string_pretty(&tc)
            .map_err(|e| Error::config("tokenizer_config.json", e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| Error::io(path, e))
    }

    /// The `tokenizers` tokenizer inside.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// The BOS id, if the model has one.
    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    /// The ids that end generation (EOS, and end-of-turn when distinct).
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos
    }

    /// The padding id, if the model names one.
    pub fn pad_id(&self) -> Option<u32> {
        self.pad
    }

    /// The number of tokens, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The chat template, if the model ships one.
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat_template.as_ref()
    }

    /// Token ids of `text`. Special tokens written in the text (such as
    /// `<|im_start|>`) are recognized; with `add_special_tokens`, BOS is
    /// prepended when the model asks for it (`add_bos_token`).
    ///
    /// # Errors
    /// [`Error::Tokenizer`] if encoding fails.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let enc = self.inner.encode_fast(text, false)?;
        let mut ids = Vec::with_capacity(enc.len() + 1);
        if add_special_tokens && self.add_bos {
            ids.extend(self.bos);
        }
        ids.extend_from_slice(enc.get_ids());
        Ok(ids)
    }

    /// The text of `ids`.
    ///
    /// # Errors
    /// [`Error::Tokenizer`] for an id out of the vocabulary.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        Ok(self.inner.decode(ids, skip_special_tokens)?)
    }

    /// Renders `messages` with the chat template (see
    /// [`ChatTemplate::render`]).
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the model has no chat template;
    /// [`Error::Template`] when rendering fails.
    pub fn apply_chat_template(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String> {
        let t = self
            .chat_template
            .as_ref()
            .ok_or_else(|| Error::Unsupported("this model has no chat template".into()))?;
        let name = |id: Option<u32>| id.and_then(|i| self.inner.id_to_token(i));
        t.render(
            messages,
            add_generation_prompt,
            name(self.bos).as_deref(),
            name(self.eos.first().copied()).as_deref(),
        )
    }

    /// A streaming decoder: feed it ids one at a time, get text as soon as
    /// it forms whole characters.
    pub fn decode_stream(&self, skip_special_tokens: bool) -> TextStream<'_> {
        TextStream {
            inner: self.inner.decode_stream(skip_special_tokens),
        }
    }
}

/// Incremental detokenization (see [`Tokenizer::decode_stream`]).
pub struct TextStream<'a> {
    inner: tokenizers::tokenizer::DecodeStream<
        'a,
        tokenizers::ModelWrapper,
        tokenizers::NormalizerWrapper,
        tokenizers::PreTokenizerWrapper,
        tokenizers::PostProcessorWrapper,
        tokenizers::DecoderWrapper,
    >,
}

impl std::fmt::Debug for TextStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextStream").finish_non_exhaustive()
    }
}

impl TextStream<'_> {
    /// Adds `id`; returns the text it completes, if any (a multi-byte
    /// character split over several tokens comes with the last of them).
    ///
    /// # Errors
    /// [`Error::Tokenizer`] for an id out of the vocabulary.
    pub fn step(&mut self, id: u32) -> Result<Option<String>> {
        Ok(self.inner.step(id)?)
    }
}
