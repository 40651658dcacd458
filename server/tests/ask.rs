//! The Ask page's stream (`POST /dashboard/ask/start`, then
//! `GET /dashboard/ask/stream?ticket=`) over real HTTP: the server on a port,
//! the stub LLM on another, a real SQLite sample database.

use app::api::ask::{stream_url, AskEvent};
use models::ask::Progress;
use models::costs::{ConversationStatus, Stage};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, ORIGIN};
use reqwest::StatusCode;
use std::time::Duration;
use testkit::db::TestDb;
use testkit::llm::{Scripted, StubLlm, STUB_KEY};
use testkit::server::{spawn_with, Session, TestServer};
use testkit::status::assert_status;

struct Fixture {
    app: TestServer,
    stub: StubLlm,
    owner: Session,
    database: String,
}

/// An owner signed in, with a SQLite shop database selected, and the stub as Gemini.
async fn fixture() -> Fixture {
    let stub = StubLlm::start().await.expect("stub");
    let stub_url = stub.url.clone();
    let app = spawn_with(
        TestDb::sqlite(),
        move |_| {
            vec![
                ("GEMINI_API_KEY", STUB_KEY.to_owned()),
                ("GEMINI_API_URL", stub_url),
            ]
        },
        |_| {},
    )
    .await;
    let store = &app.state.store;
    let (owner, _) = testkit::app::org(store, 1001, "Acme").await;
    let database = testkit::app::sqlite_database(
        &app.state,
        &owner,
        app.targets_dir.path(),
        "shop.db",
        "CREATE TABLE sales (product TEXT, revenue NUMERIC); \
         INSERT INTO sales VALUES ('Tea', 12.5), ('Cake', 4.25), ('Jam', 7);",
    )
    .await;
    let credentials = services::auth::credentials::reset(store, &owner)
        .await
        .expect("credentials");
    let owner = app.sign_in(&credentials).await;
    Fixture {
        app,
        stub,
        owner,
        database: database.as_str().to_owned(),
    }
}

/// The stub will answer "Which product sold the most?" from the shop; the
/// owner asks it.
async fn ask_which_product_sold_most(fx: &Fixture) -> reqwest::Response {
    fx.stub.answer_with(
        "SELECT product, revenue FROM sales ORDER BY revenue DESC",
        "Tea sold the most: 12.5.",
    );
    ask(fx, "Which product sold the most?", Some(&fx.database)).await
}

/// Leaves `question` for `token`'s stream: the response of the start call.
async fn start(
    fx: &Fixture,
    token: &str,
    question: &str,
    database: Option<&str>,
) -> reqwest::Response {
    fx.app
        .http
        .post(format!("{}/dashboard/ask/start", fx.app.url))
        .bearer_auth(token)
        .json(&serde_json::json!({"question": question, "database_id": database}))
        .send()
        .await
        .expect("request")
}

/// Opens the stream of `ticket`.
async fn stream(fx: &Fixture, token: &str, ticket: &str) -> reqwest::Response {
    fx.app
        .http
        .get(format!("{}{}", fx.app.url, stream_url(ticket)))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

/// The owner asks `question` of `database` (their active one if `None`),
/// both steps as the browser takes them.
async fn ask(fx: &Fixture, question: &str, database: Option<&str>) -> reqwest::Response {
    testkit::server::ask_stream(
        &fx.app.http,
        &fx.app.url,
        &fx.owner.token,
        question,
        database,
    )
    .await
}

/// The events of one stream, read to its end.
async fn events(response: reqwest::Response) -> Vec<AskEvent> {
    let body = response.text().await.expect("the stream ends");
    let mut events = Vec::new();
    for block in body.split("\n\n") {
        let data: Vec<&str> = block
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .collect();
        if !data.is_empty() {
            events.push(serde_json::from_str(&data.join("\n")).expect("an AskEvent"));
        }
    }
    events
}

#[tokio::test]
async fn a_question_streams_its_stages_then_the_answer_with_rows_and_a_chart() {
    let fx = fixture().await;
    let response = ask_which_product_sold_most(&fx).await;
    assert_status(&response, StatusCode::OK);
    assert_eq!(
        response.headers().get(CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"text/event-stream"[..])
    );
    assert_eq!(
        response.headers().get(CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let events = events(response).await;
    let progress: Vec<&Progress> = events
        .iter()
        .filter_map(|e| match e {
            AskEvent::Progress(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(
        progress,
        [
            &Progress::Started {
                stage: Stage::Analysis
            },
            &Progress::SqlReady {
                sql: "SELECT product, revenue FROM sales ORDER BY revenue DESC".into()
            },
            &Progress::RowsReady {
                rows: 3,
                truncated: false
            },
            &Progress::Started {
                stage: Stage::SqlResponse
            },
        ]
    );
    let Some(AskEvent::Answer { answer, chart }) = events.last() else {
        panic!("the stream ends with the answer: {events:?}");
    };
    assert_eq!(answer.status, ConversationStatus::Answered);
    assert_eq!(answer.text, "Tea sold the most: 12.5.");
    assert_eq!(answer.result.as_ref().map(|r| r.rows.len()), Some(3));
    assert_eq!(answer.stages.len(), 2);
    let chart = chart.as_ref().expect("product/revenue is a chart");
    assert_eq!(
        chart.description,
        "revenue by product: Tea 12.5, Jam 7, Cake 4.25"
    );
    // Recorded, from the web.
    let (channel, status): (String, String) =
        sqlx::query_as("SELECT channel, status FROM conversations WHERE conversation_id = $1")
            .bind(answer.conversation_id)
            .fetch_one(fx.app.state.store.pool())
            .await
            .expect("the conversation is recorded");
    assert_eq!((channel.as_str(), status.as_str()), ("web", "answered"));
}

#[tokio::test]
async fn a_reconnecting_browser_is_told_to_stop_and_nothing_is_asked_again() {
    let fx = fixture().await;
    fx.stub.answer_with("SELECT 1", "One.");
    let started = start(&fx, &fx.owner.token, "How many?", None).await;
    let ticket: String = started.json().await.expect("a ticket");
    let url = format!("{}{}", fx.app.url, stream_url(&ticket));
    let response = fx
        .app
        .http
        .get(url)
        .bearer_auth(&fx.owner.token)
        .header("last-event-id", "2")
        .send()
        .await
        .expect("request");
    assert_status(&response, StatusCode::NO_CONTENT);
    assert!(fx.stub.received().is_empty(), "the model was not called");
}

#[tokio::test]
async fn refusals_say_why_and_ask_nothing() {
    let fx = fixture().await;
    fx.stub.answer_with("SELECT 1", "One.");
    let refused = |response: reqwest::Response| async move {
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        (
            status,
            body["message"].as_str().unwrap_or_default().to_owned(),
        )
    };

    // A page on another site, riding the session cookie.
    let response = fx
        .app
        .http
        .post(format!("{}/dashboard/ask/start", fx.app.url))
        .header(COOKIE, format!("tabletalk_session={}", fx.owner.token))
        .header(ORIGIN, "https://evil.example")
        .json(&serde_json::json!({"question": "How many?", "database_id": null}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let (status, message) =
        refused(start(&fx, &fx.owner.token, "How many?", Some("not-a-database-id")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("database id is not valid"), "{message}");
    let (status, message) = refused(start(&fx, &fx.owner.token, "   ", None).await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::BAD_REQUEST, "Type a question first.")
    );
    let (status, _) = refused(start(&fx, "not-a-session", "How many?", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A ticket works once, for the person who got it, and only as a ticket.
    let failed = |events: Vec<AskEvent>| match events.as_slice() {
        [AskEvent::Failed(error)] => error.clone(),
        other => panic!("one failed event: {other:?}"),
    };
    let error = failed(events(stream(&fx, &fx.owner.token, &"0".repeat(32)).await).await);
    assert!(
        error.message().contains("expired or was already asked"),
        "{error:?}"
    );
    let other = services::auth::credentials::reset(
        &fx.app.state.store,
        &testkit::app::person(&fx.app.state.store, 3003, "Eve").await,
    )
    .await
    .expect("credentials");
    let eve = fx.app.sign_in(&other).await;
    let started = start(&fx, &fx.owner.token, "How many?", None).await;
    let ticket: String = started.json().await.expect("a ticket");
    let error = failed(events(stream(&fx, &eve.token, &ticket).await).await);
    assert!(
        error.message().contains("expired or was already asked"),
        "{error:?}"
    );
    let error = failed(events(stream(&fx, "not-a-session", &ticket).await).await);
    assert_eq!(error.status(), 401, "{error:?}");

    // Issue 29: the question may not travel in the URL (fails on the old
    // code, which took `?question=` and asked it).
    let response = fx
        .app
        .http
        .get(format!("{}/dashboard/ask/stream?question=a", fx.app.url))
        .bearer_auth(&fx.owner.token)
        .send()
        .await
        .expect("request");
    assert_status(&response, StatusCode::BAD_REQUEST);
    assert!(fx.stub.received().is_empty(), "the model was never called");
}

#[tokio::test]
async fn a_closed_page_does_not_cancel_the_question_it_is_answered_and_recorded() {
    let fx = fixture().await;
    fx.stub.push([Scripted::Slow {
        delay: Duration::from_millis(800),
        then: Box::new(Scripted::answer(
            serde_json::json!({"intent": "data", "sql": "SELECT count(*) AS n FROM sales"})
                .to_string(),
        )),
    }]);
    fx.stub.answer_with("SELECT 1", "There are 3 sales.");
    let mut response = ask(&fx, "How many sales?", None).await;
    // The first event (Analysis started), then the page goes away.
    let first = response.chunk().await.expect("a chunk").expect("an event");
    assert!(String::from_utf8_lossy(&first).contains("Analysis"));
    drop(response);
    let pool = fx.app.state.store.pool();
    let mut recorded = None;
    for _ in 0..100 {
        recorded = sqlx::query_as::<_, (String, Option<i64>)>(
            "SELECT status, row_count FROM conversations",
        )
        .fetch_optional(pool)
        .await
        .expect("query");
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recorded, Some(("answered".to_owned(), Some(1))));
}

/// `/metrics` after a question: the counters of every layer it went
/// through moved (other tests in this binary may move them too, so each is
/// compared with its value before).
#[tokio::test]
async fn metrics_count_a_question_from_the_request_to_the_model_and_the_query() {
    use testkit::scrape::{has, sum};
    let fx = fixture().await;
    let scrape = || async {
        let response = fx
            .app
            .http
            .get(format!("{}/metrics", fx.app.url))
            .send()
            .await
            .expect("request");
        assert_status(&response, StatusCode::OK);
        assert!(response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
        response.text().await.expect("text")
    };
    let before = scrape().await;
    let response = ask_which_product_sold_most(&fx).await;
    let Some(AskEvent::Answer { answer, .. }) = events(response).await.pop() else {
        panic!("an answer");
    };
    assert_eq!(answer.status, ConversationStatus::Answered);
    let after = scrape().await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sum(&after, name, labels) - sum(&before, name, labels)
    };

    assert!(
        moved(
            "tabletalk_questions_total",
            &[("channel", "web"), ("outcome", "answered")]
        ) >= 1.0
    );
    for stage in ["Analysis", "SQL Response"] {
        assert!(
            moved(
                "tabletalk_llm_calls_total",
                &[("stage", stage), ("outcome", "ok")]
            ) >= 1.0,
            "{stage}: {after}"
        );
    }
    let tokens: i64 = answer
        .stages
        .iter()
        .map(|s| s.usage.prompt_tokens + s.usage.candidates_tokens + s.usage.thoughts_tokens)
        .sum();
    assert!(tokens > 0);
    assert!(moved("tabletalk_llm_tokens_total", &[]) >= tokens as f64);
    let cost = answer.total_cost.0 as f64 / models::Usd::SCALE as f64;
    assert!(cost > 0.0, "the stub's model has a price");
    assert!(moved("tabletalk_llm_cost_dollars_total", &[]) >= cost * 0.999);
    assert!(
        moved(
            "tabletalk_target_query_duration_seconds_count",
            &[("kind", "sqlite"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(
        moved(
            "tabletalk_http_request_duration_seconds_count",
            &[
                ("route", "/dashboard/ask/stream"),
                ("method", "GET"),
                ("status", "200")
            ]
        ) >= 1.0,
        "{after}"
    );
    assert!(
        moved(
            "tabletalk_store_write_wait_seconds_count",
            &[("backend", "sqlite")]
        ) >= 1.0
    );
    for gauge in [
        "tabletalk_store_pool_connections",
        "tabletalk_outbox_backlog",
        "tabletalk_questions_in_flight",
        "tabletalk_target_pools_open",
    ] {
        assert!(has(&after, gauge), "{gauge} is exported: {after}");
    }
    // Labels never carry a person, an organization or a question.
    assert!(!after.contains("Which product"));
    assert!(!after.contains("Acme"));
}
