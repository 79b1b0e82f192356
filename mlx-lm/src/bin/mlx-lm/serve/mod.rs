//! `mlx-lm serve`: an OpenAI-compatible HTTP API on axum + tokio.
//!
//! Routes: `POST /v1/chat/completions`, `POST /v1/completions` (both with
//! `stream: true` as server-sent events), `GET /v1/models`, `GET /health`.
//! One model, loaded at start on the model thread ([`worker`]); requests
//! wait in a FIFO queue of `--queue` places and are answered one at a
//! time.

mod api;
mod worker;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State as AxState};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::common::ModelArgs;
use crate::BoxError;
use api::ApiError;
use worker::{Event, Job, State};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port (0: any free port; the address is printed on stderr)
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// `max_tokens` of a request that sets none
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,
    /// Requests waiting at most; more get 503
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest request body in bytes; larger ones get 413
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
}

struct Shared {
    jobs: mpsc::Sender<Job>,
    state: Arc<State>,
    model_id: String,
    max_tokens: usize,
    created: u64,
    next_id: AtomicU64,
}

type App = Arc<Shared>;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn run(args: &Args) -> Result<(), BoxError> {
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(args.queue.max(1));
    let state = Arc::new(State::default());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<String, String>>();
    let model_args = args.model.clone();
    let worker_state = state.clone();
    std::thread::Builder::new()
        .name("mlx-model".into())
        .spawn(move || match model_args.load() {
            Ok(loaded) => {
                let _ = ready_tx.send(Ok(loaded.name.clone()));
                worker::run(&loaded, jobs_rx, &worker_state);
            }
            Err(e) => {
                let _ = ready_tx.send(Err(crate::common::one_line(&*e)));
            }
        })?;
    let model_id = ready_rx.recv().map_err(|_| "the model thread ended")??;
    let shared = Arc::new(Shared {
        jobs: jobs_tx,
        state,
        model_id,
        max_tokens: args.max_tokens,
        created: now(),
        next_id: AtomicU64::new(1),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(args.max_body_bytes))
        .with_state(shared);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let addr = SocketAddr::new(args.host, args.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        eprintln!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok::<(), BoxError>(())
    })
}

async fn health(AxState(app): AxState<App>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "model": app.model_id,
        "busy": app.state.busy.load(Ordering::SeqCst),
        "queued": app.state.queued.load(Ordering::SeqCst),
        "served": app.state.served.load(Ordering::SeqCst),
    }))
}

async fn models(AxState(app): AxState<App>) -> Json<Value> {
    Json(json!({"object": "list", "data": [{
        "id": app.model_id, "object": "model", "created": app.created, "owned_by": "mlx-lm",
    }]}))
}

async fn chat(app: AxState<App>, body: Result<Bytes, BytesRejection>) -> Response {
    complete(app.0, body, true)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn completions(app: AxState<App>, body: Result<Bytes, BytesRejection>) -> Response {
    complete(app.0, body, false)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The usage block.
fn usage(prompt: usize, completion: usize) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

async fn complete(
    app: App,
    body: Result<Bytes, BytesRejection>,
    chat: bool,
) -> Result<Response, ApiError> {
    let body = body.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let req = api::parse(&body, chat, &app.model_id, app.max_tokens)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let job = Job {
        prompt: req.prompt,
        max_tokens: req.max_tokens,
        sampler: req.sampler,
        processors: req.processors,
        stop: req.stop,
        events: tx,
    };
    app.state.queued.fetch_add(1, Ordering::SeqCst);
    if app.jobs.try_send(job).is_err() {
        app.state.queued.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request queue is full; try again later",
        ));
    }
    let prefix = if chat { "chatcmpl" } else { "cmpl" };
    let id = format!("{prefix}-{}", app.next_id.fetch_add(1, Ordering::SeqCst));
    let created = now();
    // The first event tells a failed request (an error response) from one
    // that generates.
    let first = rx.recv().await.ok_or_else(|| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the model thread ended")
    })?;
    if let Event::Error(status, message) = first {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Err(ApiError::new(status, message));
    }
    let meta = Meta {
        id,
        created,
        model: app.model_id.clone(),
        chat,
    };
    if req.stream {
        Ok(stream(meta, first, rx, req.include_usage).into_response())
    } else {
        let mut text = String::new();
        let mut event = Some(first);
        while let Some(e) = event {
            match e {
                Event::Text(t) => text.push_str(&t),
                Event::Done {
                    prompt_tokens,
                    completion_tokens,
                    finish_reason,
                } => {
                    let choice = if chat {
                        json!({"index": 0, "message": {"role": "assistant", "content": text},
                               "finish_reason": finish_reason, "logprobs": null})
                    } else {
                        json!({"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": null})
                    };
                    return Ok(Json(json!({
                        "id": meta.id, "object": meta.object(false), "created": meta.created,
                        "model": meta.model, "choices": [choice],
                        "usage": usage(prompt_tokens, completion_tokens),
                    }))
                    .into_response());
                }
                Event::Error(_, m) => {
                    return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m))
                }
            }
            event = rx.recv().await;
        }
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the model thread ended",
        ))
    }
}

struct Meta {
    id: String,
    created: u64,
    model: String,
    chat: bool,
}

impl Meta {
    fn object(&self, chunk: bool) -> &'static str {
        match (self.chat, chunk) {
            (true, false) => "chat.completion",
            (true, true) => "chat.completion.chunk",
            (false, _) => "text_completion",
        }
    }

    fn chunk(&self, choices: Value, usage: Option<Value>) -> SseEvent {
        let mut v = json!({"id": self.id, "object": self.object(true), "created": self.created,
                           "model": self.model, "choices": choices});
        if let Some(u) = usage {
            v["usage"] = u;
        }
        SseEvent::default().data(v.to_string())
    }

    fn delta(&self, text: Option<&str>, finish: Option<&str>, role: bool) -> SseEvent {
        let choice = if self.chat {
            let mut delta = json!({});
            if role {
                delta["role"] = "assistant".into();
            }
            if let Some(t) = text {
                delta["content"] = t.into();
            }
            json!({"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null})
        } else {
            json!({"index": 0, "text": text.unwrap_or(""), "finish_reason": finish, "logprobs": null})
        };
        self.chunk(json!([choice]), None)
    }
}

/// The server-sent events of a streamed request. A forwarding task turns
/// worker events into SSE events; when the client goes, the response
/// stream is dropped, the task's send fails, it drops the worker's
/// receiver, and the worker stops at the next token.
fn stream(
    meta: Meta,
    first: Event,
    mut rx: mpsc::UnboundedReceiver<Event>,
    include_usage: bool,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let (out_tx, out_rx) = mpsc::channel::<SseEvent>(16);
    tokio::spawn(async move {
        if meta.chat && out_tx.send(meta.delta(Some(""), None, true)).await.is_err() {
            return;
        }
        let mut event = Some(first);
        while let Some(e) = event {
            let sse = match e {
                Event::Text(t) => meta.delta(Some(&t), None, false),
                Event::Done {
                    prompt_tokens,
                    completion_tokens,
                    finish_reason,
                } => {
                    let _ = out_tx
                        .send(meta.delta(None, Some(finish_reason), false))
                        .await;
                    if include_usage {
                        let u = usage(prompt_tokens, completion_tokens);
                        let _ = out_tx.send(meta.chunk(json!([]), Some(u))).await;
                    }
                    break;
                }
                Event::Error(_, m) => {
                    let err = json!({"error": {"message": m, "type": "server_error"}});
                    let _ = out_tx.send(SseEvent::default().data(err.to_string())).await;
                    break;
                }
            };
            if out_tx.send(sse).await.is_err() {
                return;
            }
            event = rx.recv().await;
        }
        let _ = out_tx.send(SseEvent::default().data("[DONE]")).await;
    });
    let events = futures_util::stream::unfold(out_rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok(e), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
