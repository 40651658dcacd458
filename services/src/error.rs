//! Turning internal failures into the wire error without leaking their cause.

use models::AppError;

/// Logs an internal failure with what was being done, and answers the generic 500.
///
/// Use as `.map_err(internal("reading the session"))`. The cause goes to the log
/// only; the caller sees [`AppError::internal`].
pub fn internal<E: std::fmt::Display>(doing: &'static str) -> impl FnOnce(E) -> AppError {
    move |err| {
        tracing::error!(error = %err, "failed while {doing}");
        AppError::internal()
    }
}
