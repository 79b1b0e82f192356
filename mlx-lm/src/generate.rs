//! Token generation with a KV cache, streaming, and mlx-lm's pipelining:
//! the graph of token `n + 1` is built and handed to MLX
//! ([`mlx_rs::async_eval`]) before token `n` is read back, so detokenizing
//! and printing overlap with compute, and nothing is evaluated that the
//! next step does not need.
//!
//! The next token is chosen on the device as Python mlx-lm chooses it
//! ([`crate::sample`]): the logits processors over the tokens so far, then
//! `logprobs = logits - logsumexp(logits)`, then the sampler chain (greedy by
//! default), so with the same seed the tokens equal `generate_step`'s.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use mlx_rs::nn::{LayerCache, QuantizedKvCache};
use mlx_rs::{ops, Array};

use crate::error::Result;
use crate::models::LanguageModel;
use crate::sample::{logprobs, LogitsProcessors, Sampler, SamplerState};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Tokens to generate at most.
    pub max_tokens: usize,
    /// How tokens are chosen (mlx-lm's `make_sampler`).
    pub sampler: Sampler,
    /// What changes the logits first (mlx-lm's `make_logits_processors`:
    /// logit bias, repetition / presence / frequency penalties).
    pub processors: LogitsProcessors,
    /// Ids that end generation (not passed on to the callback).
    pub stop: Vec<u32>,
    /// Prompt tokens processed per forward pass (mlx-lm's
    /// `prefill_step_size`). As `generate_step`, the prompt but its last
    /// token is processed in chunks of this size, then the last token alone
    /// gives the first logits.
    pub prefill_step: usize,
    /// Rotating KV caches of at most this many positions, the first 4
    /// kept (mlx-lm's `max_kv_size`; families with their own caches, such
    /// as Gemma 3, keep them). `None`: every position is kept.
    pub max_kv_size: Option<usize>,
    /// Quantize the KV caches with this many bits (mlx-lm's `kv_bits`:
    /// 2, 3, 4, 5, 6 or 8). `None`: float caches.
    pub kv_bits: Option<i32>,
    /// Group size of the KV cache quantization (mlx-lm's `kv_group_size`:
    /// 32, 64 or 128, dividing the head dimension).
    pub kv_group_size: i32,
    /// A cache is quantized once it holds this many positions (mlx-lm's
    /// `quantized_kv_start`, default 5000).
    pub quantized_kv_start: usize,
}

impl GenerateOptions {
    /// mlx-lm's `DEFAULT_QUANTIZED_KV_START`.
    pub const DEFAULT_QUANTIZED_KV_START: usize = 5000;

    /// Checks the cache settings: `kv_bits`, `kv_group_size`,
    /// `max_kv_size`, `prefill_step`.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the setting: `kv_bits`
    /// not in {2, 3, 4, 5, 6, 8}, `kv_group_size` not in {32, 64, 128},
    /// `max_kv_size` 0 (or at most the 4 kept positions), `kv_bits` with
    /// `max_kv_size` (a rotating cache cannot be quantized),
    /// `prefill_step` 0.
    pub fn validate(&self) -> Result<()> {
        if self.prefill_step == 0 {
            return Err(crate::Error::config("prefill_step", "must be positive"));
        }
        if let Some(bits) = self.kv_bits {
            if let Err(e) = QuantizedKvCache::new(32, bits) {
                return Err(crate::Error::config("kv_bits", e.to_string()));
            }
            if let Err(e) = QuantizedKvCache::new(self.kv_group_size, 4) {
                return Err(crate::Error::config("kv_group_size", e.to_string()));
            }
            if self.max_kv_size.is_some() {
                return Err(crate::Error::config(
                    "kv_bits",
                    "cannot be combined with max_kv_size: a rotating KV cache cannot be quantized",
                ));
            }
        }
        if let Some(0..=4) = self.max_kv_size {
            return Err(crate::Error::config(
                "max_kv_size",
                format!(
                    "must be more than the 4 kept positions, not {}",
                    self.max_kv_size.unwrap_or(0)
                ),
            ));
        }
        Ok(())
    }
}

/// mlx-lm's `maybe_quantize_kv_cache`: with `kv_bits`, every standard
/// cache holding at least `quantized_kv_start` positions becomes a
/// quantized one.
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) naming `kv_group_size` when it
/// does not divide the head dimension; [`Error::Mlx`](crate::Error::Mlx)
/// for a rotating cache that reached the start.
pub fn maybe_quantize_kv_cache(caches: &mut [LayerCache], options: &GenerateOptions) -> Result<()> {
    let Some(bits) = options.kv_bits else {
        return Ok(());
    };
    let start = i32::try_from(options.quantized_kv_start).unwrap_or(i32::MAX);
    for c in caches.iter_mut() {
        if let Err(e) = c.maybe_quantize(options.kv_group_size, bits, start) {
            return Err(match e {
                mlx_rs::Error::InvalidQuantization { reason } => {
                    crate::Error::config("kv_group_size", reason)
                }
                e => e.into(),
            });
        }
    }
    Ok(())
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 256,
            sampler: Sampler::greedy(),
            processors: LogitsProcessors::default(),
            stop: Vec::new(),
            prefill_step: 2048,
            max_kv_size: None,
            kv_bits: None,
            kv_group_size: 64,
            quantized_kv_start: Self::DEFAULT_QUANTIZED_KV_START,
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

/// Generates from the prompt ids `prompt`, calling `on_token` with each
/// new id as soon as it is known (stream it through
/// [`Tokenizer::decode_stream`](crate::Tokenizer::decode_stream)).
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for an empty prompt or a bad
/// cache setting (see [`GenerateOptions::validate`]); as
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

/// [`generate`] whose callback can end generation early by returning
/// [`ControlFlow::Break`] (a stop string, a client gone): the stats then
/// say [`Finish::Halted`], and the token is counted.
///
/// # Errors
/// As [`generate`]; [`Error::Config`](crate::Error::Config) for a
/// `logit_bias` id out of the vocabulary or a sampler setting out of its
/// range.
pub fn generate_with(
    model: &(impl LanguageModel + ?Sized),
    prompt: &[u32],
    options: &GenerateOptions,
    on_token: impl FnMut(u32) -> Result<ControlFlow<()>>,
) -> Result<GenerationStats> {
    options.validate()?;
    let mut caches = model.make_caches(options.max_kv_size)?;
    generate_with_cache(model, prompt, options, &mut caches, on_token)
}

/// [`generate_with`] continuing from `caches` (mlx-lm's `generate_step`
/// with `prompt_cache`): they hold what came before `prompt` (e.g. from
/// [`load_prompt_cache`](mlx_rs::nn::load_prompt_cache) or an earlier
/// call) and are updated in place; `options.max_kv_size` is not used (the
/// caches are already made).
///
/// # Errors
/// As [`generate_with`]; [`Error::Config`](crate::Error::Config) when the
/// number of caches is not the model's.
pub fn generate_with_cache(
    model: &(impl LanguageModel + ?Sized),
    prompt: &[u32],
    options: &GenerateOptions,
    caches: &mut [LayerCache],
    mut on_token: impl FnMut(u32) -> Result<ControlFlow<()>>,
) -> Result<GenerationStats> {
    if prompt.is_empty() {
        return Err(crate::Error::config("prompt", "no tokens"));
    }
    options.validate()?;
    options
        .sampler
        .validate(model.vocab_size().max(0) as usize)?;
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
    let mut sampler = SamplerState::new(options.sampler.clone())?;
    let processors = (!options.processors.is_empty()).then_some(&options.processors);
    // The tokens so far (prompt, then sampled), on the device, for the
    // processors: as `generate_step`, the ids of step `n` join lazily.
    let mut history = match processors {
        Some(_) => Some(Array::from_slice(prompt, &[prompt.len() as i32])?),
        None => None,
    };
    // One step: logits of the last position of `ids` ([1, T]) → next id.
    // Decode steps take ids the model sampled (`forward_clamped`: no
    // evaluation); the prompt's ids come from the caller and are checked.
    let step = |ids: &Array,
                sampled: bool,
                caches: &mut [LayerCache],
                sampler: &mut SamplerState,
                history: Option<&Array>|
     -> Result<Array> {
        let logits = if sampled {
            model.forward_clamped(ids, Some(caches))?
        } else {
            model.forward(ids, Some(caches))?
        };
        let t = logits.shape()[1];
        let mut last = logits.index((.., t - 1, ..))?;
        if let (Some(p), Some(h)) = (processors, history) {
            last = p.apply(h, &last)?;
        }
        maybe_quantize_kv_cache(caches, options)?;
        sampler.sample(&logprobs(&last)?)
    };
    // Prefill as `generate_step`: chunks of `prefill_step` that only fill
    // the caches (quantized when due), leaving the last token for the
    // first step.
    let mut rest = prompt;
    while rest.len() > 1 {
        let n = options.prefill_step.min(rest.len() - 1);
        let ids = Array::from_slice(&rest[..n], &[1, n as i32])?;
        let logits = model.forward(&ids, Some(&mut *caches))?;
        maybe_quantize_kv_cache(caches, options)?;
        let states: Vec<Array> = caches.iter().flat_map(LayerCache::arrays).collect();
        mlx_rs::eval(states.iter().chain([&logits]))?;
        rest = &rest[n..];
    }
    let ids = Array::from_slice(rest, &[1, rest.len() as i32])?;
    let mut y = step(&ids, false, &mut *caches, &mut sampler, history.as_ref())?;
    mlx_rs::async_eval([&y])?;
    let mut tokens = Vec::new();
    let mut prefill_time = Duration::ZERO;
    let mut finish = Finish::Length;
    loop {
        // Queue the next token before reading this one back.
        let next = if tokens.len() + 1 < options.max_tokens {
            if let Some(h) = history.as_mut() {
                *h = ops::concatenate([&*h, &y], Some(0))?;
            }
            let n = step(
                &y.reshape(&[1, 1])?,
                true,
                &mut *caches,
                &mut sampler,
                history.as_ref(),
            )?;
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
