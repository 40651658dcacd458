//! Gemini's `generateContent` over REST: the request body, and the answer,
//! its `usageMetadata` and finish reasons read back.
//!
//! <https://ai.google.dev/api/generate-content>

use super::settings::StageSettings;
use super::{checked, clip, retry_after, status_attempt, Attempt, FailureKind, Request};
use models::costs::Usage;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// `POST {base}/v1beta/models/{model}:generateContent` with the key in
/// `x-goog-api-key` (never in the URL, where logs would keep it).
pub(crate) fn build(
    http: &reqwest::Client,
    base_url: &str,
    api_key: &SecretString,
    stage: &StageSettings,
    request: &Request<'_>,
) -> reqwest::RequestBuilder {
    let model = stage.model.trim_start_matches("models/");
    http.post(format!("{base_url}/v1beta/models/{model}:generateContent"))
        .header("x-goog-api-key", api_key.expose_secret())
        .json(&body(stage, request))
}

/// The JSON body of one call.
pub fn body(stage: &StageSettings, request: &Request<'_>) -> Value {
    let mut generation = Map::new();
    generation.insert("temperature".into(), json!(0));
    generation.insert("maxOutputTokens".into(), json!(request.max_output_tokens));
    if let Some(schema) = request.schema {
        generation.insert("responseMimeType".into(), json!("application/json"));
        generation.insert("responseSchema".into(), schema_subset(schema));
    }
    if let Some(budget) = stage.thinking_budget {
        generation.insert("thinkingConfig".into(), json!({ "thinkingBudget": budget }));
    }
    json!({
        "systemInstruction": { "parts": [{ "text": request.system }] },
        "contents": [{ "role": "user", "parts": [{ "text": request.prompt }] }],
        "generationConfig": Value::Object(generation),
    })
}

/// A JSON Schema as Gemini's `Schema` (an OpenAPI 3.0 subset): upper-case
/// type names, `["string", "null"]` as `nullable`, and only the keywords it
/// documents (others, like `additionalProperties`, are refused by the API).
pub fn schema_subset(schema: &Value) -> Value {
    let Value::Object(fields) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "type" => match value {
                Value::String(name) => {
                    out.insert("type".into(), json!(name.to_ascii_uppercase()));
                }
                Value::Array(names) => {
                    let mut named = names.iter().filter_map(Value::as_str);
                    let nullable = names.iter().any(|n| n == "null");
                    if let Some(name) = named.find(|n| *n != "null") {
                        out.insert("type".into(), json!(name.to_ascii_uppercase()));
                    }
                    if nullable {
                        out.insert("nullable".into(), json!(true));
                    }
                }
                _ => {}
            },
            "properties" => {
                if let Value::Object(properties) = value {
                    let converted: Map<String, Value> = properties
                        .iter()
                        .map(|(name, s)| (name.clone(), schema_subset(s)))
                        .collect();
                    // The order the answer is written in: as given, or the keys' order.
                    let ordering = fields
                        .get("propertyOrdering")
                        .cloned()
                        .unwrap_or_else(|| json!(properties.keys().collect::<Vec<_>>()));
                    out.insert("propertyOrdering".into(), ordering);
                    out.insert("properties".into(), Value::Object(converted));
                }
            }
            "items" => {
                out.insert("items".into(), schema_subset(value));
            }
            "anyOf" => {
                if let Value::Array(options) = value {
                    out.insert(
                        "anyOf".into(),
                        Value::Array(options.iter().map(schema_subset).collect()),
                    );
                }
            }
            "format" | "description" | "nullable" | "enum" | "required" | "minItems"
            | "maxItems" | "minimum" | "maximum" => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    candidates: Option<Vec<Candidate>>,
    usage_metadata: Option<UsageMetadata>,
    prompt_feedback: Option<PromptFeedback>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    parts: Option<Vec<Part>>,
}

#[derive(Debug, Deserialize)]
struct Part {
    text: Option<String>,
    /// Thought summaries are parts too; they are not the answer.
    #[serde(default)]
    thought: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: i64,
    #[serde(default)]
    cached_content_token_count: i64,
    #[serde(default)]
    candidates_token_count: i64,
    #[serde(default)]
    thoughts_token_count: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<Value>,
}

/// Reads one HTTP answer of `generateContent`.
pub(crate) fn read(status: StatusCode, headers: &HeaderMap, body: &[u8], model: &str) -> Attempt {
    if !status.is_success() {
        let detail = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .map(|b| b.error);
        let said = detail.as_ref().map_or("", |d| d.message.as_str());
        let wait =
            retry_after(headers).or_else(|| detail.as_ref().and_then(|d| retry_info(&d.details)));
        return status_attempt(status, said, wait, model, "GEMINI_API_KEY");
    }
    let response: Response = match serde_json::from_slice(body) {
        Ok(response) => response,
        Err(e) => return malformed(format!("its answer is not the documented JSON ({e})")),
    };
    let metadata = response.usage_metadata.unwrap_or_default();
    let usage = match checked(Usage {
        prompt_tokens: metadata.prompt_token_count,
        cached_tokens: metadata.cached_content_token_count,
        candidates_tokens: metadata.candidates_token_count,
        thoughts_tokens: metadata.thoughts_token_count,
    }) {
        Ok(usage) => usage,
        Err(failed) => return failed,
    };
    if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
        return Attempt::Failed {
            kind: FailureKind::Blocked,
            message: format!(
                "The language model refused the question ({}). Rephrase it and try again.",
                reason_text(&reason)
            ),
            usage,
        };
    }
    let Some(candidate) = response.candidates.and_then(|c| c.into_iter().next()) else {
        return Attempt::Failed {
            kind: FailureKind::Malformed,
            message: "The language model returned no answer.".to_owned(),
            usage,
        };
    };
    let text: String = candidate
        .content
        .and_then(|c| c.parts)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !p.thought)
        .filter_map(|p| p.text)
        .collect();
    match candidate.finish_reason.as_deref().unwrap_or("STOP") {
        "STOP" if text.trim().is_empty() => Attempt::Failed {
            kind: FailureKind::Malformed,
            message: "The language model returned an empty answer.".to_owned(),
            usage,
        },
        "STOP" => Attempt::Answer { text, usage },
        "MAX_TOKENS" => Attempt::Failed {
            kind: FailureKind::Truncated,
            message: "The language model's answer was cut off at its length limit. Ask a \
                      narrower question."
                .to_owned(),
            usage,
        },
        "RECITATION" => Attempt::Failed {
            kind: FailureKind::Recitation,
            message: "The language model stopped because its answer recited published text. \
                      Rephrase the question."
                .to_owned(),
            usage,
        },
        reason @ ("SAFETY" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY") => {
            Attempt::Failed {
                kind: FailureKind::Blocked,
                message: format!(
                    "The language model withheld its answer ({}). Rephrase the question.",
                    reason_text(reason)
                ),
                usage,
            }
        }
        other => Attempt::Failed {
            kind: FailureKind::Malformed,
            message: format!(
                "The language model stopped without an answer (finish reason {}).",
                clip(other)
            ),
            usage,
        },
    }
}

fn malformed(why: String) -> Attempt {
    Attempt::Failed {
        kind: FailureKind::Malformed,
        message: format!("The language model provider's answer could not be read: {why}."),
        usage: Usage::default(),
    }
}

/// A finish or block reason in words.
fn reason_text(reason: &str) -> String {
    match reason {
        "SAFETY" => "its safety filters".to_owned(),
        "BLOCKLIST" => "a blocked term".to_owned(),
        "PROHIBITED_CONTENT" => "prohibited content".to_owned(),
        "SPII" => "sensitive personal information".to_owned(),
        other => format!("reason {}", clip(other)),
    }
}

/// Gemini's `google.rpc.RetryInfo` detail: `{"retryDelay": "13s"}`.
fn retry_info(details: &[Value]) -> Option<Duration> {
    details
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| d.get("retryDelay").and_then(Value::as_str))
        .and_then(|delay| delay.strip_suffix('s'))
        .and_then(|secs| secs.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_schemas_become_gemini_schemas() {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "emails": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
                "intent": {"type": "string", "enum": ["data", "chat"]},
                "sql": {"type": ["string", "null"], "description": "the query"}
            },
            "required": ["intent"]
        });
        assert_eq!(
            schema_subset(&schema),
            json!({
                "type": "OBJECT",
                "propertyOrdering": ["emails", "intent", "sql"],
                "properties": {
                    "emails": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 5},
                    "intent": {"type": "STRING", "enum": ["data", "chat"]},
                    "sql": {"type": "STRING", "nullable": true, "description": "the query"}
                },
                "required": ["intent"]
            })
        );
    }

    #[test]
    fn retry_info_is_read_from_error_details() {
        let details = vec![
            json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure"}),
            json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13.5s"}),
        ];
        assert_eq!(retry_info(&details), Some(Duration::from_millis(13_500)));
        assert_eq!(retry_info(&details[..1]), None);
    }
}
