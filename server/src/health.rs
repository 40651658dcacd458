//! `/healthz` (the process answers) and `/readyz` (and its store answers too).

use axum::extract::State;
use axum::http::StatusCode;
use services::AppState;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(app): State<AppState>) -> (StatusCode, &'static str) {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is not reachable",
            )
        }
    }
}
