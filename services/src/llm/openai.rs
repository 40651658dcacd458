//! OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, LiteLLM): the
//! request body, and the answer and its `usage` block read back.
//!
//! <https://platform.openai.com/docs/api-reference/chat/create>. Thinking
//! budgets are a Gemini setting: these endpoints take none (reasoning models
//! choose their own effort), so `TABLETALK_THINKING_*` is not sent here.

use super::settings::StageSettings;
use super::{checked, clip, retry_after, status_attempt, Attempt, FailureKind, Request};
use models::costs::Usage;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST {base}/chat/completions`, the key (if any) as a bearer token.
pub(crate) fn build(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&SecretString>,
    stage: &StageSettings,
    request: &Request<'_>,
) -> reqwest::RequestBuilder {
    let builder = http
        .post(format!("{base_url}/chat/completions"))
        .json(&body(stage, request));
    match api_key {
        Some(key) => builder.bearer_auth(key.expose_secret()),
        None => builder,
    }
}

/// The JSON body of one call.
pub fn body(stage: &StageSettings, request: &Request<'_>) -> Value {
    let mut body = json!({
        "model": stage.model,
        "messages": [
            { "role": "system", "content": request.system },
            { "role": "user", "content": request.prompt },
        ],
        "max_completion_tokens": request.max_output_tokens,
        "stream": false,
    });
    if let Some(schema) = request.schema {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": { "name": "reply", "schema": schema },
        });
    }
    body
}

#[derive(Debug, Deserialize)]
struct Response {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<ChatUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: i64,
    /// The answer and, for reasoning models, the reasoning.
    #[serde(default)]
    completion_tokens: i64,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptDetails {
    cached_tokens: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

/// The ledger's usage from OpenAI's: completion tokens include the
/// reasoning, which the ledger keeps apart as thinking (both billed as output).
fn usage_of(usage: ChatUsage) -> Usage {
    let reasoning = usage
        .completion_tokens_details
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0);
    Usage {
        prompt_tokens: usage.prompt_tokens,
        cached_tokens: usage
            .prompt_tokens_details
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0),
        candidates_tokens: usage.completion_tokens - reasoning,
        thoughts_tokens: reasoning,
    }
}

/// Reads one HTTP answer of `chat/completions`.
pub(crate) fn read(status: StatusCode, headers: &HeaderMap, body: &[u8], model: &str) -> Attempt {
    if !status.is_success() {
        let said = serde_json::from_slice::<ErrorBody>(body)
            .map(|b| b.error.message)
            .unwrap_or_default();
        return status_attempt(status, &said, retry_after(headers), model, "OPENAI_API_KEY");
    }
    let response: Response = match serde_json::from_slice(body) {
        Ok(response) => response,
        Err(e) => {
            return Attempt::Failed {
                kind: FailureKind::Malformed,
                message: format!(
                    "The language model provider's answer could not be read: its answer is not \
                     the documented JSON ({e})."
                ),
                usage: Usage::default(),
            }
        }
    };
    let usage = match checked(usage_of(response.usage.unwrap_or_default())) {
        Ok(usage) => usage,
        Err(failed) => return failed,
    };
    let Some(choice) = response.choices.into_iter().next() else {
        return Attempt::Failed {
            kind: FailureKind::Malformed,
            message: "The language model returned no answer.".to_owned(),
            usage,
        };
    };
    let message = choice.message.unwrap_or(Message {
        content: None,
        refusal: None,
    });
    if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
        return Attempt::Failed {
            kind: FailureKind::Blocked,
            message: format!("The language model refused: {}", clip(&refusal)),
            usage,
        };
    }
    let text = message.content.unwrap_or_default();
    match choice.finish_reason.as_deref().unwrap_or("stop") {
        "length" => Attempt::Failed {
            kind: FailureKind::Truncated,
            message: "The language model's answer was cut off at its length limit. Ask a \
                      narrower question."
                .to_owned(),
            usage,
        },
        "content_filter" => Attempt::Failed {
            kind: FailureKind::Blocked,
            message: "The language model withheld its answer (its content filter). Rephrase \
                      the question."
                .to_owned(),
            usage,
        },
        _ if text.trim().is_empty() => Attempt::Failed {
            kind: FailureKind::Malformed,
            message: "The language model returned an empty answer.".to_owned(),
            usage,
        },
        _ => Attempt::Answer { text, usage },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_is_thinking_and_the_rest_is_the_answer() {
        let usage: ChatUsage = serde_json::from_value(json!({
            "prompt_tokens": 1200,
            "completion_tokens": 500,
            "total_tokens": 1700,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 320}
        }))
        .expect("usage");
        assert_eq!(
            usage_of(usage),
            Usage {
                prompt_tokens: 1200,
                cached_tokens: 1024,
                candidates_tokens: 180,
                thoughts_tokens: 320,
            }
        );
        let bare: ChatUsage =
            serde_json::from_value(json!({"prompt_tokens": 10, "completion_tokens": 5}))
                .expect("usage");
        assert_eq!(
            usage_of(bare),
            Usage {
                prompt_tokens: 10,
                cached_tokens: 0,
                candidates_tokens: 5,
                thoughts_tokens: 0,
            }
        );
    }
}
