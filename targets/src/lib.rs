//! Users' databases ("targets", DESIGN.md §5): connection strings, the SQL
//! guard, encryption at rest, the engines that run queries read-only, schema
//! introspection and the pools. This crate knows nothing of organizations or
//! people: who may use which database is `services::databases`' rule.
//!
//! Layers, from the outside in:
//! - [`Targets`]: one lazily built pool per registered connection, closed
//!   after 30 idle minutes or on removal, with the schema cached beside it.
//! - [`engine::Engine`]: one enum over the four kinds; each runs a statement
//!   in the engine's own read-only mode with a timeout and a row cap.
//! - [`guard`], [`conn`], [`secret_box`]: pure checks and the cipher.

pub mod conn;
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
pub use registry::{Settings, Targets};

use models::AppError;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a statement may run, how many rows and bytes it may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    pub timeout: Duration,
    pub row_limit: usize,
    /// Most bytes of values one result may hold (as the engine sent them).
    pub max_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            timeout: Duration::from_secs(30),
            row_limit: 1_000,
            max_bytes: 16 * MB,
        }
    }
}

/// A megabyte, as `TABLETALK_QUERY_MAX_MB` counts them.
pub const MB: usize = 1024 * 1024;

/// Now, in Unix seconds (when a schema was read).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One query on a user's database, for `/metrics` (the process installs the
/// recorder; without one this records nothing).
fn record_query(kind: models::targets::TargetKind, ok: bool, elapsed: Duration) {
    metrics::histogram!(
        "tabletalk_target_query_duration_seconds",
        "kind" => kind.as_str(),
        "outcome" => if ok { "ok" } else { "error" },
    )
    .record(elapsed.as_secs_f64());
}

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

/// A database that could not be reached, whatever the cause (refused, timed
/// out, a name that does not resolve, something else answering on the port):
/// the person reads the same words, so nobody can map from inside the
/// operator's network which hosts and ports answer. The cause goes to the
/// operator's log.
pub fn unreachable(place: &str, cause: &dyn fmt::Display) -> TargetError {
    tracing::warn!(place, cause = %cause, "a user's database could not be reached");
    // host:port only (a place may name the database after a `/`), the same
    // whichever step failed.
    let place = place.split('/').next().unwrap_or(place);
    TargetError::new(
        TargetErrorKind::Unreachable,
        format!(
            "Could not reach the database at {place}. Check the host, the port, and that the \
             server accepts connections from Tabletalk."
        ),
    )
}

/// A TLS failure in words: the certificate problems rustls names, read as a
/// person can act on them; anything else as "the TLS handshake failed".
pub fn tls_words(raw: &str) -> &'static str {
    const WORDS: &[(&str, &str)] = &[
        (
            "UnknownIssuer",
            "the server's certificate is not signed by an authority Tabletalk trusts",
        ),
        (
            "CaUsedAsEndEntity",
            "the server presented a certificate authority's certificate as its own",
        ),
        (
            "NotValidForName",
            "the server's certificate is not for this host name",
        ),
        ("Expired", "the server's certificate has expired"),
        ("NotValidYet", "the server's certificate is not valid yet"),
        ("Revoked", "the server's certificate has been revoked"),
        (
            "BadSignature",
            "the server's certificate has a bad signature",
        ),
        (
            "UnsupportedSignatureAlgorithm",
            "the server's certificate uses a signature algorithm Tabletalk does not accept",
        ),
        (
            "HandshakeFailure",
            "the server and Tabletalk share no TLS version or cipher",
        ),
        (
            "ProtocolVersion",
            "the server and Tabletalk share no TLS version",
        ),
        ("self-signed", "the server's certificate is self-signed"),
    ];
    WORDS
        .iter()
        .find(|(marker, _)| raw.contains(marker))
        .map_or("the TLS handshake failed", |(_, words)| words)
}

/// Classifies a sqlx error from a user's database into a message for the person.
/// `place` is the redacted `host:port/database` (or the SQLite file name).
pub(crate) fn classify_sqlx(err: sqlx::Error, place: &str, limits_secs: u64) -> TargetError {
    use TargetErrorKind::*;
    match err {
        // rustls reports certificate problems through the socket, as I/O errors.
        sqlx::Error::Io(io) if looks_like_tls(&io.to_string()) => TargetError::new(
            Tls,
            format!(
                "The TLS handshake with {place} failed: {}. Check the server's certificate, or the sslmode / ssl-mode setting.",
                tls_words(&io.to_string())
            ),
        ),
        sqlx::Error::Io(io) => unreachable(place, &io),
        sqlx::Error::Tls(tls) => TargetError::new(
            Tls,
            format!(
                "The TLS handshake with {place} failed: {}.",
                tls_words(&tls.to_string())
            ),
        ),
        sqlx::Error::PoolTimedOut => unreachable(place, &"timed out waiting for a connection"),
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

pub(crate) fn looks_like_tls(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["certificate", "tls", "ssl", "handshake"]
        .iter()
        .any(|word| lower.contains(word))
}
