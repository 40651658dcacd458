//! Language-model providers (DESIGN.md §6): Google Gemini over its REST API
//! and any OpenAI-compatible chat-completions endpoint, behind one call.
//!
//! A thin typed client on reqwest rather than a provider crate: the ledger
//! needs every usage field exactly (Gemini's `cachedContentTokenCount` and
//! `thoughtsTokenCount`, OpenAI's `cached_tokens` and `reasoning_tokens`),
//! finish reasons as distinct errors, and one retry policy that honours both
//! `Retry-After` and Gemini's `RetryInfo`; the crates that exist cover one
//! provider each, lag the APIs' newer usage fields or hide the raw response,
//! and would add a second HTTP stack to a 2-core build. Two small wire
//! modules ([`gemini`], [`openai`]) keep each format in one place.
//!
//! Every attempt that reaches the provider is timed; a failed call still
//! reports the usage the provider counted (a blocked or truncated answer is
//! billed), so the pipeline can record what it cost.

pub mod gemini;
pub mod openai;
pub mod settings;

use crate::Config;
use models::costs::{Stage, Usage};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use settings::{Provider, NOT_CONFIGURED};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One call: a stage's instructions and input, and optionally the JSON
/// Schema the answer must follow (then the answer text is JSON).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub stage: Stage,
    /// The instructions (system prompt).
    pub system: &'a str,
    /// The input (the question, schema, rows...).
    pub prompt: &'a str,
    /// A JSON Schema (lower-case `type` names, as OpenAI takes it; the Gemini
    /// client converts it to Gemini's schema subset).
    pub schema: Option<&'a serde_json::Value>,
    /// Most tokens of answer (thinking excluded where the provider counts it apart).
    pub max_output_tokens: u32,
}

/// A successful answer and what it cost to get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub usage: Usage,
    /// The model that was asked (the stage's configured model).
    pub model: String,
    /// Milliseconds from the first attempt to the answer, waits included.
    pub latency_ms: i64,
    /// Attempts made (1 when the first succeeded).
    pub attempts: u32,
}

/// Why a call gave no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No provider is configured.
    NotConfigured,
    /// The provider blocked the prompt or the answer (safety, policy, refusal).
    Blocked,
    /// The answer hit the output token limit before it was complete.
    Truncated,
    /// The provider stopped the answer as a recitation of its training data.
    Recitation,
    /// Still rate limited after the retries, or asked to wait too long.
    RateLimited,
    /// Server errors or dropped connections after the retries.
    Unavailable,
    /// No answer within the timeout, after the retries.
    Timeout,
    /// The answer could not be read (not the documented format).
    Malformed,
    /// The provider refused the request itself (key, model, input).
    Refused,
}

/// A call that failed: a message for a person, and what the provider billed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LlmError {
    pub kind: FailureKind,
    pub message: String,
    /// Tokens the provider counted for the failed answer (zero if none).
    pub usage: Usage,
    pub model: String,
    pub latency_ms: i64,
    pub attempts: u32,
}

/// What one attempt came to, as read by a wire module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    Answer {
        text: String,
        usage: Usage,
    },
    /// Final: retrying would not help.
    Failed {
        kind: FailureKind,
        message: String,
        usage: Usage,
    },
    /// Worth another attempt, after `wait` if the provider named one.
    Retry {
        kind: FailureKind,
        message: String,
        wait: Option<Duration>,
    },
}

/// The client: shared by every question of a process.
#[derive(Clone)]
pub struct Llm {
    http: reqwest::Client,
    config: Arc<Config>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field(
                "provider",
                &self.config.llm.provider.as_ref().map(Provider::name),
            )
            .finish()
    }
}

/// First wait between attempts; doubled per attempt, with full jitter.
const BASE_BACKOFF: Duration = Duration::from_millis(500);

impl Llm {
    /// A client for the configured provider (none configured is fine: each
    /// call then says which variable to set).
    pub fn new(config: Arc<Config>) -> anyhow::Result<Llm> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("tabletalk/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Llm { http, config })
    }

    /// Whether a provider is configured.
    pub fn is_configured(&self) -> bool {
        self.config.llm.provider.is_some()
    }

    /// Asks the stage's model, retrying 429s, server errors, timeouts and
    /// dropped connections with jittered exponential backoff (or the wait the
    /// provider names, if it is not longer than the configured maximum).
    #[tracing::instrument(name = "llm_call", level = "debug", skip_all, fields(stage = request.stage.as_str()))]
    pub async fn call(&self, request: &Request<'_>) -> Result<Reply, LlmError> {
        let settings = &self.config.llm;
        let stage = settings.stage(request.stage);
        let started = Instant::now();
        let fail = |kind, message: String, usage, attempts| LlmError {
            kind,
            message,
            usage,
            model: stage.model.clone(),
            latency_ms: elapsed_ms(started),
            attempts,
        };
        let Some(provider) = &settings.provider else {
            return Err(fail(
                FailureKind::NotConfigured,
                NOT_CONFIGURED.to_owned(),
                Usage::default(),
                0,
            ));
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let builder = match provider {
                Provider::Gemini { api_key, base_url } => {
                    gemini::build(&self.http, base_url, api_key, stage, request)
                }
                Provider::OpenAi { base_url, api_key } => {
                    openai::build(&self.http, base_url, api_key.as_ref(), stage, request)
                }
            };
            let sent = tokio::time::timeout(settings.timeout, async {
                let response = builder.send().await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, body))
            })
            .await;
            let outcome = match sent {
                Err(_) => Attempt::Retry {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "The language model did not answer within {} seconds.",
                        settings.timeout.as_secs()
                    ),
                    wait: None,
                },
                Ok(Err(err)) => {
                    // reqwest's errors name the URL, never the headers (the key).
                    tracing::warn!(error = %err.without_url(), "language model request failed");
                    Attempt::Retry {
                        kind: FailureKind::Unavailable,
                        message: "The language model provider could not be reached.".to_owned(),
                        wait: None,
                    }
                }
                Ok(Ok((status, headers, body))) => match provider {
                    Provider::Gemini { .. } => gemini::read(status, &headers, &body, &stage.model),
                    Provider::OpenAi { .. } => openai::read(status, &headers, &body, &stage.model),
                },
            };
            match outcome {
                Attempt::Answer { text, usage } => {
                    return Ok(Reply {
                        text,
                        usage,
                        model: stage.model.clone(),
                        latency_ms: elapsed_ms(started),
                        attempts,
                    })
                }
                Attempt::Failed {
                    kind,
                    message,
                    usage,
                } => return Err(fail(kind, message, usage, attempts)),
                Attempt::Retry {
                    kind,
                    message,
                    wait,
                } => {
                    if attempts > settings.retries {
                        return Err(fail(kind, message, Usage::default(), attempts));
                    }
                    let delay = match wait {
                        Some(asked) if asked > settings.max_backoff => {
                            return Err(fail(
                                FailureKind::RateLimited,
                                format!(
                                    "The language model provider asks to wait {} seconds before \
                                     the next request. Try again later.",
                                    asked.as_secs_f64().ceil()
                                ),
                                Usage::default(),
                                attempts,
                            ))
                        }
                        Some(asked) => asked + jitter(asked / 10),
                        None => jitter(backoff_cap(attempts, settings.max_backoff)),
                    };
                    tracing::info!(
                        stage = request.stage.as_str(),
                        attempt = attempts,
                        wait_ms = delay.as_millis() as u64,
                        reason = %message,
                        "retrying the language model"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The upper bound of the wait before attempt `attempts + 1`: 0.5 s, 1 s,
/// 2 s, ... up to `max`.
fn backoff_cap(attempts: u32, max: Duration) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    BASE_BACKOFF.saturating_mul(factor).min(max)
}

/// A random duration from zero to `max` (full jitter: callers retrying
/// together spread out instead of returning at once).
fn jitter(max: Duration) -> Duration {
    let bytes = crate::random::bytes::<8>().unwrap_or_default();
    let fraction = u64::from_le_bytes(bytes) as f64 / u64::MAX as f64;
    max.mul_f64(fraction)
}

/// What an HTTP error status means for a retry: 408, 429 and 5xx are worth
/// another attempt.
pub(crate) fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// The wait a response asks for: `retry-after-ms` (OpenAI), then
/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.timestamp() - crate::clock::now();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

/// What an error status comes to: another attempt (408, 429, 5xx; after
/// `wait` if the provider named one) or a refusal that retrying cannot fix.
pub(crate) fn status_attempt(
    status: StatusCode,
    said: &str,
    wait: Option<Duration>,
    model: &str,
    key_var: &str,
) -> Attempt {
    if !retryable(status) {
        return Attempt::Failed {
            kind: FailureKind::Refused,
            message: refused(status, said, model, key_var),
            usage: Usage::default(),
        };
    }
    let limited = status == StatusCode::TOO_MANY_REQUESTS;
    Attempt::Retry {
        kind: if limited {
            FailureKind::RateLimited
        } else {
            FailureKind::Unavailable
        },
        message: format!(
            "The language model provider is {} (HTTP {}): {}",
            if limited {
                "rate limiting Tabletalk"
            } else {
                "failing"
            },
            status.as_u16(),
            clip(said)
        ),
        wait,
    }
}

/// The message for an error status that retrying does not fix.
fn refused(status: StatusCode, provider_message: &str, model: &str, key_var: &str) -> String {
    let said = clip(provider_message);
    match status.as_u16() {
        401 | 403 => format!(
            "The language model provider did not accept Tabletalk's key (HTTP {}): check {key_var}. It said: {said}",
            status.as_u16()
        ),
        404 => format!(
            "The language model provider does not know the model {model:?} (HTTP 404): check the \
             TABLETALK_MODEL_* settings. It said: {said}"
        ),
        code => format!("The language model provider refused the request (HTTP {code}): {said}"),
    }
}

/// A provider's message, cut to a readable length.
pub(crate) fn clip(message: &str) -> String {
    let message = message.trim();
    if message.is_empty() {
        return "(no message)".to_owned();
    }
    let mut out: String = message.chars().take(300).collect();
    if out.len() < message.len() {
        out.push('…');
    }
    out
}

/// Usage that passes the ledger's checks, or the failure to report instead.
pub(crate) fn checked(usage: Usage) -> Result<Usage, Attempt> {
    usage
        .validate()
        .map(|()| usage)
        .map_err(|e| Attempt::Failed {
            kind: FailureKind::Malformed,
            message: format!(
                "The language model provider reported impossible token counts: {}",
                e.message()
            ),
            usage: Usage::default(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        let mut dated = HeaderMap::new();
        dated.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&dated), Some(Duration::ZERO), "in the past");
        dated.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&dated), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_jitter_stays_below() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff_cap(1, max), Duration::from_millis(500));
        assert_eq!(backoff_cap(2, max), Duration::from_secs(1));
        assert_eq!(backoff_cap(4, max), Duration::from_secs(4));
        assert_eq!(backoff_cap(40, max), max);
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(1)) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn only_timeouts_rate_limits_and_server_errors_are_retried() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                retryable(StatusCode::from_u16(code).expect("status")),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 422] {
            assert!(
                !retryable(StatusCode::from_u16(code).expect("status")),
                "{code}"
            );
        }
    }
}
