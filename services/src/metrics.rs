//! Prometheus metrics (issue 15): what the server and the bot count, recorded
//! through the `metrics` facade where it happens and rendered by
//! `metrics-exporter-prometheus` at `/metrics` (the server's own port; the
//! bot's `TABLETALK_BOT_METRICS_LISTEN`).
//!
//! Every name starts with `tabletalk_`; labels hold only bounded sets (route
//! patterns, stages, model names, kinds, outcomes), never a person, an
//! organization or a question. A process that never calls [`install`] (a
//! test, a CLI command) records into the facade's no-op recorder.

mod guard;

pub use guard::{may_scrape, Scraper};

use crate::{AppState, Store};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use models::ask::StageCost;
use std::sync::OnceLock;
use std::time::Duration;

/// The `Content-Type` of what [`render`] returns (Prometheus' text format).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Histogram buckets for everything measured in seconds: 1 ms to 2 minutes.
const SECONDS_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's Prometheus recorder (once; later calls return the
/// same handle). `None` when another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    describe_histogram!(
        "tabletalk_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP requests by route pattern, method and status class"
    );
    describe_counter!(
        "tabletalk_llm_calls_total",
        "Language-model calls by model, stage and outcome"
    );
    describe_counter!(
        "tabletalk_llm_tokens_total",
        "Language-model tokens by model, stage and kind (input, cached, output)"
    );
    describe_gauge!(
        "tabletalk_llm_cost_dollars_total",
        metrics::Unit::Count,
        "What language-model calls cost, in dollars (only grows; a gauge because the facade's counters are integers)"
    );
    describe_histogram!(
        "tabletalk_llm_call_duration_seconds",
        metrics::Unit::Seconds,
        "Language-model call latency by model and stage"
    );
    describe_counter!(
        "tabletalk_questions_total",
        "Questions recorded, by channel and outcome"
    );
    describe_histogram!(
        "tabletalk_target_query_duration_seconds",
        metrics::Unit::Seconds,
        "Queries on users' databases by kind and outcome"
    );
    describe_histogram!(
        "tabletalk_store_write_wait_seconds",
        metrics::Unit::Seconds,
        "Time to begin a write transaction on the store (SQLite's write lock, a pooled connection)"
    );
    describe_gauge!(
        "tabletalk_store_pool_connections",
        "The store's pooled connections by state (idle, in_use)"
    );
    describe_gauge!(
        "tabletalk_target_pools_open",
        "Connection pools open to users' databases"
    );
    describe_counter!(
        "tabletalk_bot_updates_total",
        "Telegram updates handled by the bot, by kind"
    );
    describe_counter!(
        "tabletalk_bot_errors_total",
        "Errors while handling Telegram updates or sending messages, by where"
    );
    describe_gauge!(
        "tabletalk_outbox_backlog",
        "Notifications waiting to be sent by the bot"
    );
    describe_gauge!(
        "tabletalk_questions_in_flight",
        "Questions being answered now, across every process sharing the store"
    );
}

/// The text Prometheus scrapes: the gauges read from the store now, then
/// everything recorded. Empty when no recorder is installed.
pub async fn render(state: &AppState) -> String {
    let Some(handle) = install() else {
        return String::new();
    };
    sample_store(&state.store).await;
    gauge!("tabletalk_target_pools_open").set(state.targets.open_pools().await as f64);
    handle.run_upkeep();
    handle.render()
}

/// The store's pool and the shared tables' backlogs, read at scrape time.
async fn sample_store(store: &Store) {
    let pool = store.pool();
    let idle = pool.num_idle() as f64;
    gauge!("tabletalk_store_pool_connections", "state" => "idle").set(idle);
    gauge!("tabletalk_store_pool_connections", "state" => "in_use")
        .set((f64::from(pool.size()) - idle).max(0.0));
    match crate::notify::backlog(store).await {
        Ok(n) => gauge!("tabletalk_outbox_backlog").set(n as f64),
        Err(e) => tracing::debug!(error = %e, "metrics: could not count the outbox"),
    }
    let in_flight: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM questions_in_flight")
        .fetch_one(pool)
        .await;
    if let Ok(n) = in_flight {
        gauge!("tabletalk_questions_in_flight").set(n as f64);
    }
}

/// One HTTP request answered. `route` is the matched route pattern (never
/// the path itself: ids would make every path its own series).
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    histogram!(
        "tabletalk_http_request_duration_seconds",
        "route" => route.to_owned(),
        "method" => method.to_owned(),
        "status" => status.to_string(),
    )
    .record(elapsed.as_secs_f64());
}

/// One language-model call, as the ledger records it.
pub fn llm_call(cost: &StageCost) {
    let model = cost.model.clone();
    let stage = cost.stage.as_str();
    let outcome = if cost.error.is_some() { "error" } else { "ok" };
    counter!("tabletalk_llm_calls_total", "model" => model.clone(), "stage" => stage, "outcome" => outcome)
        .increment(1);
    let usage = &cost.usage;
    for (kind, tokens) in [
        ("input", usage.prompt_tokens - usage.cached_tokens),
        ("cached", usage.cached_tokens),
        ("output", usage.candidates_tokens + usage.thoughts_tokens),
    ] {
        counter!("tabletalk_llm_tokens_total", "model" => model.clone(), "stage" => stage, "kind" => kind)
            .increment(u64::try_from(tokens).unwrap_or(0));
    }
    gauge!("tabletalk_llm_cost_dollars_total", "model" => model.clone(), "stage" => stage)
        .increment(cost.cost.0 as f64 / models::Usd::SCALE as f64);
    histogram!("tabletalk_llm_call_duration_seconds", "model" => model, "stage" => stage)
        .record(cost.latency_ms.max(0) as f64 / 1_000.0);
}

/// One question recorded.
pub fn question(channel: models::costs::Channel, status: models::costs::ConversationStatus) {
    counter!(
        "tabletalk_questions_total",
        "channel" => channel.as_str(),
        "outcome" => status.as_str(),
    )
    .increment(1);
}

/// The wait for a write transaction on the store.
pub fn store_write_wait(backend: &'static str, elapsed: Duration) {
    histogram!("tabletalk_store_write_wait_seconds", "backend" => backend)
        .record(elapsed.as_secs_f64());
}

/// One Telegram update taken by the bot (`message`, `callback_query`, ...).
pub fn bot_update(kind: &'static str) {
    counter!("tabletalk_bot_updates_total", "kind" => kind).increment(1);
}

/// One error in the bot (`handler`, `send`, `outbox`, ...).
pub fn bot_error(place: &'static str) {
    counter!("tabletalk_bot_errors_total", "where" => place).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorder_is_installed_once_and_renders_what_was_recorded() {
        let first = install().expect("no other recorder in this test binary");
        let second = install().expect("the same recorder");
        store_write_wait("sqlite", Duration::from_millis(12));
        bot_update("message");
        let text = second.render();
        assert!(
            text.contains(
                "tabletalk_store_write_wait_seconds_bucket{backend=\"sqlite\",le=\"0.025\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("tabletalk_bot_updates_total{kind=\"message\"} 1"),
            "{text}"
        );
        drop(first);
    }
}
