//! The training step and loop of mlx-lm's `tuner.trainer`: the masked
//! cross-entropy loss ([`loss`]), the gradient of the adapters alone, and
//! Adam updates.

use std::time::Instant;

use mlx_rs::nn::lora::{is_adapter_parameter, set_training};
use mlx_rs::nn::losses::{cross_entropy, CrossEntropy};
use mlx_rs::nn::Module;
use mlx_rs::ops::{self, Axes};
use mlx_rs::optimizers::{Adam, Optimizer};
use mlx_rs::{Array, Dtype};

use crate::error::{Error, Result};
use crate::llama::Llama;
use crate::lora::data::{epoch_batches, Batch, Dataset, NumpyRandom};
use crate::lora::{
    adapter_parameters, write_adapter_weights, write_adapter_weights_as, AdapterConfig,
};

/// mlx-lm's `default_loss`: the mean cross entropy of the next token over
/// the positions `offset < t ≤ length` of each row (`lengths` `[B, 2]`),
/// and the number of those positions. Returns `(loss, ntoks)`.
///
/// # Errors
/// [`Error::Config`] when `tokens` is not `[B, T]` with `T ≥ 2`; as
/// [`Llama::forward`] and [`cross_entropy`].
pub fn loss(model: &Llama, tokens: &Array, lengths: &Array) -> Result<(Array, Array)> {
    let t = match tokens.shape() {
        &[_, t] if t >= 2 => t,
        s => {
            return Err(Error::config(
                "tokens",
                format!("a batch is [B, T] with T >= 2, not {s:?}"),
            ))
        }
    };
    let inputs = tokens.index((.., ..t - 1))?;
    let targets = tokens.index((.., 1..))?;
    let logits = model.forward(&inputs, None)?;
    let steps = Array::arange(1.0, f64::from(t), 1.0, Dtype::Int32)?;
    let lo = lengths.index((.., 0..1))?;
    let hi = lengths.index((.., 1..))?;
    let mask = ops::logical_and(
        &ops::greater_equal(&steps, &lo)?,
        &ops::less_equal(&steps, &hi)?,
    )?;
    let ce = ops::multiply(
        &cross_entropy(&logits, &targets, CrossEntropy::default())?,
        &mask,
    )?;
    let ntoks = ops::sum(&mask, Axes::All, false)?;
    let ce = ops::divide(
        &ops::sum(&ce.astype(Dtype::Float32)?, Axes::All, false)?,
        &ntoks,
    )?;
    Ok((ce, ntoks))
}

/// The options of [`train`] (mlx-lm's `TrainingArgs` and CLI defaults).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Examples per batch.
    pub batch_size: usize,
    /// Optimizer steps.
    pub iters: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Longest sequence (longer ones are truncated).
    pub max_seq_length: usize,
    /// The seed of the batch order (NumPy's legacy generator, as
    /// `np.random.seed(args.seed)`).
    pub seed: u32,
    /// Steps between loss reports.
    pub steps_per_report: usize,
    /// Steps between validations (and at the first and last step).
    pub steps_per_eval: usize,
    /// Validation batches (`None`: the whole validation set).
    pub val_batches: Option<usize>,
    /// Steps between adapter checkpoints (`adapters.safetensors` and
    /// `{step:07}_adapters.safetensors`), when saving to a directory.
    pub save_every: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            batch_size: 4,
            iters: 1000,
            learning_rate: 1e-5,
            max_seq_length: 2048,
            seed: 0,
            steps_per_report: 10,
            steps_per_eval: 200,
            val_batches: Some(25),
            save_every: 100,
        }
    }
}

/// What happened at one training step, for the callback of [`train`].
#[derive(Debug, Clone)]
pub enum Event {
    /// One optimizer step: its 1-based number, the loss of its batch and
    /// the tokens it held.
    Step {
        /// 1-based.
        iteration: usize,
        /// The batch's loss.
        loss: f32,
        /// Tokens with a loss.
        tokens: usize,
    },
    /// A report every `steps_per_report` steps: the mean loss since the
    /// last one and the throughput.
    Report {
        /// The step.
        iteration: usize,
        /// Mean loss since the last report.
        train_loss: f32,
        /// Tokens (with a loss) per second of training.
        tokens_per_sec: f64,
        /// Steps per second.
        it_per_sec: f64,
        /// Tokens trained on so far.
        trained_tokens: usize,
    },
    /// A validation loss.
    Validation {
        /// The step (0 before training).
        iteration: usize,
        /// Mean loss over the validation batches.
        val_loss: f32,
    },
    /// Adapters saved.
    Saved(std::path::PathBuf),
}

/// The mean loss of `model` over (up to `num_batches`) batches of `data`,
/// weighted by tokens (mlx-lm's `evaluate`; draws one batch order from
/// `rng`, as Python draws one permutation).
///
/// # Errors
/// As [`epoch_batches`] and [`loss`].
pub fn evaluate(
    model: &Llama,
    data: &Dataset,
    batch_size: usize,
    num_batches: Option<usize>,
    max_seq_length: usize,
    rng: &mut NumpyRandom,
) -> Result<f32> {
    let batches = epoch_batches(data, batch_size, max_seq_length, rng)?;
    let n = num_batches.unwrap_or(batches.len()).min(batches.len());
    let mut total = Array::scalar(0.0f32)?;
    let mut ntokens = Array::scalar(0i32)?;
    for b in &batches[..n] {
        let (l, t) = loss(model, &b.tokens, &b.lengths)?;
        total = ops::add(&total, &ops::multiply(&l, &t)?)?;
        ntokens = ops::add(&ntokens, &t)?;
        mlx_rs::eval([&total, &ntokens])?;
    }
    Ok(ops::divide(&total, &ntokens)?.item::<f32>()?)
}

/// Trains the adapters of `model` (see [`crate::lora::apply_lora`]) on
/// `train_set` with Adam, as mlx-lm's `train`: batches from
/// [`epoch_batches`] passes in a loop, one optimizer step per batch, the
/// gradient taken with respect to the adapter parameters only. With
/// `adapter_dir`, saves checkpoints every `save_every` steps and the final
/// adapters (and `adapter_config.json` first). `on_event` sees every step,
/// report, validation and save. Returns the loss of each step.
///
/// # Errors
/// [`Error::Config`] for a model without adapters or `iters` of 0; as
/// [`epoch_batches`], [`loss`], [`Adam`] and [`crate::lora::save_adapters`].
pub fn train(
    model: &mut Llama,
    train_set: &Dataset,
    valid_set: Option<&Dataset>,
    options: &TrainOptions,
    adapter_dir: Option<(&std::path::Path, &AdapterConfig)>,
    mut on_event: impl FnMut(&Event),
) -> Result<Vec<f32>> {
    if adapter_parameters(model).is_empty() {
        return Err(Error::config(
            "model",
            "no adapters to train (apply_lora first)",
        ));
    }
    if options.iters == 0 {
        return Err(Error::config("iters", "must be at least 1"));
    }
    // fail on a too-small data set before writing anything
    let mut rng = NumpyRandom::new(options.seed);
    if train_set.len() < options.batch_size || options.batch_size == 0 {
        epoch_batches(
            train_set,
            options.batch_size,
            options.max_seq_length,
            &mut rng.clone(),
        )?;
    }
    if let Some((dir, config)) = adapter_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        crate::lora::write_adapter_config(dir, config)?;
    }
    let mut opt = Adam::new(options.learning_rate)?;
    let mut losses = Vec::with_capacity(options.iters);
    let mut pending: std::vec::IntoIter<Batch> = Vec::new().into_iter();
    let (mut window_loss, mut window_tokens, mut window_steps) = (0.0f64, 0usize, 0usize);
    let mut window_time = 0.0f64;
    let mut trained_tokens = 0usize;
    let result = (|| -> Result<()> {
        set_training(model, true)?;
        for it in 1..=options.iters {
            let batch = match pending.next() {
                Some(b) => b,
                None => {
                    pending = epoch_batches(
                        train_set,
                        options.batch_size,
                        options.max_seq_length,
                        &mut rng,
                    )?
                    .into_iter();
                    pending
                        .next()
                        .ok_or_else(|| Error::config("data", "no batches"))?
                }
            };
            if let Some(valid) = valid_set.filter(|v| !v.is_empty()) {
                if it == 1 || it % options.steps_per_eval == 0 || it == options.iters {
                    set_training(model, false)?;
                    let val_loss = evaluate(
                        model,
                        valid,
                        options.batch_size,
                        options.val_batches,
                        options.max_seq_length,
                        &mut rng,
                    )?;
                    set_training(model, true)?;
                    on_event(&Event::Validation {
                        iteration: it - 1,
                        val_loss,
                    });
                }
            }
            let tic = Instant::now();
            let (values, grads) = model.value_and_grad_of(
                is_adapter_parameter,
                |m: &Llama, x: &[Array]| {
                    let (l, n) = loss(m, &x[0], &x[1]).map_err(to_mlx)?;
                    Ok(vec![l, n])
                },
                &[batch.tokens.clone(), batch.lengths.clone()],
            )?;
            let mut params = adapter_parameters(model);
            opt.update(&mut params, &grads)?;
            model.update(&params)?;
            let mut to_eval: Vec<&Array> = params.values().collect();
            to_eval.extend(values.iter());
            let state = opt.state();
            to_eval.extend(state.values());
            mlx_rs::eval(to_eval)?;
            window_time += tic.elapsed().as_secs_f64();
            let l = values[0].item::<f32>()?;
            let ntoks = values[1].astype(Dtype::Int64)?.item::<i64>()? as usize;
            losses.push(l);
            on_event(&Event::Step {
                iteration: it,
                loss: l,
                tokens: ntoks,
            });
            window_loss += f64::from(l);
            window_tokens += ntoks;
            window_steps += 1;
            if it % options.steps_per_report == 0 || it == options.iters {
                trained_tokens += window_tokens;
                on_event(&Event::Report {
                    iteration: it,
                    train_loss: (window_loss / window_steps as f64) as f32,
                    tokens_per_sec: window_tokens as f64 / window_time,
                    it_per_sec: window_steps as f64 / window_time,
                    trained_tokens,
                });
                (window_loss, window_tokens, window_steps, window_time) = (0.0, 0, 0, 0.0);
            }
            if let Some((dir, _)) = adapter_dir {
                if options.save_every > 0 && it % options.save_every == 0 {
                    let weights = adapter_parameters(model).into_iter().collect();
                    write_adapter_weights(dir, &weights)?;
                    let checkpoint = dir.join(format!("{it:07}_adapters.safetensors"));
                    write_adapter_weights_as(&checkpoint, &weights)?;
                    on_event(&Event::Saved(checkpoint));
                }
            }
        }
        Ok(())
    })();
    set_training(model, false)?;
    result?;
    if let Some((dir, _)) = adapter_dir {
        let weights = adapter_parameters(model).into_iter().collect();
        write_adapter_weights(dir, &weights)?;
        on_event(&Event::Saved(dir.join(crate::lora::ADAPTERS_FILE)));
    }
    Ok(losses)
}

/// An `mlx_lm::Error` inside a loss function (which returns
/// `mlx_rs::Result`).
fn to_mlx(e: Error) -> mlx_rs::Error {
    match e {
        Error::Mlx(e) => e,
        other => mlx_rs::Error::InvalidArgument {
            op: "lora loss",
            reason: other.to_string(),
        },
    }
}
