//! Turning internal failures into the wire error without leaking their cause.

use models::AppError;

/// What people are told while the store cannot be reached.
pub const STORE_UNREACHABLE: &str =
    "Tabletalk cannot reach its database right now. Nothing was changed; try again in a moment.";

/// Logs an internal failure with what was being done, and answers the generic
/// 500 — or a 503 saying so when the store cannot be reached (a lost
/// connection, a pool with no connection to give, a database shutting down),
/// which passes by itself once the store is back.
///
/// Use as `.map_err(internal("reading the session"))`. The cause goes to the log
/// only; the caller sees [`AppError::internal`] or [`STORE_UNREACHABLE`].
pub fn internal<E: std::fmt::Display + 'static>(doing: &'static str) -> impl FnOnce(E) -> AppError {
    move |err| {
        let any: &dyn std::any::Any = &err;
        if any
            .downcast_ref::<sqlx::Error>()
            .is_some_and(store_unreachable)
        {
            tracing::warn!(error = %err, "the store is not reachable while {doing}");
            return AppError::Unavailable {
                message: STORE_UNREACHABLE.to_owned(),
            };
        }
        tracing::error!(error = %err, "failed while {doing}");
        AppError::internal()
    }
}

/// Whether `err` means the store is out of reach rather than a wrong query.
pub fn store_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL: connection exceptions (08...), the server shutting down
        // or starting (57P01-57P03).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_store_is_a_503_that_says_so_and_other_failures_a_plain_500() {
        let lost = internal("reading")(sqlx::Error::PoolTimedOut);
        assert_eq!(lost.status(), 503);
        assert_eq!(lost.message(), STORE_UNREACHABLE);
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(internal("reading")(sqlx::Error::Io(io)).status(), 503);
        assert_eq!(internal("reading")(sqlx::Error::RowNotFound).status(), 500);
        assert_eq!(internal("reading")("some other failure").status(), 500);
    }
}
