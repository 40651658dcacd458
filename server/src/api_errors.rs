//! Gives server-function errors their HTTP status.
//!
//! The server-function machinery answers every error with 500 and a header
//! naming the function. The body is our [`AppError`] as JSON, which knows its
//! status (400, 401, 403, 404, 409, 429); this layer applies it, adds
//! `Retry-After` for 429, and marks the body as JSON. The mapping lives once,
//! in `models`, for every endpoint.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use models::AppError;

/// The header server_fn puts on its error responses.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
/// Error bodies are small; anything larger is not ours.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn with_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = %err, "could not read a server function's error body");
            let body = serde_json::to_vec(&AppError::internal()).unwrap_or_default();
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            return Response::from_parts(parts, Body::from(body));
        }
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::TooManyRequests {
            retry_after_secs, ..
        } = error
        {
            parts
                .headers
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Response::from_parts(parts, Body::from(bytes))
}
