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

/// An error answered as `{"error": ..., "message": ...}` with its status.
pub fn json_response(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(error).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The layers' own refusals (tower-http's 413 from the body limit, 503 from
/// the timeout) come as plain text or empty; they are given the JSON error
/// shape every other error has.
pub async fn plain_errors_as_json(response: Response) -> Response {
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => json_response(&models::codec::body_too_large()),
        StatusCode::SERVICE_UNAVAILABLE => json_response(&AppError::Unavailable {
            message: format!(
                "The server did not answer within {} seconds. Try again, perhaps with a \
                 narrower question or range.",
                crate::http::REQUEST_TIMEOUT.as_secs()
            ),
        }),
        _ => response,
    }
}
