//! The model thread. MLX arrays are not `Send`, so the model, its
//! tokenizer and every MLX call live on this one thread; the HTTP side
//! sends it [`Job`]s through a bounded channel (a FIFO queue) and gets
//! [`Event`]s back through a channel per request. A request whose
//! receiver is gone (the client disconnected) stops at the next token.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use mlx_lm::generate::{generate_with, GenerateOptions};
use mlx_lm::{Finish, Message};
use mlx_lm::{LogitsProcessors, Sampler};
use tokio::sync::mpsc;

use crate::common::{chat_ids, Loaded};
use crate::stop::StopText;

/// What to generate from.
#[derive(Debug)]
pub enum Prompt {
    /// Raw text (`/v1/completions`).
    Text(String),
    /// A conversation, through the chat template (`/v1/chat/completions`).
    Chat(Vec<Message>),
}

/// One request.
#[derive(Debug)]
pub struct Job {
    pub prompt: Prompt,
    pub max_tokens: usize,
    pub sampler: Sampler,
    pub processors: LogitsProcessors,
    pub stop: Vec<String>,
    pub events: mpsc::UnboundedSender<Event>,
}

/// What the worker reports for a job.
#[derive(Debug)]
pub enum Event {
    /// More text.
    Text(String),
    /// The end, with the usage counts.
    Done {
        prompt_tokens: usize,
        completion_tokens: usize,
        finish_reason: &'static str,
    },
    /// The request failed: an HTTP status and a message.
    Error(u16, String),
}

/// Counters the `/health` route shows.
#[derive(Debug, Default)]
pub struct State {
    pub queued: AtomicUsize,
    pub busy: AtomicBool,
    pub served: AtomicUsize,
}

/// Runs jobs until every sender is gone.
pub fn run(loaded: &Loaded, mut jobs: mpsc::Receiver<Job>, state: &Arc<State>) {
    while let Some(job) = jobs.blocking_recv() {
        state.queued.fetch_sub(1, Ordering::SeqCst);
        state.busy.store(true, Ordering::SeqCst);
        if let Err((status, message)) = serve(loaded, &job) {
            let _ = job.events.send(Event::Error(status, message));
        }
        state.busy.store(false, Ordering::SeqCst);
        state.served.fetch_add(1, Ordering::SeqCst);
    }
}

fn serve(loaded: &Loaded, job: &Job) -> Result<(), (u16, String)> {
    let tok = &loaded.tokenizer;
    let bad = |e: mlx_lm::Error| (400, crate::common::one_line(&e));
    let ids = match &job.prompt {
        Prompt::Text(t) => tok.encode(t, true).map_err(bad)?,
        Prompt::Chat(m) => chat_ids(tok, m).map_err(bad)?,
    };
    if ids.is_empty() {
        return Err((400, "the prompt has no tokens".into()));
    }
    if let Some(&(id, _)) = job
        .processors
        .logit_bias
        .iter()
        .find(|(id, _)| *id as usize >= tok.vocab_size())
    {
        return Err((
            400,
            format!(
                "logit_bias: token id {id} is out of the vocabulary ({} tokens)",
                tok.vocab_size()
            ),
        ));
    }
    let options = GenerateOptions {
        max_tokens: job.max_tokens,
        sampler: job.sampler.clone(),
        processors: job.processors.clone(),
        stop: tok.eos_ids().to_vec(),
        ..GenerateOptions::default()
    };
    let mut stream = tok.decode_stream(true);
    let mut stop = StopText::new(job.stop.clone());
    let mut hit = false;
    let stats = generate_with(loaded.model.as_ref(), &ids, &options, |id| {
        if let Some(text) = stream.step(id)? {
            let (emit, found) = stop.push(&text);
            if !emit.is_empty() && job.events.send(Event::Text(emit)).is_err() {
                return Ok(ControlFlow::Break(()));
            }
            if found {
                hit = true;
                return Ok(ControlFlow::Break(()));
            }
        }
        if job.events.is_closed() {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })
    .map_err(|e| (500, crate::common::one_line(&e)))?;
    if !hit {
        let rest = stop.finish();
        if !rest.is_empty() {
            let _ = job.events.send(Event::Text(rest));
        }
    }
    let finish_reason = match stats.finish {
        Finish::Length if !hit => "length",
        _ => "stop",
    };
    let _ = job.events.send(Event::Done {
        prompt_tokens: ids.len(),
        completion_tokens: stats.tokens.len(),
        finish_reason,
    });
    Ok(())
}
