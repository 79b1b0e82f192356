//! Fine-tuning data as mlx-lm reads it: `{train,valid,test}.jsonl` with
//! one example a line, in one of three formats (chosen by the first line,
//! as `mlx_lm.tuner.datasets.create_dataset` does):
//!
//! - completions: `{"prompt": …, "completion": …}`, rendered as a user and
//!   an assistant message with the chat template;
//! - chat: `{"messages": [{"role": …, "content": …}, …]}`, with the chat
//!   template;
//! - text: `{"text": …}`, tokenized as it is, EOS appended.
//!
//! and batched as `mlx_lm.tuner.trainer.iterate_batches` does: examples
//! sorted by mlx-lm's length key ([`Example::sort_len`]), cut into batches, the batches visited in the order of
//! NumPy's legacy `np.random.permutation` (so that a seed gives Python's
//! order), padded with zeros to one plus a multiple of 32 tokens (at most
//! `max_seq_length`).

use std::path::{Path, PathBuf};

use mlx_rs::Array;
use serde_json::Value;

use crate::chat::Message;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// The format of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `prompt` / `completion`.
    Completions,
    /// `messages`.
    Chat,
    /// `text`.
    Text,
}

/// A tokenized example: its ids and the offset where the loss starts
/// (non-zero with `mask_prompt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Token ids.
    pub ids: Vec<u32>,
    /// The number of leading (prompt) tokens that get no loss.
    pub offset: usize,
    /// What batching sorts by: mlx-lm 0.32.2 sorts its `CacheDataset` by
    /// `itemlen`, the length of the *raw* example, which is the number of
    /// keys of its JSON object (so examples of one format keep their file
    /// order).
    pub sort_len: usize,
}

/// A tokenized data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The file it came from.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The examples, in file order.
    pub examples: Vec<Example>,
}

fn data_err(path: &Path, line: Option<usize>, reason: impl Into<String>) -> Error {
    Error::Dataset {
        path: path.to_owned(),
        line,
        reason: reason.into(),
    }
}

/// The JSON objects of a `.jsonl` file, with their 1-based line numbers;
/// blank lines are skipped.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::Dataset`] naming the
/// line that is not a JSON object.
pub fn read_jsonl(path: &Path) -> Result<Vec<(usize, Value)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| data_err(path, Some(i + 1), format!("not JSON: {e}")))?;
        if !v.is_object() {
            return Err(data_err(path, Some(i + 1), "not a JSON object"));
        }
        out.push((i + 1, v));
    }
    Ok(out)
}

/// How examples are tokenized.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataOptions {
    /// No loss on the prompt (completions and chat only), mlx-lm's
    /// `--mask-prompt`.
    pub mask_prompt: bool,
}

fn string_field<'a>(path: &Path, line: usize, v: &'a Value, key: &str) -> Result<&'a str> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(data_err(
            path,
            Some(line),
            format!("`{key}` must be a string, not {other}"),
        )),
        None => Err(data_err(path, Some(line), format!("no `{key}` key"))),
    }
}

fn chat_ids(tok: &Tokenizer, messages: &[Message], generation_prompt: bool) -> Result<Vec<u32>> {
    let text = tok.apply_chat_template(messages, generation_prompt)?;
    // Hugging Face's `apply_chat_template(tokenize=True)` adds no special
    // tokens: the template writes them.
    tok.encode(&text, false)
}

impl Dataset {
    /// Reads and tokenizes `path`.
    ///
    /// # Errors
    /// As [`read_jsonl`]; [`Error::Dataset`] for an empty file, a first line
    /// in none of the formats, a later line without the format's keys (with
    /// its number), or `mask_prompt` on text; as
    /// [`Tokenizer::apply_chat_template`] and [`Tokenizer::encode`].
    pub fn load(path: &Path, tok: &Tokenizer, options: DataOptions) -> Result<Self> {
        let rows = read_jsonl(path)?;
        let Some((_, first)) = rows.first() else {
            return Err(data_err(path, None, "the data set is empty"));
        };
        let format = if first.get("prompt").is_some() && first.get("completion").is_some() {
            Format::Completions
        } else if first.get("messages").is_some() {
            Format::Chat
        } else if first.get("text").is_some() {
            Format::Text
        } else {
            return Err(data_err(
                path,
                Some(rows[0].0),
                "unsupported data format: expected `text`, `prompt` and `completion`, or `messages`",
            ));
        };
        if format == Format::Text && options.mask_prompt {
            return Err(data_err(
                path,
                None,
                "prompt masking is not supported for text data",
            ));
        }
        let mut examples = Vec::with_capacity(rows.len());
        for (line, v) in &rows {
            let line = *line;
            let sort_len = v.as_object().map_or(0, serde_json::Map::len);
            let ex = match format {
                Format::Text => {
                    let mut ids = tok.encode(string_field(path, line, v, "text")?, true)?;
                    if let Some(&eos) = tok.eos_ids().first() {
                        if ids.last() != Some(&eos) {
                            ids.push(eos);
                        }
                    }
                    Example {
                        ids,
                        offset: 0,
                        sort_len,
                    }
                }
                Format::Completions => {
                    let messages = [
                        Message::new("user", string_field(path, line, v, "prompt")?),
                        Message::new("assistant", string_field(path, line, v, "completion")?),
                    ];
                    let ids = chat_ids(tok, &messages, false)?;
                    let offset = if options.mask_prompt {
                        chat_ids(tok, &messages[..1], true)?.len()
                    } else {
                        0
                    };
                    Example {
                        ids,
                        offset,
                        sort_len,
                    }
                }
                Format::Chat => {
                    let messages: Vec<Message> = v
                        .get("messages")
                        .cloned()
                        .ok_or_else(|| data_err(path, Some(line), "no `messages` key"))
                        .and_then(|m| {
                            serde_json::from_value(m)
                                .map_err(|e| data_err(path, Some(line), format!("`messages`: {e}")))
                        })?;
                    if messages.is_empty() {
                        return Err(data_err(path, Some(line), "`messages` is empty"));
                    }
                    let ids = chat_ids(tok, &messages, false)?;
                    let offset = if options.mask_prompt {
                        let last_is_assistant =
                            messages.last().is_some_and(|m| m.role == "assistant");
                        chat_ids(tok, &messages[..messages.len() - 1], last_is_assistant)?.len()
                    } else {
                        0
                    };
                    Example {
                        ids,
                        offset,
                        sort_len,
                    }
                }
            };
            examples.push(ex);
        }
        Ok(Dataset {
            path: path.to_owned(),
            format,
            examples,
        })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are none (never, for a loaded data set).
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }
}

/// NumPy's legacy global generator (`np.random.seed` / `RandomState`):
/// MT19937, and `permutation` as `RandomState.shuffle` draws it.
#[derive(Debug, Clone)]
pub struct NumpyRandom {
    mt: [u32; 624],
    pos: usize,
}

impl NumpyRandom {
    /// `np.random.seed(seed)` (`init_genrand`).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        NumpyRandom { mt, pos: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.pos >= 624 {
            for i in 0..624 {
                let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
                let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.mt[i] = v;
            }
            self.pos = 0;
        }
        let mut y = self.mt[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A uniform integer in `[0, max]` by masked rejection (NumPy's
    /// `random_interval`, 32-bit draws; `max` < 2³²).
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `np.random.permutation(n)`: a Fisher-Yates shuffle of `0..n` from
    /// the end.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u32) as usize;
            v.swap(i, j);
        }
        v
    }
}

/// One padded batch: `tokens` `[B, T]` (`int32`, zeros after each
/// example) and `lengths` `[B, 2]` (`int32`: the loss offset and the
/// length of each example).
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, T]` token ids.
    pub tokens: Array,
    /// `[B, 2]`: offset and length.
    pub lengths: Array,
    /// The sum of the lengths (for tokens/s).
    pub n_tokens: usize,
}

/// mlx-lm's `iterate_batches`: the batches of one pass over `data` (the
/// batch order drawn from `rng`, one permutation per pass); call again for
/// the next pass.
///
/// # Errors
/// [`Error::Dataset`] for fewer examples than `batch_size` (mlx-lm's
/// message) or a `batch_size` of 0; [`Error::Mlx`] if MLX fails.
pub fn epoch_batches(
    data: &Dataset,
    batch_size: usize,
    max_seq_length: usize,
    rng: &mut NumpyRandom,
) -> Result<Vec<Batch>> {
    if batch_size == 0 {
        return Err(data_err(
            &data.path,
            None,
            "the batch size must be at least 1",
        ));
    }
    if data.len() < batch_size {
        return Err(data_err(
            &data.path,
            None,
            format!(
                "Dataset must have at least batch_size={batch_size} examples but only has {}.",
                data.len()
            ),
        ));
    }
    let mut idx: Vec<usize> = (0..data.len()).collect();
    // stable, as Python's `sorted`, by mlx-lm's key (see `Example::sort_len`)
    idx.sort_by_key(|&i| data.examples[i].sort_len);
    let batches: Vec<&[usize]> = idx
        .chunks(batch_size)
        .filter(|c| c.len() == batch_size)
        .collect();
    let order = rng.permutation(batches.len());
    order
        .into_iter()
        .map(|b| make_batch(data, batches[b], max_seq_length))
        .collect()
}

fn make_batch(data: &Dataset, members: &[usize], max_seq_length: usize) -> Result<Batch> {
    let longest = members
        .iter()
        .map(|&i| data.examples[i].ids.len())
        .max()
        .unwrap_or(0);
    if longest > max_seq_length {
        eprintln!(
            "[WARNING] Some sequences are longer than {max_seq_length} tokens. The longest \
             sentence {longest} will be truncated to {max_seq_length}. Consider pre-splitting \
             your data to save memory."
        );
    }
    const PAD_TO: usize = 32;
    let width = (1 + PAD_TO * longest.div_ceil(PAD_TO)).min(max_seq_length);
    let b = members.len();
    let mut tokens = vec![0i32; b * width];
    let mut lengths = Vec::with_capacity(2 * b);
    let mut n_tokens = 0;
    for (row, &i) in members.iter().enumerate() {
        let ex = &data.examples[i];
        let n = ex.ids.len().min(max_seq_length);
        for (slot, &id) in tokens[row * width..row * width + n].iter_mut().zip(&ex.ids) {
            *slot = id as i32;
        }
        lengths.extend([ex.offset as i32, n as i32]);
        n_tokens += n;
    }
    Ok(Batch {
        tokens: Array::from_slice(&tokens, &[b as i32, width as i32])?,
        lengths: Array::from_slice(&lengths, &[b as i32, 2])?,
        n_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::NumpyRandom;

    #[test]
    fn mt19937_matches_the_reference_sequence() {
        // The first outputs of init_genrand(5489), from the MT19937 paper's
        // reference implementation.
        let mut r = NumpyRandom::new(5489);
        let got: Vec<u32> = (0..3).map(|_| r.next_u32()).collect();
        assert_eq!(got, [3_499_211_612, 581_869_302, 3_890_346_734]);
    }
}
