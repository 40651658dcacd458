//! `/healthz` (the process answers), `/readyz` (its store answers and
//! holds the schema this program expects; 503 with the reason otherwise) and
//! `/metrics` (Prometheus' text format, [`services::metrics`]).

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

/// Prometheus' text exposition format, for this machine or a scraper with
/// the metrics token ([`services::metrics::may_scrape`]).
pub async fn metrics(State(app): State<AppState>, request: axum::extract::Request) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let scraper = services::metrics::Scraper::of(peer, request.headers());
    if let Err(refused) = services::metrics::may_scrape(scraper, app.config.metrics_token.as_ref())
    {
        return crate::api_errors::json_response(&refused);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            services::metrics::CONTENT_TYPE,
        )],
        services::metrics::render(&app).await,
    )
        .into_response()
}

/// Records each request's latency by its route pattern, method and status.
pub async fn record(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", axum::extract::MatchedPath::as_str)
        .to_owned();
    // Any token is a valid method: only the known ones become a label.
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    services::metrics::http_request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
