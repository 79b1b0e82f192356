//! Token generation with a KV cache, streaming, and mlx-lm's pipelining:
//! the graph of token `n + 1` is built and handed to MLX
//! ([`mlx_rs::async_eval`]) before token `n` is read back, so detokenizing
//! and printing overlap with compute, and nothing is evaluated that the
//! next step does not need.
//!
//! Sampling is greedy by default; with a temperature it draws from the
//! softmax (restricted to the top-p nucleus when `top_p < 1`) by the
//! Gumbel-max trick: `argmax(logits / T + g)` with Gumbel noise `g` made by
//! a seeded generator on the host, so a seed gives the same text on every
//! run and the sample stays a lazy MLX graph.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use mlx_rs::nn::KvCache;
use mlx_rs::ops::{self, Scan};
use mlx_rs::{Array, Dtype};

use crate::error::Result;
use crate::models::LanguageModel;

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Sampler {
    /// The most likely token.
    #[default]
    Greedy,
    /// A draw from `softmax(logits / temperature)`, restricted to the
    /// smallest set of most likely tokens whose probability reaches `top_p`.
    Sample {
        /// Temperature (> 0).
        temperature: f32,
        /// Nucleus mass in `(0, 1]` (1: no restriction).
        top_p: f32,
        /// Seed of the noise.
        seed: u64,
    },
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Tokens to generate at most.
    pub max_tokens: usize,
    /// How tokens are chosen.
    pub sampler: Sampler,
    /// Ids that end generation (not passed on to the callback).
    pub stop: Vec<u32>,
    /// Prompt tokens processed per forward pass (mlx-lm's
    /// `prefill_step_size`).
    pub prefill_step: usize,
    /// Added to the logits of these ids before sampling (OpenAI's
    /// `logit_bias`; `-100` all but bans a token).
    pub logit_bias: Vec<(u32, f32)>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 256,
            sampler: Sampler::Greedy,
            stop: Vec::new(),
            prefill_step: 2048,
            logit_bias: Vec::new(),
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// A stop id was produced.
    Stop,
    /// `max_tokens` were produced.
    Length,
    /// The callback of [`generate_with`] asked to stop.
    Halted,
}

/// Counts and timings of one generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationStats {
    /// The generated ids (without the stop id).
    pub tokens: Vec<u32>,
    /// Prompt tokens processed.
    pub prompt_tokens: usize,
    /// Time to the first generated token (prefill).
    pub prefill_time: Duration,
    /// Time of the rest of the generation.
    pub decode_time: Duration,
    /// Why it ended.
    pub finish: Finish,
}

impl GenerationStats {
    /// Prompt tokens per second.
    pub fn prefill_tps(&self) -> f64 {
        self.prompt_tokens as f64 / self.prefill_time.as_secs_f64().max(1e-9)
    }

    /// Generated tokens per second after the first (each decode step makes
    /// one token; the first comes with the prefill).
    pub fn decode_tps(&self) -> f64 {
        let steps = self.tokens.len().saturating_sub(1) as f64;
        steps / self.decode_time.as_secs_f64().max(1e-9)
    }
}

/// SplitMix64: a small, seedable generator for the sampling noise.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `(0, 1)`.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// The sampler with its state.
#[derive(Debug)]
struct SamplerState {
    sampler: Sampler,
    rng: SplitMix64,
}

impl SamplerState {
    fn new(sampler: Sampler) -> Self {
        let seed = match sampler {
            Sampler::Sample { seed, .. } => seed,
            Sampler::Greedy => 0,
        };
        SamplerState {
            sampler,
            rng: SplitMix64(seed),
        }
    }

    /// The next token, `[1]` (`uint32`), from logits `[1, vocab]`: lazy.
    fn sample(&mut self, logits: &Array) -> Result<Array> {
        let (temperature, top_p) = match self.sampler {
            Sampler::Greedy => return Ok(ops::argmax(logits, Some(-1), false)?),
            Sampler::Sample {
                temperature, top_p, ..
            } => (temperature.max(1e-6), top_p),
        };
        let mut scaled = (logits.astype(Dtype::Float32)? * (1.0 / temperature))?;
        if top_p < 1.0 {
            // Keep the tokens at least as likely as the least likely one of
            // the nucleus: sorted ascending, a token is in the nucleus when
            // the mass of the tokens above it is below `top_p`.
            let probs = ops::softmax(&scaled, -1, true)?;
            let sorted = ops::sort(&probs, Some(-1))?;
            let above = ops::cumsum(
                &sorted,
                Some(-1),
                Scan::default().reverse(true).inclusive(false),
                None,
            )?;
            let kept = ops::less(&above, top_p)?;
            let threshold = ops::min(&ops::select(&kept, &sorted, f32::INFINITY)?, -1, true)?;
            let keep = ops::greater_equal(&probs, &threshold)?;
            scaled = ops::select(&keep, &scaled, f32::NEG_INFINITY)?;
        }
        let vocab = logits.shape().last().copied().unwrap_or(0);
        let noise: Vec<f32> = (0..vocab)
            .map(|_| -(-self.rng.uniform().ln()).ln() as f32)
            .collect();
        let noise = Array::from_slice(&noise, &[1, vocab])?;
        Ok(ops::argmax(&(&scaled + &noise)?, Some(-1), false)?)
    }
}

/// Generates from the prompt ids `prompt`, calling `on_token` with each
/// new id as soon as it is known (stream it through
/// [`Tokenizer::decode_stream`](crate::Tokenizer::decode_stream)).
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for an empty prompt; as
/// [`LanguageModel::forward`]; the first error `on_token` returns.
pub fn generate(
    model: &(impl LanguageModel + ?Sized),
    prompt: &[u32],
    options: &GenerateOptions,
    mut on_token: impl FnMut(u32) -> Result<()>,
) -> Result<GenerationStats> {
    generate_with(model, prompt, options, |id| {
        on_token(id).map(|()| ControlFlow::Continue(()))
    })
}

/// The bias of `options.logit_bias` as a `[1, vocab]` array, if any.
fn bias_array(options: &GenerateOptions, vocab: usize) -> Result<Option<Array>> {
    if options.logit_bias.is_empty() {
        return Ok(None);
    }
    let mut bias = vec![0.0f32; vocab];
    for &(id, b) in &options.logit_bias {
        let slot = bias.get_mut(id as usize).ok_or_else(|| {
            crate::Error::config(
                "logit_bias",
                format!("token id {id} is out of the vocabulary ({vocab} tokens)"),
            )
        })?;
        *slot += b;
    }
    Ok(Some(Array::from_slice(&bias, &[1, vocab as i32])?))
}

/// [`generate`] whose callback can end generation early by returning
/// [`ControlFlow::Break`] (a stop string, a client gone): the stats then
/// say [`Finish::Halted`], and the token is counted.
///
/// # Errors
/// As [`generate`]; [`Error::Config`](crate::Error::Config) for a
/// `logit_bias` id out of the vocabulary.
pub fn generate_with(
    model: &(impl LanguageModel + ?Sized),
    prompt: &[u32],
    options: &GenerateOptions,
    mut on_token: impl FnMut(u32) -> Result<ControlFlow<()>>,
) -> Result<GenerationStats> {
    if prompt.is_empty() {
        return Err(crate::Error::config("prompt", "no tokens"));
    }
    let bias = bias_array(options, model.vocab_size() as usize)?;
    let start = Instant::now();
    if options.max_tokens == 0 {
        return Ok(GenerationStats {
            tokens: Vec::new(),
            prompt_tokens: 0,
            prefill_time: Duration::ZERO,
            decode_time: Duration::ZERO,
            finish: Finish::Length,
        });
    }
    let mut caches = model.new_caches();
    let mut sampler = SamplerState::new(options.sampler);
    // One step: logits of the last position of `ids` ([1, T]) → next id.
    // Decode steps take ids the model sampled (`forward_clamped`: no
    // evaluation); the prompt's ids come from the caller and are checked.
    let step = |ids: &Array,
                sampled: bool,
                caches: &mut [KvCache],
                sampler: &mut SamplerState|
     -> Result<Array> {
        let logits = if sampled {
            model.forward_clamped(ids, Some(caches))?
        } else {
            model.forward(ids, Some(caches))?
        };
        let t = logits.shape()[1];
        let last = logits.index((.., t - 1, ..))?;
        match &bias {
            Some(b) => sampler.sample(&(&last.astype(Dtype::Float32)? + b)?),
            None => sampler.sample(&last),
        }
    };
    // Prefill in chunks; all but the last chunk only fill the caches.
    let chunk = options.prefill_step.max(1);
    let mut rest = prompt;
    while rest.len() > chunk {
        let ids = Array::from_slice(&rest[..chunk], &[1, chunk as i32])?;
        let logits = model.forward(&ids, Some(&mut caches))?;
        let states: Vec<Array> = caches
            .iter()
            .filter_map(|c| c.state().ok().flatten())
            .flat_map(|(k, v)| [k, v])
            .collect();
        mlx_rs::eval(states.iter().chain([&logits]))?;
        rest = &rest[chunk..];
    }
    let ids = Array::from_slice(rest, &[1, rest.len() as i32])?;
    let mut y = step(&ids, false, &mut caches, &mut sampler)?;
    mlx_rs::async_eval([&y])?;
    let mut tokens = Vec::new();
    let mut prefill_time = Duration::ZERO;
    let mut finish = Finish::Length;
    loop {
        // Queue the next token before reading this one back.
        let next = if tokens.len() + 1 < options.max_tokens {
            let n = step(&y.reshape(&[1, 1])?, true, &mut caches, &mut sampler)?;
            mlx_rs::async_eval([&n])?;
            Some(n)
        } else {
            None
        };
        let id = y.item::<u32>()?;
        if tokens.is_empty() {
            prefill_time = start.elapsed();
        }
        if options.stop.contains(&id) {
            finish = Finish::Stop;
            break;
        }
        tokens.push(id);
        if on_token(id)?.is_break() {
            finish = Finish::Halted;
            break;
        }
        match next {
            Some(n) => y = n,
            None => break,
        }
    }
    let total = start.elapsed();
    Ok(GenerationStats {
        tokens,
        prompt_tokens: prompt.len(),
        prefill_time,
        decode_time: total.saturating_sub(prefill_time),
        finish,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> Array {
        Array::from_slice(&[0.0f32, 3.0, 1.0, 2.9, -1.0, 0.5], &[1, 6]).unwrap()
    }

    fn draw(sampler: Sampler, n: usize) -> Vec<u32> {
        let mut s = SamplerState::new(sampler);
        (0..n)
            .map(|_| s.sample(&logits()).unwrap().item::<u32>().unwrap())
            .collect()
    }

    #[test]
    fn greedy_is_argmax() {
        assert_eq!(draw(Sampler::Greedy, 3), [1, 1, 1]);
    }

    #[test]
    fn sampling_is_seeded_and_follows_the_distribution() {
        let s = |seed| Sampler::Sample {
            temperature: 1.0,
            top_p: 1.0,
            seed,
        };
        let a = draw(s(7), 400);
        assert_eq!(a, draw(s(7), 400));
        assert_ne!(a, draw(s(8), 400));
        // p(1) ≈ 0.44, p(3) ≈ 0.40, p(4) ≈ 0.01.
        let count = |t| a.iter().filter(|&&x| x == t).count();
        assert!((130..230).contains(&count(1)), "{}", count(1));
        assert!((110..210).contains(&count(3)), "{}", count(3));
        assert!(count(4) < 20);
    }

    #[test]
    fn top_p_keeps_the_nucleus() {
        // The two most likely tokens hold 84% of the mass.
        let s = Sampler::Sample {
            temperature: 1.0,
            top_p: 0.8,
            seed: 1,
        };
        let drawn = draw(s, 200);
        assert!(drawn.iter().all(|&t| t == 1 || t == 3), "{drawn:?}");
        assert!(drawn.contains(&1) && drawn.contains(&3));
        let s = Sampler::Sample {
            temperature: 1.0,
            top_p: 0.1,
            seed: 1,
        };
        assert!(draw(s, 50).iter().all(|&t| t == 1));
    }
}
