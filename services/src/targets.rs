//! Users' databases ("targets", DESIGN.md §5): connection strings, the SQL
//! guard, encryption at rest, the engines that run queries read-only, schema
//! introspection, the pools, and the rules for registering and using them.
//!
//! Layers, from the outside in:
//! - [`databases`]: the service functions (add, test, list, remove, select,
//!   schema, query), permission-checked and scoped like every other rule.
//! - [`Targets`]: one lazily built pool per registered connection, closed
//!   after 30 idle minutes or on removal, with the schema cached beside it.
//! - [`engine::Engine`]: one enum over the four kinds; each runs a statement
//!   in the engine's own read-only mode with a timeout and a row cap.
//! - [`guard`], [`conn`], [`secret_box`]: pure checks and the cipher.

pub mod conn;
pub mod databases;
pub mod engine;
pub mod guard;
pub mod hosts;
mod mssql;
mod mysql;
mod postgres;
pub mod registry;
pub mod schema;
pub mod secret_box;
mod sqlite;
pub mod values;

pub use engine::Engine;
pub use registry::Targets;

use models::AppError;
use std::fmt;

/// Why a user's database could not be reached or could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    pub kind: TargetErrorKind,
    /// For the person: what went wrong and, where possible, what to check.
    /// Never contains a password.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetErrorKind {
    /// The connection string or a setting in it is not usable.
    Invalid,
    /// Host unknown, refused, or unreachable.
    Unreachable,
    /// The server refused the user name or password.
    Auth,
    /// The database (or SQLite file) does not exist.
    NoDatabase,
    /// The TLS handshake failed.
    Tls,
    /// Connecting or the query took too long.
    Timeout,
    /// The engine refused to write (the read-only mode worked).
    ReadOnly,
    /// The engine rejected the SQL (syntax, unknown table, permissions).
    Query,
    /// The connection broke.
    Broken,
    /// The result is larger than the configured byte limit.
    TooLarge,
}

impl TargetError {
    pub fn new(kind: TargetErrorKind, message: impl Into<String>) -> TargetError {
        TargetError {
            kind,
            message: message.into(),
        }
    }

    /// Whether the pool should be rebuilt before the next use.
    pub fn breaks_pool(&self) -> bool {
        matches!(
            self.kind,
            TargetErrorKind::Unreachable
                | TargetErrorKind::Auth
                | TargetErrorKind::NoDatabase
                | TargetErrorKind::Tls
                | TargetErrorKind::Broken
        )
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<TargetError> for AppError {
    fn from(err: TargetError) -> AppError {
        AppError::bad_request(err.message)
    }
}

/// Classifies a sqlx error from a user's database into a message for the person.
/// `place` is the redacted `host:port/database` (or the SQLite file name).
pub(crate) fn classify_sqlx(err: sqlx::Error, place: &str, limits_secs: u64) -> TargetError {
    use TargetErrorKind::*;
    match err {
        // rustls reports certificate problems through the socket, as I/O errors.
        sqlx::Error::Io(io) if looks_like_tls(&io.to_string()) => TargetError::new(
            Tls,
            format!("The TLS handshake with {place} failed: {io}. Check the server's certificate, or the sslmode / ssl-mode setting."),
        ),
        sqlx::Error::Io(io) => TargetError::new(
            Unreachable,
            format!("Could not reach {place}: {io}. Check the host, the port and any firewall."),
        ),
        sqlx::Error::Tls(tls) => TargetError::new(
            Tls,
            format!("The TLS handshake with {place} failed: {tls}."),
        ),
        sqlx::Error::PoolTimedOut => TargetError::new(
            Timeout,
            format!(
                "Timed out connecting to {place}. Is the server up and reachable from Tabletalk?"
            ),
        ),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_owned();
            match code.as_str() {
                // PostgreSQL SQLSTATEs and MySQL/MariaDB error numbers.
                "28P01" | "28000" | "1045" | "1044" | "1698" => TargetError::new(
                    Auth,
                    format!("{place} refused the user name or password ({message})."),
                ),
                "3D000" | "1049" => TargetError::new(
                    NoDatabase,
                    format!("The database does not exist on the server: {message}."),
                ),
                "57014" | "1969" | "3024" => TargetError::new(
                    Timeout,
                    format!("The query ran longer than {limits_secs} s and was stopped."),
                ),
                "25006" | "1792" => TargetError::new(
                    ReadOnly,
                    format!("The database refused to change anything (Tabletalk only reads): {message}"),
                ),
                _ if message.contains("interrupted") => TargetError::new(
                    Timeout,
                    format!("The query ran longer than {limits_secs} s and was stopped."),
                ),
                _ if message.contains("readonly database")
                    || message.contains("query_only") =>
                {
                    TargetError::new(
                        ReadOnly,
                        format!("The database refused to change anything (Tabletalk only reads): {message}"),
                    )
                }
                _ => TargetError::new(Query, format!("The database answered: {message}")),
            }
        }
        sqlx::Error::Configuration(_) => TargetError::new(
            Invalid,
            format!("The connection settings for {place} are not usable."),
        ),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => TargetError::new(
            Broken,
            format!("The connection to {place} was closed. Try again."),
        ),
        other => TargetError::new(Broken, format!("The connection to {place} failed: {other}")),
    }
}

fn looks_like_tls(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["certificate", "tls", "ssl", "handshake"]
        .iter()
        .any(|word| lower.contains(word))
}
