//! The one error type that crosses the wire (DESIGN.md §4, CONVENTIONS "Types and errors").
//!
//! It carries a message fit for a person and maps to an HTTP status. Internal
//! causes are logged where they happen and never put in here.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// Serialized as `{"error": "<kind>", "message": "..."}` (plus `retry_after_secs` for 429).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// 400: the input is malformed or invalid.
    #[error("{message}")]
    BadRequest { message: String },
    /// 401: not signed in, or the credentials are wrong.
    #[error("{message}")]
    Unauthorized { message: String },
    /// 403: signed in, but the role does not allow this.
    #[error("{message}")]
    Forbidden { message: String },
    /// 404: no such thing (within the caller's organization).
    #[error("{message}")]
    NotFound { message: String },
    /// 409: conflicts with the current state.
    #[error("{message}")]
    Conflict { message: String },
    /// 413: the request body is larger than the server accepts.
    #[error("{message}")]
    PayloadTooLarge { message: String },
    /// 429: too many attempts; try again after `retry_after_secs`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// 500: something failed on the server; details are in the server's log only.
    #[error("{message}")]
    Internal { message: String },
    /// 503: the server could not answer in time (the request timeout).
    #[error("{message}")]
    Unavailable { message: String },
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        AppError::Unauthorized {
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::NotFound {
            message: message.into(),
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
        }
    }
    /// The generic 500: a person-readable sentence, never the cause.
    pub fn internal() -> Self {
        AppError::Internal {
            message: "Something went wrong on our side. Please try again; if it keeps \
                      happening, tell your administrator."
                .into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest { .. } => 400,
            AppError::Unauthorized { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal { .. } => 500,
            AppError::Unavailable { .. } => 503,
        }
    }

    /// The message for a person.
    pub fn message(&self) -> &str {
        match self {
            AppError::BadRequest { message }
            | AppError::Unauthorized { message }
            | AppError::Forbidden { message }
            | AppError::NotFound { message }
            | AppError::Conflict { message }
            | AppError::PayloadTooLarge { message }
            | AppError::TooManyRequests { message, .. }
            | AppError::Internal { message }
            | AppError::Unavailable { message } => message,
        }
    }
}

/// Errors raised by the server-function machinery itself (bad body, network).
impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request could not be decoded: the caller sent a bad body or query.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::bad_request(describe_bad_body(&detail))
            }
            ServerFnErrorErr::Request(_) => AppError::Internal {
                message: "Could not reach the Tabletalk server. Check your connection and \
                          try again."
                    .into(),
            },
            // The same variant means "bad request body" on the server and "unreadable
            // answer" in the browser.
            // A body without a length that passed the limit while being read.
            ServerFnErrorErr::Deserialization(detail)
                if !cfg!(target_arch = "wasm32") && detail.contains("length limit exceeded") =>
            {
                crate::codec::body_too_large()
            }
            ServerFnErrorErr::Deserialization(detail) => {
                if cfg!(target_arch = "wasm32") {
                    AppError::Internal {
                        message: "The server sent an answer this page could not read. Reload \
                                  the page and try again."
                            .into(),
                    }
                } else {
                    AppError::bad_request(describe_bad_body(&detail))
                }
            }
            ServerFnErrorErr::UnsupportedRequestMethod(_) => {
                AppError::bad_request("This endpoint does not accept that HTTP method.")
            }
            ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Serialization(_)
            | ServerFnErrorErr::Response(_) => AppError::internal(),
        }
    }
}

/// Turns a decoder's complaint into a message that names what is wrong without
/// echoing values from the body (which may hold a password).
pub(crate) fn describe_bad_body(detail: &str) -> String {
    const PREFIX: &str = "The request body is not valid: ";
    if let Some(field) = between_backticks(detail, "missing field `") {
        return format!("{PREFIX}the field \"{field}\" is missing.");
    }
    if let Some(field) = between_backticks(detail, "unknown field `") {
        return format!("{PREFIX}the field \"{field}\" is not known.");
    }
    if detail.contains("EOF") || detail.contains("expected value") || detail.contains("key must") {
        return format!("{PREFIX}it is not well-formed JSON.");
    }
    if detail.contains("invalid type") {
        return format!("{PREFIX}a field has the wrong type.");
    }
    format!("{PREFIX}it does not have the expected fields.")
}

fn between_backticks<'a>(detail: &'a str, marker: &str) -> Option<&'a str> {
    let start = detail.find(marker)? + marker.len();
    let len = detail[start..].find('`')?;
    Some(&detail[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_readable_by_scripts() {
        let json = serde_json::to_value(AppError::unauthorized("Wrong username or password."))
            .expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"error": "unauthorized", "message": "Wrong username or password."})
        );
        let throttled = AppError::TooManyRequests {
            message: "Too many attempts.".into(),
            retry_after_secs: 42,
        };
        let json = serde_json::to_value(&throttled).expect("serializes");
        assert_eq!(json["error"], "too_many_requests");
        assert_eq!(json["retry_after_secs"], 42);
        let back: AppError = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, throttled);
    }

    #[test]
    fn a_body_over_the_limit_read_without_a_length_is_413() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "length limit exceeded".into(),
        ));
        assert_eq!(err.status(), 413, "{err:?}");
        let other = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "missing field `password`".into(),
        ));
        assert_eq!(other.status(), 400);
    }

    #[test]
    fn every_kind_has_its_status() {
        let cases = [
            (AppError::bad_request("x"), 400),
            (AppError::unauthorized("x"), 401),
            (AppError::forbidden("x"), 403),
            (AppError::not_found("x"), 404),
            (AppError::conflict("x"), 409),
            (
                AppError::TooManyRequests {
                    message: "x".into(),
                    retry_after_secs: 1,
                },
                429,
            ),
            (AppError::internal(), 500),
            (
                AppError::PayloadTooLarge {
                    message: "x".into(),
                },
                413,
            ),
            (
                AppError::Unavailable {
                    message: "x".into(),
                },
                503,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err:?}");
        }
    }

    #[test]
    fn bad_bodies_are_400_and_never_echo_values() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args(
            "missing field `password` at line 1 column 20".into(),
        ));
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.message(),
            "The request body is not valid: the field \"password\" is missing."
        );
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args(
            "invalid type: string \"hunter2\", expected u32".into(),
        ));
        assert_eq!(err.status(), 400);
        assert!(!err.message().contains("hunter2"));
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "EOF while parsing an object at line 1 column 12".into(),
        ));
        assert_eq!(
            err.message(),
            "The request body is not valid: it is not well-formed JSON."
        );
    }

    #[test]
    fn internal_failures_never_carry_their_cause() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "password authentication failed for user postgres".into(),
        ));
        assert_eq!(err.status(), 500);
        assert!(!err.message().contains("postgres"));
    }
}
