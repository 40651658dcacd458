//! SQL Server targets: tiberius 0.13 over rustls, pooled by bb8 with the small
//! connection manager below (bb8-tiberius only supports tiberius 0.12, whose
//! TLS stack is older; the manager is about forty lines).
//!
//! SQL Server has no read-only transaction, so every query runs with
//! `SET IMPLICIT_TRANSACTIONS ON` (any statement, even after a COMMIT, opens a
//! transaction), `SET LOCK_TIMEOUT`, a command timeout, and is followed by
//! `IF @@TRANCOUNT > 0 ROLLBACK`. The recommended setup is still a login that
//! can only read (db_datareader), which the README says.
//!
//! No SQL Server runs on the build machines: the configuration building and
//! the guard are unit-tested; a live test runs when TABLETALK_TEST_MSSQL_URL is set.

use super::conn::ConnectionSpec;
use super::engine::{self, format, ConnectContext, Rows};
use super::hosts::HostPolicy;
use super::schema::{self, ColumnRow, KeyRow};
use super::{TargetError, TargetErrorKind};
use crate::QueryLimits;
use futures_util::TryStreamExt;
use models::targets::{ResultColumn, Schema, TableKind, Value};
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, FromSql};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

mod catalogue;
mod config;
mod decode;

pub(super) use catalogue::introspect;
use config::{config, tls_message};
use decode::{decode, size};

/// The pool and where it connects (for messages).
pub struct MssqlPool {
    pool: bb8::Pool<Manager>,
    place: String,
}

/// A tiberius client and whether it must not be reused.
pub struct MssqlConnection {
    client: Client<Compat<TcpStream>>,
    broken: bool,
}

/// Opens tiberius connections for bb8, each to an address the host policy checked.
pub struct Manager {
    config: Config,
    hosts: HostPolicy,
}

impl bb8::ManageConnection for Manager {
    type Connection = MssqlConnection;
    type Error = tiberius::error::Error;

    async fn connect(&self) -> Result<MssqlConnection, tiberius::error::Error> {
        let client = open(self.config.clone(), &self.hosts).await?;
        Ok(MssqlConnection {
            client,
            broken: false,
        })
    }

    async fn is_valid(&self, conn: &mut MssqlConnection) -> Result<(), tiberius::error::Error> {
        conn.client
            .simple_query("SELECT 1")
            .await?
            .into_row()
            .await?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut MssqlConnection) -> bool {
        conn.broken
    }
}

/// Connects, following one redirect (Azure SQL answers the first login with
/// one); every host, the redirect's too, is checked against the policy first
/// and the connection goes to the address that was checked.
async fn open(
    mut config: Config,
    hosts: &HostPolicy,
) -> Result<Client<Compat<TcpStream>>, tiberius::error::Error> {
    for _ in 0..2 {
        let addr = config.get_addr();
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| tiberius::error::Error::Protocol("an address without a port".into()))?;
        let addrs = hosts
            .check(&host, port)
            .await
            .map_err(|e| tiberius::error::Error::Protocol(e.message.into()))?;
        let tcp = tokio::time::timeout(
            engine::CONNECT_TIMEOUT,
            TcpStream::connect(addrs.as_slice()),
        )
        .await
        .map_err(|_| tiberius::error::Error::Io {
            kind: std::io::ErrorKind::TimedOut,
            message: "timed out".into(),
        })??;
        tcp.set_nodelay(true)?;
        match Client::connect(config.clone(), tcp.compat_write()).await {
            Err(tiberius::error::Error::Routing { host, port }) => {
                config.host(&host);
                config.port(port);
            }
            other => return other,
        }
    }
    Err(tiberius::error::Error::Protocol(
        "the server redirected the connection twice".into(),
    ))
}

fn place(config: &Config) -> String {
    config.get_addr()
}

fn classify(err: tiberius::error::Error, place: &str, limits: QueryLimits) -> TargetError {
    use tiberius::error::Error as E;
    use TargetErrorKind::*;
    match err {
        E::Io { message, .. } => crate::unreachable(place, &message),
        E::Tls(message) => TargetError::new(Tls, tls_message(place, &message)),
        E::Server(token) => server_error(token.code(), token.message(), place),
        other => TargetError::new(
            Broken,
            format!(
                "The connection to {place} failed: {other} (limit {} s).",
                limits.timeout.as_secs()
            ),
        ),
    }
}

/// An error the server sent, by its number.
fn server_error(code: u32, message: &str, place: &str) -> TargetError {
    use TargetErrorKind::*;
    match code {
        18456 => TargetError::new(Auth, format!("{place} refused the user name or password.")),
        // 4060: cannot open the database named at login; 911: it does not exist.
        4060 | 911 => TargetError::new(
            NoDatabase,
            format!("The database does not exist on {place} or the login cannot open it."),
        ),
        1222 => TargetError::new(
            Timeout,
            "The query waited too long for a lock held by someone else.",
        ),
        3906 | 3908 => TargetError::new(
            ReadOnly,
            format!("The database refused to change anything: {message}"),
        ),
        _ => TargetError::new(Query, format!("The database answered: {message}")),
    }
}

fn pool_error(
    err: bb8::RunError<tiberius::error::Error>,
    place: &str,
    limits: QueryLimits,
) -> TargetError {
    match err {
        bb8::RunError::User(e) => classify(e, place, limits),
        bb8::RunError::TimedOut => crate::unreachable(place, &"timed out waiting for a connection"),
    }
}

pub(super) async fn connect(
    spec: &ConnectionSpec,
    ctx: &ConnectContext,
) -> Result<MssqlPool, TargetError> {
    let config = config(spec, ctx.limits)?;
    let place = place(&config);
    // One direct connection first, so a wrong host or password is reported
    // as such (a pool would only say it timed out).
    // Refused hosts are refused before anything connects, with the policy's message.
    let host = spec.host.as_deref().unwrap_or("localhost");
    let host = host.split('\\').next().unwrap_or(host);
    ctx.hosts
        .check(host, spec.port_or_default().unwrap_or(1433))
        .await?;
    let first = open(config.clone(), &ctx.hosts)
        .await
        .map_err(|e| match e {
            // A SQL Server answered: what it said (login, database, TLS) helps the person.
            tiberius::error::Error::Server(_) | tiberius::error::Error::Tls(_) => {
                classify(e, &place, ctx.limits)
            }
            // A refusal by the host policy, in its own words.
            tiberius::error::Error::Protocol(ref why) if why.contains(crate::hosts::VARIABLE) => {
                TargetError::new(TargetErrorKind::Invalid, why.to_string())
            }
            // Nothing answered as SQL Server ("failed to fill whole buffer" from another service).
            other => crate::unreachable(&place, &other),
        })?;
    drop(first.close().await);
    let pool = bb8::Pool::builder()
        .max_size(engine::POOL_SIZE)
        .min_idle(None)
        .connection_timeout(engine::CONNECT_TIMEOUT)
        .idle_timeout(Some(engine::IDLE_CONNECTION))
        .retry_connection(false)
        .build_unchecked(Manager {
            config,
            hosts: ctx.hosts.clone(),
        });
    Ok(MssqlPool { pool, place })
}

fn pool_place(pool: &MssqlPool) -> String {
    pool.place.clone()
}

pub(super) async fn version(pool: &MssqlPool) -> Result<String, TargetError> {
    let limits = QueryLimits::default();
    let place = pool_place(pool);
    let mut conn = pool
        .pool
        .get()
        .await
        .map_err(|e| pool_error(e, &place, limits))?;
    let version = conn
        .client
        .simple_query("SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128))")
        .await
        .map_err(|e| classify(e, &place, limits))?
        .into_row()
        .await
        .map_err(|e| classify(e, &place, limits))?
        .and_then(|r| r.get::<&str, _>(0).map(str::to_owned))
        .unwrap_or_default();
    Ok(format!("SQL Server {version}"))
}

/// Run before each query: every statement opens a transaction that is rolled back.
pub(super) fn session_guard(limits: QueryLimits) -> String {
    let lock_ms = limits.timeout.as_millis().min(10_000);
    format!("SET IMPLICIT_TRANSACTIONS ON; SET LOCK_TIMEOUT {lock_ms}; SET XACT_ABORT ON")
}

/// Run after each query, whatever happened.
pub(super) const SESSION_RESET: &str =
    "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION; SET IMPLICIT_TRANSACTIONS OFF";

pub(super) async fn run(
    pool: &MssqlPool,
    sql: &str,
    limits: QueryLimits,
) -> Result<Rows, TargetError> {
    let place = pool_place(pool);
    let mut conn = pool
        .pool
        .get()
        .await
        .map_err(|e| pool_error(e, &place, limits))?;
    // Broken until the query has ended cleanly, so a connection whose query
    // was interrupted (a dropped future) is never handed out again.
    conn.broken = true;
    conn.client
        .simple_query(session_guard(limits))
        .await
        .map_err(|e| classify(e, &place, limits))?
        .into_results()
        .await
        .map_err(|e| classify(e, &place, limits))?;
    let ran = tokio::time::timeout(limits.timeout, async {
        fetch(&mut conn.client, sql, limits)
            .await
            .map_err(|e| match e {
                FetchError::Driver(e) => query_error(e, &place, limits),
                FetchError::TooLarge => engine::too_large(limits),
            })
    })
    .await;
    let result = ran.unwrap_or_else(|_| Err(engine::timed_out(limits)));
    let step = after_query(&result);
    conn.broken = !finish(&mut conn.client, step).await;
    result
}

/// What a connection needs after a query, before it may serve another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterQuery {
    /// The query ended: roll back and reset the session.
    Reset,
    /// The server may still be running it, or still sending rows (time
    /// limit, row or byte cap): send an Attention so SQL Server stops it
    /// (dropping the future or closing the socket does not), then reset.
    CancelThenReset,
    /// The connection itself failed: close it.
    Close,
}

fn after_query(result: &Result<Rows, TargetError>) -> AfterQuery {
    match result {
        Ok((_, _, truncated)) if *truncated => AfterQuery::CancelThenReset,
        Ok(_) => AfterQuery::Reset,
        Err(e) => match e.kind {
            TargetErrorKind::Timeout | TargetErrorKind::TooLarge => AfterQuery::CancelThenReset,
            TargetErrorKind::Broken | TargetErrorKind::Unreachable | TargetErrorKind::Tls => {
                AfterQuery::Close
            }
            TargetErrorKind::Query
            | TargetErrorKind::ReadOnly
            | TargetErrorKind::Invalid
            | TargetErrorKind::Auth
            | TargetErrorKind::NoDatabase => AfterQuery::Reset,
        },
    }
}

/// How long the server has to acknowledge an Attention before the
/// connection is closed instead (which also ends the request, eventually).
const CANCEL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Brings the connection back to a clean session; whether it may be reused.
async fn finish(client: &mut Client<Compat<TcpStream>>, step: AfterQuery) -> bool {
    if step == AfterQuery::Close {
        return false;
    }
    if step == AfterQuery::CancelThenReset {
        match tokio::time::timeout(CANCEL_WAIT, client.cancel_query()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "SQL Server did not take the cancel; closing the connection");
                return false;
            }
            Err(_) => {
                tracing::warn!(
                    "SQL Server did not acknowledge the cancel in time; closing the connection"
                );
                return false;
            }
        }
    }
    let reset = async {
        client
            .simple_query(SESSION_RESET)
            .await?
            .into_results()
            .await
            .map(drop)
    };
    matches!(tokio::time::timeout(CANCEL_WAIT, reset).await, Ok(Ok(())))
}

/// An error while a query runs: the driver's own timeout is the query taking
/// too long, not the server being unreachable.
fn query_error(err: tiberius::error::Error, place: &str, limits: QueryLimits) -> TargetError {
    match err {
        tiberius::error::Error::Io {
            kind: std::io::ErrorKind::TimedOut,
            ..
        } => engine::timed_out(limits),
        other => classify(other, place, limits),
    }
}

async fn fetch(
    client: &mut Client<Compat<TcpStream>>,
    sql: &str,
    limits: QueryLimits,
) -> Result<Rows, FetchError> {
    let mut stream = client.query(sql, &[]).await?;
    let columns: Vec<ResultColumn> = stream
        .columns()
        .await?
        .unwrap_or_default()
        .iter()
        .map(|c| ResultColumn {
            name: c.name().to_owned(),
            type_name: format!("{:?}", c.column_type()),
        })
        .collect();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut bytes = 0usize;
    let mut row_stream = stream.into_row_stream();
    while let Some(row) = row_stream.try_next().await? {
        // Only the first result set is read.
        if row.result_index() > 0 {
            break;
        }
        if rows.len() == limits.row_limit {
            truncated = true;
            break;
        }
        bytes = row
            .cells()
            .fold(bytes, |sum, (_, data)| sum.saturating_add(size(data)));
        if bytes > limits.max_bytes {
            return Err(FetchError::TooLarge);
        }
        rows.push(row.cells().map(|(_, data)| decode(data)).collect());
    }
    Ok((columns, rows, truncated))
}

enum FetchError {
    Driver(tiberius::error::Error),
    TooLarge,
}

impl From<tiberius::error::Error> for FetchError {
    fn from(err: tiberius::error::Error) -> Self {
        FetchError::Driver(err)
    }
}

#[cfg(test)]
mod tests;
