//! The language-model client against testkit's stub, over real HTTP, in both
//! wire formats: usage read exactly, finish reasons as clear errors, retries
//! that honour the provider's waits, timeouts, and no provider configured.

use models::costs::{Stage, Usage};
use serde_json::json;
use services::llm::{FailureKind, LlmError, Request};
use services::AppState;
use std::time::Duration;
use testkit::db::TestDb;
use testkit::llm::{Format, Scripted, StubLlm, StubUsage, STUB_KEY};

const SYSTEM: &str = "You turn questions into SQL.";

fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": ["data", "chat"]},
            "sql": {"type": ["string", "null"]}
        },
        "required": ["intent"]
    })
}

/// A state whose provider is the stub, in `format`, with `env` on top.
async fn stubbed(db: &TestDb, stub: &StubLlm, format: Format, env: &[(&str, &str)]) -> AppState {
    let mut vars: Vec<(&str, String)> = match format {
        Format::Gemini => vec![
            ("GEMINI_API_KEY", STUB_KEY.to_owned()),
            ("GEMINI_API_URL", stub.url.clone()),
        ],
        Format::OpenAi => vec![
            ("OPENAI_BASE_URL", stub.openai_base_url()),
            ("OPENAI_API_KEY", STUB_KEY.to_owned()),
        ],
    };
    vars.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
    testkit::app::state(db, &vars).await
}

async fn ask(state: &AppState, stage: Stage) -> Result<services::llm::Reply, LlmError> {
    let schema = schema();
    state
        .llm
        .call(&Request {
            stage,
            system: SYSTEM,
            prompt: "How many orders shipped yesterday?",
            schema: Some(&schema),
            max_output_tokens: 2_048,
        })
        .await
}

fn typical() -> Usage {
    Usage {
        prompt_tokens: StubUsage::TYPICAL.prompt,
        cached_tokens: StubUsage::TYPICAL.cached,
        candidates_tokens: StubUsage::TYPICAL.candidates,
        thoughts_tokens: StubUsage::TYPICAL.thoughts,
    }
}

#[tokio::test]
async fn gemini_answers_with_its_exact_usage_and_gets_key_schema_and_thinking() {
    let db = TestDb::sqlite();
    let stub = StubLlm::start().await.expect("stub");
    let state = stubbed(
        &db,
        &stub,
        Format::Gemini,
        &[("TABLETALK_THINKING_ANALYSIS", "1024")],
    )
    .await;
    stub.push([Scripted::answer(r#"{"intent":"data","sql":"SELECT 1"}"#)]);
    let reply = ask(&state, Stage::Analysis).await.expect("answered");
    assert_eq!(
        reply.text, r#"{"intent":"data","sql":"SELECT 1"}"#,
        "thought parts left out"
    );
    assert_eq!(reply.usage, typical());
    assert_eq!(reply.model, "gemini-2.5-flash");
    assert_eq!(reply.attempts, 1);

    let received = stub.received();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.format, Format::Gemini);
    assert_eq!(got.model, "gemini-2.5-flash");
    assert_eq!(got.key.as_deref(), Some(STUB_KEY), "x-goog-api-key");
    assert_eq!(got.texts().0, SYSTEM);
    let config = &got.body["generationConfig"];
    assert_eq!(config["thinkingConfig"]["thinkingBudget"], 1024);
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(config["responseSchema"]["type"], "OBJECT");
    assert_eq!(
        config["responseSchema"]["properties"]["sql"],
        json!({"type": "STRING", "nullable": true})
    );
    assert_eq!(config["maxOutputTokens"], 2048);

    // Another stage, its own model; no thinking budget configured, none sent.
    stub.push([Scripted::answer("Twelve orders shipped yesterday.")]);
    let reply = ask(&state, Stage::SqlResponse).await.expect("answered");
    assert_eq!(reply.model, "gemini-2.5-flash-lite");
    assert_eq!(stub.received()[1].model, "gemini-2.5-flash-lite");
    assert!(stub.received()[1].body["generationConfig"]
        .get("thinkingConfig")
        .is_none());
}

#[tokio::test]
async fn openai_compatible_answers_with_cached_and_reasoning_tokens() {
    let db = TestDb::sqlite();
    let stub = StubLlm::start().await.expect("stub");
    let state = stubbed(
        &db,
        &stub,
        Format::OpenAi,
        &[
            ("TABLETALK_MODEL_ANALYSIS", "gpt-4.1-mini"),
            ("TABLETALK_THINKING_ANALYSIS", "1024"),
        ],
    )
    .await;
    stub.push([Scripted::answer(r#"{"intent":"chat","sql":null}"#)]);
    let reply = ask(&state, Stage::Analysis).await.expect("answered");
    assert_eq!(reply.text, r#"{"intent":"chat","sql":null}"#);
    assert_eq!(reply.usage, typical(), "reasoning kept apart as thinking");
    assert_eq!(reply.model, "gpt-4.1-mini");
    let got = &stub.received()[0];
    assert_eq!(got.format, Format::OpenAi);
    assert_eq!(got.model, "gpt-4.1-mini");
    assert_eq!(got.key.as_deref(), Some(STUB_KEY), "bearer token");
    assert_eq!(got.texts().0, SYSTEM);
    assert_eq!(
        got.body["response_format"]["json_schema"]["schema"],
        schema()
    );
    assert_eq!(got.body["max_completion_tokens"], 2048);
    assert!(got.body.get("thinkingConfig").is_none());
}

#[tokio::test]
async fn finish_reasons_and_refusals_are_clear_errors_that_keep_the_usage() {
    let db = TestDb::sqlite();
    for format in [Format::Gemini, Format::OpenAi] {
        let stub = StubLlm::start().await.expect("stub");
        let state = stubbed(&db, &stub, format, &[]).await;
        let usage = StubUsage::TYPICAL;
        let cases = [
            (Scripted::Blocked { usage }, FailureKind::Blocked, true),
            (
                Scripted::PromptBlocked { usage },
                FailureKind::Blocked,
                true,
            ),
            (
                Scripted::Truncated {
                    text: r#"{"intent":"da"#.into(),
                    usage,
                },
                FailureKind::Truncated,
                true,
            ),
            (
                Scripted::Raw {
                    status: 200,
                    body: "{\"candidates\": [".into(),
                },
                FailureKind::Malformed,
                false,
            ),
            (Scripted::answer("   "), FailureKind::Malformed, true),
            (
                Scripted::status(400, "Invalid JSON payload received."),
                FailureKind::Refused,
                false,
            ),
        ];
        for (scripted, kind, billed) in cases {
            let label = format!("{format:?} {scripted:?}");
            stub.push([scripted]);
            let err = ask(&state, Stage::Analysis).await.expect_err(&label);
            assert_eq!(err.kind, kind, "{label}: {}", err.message);
            assert_eq!(err.attempts, 1, "{label}: not retried");
            assert_eq!(
                err.usage,
                if billed { typical() } else { Usage::default() },
                "{label}"
            );
            assert!(
                err.message.starts_with("The language model"),
                "{label}: {}",
                err.message
            );
            assert!(!err.message.contains(STUB_KEY), "{label}");
        }
        if format == Format::Gemini {
            stub.push([Scripted::Recitation { usage }]);
            let err = ask(&state, Stage::Analysis).await.expect_err("recitation");
            assert_eq!(err.kind, FailureKind::Recitation);
        }
        stub.push([Scripted::status(401, "API key not valid.")]);
        let err = ask(&state, Stage::Analysis).await.expect_err("401");
        let key_var = match format {
            Format::Gemini => "GEMINI_API_KEY",
            Format::OpenAi => "OPENAI_API_KEY",
        };
        assert!(err.message.contains(key_var), "{}", err.message);
        assert!(
            err.message.contains("API key not valid."),
            "{}",
            err.message
        );
        stub.push([Scripted::status(404, "models/gemini-9 is not found")]);
        let err = ask(&state, Stage::Analysis).await.expect_err("404");
        assert!(
            err.message.contains("\"gemini-2.5-flash\"")
                && err.message.contains("TABLETALK_MODEL_"),
            "{}",
            err.message
        );
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_as_the_provider_asks() {
    let db = TestDb::sqlite();
    for format in [Format::Gemini, Format::OpenAi] {
        let stub = StubLlm::start().await.expect("stub");
        let state = stubbed(&db, &stub, format, &[]).await;

        // 429 with Retry-After: 1 -> waits at least a second, then answers.
        stub.push([
            Scripted::Status {
                status: 429,
                message: "Resource has been exhausted".into(),
                retry_after: Some("1".into()),
                retry_delay: None,
            },
            Scripted::answer("{}"),
        ]);
        let reply = ask(&state, Stage::Analysis).await.expect("answered");
        assert_eq!(reply.attempts, 2, "{format:?}");
        assert!(
            reply.latency_ms >= 1_000,
            "{format:?}: waited {} ms",
            reply.latency_ms
        );
        assert_eq!(reply.usage, typical(), "only the answering call is billed");

        // Two server errors, then an answer (jittered backoff, under 1.5 s).
        stub.push([
            Scripted::status(500, "Internal error"),
            Scripted::status(503, "The model is overloaded."),
            Scripted::answer("{}"),
        ]);
        assert_eq!(
            ask(&state, Stage::Analysis)
                .await
                .expect("answered")
                .attempts,
            3
        );

        // Asked to wait longer than the configured maximum (30 s): no retry.
        stub.push([Scripted::Status {
            status: 429,
            message: "Quota exceeded".into(),
            retry_after: Some("120".into()),
            retry_delay: None,
        }]);
        let err = ask(&state, Stage::Analysis)
            .await
            .expect_err("too long a wait");
        assert_eq!(err.kind, FailureKind::RateLimited);
        assert_eq!(err.attempts, 1);
        assert!(err.message.contains("120 seconds"), "{}", err.message);
    }

    // Gemini's RetryInfo in the error body is a wait too.
    let stub = StubLlm::start().await.expect("stub");
    let state = stubbed(&db, &stub, Format::Gemini, &[]).await;
    stub.push([
        Scripted::Status {
            status: 429,
            message: "Quota exceeded for metric generate_content_requests".into(),
            retry_after: None,
            retry_delay: Some("1.2s".into()),
        },
        Scripted::answer("{}"),
    ]);
    let reply = ask(&state, Stage::Analysis).await.expect("answered");
    assert!(reply.latency_ms >= 1_200, "waited {} ms", reply.latency_ms);

    // Still failing after the retries: the last reason, every attempt counted.
    let stub = StubLlm::start().await.expect("stub");
    let state = stubbed(
        &db,
        &stub,
        Format::Gemini,
        &[("TABLETALK_LLM_RETRIES", "2")],
    )
    .await;
    stub.push((0..3).map(|_| Scripted::status(500, "Internal error")));
    let err = ask(&state, Stage::Analysis).await.expect_err("down");
    assert_eq!(err.kind, FailureKind::Unavailable);
    assert_eq!(err.attempts, 3);
    assert_eq!(stub.received().len(), 3);
    assert!(err.message.contains("HTTP 500"), "{}", err.message);
}

#[tokio::test]
async fn a_slow_provider_times_out_and_a_missing_one_is_named() {
    let db = TestDb::sqlite();
    let stub = StubLlm::start().await.expect("stub");
    let state = stubbed(
        &db,
        &stub,
        Format::OpenAi,
        &[
            ("TABLETALK_LLM_TIMEOUT_SECS", "1"),
            ("TABLETALK_LLM_RETRIES", "0"),
        ],
    )
    .await;
    stub.push([Scripted::Slow {
        delay: Duration::from_secs(3),
        then: Box::new(Scripted::answer("{}")),
    }]);
    let err = ask(&state, Stage::Analysis).await.expect_err("timed out");
    assert_eq!(err.kind, FailureKind::Timeout);
    assert!(err.latency_ms < 2_500, "{} ms", err.latency_ms);
    assert!(err.message.contains("1 seconds"), "{}", err.message);

    let bare = testkit::app::state(&db, &[]).await;
    assert!(!bare.llm.is_configured());
    let err = ask(&bare, Stage::Analysis)
        .await
        .expect_err("not configured");
    assert_eq!(err.kind, FailureKind::NotConfigured);
    assert!(
        err.message.contains("GEMINI_API_KEY") && err.message.contains("OPENAI_BASE_URL"),
        "{}",
        err.message
    );
}
