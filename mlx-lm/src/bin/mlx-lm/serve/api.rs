//! The OpenAI request bodies, checked field by field, and the errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mlx_lm::Message;
use mlx_lm::{LogitsProcessors, Penalty, Sampler};
use serde_json::{json, Map, Value};

use super::worker::Prompt;

/// An OpenAI-style error: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub param: Option<&'static str>,
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn bad(param: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            param: Some(param),
            code: None,
        }
    }

    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            param: None,
            code: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = if self.status.is_server_error() {
            "server_error"
        } else {
            "invalid_request_error"
        };
        let body = json!({"error": {
            "message": self.message,
            "type": kind,
            "param": self.param,
            "code": self.code,
        }});
        (self.status, Json(body)).into_response()
    }
}

/// A checked request.
#[derive(Debug)]
pub struct Request {
    pub prompt: Prompt,
    pub max_tokens: usize,
    pub sampler: Sampler,
    pub processors: LogitsProcessors,
    pub stop: Vec<String>,
    pub stream: bool,
    pub include_usage: bool,
}

fn number(o: &Map<String, Value>, key: &'static str) -> Result<Option<f64>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| ApiError::bad(key, format!("`{key}` must be a number, not {v}"))),
    }
}

fn boolean(o: &Map<String, Value>, key: &'static str) -> Result<bool, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(ApiError::bad(
            key,
            format!("`{key}` must be a boolean, not {v}"),
        )),
    }
}

fn text_content(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        // Content parts: only text parts.
        Value::Array(parts) => parts
            .iter()
            .map(|p| match (p.get("type"), p.get("text")) {
                (Some(Value::String(t)), Some(Value::String(s))) if t == "text" => Some(s.as_str()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat()),
        _ => None,
    }
}

fn messages(o: &Map<String, Value>) -> Result<Vec<Message>, ApiError> {
    let list = match o.get("messages") {
        None | Some(Value::Null) => {
            return Err(ApiError::bad("messages", "`messages` is required"))
        }
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(ApiError::bad("messages", "`messages` must not be empty"))
        }
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(ApiError::bad(
                "messages",
                format!("`messages` must be an array, not {v}"),
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let role = m.get("role").and_then(Value::as_str).ok_or_else(|| {
                ApiError::bad("messages", format!("messages[{i}] needs a string `role`"))
            })?;
            if !["system", "developer", "user", "assistant", "tool"].contains(&role) {
                return Err(ApiError::bad(
                    "messages",
                    format!("messages[{i}]: unknown role `{role}`"),
                ));
            }
            let role = if role == "developer" { "system" } else { role };
            let content = m.get("content").and_then(text_content).ok_or_else(|| {
                ApiError::bad(
                    "messages",
                    format!("messages[{i}].content must be a string or text parts"),
                )
            })?;
            Ok(Message::new(role, content))
        })
        .collect()
}

fn prompt_text(o: &Map<String, Value>) -> Result<String, ApiError> {
    match o.get("prompt") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => {
            Ok(a[0].as_str().unwrap_or_default().to_owned())
        }
        None | Some(Value::Null) => Err(ApiError::bad("prompt", "`prompt` is required")),
        Some(_) => Err(ApiError::bad(
            "prompt",
            "`prompt` must be a string (or an array of one string)",
        )),
    }
}

fn stops(o: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let err = || {
        ApiError::bad(
            "stop",
            "`stop` must be a string or an array of at most 4 strings",
        )
    };
    match o.get("stop") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) if a.len() <= 4 => a
            .iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or_else(err))
            .collect(),
        Some(_) => Err(err()),
    }
}

fn logit_bias(o: &Map<String, Value>) -> Result<Vec<(u32, f32)>, ApiError> {
    let map = match o.get("logit_bias") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::bad(
                "logit_bias",
                "`logit_bias` must be an object of token id to bias",
            ))
        }
    };
    map.iter()
        .map(|(k, v)| {
            let id = k.parse::<u32>().map_err(|_| {
                ApiError::bad("logit_bias", format!("logit_bias: `{k}` is not a token id"))
            })?;
            match v.as_f64() {
                Some(b) if (-100.0..=100.0).contains(&b) => Ok((id, b as f32)),
                _ => Err(ApiError::bad(
                    "logit_bias",
                    format!("logit_bias[{k}] must be a number in [-100, 100], not {v}"),
                )),
            }
        })
        .collect()
}

/// Checks a request body. `chat` picks `messages` over `prompt`;
/// `model_id` is the served model (another `model` is a 404).
pub fn parse(
    body: &[u8],
    chat: bool,
    model_id: &str,
    default_max: usize,
) -> Result<Request, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(o) = value else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        ));
    };
    match o.get("model") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m == model_id || m == "default_model" => {}
        Some(m) => {
            return Err(ApiError {
                status: StatusCode::NOT_FOUND,
                message: format!("the model {m} does not exist; this server serves `{model_id}`"),
                param: Some("model"),
                code: Some("model_not_found"),
            })
        }
    }
    let prompt = if chat {
        Prompt::Chat(messages(&o)?)
    } else {
        Prompt::Text(prompt_text(&o)?)
    };
    let temp = number(&o, "temperature")?.unwrap_or(0.0);
    if !(0.0..=2.0).contains(&temp) {
        return Err(ApiError::bad(
            "temperature",
            format!("`temperature` must be in [0, 2], not {temp}"),
        ));
    }
    let top_p = number(&o, "top_p")?.unwrap_or(1.0);
    if !(top_p > 0.0 && top_p <= 1.0) {
        return Err(ApiError::bad(
            "top_p",
            format!("`top_p` must be in (0, 1], not {top_p}"),
        ));
    }
    let max_key = if o.contains_key("max_completion_tokens") {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    let max_tokens = match o.get(max_key) {
        None | Some(Value::Null) => default_max,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => {
                return Err(ApiError::bad(
                    "max_tokens",
                    format!("`{max_key}` must be an integer >= 1, not {v}"),
                ))
            }
        },
    };
    let seed = match o.get("seed") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .map(|s| s as u64)
            .ok_or_else(|| ApiError::bad("seed", format!("`seed` must be an integer, not {v}")))?,
    };
    if let Some(n) = o.get("n").and_then(|n| (!n.is_null()).then_some(n)) {
        if n.as_i64() != Some(1) {
            return Err(ApiError::bad(
                "n",
                "this server generates one choice (`n` must be 1)",
            ));
        }
    }
    let mut sampler = crate::common::sampler(temp as f32, top_p as f32, seed)
        .map_err(|m| ApiError::bad("temperature", m))?;
    // mlx_lm.server's extensions of the OpenAI parameters.
    if let Some(k) = number(&o, "top_k")? {
        if !(k >= 0.0 && k.fract() == 0.0) {
            return Err(ApiError::bad(
                "top_k",
                format!("`top_k` must be an integer >= 0, not {k}"),
            ));
        }
        sampler.top_k = k as usize;
    }
    if let Some(p) = number(&o, "min_p")? {
        if !(0.0..=1.0).contains(&p) {
            return Err(ApiError::bad(
                "min_p",
                format!("`min_p` must be in [0, 1], not {p}"),
            ));
        }
        sampler.min_p = p;
    }
    let context = match number(&o, "repetition_context_size")? {
        None => 20,
        Some(c) if c >= 0.0 && c.fract() == 0.0 => c as usize,
        Some(c) => {
            return Err(ApiError::bad(
                "repetition_context_size",
                format!("`repetition_context_size` must be an integer >= 0, not {c}"),
            ))
        }
    };
    let repetition = number(&o, "repetition_penalty")?.map(|v| Penalty {
        value: v as f32,
        context,
    });
    if let Some(p) = repetition.filter(|p| p.value < 0.0) {
        return Err(ApiError::bad(
            "repetition_penalty",
            format!("`repetition_penalty` must be >= 0, not {}", p.value),
        ));
    }
    let processors = LogitsProcessors {
        logit_bias: logit_bias(&o)?,
        repetition,
        presence: number(&o, "presence_penalty")?.map(|v| Penalty::new(v as f32)),
        frequency: number(&o, "frequency_penalty")?.map(|v| Penalty::new(v as f32)),
    };
    let include_usage = match o.get("stream_options") {
        Some(Value::Object(so)) => boolean(so, "include_usage")?,
        _ => false,
    };
    Ok(Request {
        prompt,
        max_tokens,
        sampler,
        processors,
        stop: stops(&o)?,
        stream: boolean(&o, "stream")?,
        include_usage,
    })
}
