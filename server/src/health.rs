//! `/healthz` (the process answers) and `/readyz` (its store answers and
//! holds the schema this program expects; 503 with the reason otherwise).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use models::AppError;
use services::AppState;

pub async fn live() -> &'static str {
    "ok"
}

/// 200 `ready`, or 503 with the JSON error shape and the reason.
pub async fn ready(State(app): State<AppState>) -> Response {
    let reason = match app.store.schema_mismatch().await {
        Ok(None) => return "ready".into_response(),
        Ok(Some(reason)) => {
            tracing::warn!(%reason, "readiness check: schema");
            reason
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: the store does not answer");
            "the store is not reachable".to_owned()
        }
    };
    crate::api_errors::json_response(&AppError::Unavailable { message: reason })
}
