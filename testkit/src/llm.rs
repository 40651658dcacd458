//! A stub language-model server speaking both wire formats over real HTTP:
//! Gemini's `POST /v1beta/models/{model}:generateContent` and OpenAI's
//! `POST /v1/chat/completions`. A test scripts the answers (in order, or one
//! rule for every request) and reads back what it received.
//!
//! Point Tabletalk at it with `GEMINI_API_URL = stub.url` (and any
//! `GEMINI_API_KEY`), or `OPENAI_BASE_URL = stub.openai_base_url()`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The key tests configure; the stub checks it is sent as the API expects.
pub const STUB_KEY: &str = "stub-llm-key";

/// Which wire format a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gemini,
    OpenAi,
}

/// Tokens a scripted answer reports, rendered in each format's usage block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StubUsage {
    pub prompt: i64,
    pub cached: i64,
    pub candidates: i64,
    pub thoughts: i64,
}

impl StubUsage {
    /// A realistic call: prompt with part of it cached, answer and thinking.
    pub const TYPICAL: StubUsage = StubUsage {
        prompt: 3_127,
        cached: 1_024,
        candidates: 212,
        thoughts: 845,
    };
}

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// A complete answer.
    Answer { text: String, usage: StubUsage },
    /// The answer withheld by safety filters (Gemini `SAFETY`, OpenAI `content_filter`).
    Blocked { usage: StubUsage },
    /// The prompt itself blocked (Gemini `promptFeedback.blockReason`, OpenAI `refusal`).
    PromptBlocked { usage: StubUsage },
    /// Cut off at the length limit (`MAX_TOKENS` / `length`).
    Truncated { text: String, usage: StubUsage },
    /// Gemini's `RECITATION`.
    Recitation { usage: StubUsage },
    /// An error status with the provider's error body; `retry_after` becomes
    /// the header, `retry_delay` Gemini's `RetryInfo` (e.g. "2s").
    Status {
        status: u16,
        message: String,
        retry_after: Option<String>,
        retry_delay: Option<String>,
    },
    /// Exactly this body (malformed JSON, say) with this status.
    Raw { status: u16, body: String },
    /// Waits, then replies with the inner script.
    Slow {
        delay: Duration,
        then: Box<Scripted>,
    },
}

impl Scripted {
    pub fn answer(text: impl Into<String>) -> Scripted {
        Scripted::Answer {
            text: text.into(),
            usage: StubUsage::TYPICAL,
        }
    }

    pub fn status(status: u16, message: &str) -> Scripted {
        Scripted::Status {
            status,
            message: message.to_owned(),
            retry_after: None,
            retry_delay: None,
        }
    }
}

/// A request as the stub received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub format: Format,
    /// The model: from Gemini's path, or OpenAI's body.
    pub model: String,
    /// `x-goog-api-key`, or the bearer token of `Authorization`.
    pub key: Option<String>,
    pub body: Value,
}

impl Received {
    /// Whether the request wants a JSON answer with this property.
    pub fn asks_for(&self, property: &str) -> bool {
        let schema = match self.format {
            Format::Gemini => &self.body["generationConfig"]["responseSchema"],
            Format::OpenAi => &self.body["response_format"]["json_schema"]["schema"],
        };
        schema["properties"].get(property).is_some()
    }

    /// The system instructions and the user's input, whatever the format.
    pub fn texts(&self) -> (String, String) {
        match self.format {
            Format::Gemini => (
                self.body["systemInstruction"]["parts"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                self.body["contents"][0]["parts"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            Format::OpenAi => (
                self.body["messages"][0]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                self.body["messages"][1]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
        }
    }
}

type Rule = Arc<dyn Fn(&Received) -> Scripted + Send + Sync>;

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Scripted>>,
    rule: Mutex<Option<Rule>>,
    received: Mutex<Vec<Received>>,
}

/// A running stub. Dropping it stops the server.
pub struct StubLlm {
    /// The base URL for `GEMINI_API_URL`.
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StubLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl StubLlm {
    /// Starts on a free local port with nothing scripted (every request
    /// then gets a 500 saying so, so a test cannot pass by accident).
    pub async fn start() -> anyhow::Result<StubLlm> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1beta/models/{call}", post(gemini))
            .route("/v1/chat/completions", post(openai))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            drop(axum::serve(listener, app).await);
        });
        Ok(StubLlm {
            url,
            shared,
            server,
        })
    }

    /// The base URL for `OPENAI_BASE_URL`.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// Queues replies, used in order before any rule.
    pub fn push(&self, replies: impl IntoIterator<Item = Scripted>) {
        lock(&self.shared.script).extend(replies);
    }

    /// Answers every request the queue does not, by looking at it.
    pub fn rule(&self, rule: impl Fn(&Received) -> Scripted + Send + Sync + 'static) {
        *lock(&self.shared.rule) = Some(Arc::new(rule));
    }

    /// Plays a model that answers every question with `sql` (to requests for
    /// the pipeline's analysis, whose JSON answer has an `intent`) and then
    /// with `words` (every other request).
    pub fn answer_with(&self, sql: &str, words: &str) {
        let analysis = json!({"intent": "data", "sql": sql}).to_string();
        let words = words.to_owned();
        self.rule(move |received| {
            if received.asks_for("intent") {
                Scripted::answer(analysis.clone())
            } else {
                Scripted::answer(words.clone())
            }
        });
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

async fn gemini(
    State(shared): State<Arc<Shared>>,
    Path(call): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(model) = call.strip_suffix(":generateContent") else {
        return error(Format::Gemini, 404, "unknown method", None, None);
    };
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    reply(&shared, Format::Gemini, model.to_owned(), key, &body).await
}

async fn openai(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let model = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["model"].as_str().map(str::to_owned))
        .unwrap_or_default();
    reply(&shared, Format::OpenAi, model, key, &body).await
}

async fn reply(
    shared: &Shared,
    format: Format,
    model: String,
    key: Option<String>,
    body: &[u8],
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return error(format, 400, "the request body is not JSON", None, None);
    };
    let received = Received {
        format,
        model,
        key,
        body,
    };
    lock(&shared.received).push(received.clone());
    let next = lock(&shared.script).pop_front();
    let scripted = match next {
        Some(s) => s,
        None => match lock(&shared.rule).clone() {
            Some(rule) => rule(&received),
            None => {
                return error(
                    format,
                    500,
                    "the stub LLM has no scripted answer",
                    None,
                    None,
                )
            }
        },
    };
    render(format, scripted).await
}

async fn render(format: Format, mut scripted: Scripted) -> Response {
    while let Scripted::Slow { delay, then } = scripted {
        tokio::time::sleep(delay).await;
        scripted = *then;
    }
    let ok = |body: Value| (StatusCode::OK, axum::Json(body)).into_response();
    match (format, scripted) {
        (_, Scripted::Slow { .. }) => unreachable!("unwrapped above"),
        (
            _,
            Scripted::Status {
                status,
                message,
                retry_after,
                retry_delay,
            },
        ) => error(format, status, &message, retry_after, retry_delay),
        (_, Scripted::Raw { status, body }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [("content-type", "application/json")],
            body,
        )
            .into_response(),
        (Format::Gemini, Scripted::Answer { text, usage }) => ok(gemini_body(&text, "STOP", usage)),
        (Format::Gemini, Scripted::Truncated { text, usage }) => {
            ok(gemini_body(&text, "MAX_TOKENS", usage))
        }
        (Format::Gemini, Scripted::Blocked { usage }) => ok(gemini_body("", "SAFETY", usage)),
        (Format::Gemini, Scripted::Recitation { usage }) => {
            ok(gemini_body("", "RECITATION", usage))
        }
        (Format::Gemini, Scripted::PromptBlocked { usage }) => ok(json!({
            "promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": gemini_usage(usage),
        })),
        (Format::OpenAi, Scripted::Answer { text, usage }) => {
            ok(openai_body(Some(&text), None, "stop", usage))
        }
        (Format::OpenAi, Scripted::Truncated { text, usage }) => {
            ok(openai_body(Some(&text), None, "length", usage))
        }
        (Format::OpenAi, Scripted::Blocked { usage } | Scripted::Recitation { usage }) => {
            ok(openai_body(None, None, "content_filter", usage))
        }
        (Format::OpenAi, Scripted::PromptBlocked { usage }) => ok(openai_body(
            None,
            Some("I can't help with that request."),
            "stop",
            usage,
        )),
    }
}

fn gemini_usage(usage: StubUsage) -> Value {
    let mut block = json!({
        "promptTokenCount": usage.prompt,
        "candidatesTokenCount": usage.candidates,
        "totalTokenCount": usage.prompt + usage.candidates + usage.thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.prompt}],
    });
    // Gemini leaves out the counts that are zero.
    if usage.cached > 0 {
        block["cachedContentTokenCount"] = json!(usage.cached);
    }
    if usage.thoughts > 0 {
        block["thoughtsTokenCount"] = json!(usage.thoughts);
    }
    block
}

fn gemini_body(text: &str, finish: &str, usage: StubUsage) -> Value {
    let mut parts = vec![];
    if usage.thoughts > 0 {
        parts.push(json!({"text": "**Thinking** about the tables.", "thought": true}));
    }
    if !text.is_empty() {
        parts.push(json!({"text": text}));
    }
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": parts},
            "finishReason": finish,
            "index": 0,
        }],
        "usageMetadata": gemini_usage(usage),
        "modelVersion": "stub",
        "responseId": "stub-response",
    })
}

fn openai_body(text: Option<&str>, refusal: Option<&str>, finish: &str, usage: StubUsage) -> Value {
    json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": refusal},
            "finish_reason": finish,
        }],
        "usage": {
            "prompt_tokens": usage.prompt,
            "completion_tokens": usage.candidates + usage.thoughts,
            "total_tokens": usage.prompt + usage.candidates + usage.thoughts,
            "prompt_tokens_details": {"cached_tokens": usage.cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": usage.thoughts, "audio_tokens": 0},
        },
    })
}

fn error(
    format: Format,
    status: u16,
    message: &str,
    retry_after: Option<String>,
    retry_delay: Option<String>,
) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match format {
        Format::Gemini => {
            let mut details = vec![];
            if let Some(delay) = retry_delay {
                details.push(json!({
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": delay,
                }));
            }
            json!({"error": {"code": status, "message": message, "status": "STUB", "details": details}})
        }
        Format::OpenAi => {
            json!({"error": {"message": message, "type": "stub_error", "param": null, "code": null}})
        }
    };
    let mut response = (code, axum::Json(body)).into_response();
    if let Some(after) = retry_after.and_then(|v| v.parse().ok()) {
        response.headers_mut().insert("retry-after", after);
    }
    response
}
