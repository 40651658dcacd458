//! The question pipeline's own overhead (everything but the model and the
//! target query), and 200 concurrent questions through the stub LLM.
//! Prints numbers; asserts nothing.
//!
//!   cargo bench -p services --bench ask
//!
//! A SQLite store and a SQLite target (the tiny shop), testkit's stub LLM on
//! loopback answering at once. Overhead per question = its wall time minus
//! the time spent inside the model calls (the `llm_call` spans: the HTTP
//! round trips to the stub, retries included) and inside the target query
//! (the `target_query` span around the pipeline's `databases::execute`: the
//! query with the guard and the access check), measured to the nanosecond by
//! a tracing layer.

use models::ask::AskRequest;
use models::costs::{Channel, ConversationStatus};
use models::Usd;
use std::time::{Duration, Instant};
use testkit::db::TestDb;
use testkit::llm::{StubLlm, STUB_KEY};
use testkit::timing::{ms, take_outside, Outside};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::registry().with(Outside).init();
    let db = TestDb::sqlite();
    let stub = StubLlm::start().await?;
    let targets = tempfile::tempdir()?;
    let state = testkit::app::state(
        &db,
        &[
            ("GEMINI_API_KEY", STUB_KEY.to_owned()),
            ("GEMINI_API_URL", stub.url.clone()),
            ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
            ("TABLETALK_QUESTION_INTERVAL_MS", "100".to_owned()),
            ("TABLETALK_QUESTION_BURST", "1000".to_owned()),
        ],
    )
    .await;
    stub.answer_with(
        "SELECT COUNT(*) AS orders, SUM(total) AS total FROM orders",
        "Three orders, 37.75 in all.",
    );
    let asker = testkit::app::person(&state.store, 1, "Ada").await;
    testkit::app::shop(&state, &asker, targets.path()).await;

    // One person, one question after the other.
    let runs = 300;
    let mut overheads = Vec::with_capacity(runs);
    let mut walls = Vec::with_capacity(runs);
    for i in 0..runs {
        take_outside();
        let started = Instant::now();
        let answer = services::ask::ask(
            &state,
            &asker,
            &AskRequest {
                question: format!("How many orders, worth how much? ({i})"),
                database_id: None,
            },
            Channel::Web,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;
        let wall = started.elapsed();
        anyhow::ensure!(
            answer.status == ConversationStatus::Answered,
            "{}",
            answer.text
        );
        let outside = take_outside();
        overheads.push(wall.saturating_sub(outside));
        walls.push(wall);
    }
    let (o50, o99) = percentiles(&mut overheads);
    let (w50, w99) = percentiles(&mut walls);
    println!("| what | p50 | p99 |\n|---|---|---|");
    println!(
        "| one question, wall time (stub answers at once) | {} | {} |",
        ms(w50),
        ms(w99)
    );
    println!(
        "| pipeline overhead (wall - model calls - target query) | {} | {} |",
        ms(o50),
        ms(o99)
    );

    // 200 people asking at once.
    let people = 200i64;
    let mut callers = Vec::new();
    for id in 0..people {
        let caller = testkit::app::person(&state.store, 1_000 + id, "Bo").await;
        testkit::app::shop(&state, &caller, targets.path()).await;
        callers.push(caller);
    }
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(state.store.pool())
        .await?;
    let started = Instant::now();
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|caller| {
            let state = state.clone();
            tokio::spawn(async move {
                let request = AskRequest {
                    question: "How many orders?".into(),
                    database_id: None,
                };
                services::ask::ask(&state, &caller, &request, Channel::Telegram, None).await
            })
        })
        .collect();
    let mut expected = Usd::ZERO;
    for task in tasks {
        let answer = task
            .await?
            .map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;
        anyhow::ensure!(
            answer.status == ConversationStatus::Answered,
            "{}",
            answer.text
        );
        expected += answer.total_cost;
    }
    let elapsed = started.elapsed();
    let (count, recorded): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(DISTINCT c.conversation_id), CAST(COALESCE(SUM(s.total_cost), 0) AS BIGINT) \
         FROM conversations c JOIN conversation_stages s ON s.conversation_id = c.conversation_id \
         WHERE c.user_id >= 1000",
    )
    .fetch_one(state.store.pool())
    .await?;
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(state.store.pool())
        .await?;
    println!(
        "\n{people} people asking at once: {} in {:.2?} ({:.0} questions/s); {count} conversations recorded \
         ({} new in all), their stages cost {} in the ledger and {} in the answers ({}).",
        people,
        elapsed,
        people as f64 / elapsed.as_secs_f64(),
        after - before,
        Usd(recorded),
        expected,
        if Usd(recorded) == expected { "equal" } else { "DIFFERENT" }
    );
    Ok(())
}

fn percentiles(times: &mut [Duration]) -> (Duration, Duration) {
    (
        testkit::timing::quantile(times, 0.50),
        testkit::timing::quantile(times, 0.99),
    )
}
