//! Choosing the next token on the device, as Python mlx-lm's
//! `sample_utils` does: the logits processors of `make_logits_processors`
//! (logit bias, then the repetition, presence and frequency penalties over
//! their context windows) and the sampler chain of `make_sampler` (top-p,
//! min-p, XTC, top-k, in that order, then a categorical draw at the
//! temperature; greedy at temperature 0).
//!
//! Every step is a lazy MLX graph: nothing is read back to the host and no
//! vocabulary-sized buffer is copied to the device. The random draws come
//! from a key sequence seeded like `mx.random.seed(seed)`: each draw splits
//! the key and uses the second half, exactly as MLX's global key sequence
//! does, so the same seed gives Python mlx-lm's tokens (tested against a
//! golden of `make_sampler` / `make_logits_processors`) without touching
//! MLX's process-wide random state.

use mlx_rs::ops::{self, Axes, Scan};
use mlx_rs::{random, Array, Dtype};

use crate::error::{Error, Result};

/// How the next token is chosen: Python mlx-lm's `make_sampler` arguments,
/// plus the seed of `mx.random.seed`. The default is greedy.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampler {
    /// Temperature; 0 picks the most likely token (greedy).
    pub temperature: f64,
    /// Nucleus sampling: keep the most likely tokens whose mass reaches
    /// `top_p`; applied when `0 < top_p < 1`.
    pub top_p: f64,
    /// Drop the tokens less likely than `min_p` times the most likely one;
    /// applied when not 0.
    pub min_p: f64,
    /// Tokens min-p keeps at least (≥ 1).
    pub min_tokens_to_keep: usize,
    /// Keep only the `top_k` most likely tokens; applied when > 0.
    pub top_k: usize,
    /// XTC ("exclude top choices"): the probability of applying it at a
    /// step; applied when > 0.
    pub xtc_probability: f64,
    /// XTC drops every token above this probability but the least likely
    /// of them (in `[0, 0.5]`).
    pub xtc_threshold: f64,
    /// Tokens XTC never drops (e.g. end of sequence, newline).
    pub xtc_special_tokens: Vec<u32>,
    /// Seed of the random draws (as `mx.random.seed`).
    pub seed: u64,
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler {
            temperature: 0.0,
            top_p: 0.0,
            min_p: 0.0,
            min_tokens_to_keep: 1,
            top_k: 0,
            xtc_probability: 0.0,
            xtc_threshold: 0.1,
            xtc_special_tokens: Vec::new(),
            seed: 0,
        }
    }
}

impl Sampler {
    /// The most likely token at every step.
    pub fn greedy() -> Sampler {
        Sampler::default()
    }

    /// Draws at `temperature` from the whole distribution, seeded.
    pub fn with_temperature(temperature: f64, seed: u64) -> Sampler {
        Sampler {
            temperature,
            seed,
            ..Sampler::default()
        }
    }

    /// Whether this sampler picks the most likely token.
    pub fn is_greedy(&self) -> bool {
        self.temperature == 0.0
    }

    /// Checks the settings as `make_sampler`'s filters do.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting out of its range.
    pub fn validate(&self, vocab: usize) -> Result<()> {
        let bad = |key: &'static str, why: String| Err(Error::config(key, why));
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return bad(
                "temperature",
                format!("must be ≥ 0, is {}", self.temperature),
            );
        }
        if self.is_greedy() {
            return Ok(());
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return bad(
                "min_p",
                format!("has to be in the [0, 1] interval, but is {}", self.min_p),
            );
        }
        if self.min_tokens_to_keep < 1 {
            return bad("min_tokens_to_keep", "has to be a positive integer".into());
        }
        if self.top_k > 0 && self.top_k >= vocab {
            return bad(
                "top_k",
                format!(
                    "has to be in the (0, {vocab}) interval, but is {}",
                    self.top_k
                ),
            );
        }
        if self.xtc_probability > 0.0 {
            if !(0.0..=0.5).contains(&self.xtc_threshold) {
                return bad(
                    "xtc_threshold",
                    format!(
                        "has to be in the [0, 0.5] interval, but is {}",
                        self.xtc_threshold
                    ),
                );
            }
            if self.xtc_probability > 1.0 {
                return bad(
                    "xtc_probability",
                    format!(
                        "has to be in the [0, 1] interval, but is {}",
                        self.xtc_probability
                    ),
                );
            }
            if let Some(&t) = self
                .xtc_special_tokens
                .iter()
                .find(|&&t| t as usize >= vocab)
            {
                return bad(
                    "xtc_special_tokens",
                    format!("token id {t} is out of the vocabulary ({vocab} tokens)"),
                );
            }
        }
        Ok(())
    }
}

/// A penalty over the last `context` tokens (prompt and generated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penalty {
    /// Its strength.
    pub value: f32,
    /// How many of the last tokens it looks at (mlx-lm's default: 20).
    pub context: usize,
}

impl Penalty {
    /// `value` over mlx-lm's default window of 20 tokens.
    pub fn new(value: f32) -> Penalty {
        Penalty { value, context: 20 }
    }
}

/// Python mlx-lm's `make_logits_processors`, applied in its order: logit
/// bias, repetition, presence, frequency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogitsProcessors {
    /// Added to the logits of these ids (OpenAI's `logit_bias`).
    pub logit_bias: Vec<(u32, f32)>,
    /// Sign-aware multiplicative penalty (logits < 0 times it, others
    /// divided by it) of the tokens in the window.
    pub repetition: Option<Penalty>,
    /// Subtracted once from each token in the window.
    pub presence: Option<Penalty>,
    /// Subtracted from each token once per occurrence in the window.
    pub frequency: Option<Penalty>,
}

impl LogitsProcessors {
    /// Whether any processor is set (a penalty of 0 is none, as in
    /// mlx-lm).
    pub fn is_empty(&self) -> bool {
        let off = |p: &Option<Penalty>| p.is_none_or(|p| p.value == 0.0);
        self.logit_bias.is_empty()
            && off(&self.repetition)
            && off(&self.presence)
            && off(&self.frequency)
    }

    /// Applies the processors to `logits` (`[1, vocab]`), given the tokens
    /// so far (`tokens`: 1-D, integer, oldest first, prompt included; only
    /// the last `context` of each penalty matter). Lazy: `tokens` may be
    /// the unevaluated concatenation of the sampled ids, as in
    /// `generate_step`.
    ///
    /// # Errors
    /// [`Error::Config`] for a logit-bias id outside the vocabulary or a
    /// negative repetition penalty; MLX's error (e.g. `tokens` not 1-D).
    pub fn apply(&self, tokens: &Array, logits: &Array) -> Result<Array> {
        let vocab = logits.shape().last().copied().unwrap_or(0);
        let mut logits = logits.clone();
        if !self.logit_bias.is_empty() {
            // mlx-lm adds `values` at `indices` (`at[].add`); a dense bias
            // adds the same values (ids are unique: a dict's keys) and 0.0
            // elsewhere, which leaves a logit unchanged.
            let mut bias = vec![0.0f32; vocab.max(0) as usize];
            for &(id, b) in &self.logit_bias {
                let slot = bias.get_mut(id as usize).ok_or_else(|| {
                    Error::config(
                        "logit_bias",
                        format!("token id {id} is out of the vocabulary ({vocab} tokens)"),
                    )
                })?;
                *slot += b;
            }
            logits = (&logits + &Array::from_slice(&bias, &[1, vocab])?)?;
        }
        let n = tokens.size() as i32;
        let window = |p: &Penalty| -> Result<Option<Array>> {
            if n == 0 || p.value == 0.0 || p.context == 0 {
                return Ok(None);
            }
            let c = n.min(i32::try_from(p.context).unwrap_or(i32::MAX));
            Ok(Some(tokens.index(n - c..)?.reshape(&[1, c])?))
        };
        if let Some(p) = &self.repetition {
            if p.value < 0.0 {
                return Err(Error::config(
                    "repetition_penalty",
                    format!("must be a non-negative float, got {}", p.value),
                ));
            }
            if let Some(ids) = window(p)? {
                let selected = ops::take_along_axis(&logits, &ids, -1)?;
                let scaled = ops::select(
                    &ops::less(&selected, 0.0f32)?,
                    &(&selected * p.value)?,
                    &(&selected / p.value)?,
                )?;
                logits = ops::put_along_axis(&logits, &ids, &scaled, -1)?;
            }
        }
        if let Some(p) = &self.presence {
            if let Some(ids) = window(p)? {
                let selected = ops::take_along_axis(&logits, &ids, -1)?;
                logits = ops::put_along_axis(&logits, &ids, &(&selected - p.value)?, -1)?;
            }
        }
        if let Some(p) = &self.frequency {
            if let Some(ids) = window(p)? {
                let minus = Array::full(ids.shape(), -p.value)?;
                logits = ops::scatter_add_axis(&logits, &ids, &minus, -1)?;
            }
        }
        Ok(logits)
    }
}

/// A [`Sampler`] with its key sequence.
#[derive(Debug)]
pub struct SamplerState {
    sampler: Sampler,
    key: Array,
}

impl SamplerState {
    /// Starts the key sequence at `mx.random.key(sampler.seed)`.
    ///
    /// # Errors
    /// MLX's error.
    pub fn new(sampler: Sampler) -> Result<SamplerState> {
        let key = random::key(sampler.seed)?;
        Ok(SamplerState { sampler, key })
    }

    /// The next key of the sequence (MLX's `KeySequence::next`).
    fn next_key(&mut self) -> Result<Array> {
        let (key, sub) = random::split(&self.key)?;
        self.key = key;
        Ok(sub)
    }

    /// The next token (`uint32`, one per row) from `logprobs` (`[1,
    /// vocab]`, i.e. `logits - logsumexp(logits)`): lazy.
    ///
    /// # Errors
    /// MLX's error.
    pub fn sample(&mut self, logprobs: &Array) -> Result<Array> {
        let s = self.sampler.clone();
        if s.is_greedy() {
            return Ok(ops::argmax(logprobs, Some(-1), false)?);
        }
        let mut x = logprobs.clone();
        if 0.0 < s.top_p && s.top_p < 1.0 {
            x = top_p(&x, s.top_p)?;
        }
        if s.min_p != 0.0 {
            x = min_p(&x, s.min_p, s.min_tokens_to_keep)?;
        }
        if s.xtc_probability > 0.0 {
            let key = self.next_key()?;
            x = xtc(&x, &s, &key)?;
        }
        if s.top_k > 0 {
            x = top_k(&x, s.top_k)?;
        }
        let key = self.next_key()?;
        let scaled = (&x * (1.0 / s.temperature) as f32)?;
        Ok(random::categorical(&scaled, -1, Some(&key))?)
    }
}

/// `logits - logsumexp(logits)` over all axes (as `generate_step`).
///
/// # Errors
/// MLX's error.
pub fn logprobs(logits: &Array) -> Result<Array> {
    Ok((logits - &ops::logsumexp(logits, Axes::All, true)?)?)
}

/// mlx-lm's `apply_top_p`.
fn top_p(logprobs: &Array, p: f64) -> Result<Array> {
    let sorted = ops::sort(logprobs, Some(-1))?;
    let probs = ops::exp(&sorted.astype(Dtype::Float32)?)?;
    let above = ops::cumsum(
        &probs,
        Some(-1),
        Scan::default().reverse(true).inclusive(false),
        None,
    )?;
    let total = (&above.index((.., ..1))? + &probs.index((.., ..1))?)?;
    let dropped = ops::sum(
        &ops::greater_equal(&above, &(&total * p as f32)?)?,
        -1,
        true,
    )?;
    let threshold = ops::take_along_axis(&sorted, &dropped, -1)?;
    Ok(ops::select(
        &ops::less(logprobs, &threshold)?,
        f32::NEG_INFINITY,
        logprobs,
    )?)
}

/// mlx-lm's `apply_min_p`.
fn min_p(logprobs: &Array, p: f64, keep: usize) -> Result<Array> {
    let top = ops::max(logprobs, -1, true)?;
    let scaled = (&top + p.ln() as f32)?;
    let mut remove = ops::less(logprobs, &scaled)?;
    if keep > 1 {
        let k = keep as i32;
        let idx = ops::argpartition(logprobs, -k, Some(-1))?;
        let n = idx.shape()[idx.ndim() - 1];
        let idx = idx.index((.., n - k..))?;
        remove = ops::put_along_axis(&remove, &idx, &Array::scalar(false)?, -1)?;
    }
    Ok(ops::select(&remove, f32::NEG_INFINITY, logprobs)?)
}

/// mlx-lm's `apply_xtc`, with its uniform draw from `key`.
fn xtc(logits: &Array, s: &Sampler, key: &Array) -> Result<Array> {
    let probs = ops::softmax(logits, -1, false)?;
    let above = ops::select(
        &ops::greater(&probs, s.xtc_threshold as f32)?,
        &probs,
        f32::INFINITY,
    )?;
    let mut mask = ops::greater(&probs, &ops::min(&above, -1, true)?)?;
    if !s.xtc_special_tokens.is_empty() {
        let n = s.xtc_special_tokens.len() as i32;
        let ids = Array::from_slice(&s.xtc_special_tokens, &[1, n])?;
        mask = ops::put_along_axis(&mask, &ids, &Array::scalar(false)?, -1)?;
    }
    let draw = random::uniform(0.0f32, 1.0f32, &[], Dtype::Float32, Some(key))?;
    let dropped = ops::select(&mask, f32::NEG_INFINITY, logits)?;
    Ok(ops::select(
        &ops::greater(&draw, s.xtc_probability as f32)?,
        logits,
        &dropped,
    )?)
}

/// mlx-lm's `apply_top_k`.
fn top_k(logprobs: &Array, k: usize) -> Result<Array> {
    let k = k as i32;
    let idx = ops::argpartition(&ops::negative(logprobs)?, k - 1, Some(-1))?;
    let n = idx.shape()[idx.ndim() - 1];
    let idx = idx.index((.., k..n))?;
    let inf = Array::scalar(f32::NEG_INFINITY)?.astype(logprobs.dtype())?;
    Ok(ops::put_along_axis(logprobs, &idx, &inf, -1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> Array {
        Array::from_slice(&[0.0f32, 3.0, 1.0, 2.9, -1.0, 0.5], &[1, 6]).unwrap()
    }

    fn draw(sampler: Sampler, n: usize) -> Vec<u32> {
        let mut s = SamplerState::new(sampler).unwrap();
        let lp = logprobs(&logits()).unwrap();
        (0..n)
            .map(|_| s.sample(&lp).unwrap().item::<u32>().unwrap())
            .collect()
    }

    #[test]
    fn greedy_is_argmax() {
        assert_eq!(draw(Sampler::greedy(), 3), [1, 1, 1]);
    }

    #[test]
    fn sampling_is_seeded_and_follows_the_distribution() {
        let a = draw(Sampler::with_temperature(1.0, 7), 400);
        assert_eq!(a, draw(Sampler::with_temperature(1.0, 7), 400));
        assert_ne!(a, draw(Sampler::with_temperature(1.0, 8), 400));
        // p(1) ≈ 0.44, p(3) ≈ 0.40, p(4) ≈ 0.01.
        let count = |t| a.iter().filter(|&&x| x == t).count();
        assert!((130..230).contains(&count(1)), "{}", count(1));
        assert!((110..210).contains(&count(3)), "{}", count(3));
        assert!(count(4) < 20);
    }

    #[test]
    fn top_p_and_top_k_keep_the_most_likely() {
        // The two most likely tokens hold 84% of the mass.
        let s = |top_p, top_k| Sampler {
            top_p,
            top_k,
            ..Sampler::with_temperature(1.0, 1)
        };
        let drawn = draw(s(0.8, 0), 200);
        assert!(drawn.iter().all(|&t| t == 1 || t == 3), "{drawn:?}");
        assert!(drawn.contains(&1) && drawn.contains(&3));
        assert!(draw(s(0.1, 0), 50).iter().all(|&t| t == 1));
        let drawn = draw(s(0.0, 2), 200);
        assert!(drawn.iter().all(|&t| t == 1 || t == 3), "{drawn:?}");
    }

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let e = |s: Sampler| s.validate(6).unwrap_err().to_string();
        let t = Sampler::with_temperature(1.0, 0);
        assert!(e(Sampler {
            top_k: 6,
            ..t.clone()
        })
        .contains("top_k"));
        assert!(e(Sampler {
            min_p: 1.5,
            ..t.clone()
        })
        .contains("min_p"));
        assert!(e(Sampler {
            xtc_probability: 0.5,
            xtc_threshold: 0.7,
            ..t.clone()
        })
        .contains("xtc_threshold"));
        assert!(e(Sampler::with_temperature(-1.0, 0)).contains("temperature"));
        assert!(e(Sampler {
            min_tokens_to_keep: 0,
            ..t.clone()
        })
        .contains("min_tokens_to_keep"));
        assert!(e(Sampler {
            xtc_probability: 1.5,
            ..t.clone()
        })
        .contains("xtc_probability"));
        assert!(e(Sampler {
            xtc_probability: 0.5,
            xtc_special_tokens: vec![6],
            ..t.clone()
        })
        .contains("xtc_special_tokens"));
        let p = LogitsProcessors {
            logit_bias: vec![(9, 1.0)],
            ..LogitsProcessors::default()
        };
        let tokens = Array::from_slice(&[1u32], &[1]).unwrap();
        assert!(p
            .apply(&tokens, &logits())
            .unwrap_err()
            .to_string()
            .contains("logit_bias"));
        let p = LogitsProcessors {
            repetition: Some(Penalty::new(-1.0)),
            ..LogitsProcessors::default()
        };
        assert!(p
            .apply(&tokens, &logits())
            .unwrap_err()
            .to_string()
            .contains("repetition_penalty"));
    }
}
