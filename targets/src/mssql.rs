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

fn truthy(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "mandatory" | "strict" | "required" => Some(true),
        "false" | "no" | "0" | "optional" => Some(false),
        _ => None,
    }
}

/// The tiberius configuration for a parsed connection string.
pub(super) fn config(spec: &ConnectionSpec, limits: QueryLimits) -> Result<Config, TargetError> {
    let invalid = |m: String| TargetError::new(TargetErrorKind::Invalid, m);
    let host = spec.host.as_deref().unwrap_or("localhost");
    if host.contains('\\') && spec.port.is_none() {
        return Err(invalid(
            "Named instances (host\\INSTANCE) need the instance's port: write Server=host,port."
                .into(),
        ));
    }
    let host = host.split('\\').next().unwrap_or(host);
    let (Some(user), Some(password)) = (&spec.user, spec.password()) else {
        return Err(invalid(
            "SQL Server connections need User Id and Password (a SQL login; Windows authentication is not supported)."
                .into(),
        ));
    };
    let mut config = Config::new();
    config.host(host);
    config.port(spec.port_or_default().unwrap_or(1433));
    config.database(&spec.database);
    config.authentication(AuthMethod::sql_server(user, password));
    config.application_name("tabletalk");
    config.readonly(true);
    config.command_timeout(Some(limits.timeout));
    config.handshake_timeout(Some(engine::CONNECT_TIMEOUT));
    let (encrypt, validate) = tls_policy(spec)?;
    config.encryption(if encrypt {
        EncryptionLevel::Required
    } else {
        EncryptionLevel::Off
    });
    if !validate {
        config.trust_cert();
    }
    Ok(config)
}

/// (encrypt the whole session, validate the server's certificate), as
/// Microsoft's own clients read Encrypt and TrustServerCertificate: Encrypt
/// defaults to true (mandatory) and then validates the certificate unless
/// TrustServerCertificate=true; with Encrypt=false (or optional) only the
/// login is encrypted and the certificate is not validated.
fn tls_policy(spec: &ConnectionSpec) -> Result<(bool, bool), TargetError> {
    let invalid = |m: String| TargetError::new(TargetErrorKind::Invalid, m);
    let encrypt = match spec.options.get("encrypt") {
        None => true,
        Some(v) => {
            truthy(v).ok_or_else(|| invalid(format!("Encrypt={v:?} is not true or false.")))?
        }
    };
    let trust = spec.options.get("trustservercertificate");
    let trust = match trust {
        None => false,
        Some(v) => truthy(v).ok_or_else(|| {
            invalid(format!(
                "TrustServerCertificate={v:?} is not true or false."
            ))
        })?,
    };
    Ok((encrypt, encrypt && !trust))
}

/// A TLS failure as the person can act on it: the client library's advice to
/// programmers ("Config::trust_cert_ca", "build tiberius with native-tls") left out.
fn tls_message(place: &str, raw: &str) -> String {
    let cut = [
        " To connect anyway",
        " Enable one of",
        "; enable one of",
        " Note:",
    ]
    .iter()
    .filter_map(|marker| raw.find(marker))
    .min()
    .unwrap_or(raw.len());
    let reason = raw[..cut].trim().trim_end_matches('.');
    tracing::warn!(place, reason, "TLS with a user's SQL Server failed");
    let reason = crate::tls_words(reason);
    format!(
        "The TLS handshake with {place} failed: {reason}. If the server uses a self-signed \
         certificate, add TrustServerCertificate=true to the connection string."
    )
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

/// The bytes one value took on the wire (text and binary by length, others as 8).
fn size(data: &ColumnData<'static>) -> usize {
    match data {
        ColumnData::String(Some(s)) => s.len(),
        ColumnData::Binary(Some(b)) => b.len(),
        ColumnData::Xml(Some(x)) => x.to_string().len(),
        _ => 8,
    }
}

/// One value, by its TDS type.
pub(super) fn decode(data: &ColumnData<'static>) -> Value {
    fn chrono_value<'a, T: FromSql<'a>>(
        data: &'a ColumnData<'static>,
        f: impl Fn(T) -> Value,
    ) -> Value {
        match T::from_sql(data) {
            Ok(Some(v)) => f(v),
            Ok(None) => Value::Null,
            Err(e) => engine::unreadable("datetime", e),
        }
    }
    match data {
        ColumnData::U8(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I16(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I32(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I64(v) => v.map_or(Value::Null, Value::Int),
        ColumnData::F32(v) => v.map_or(Value::Null, |v| Value::Float(v.into())),
        ColumnData::F64(v) => v.map_or(Value::Null, Value::Float),
        ColumnData::Bit(v) => v.map_or(Value::Null, Value::Bool),
        ColumnData::String(v) => v.as_ref().map_or(Value::Null, |s| Value::text(s.as_ref())),
        ColumnData::Guid(v) => v.map_or(Value::Null, |g| Value::text(g.to_string())),
        ColumnData::Binary(v) => v.as_ref().map_or(Value::Null, |b| Value::binary(b)),
        ColumnData::Numeric(v) => v.map_or(Value::Null, |n| Value::Decimal(n.to_string())),
        ColumnData::Xml(v) => v
            .as_ref()
            .map_or(Value::Null, |x| Value::text(x.to_string())),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            chrono_value(data, |v: chrono::NaiveDateTime| {
                Value::Timestamp(format::datetime(v))
            })
        }
        ColumnData::Date(_) => {
            chrono_value(data, |v: chrono::NaiveDate| Value::Date(format::date(v)))
        }
        ColumnData::Time(_) => {
            chrono_value(data, |v: chrono::NaiveTime| Value::Time(format::time(v)))
        }
        ColumnData::DateTimeOffset(_) => {
            chrono_value(data, |v: chrono::DateTime<chrono::FixedOffset>| {
                Value::Timestamp(format::datetime_offset(v))
            })
        }
    }
}

const COLUMNS_SQL: &str = "\
SELECT s.name, o.name, o.type, c.name,
       TYPE_NAME(c.user_type_id) +
         CASE WHEN TYPE_NAME(c.user_type_id) IN ('varchar', 'char', 'varbinary', 'binary')
                THEN '(' + CASE WHEN c.max_length = -1 THEN 'max' ELSE CAST(c.max_length AS varchar(10)) END + ')'
              WHEN TYPE_NAME(c.user_type_id) IN ('nvarchar', 'nchar')
                THEN '(' + CASE WHEN c.max_length = -1 THEN 'max' ELSE CAST(c.max_length / 2 AS varchar(10)) END + ')'
              WHEN TYPE_NAME(c.user_type_id) IN ('decimal', 'numeric')
                THEN '(' + CAST(c.precision AS varchar(10)) + ',' + CAST(c.scale AS varchar(10)) + ')'
              ELSE '' END,
       c.is_nullable,
       CAST((SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)) AS bigint),
       CAST((SELECT TOP 1 ep.value FROM sys.extended_properties ep
             WHERE ep.class = 1 AND ep.major_id = o.object_id AND ep.minor_id = c.column_id
               AND ep.name = 'MS_Description') AS nvarchar(1000))
FROM sys.objects o
JOIN sys.schemas s ON s.schema_id = o.schema_id
JOIN sys.columns c ON c.object_id = o.object_id
WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0
ORDER BY s.name, o.name, c.column_id";

const KEYS_SQL: &str = "\
SELECT s.name, t.name, k.name, CAST(1 AS bit), c.name, NULL, NULL, NULL, ic.key_ordinal
FROM sys.indexes k
JOIN sys.tables t ON t.object_id = k.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.index_columns ic ON ic.object_id = k.object_id AND ic.index_id = k.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE k.is_primary_key = 1
UNION ALL
SELECT s.name, t.name, f.name, CAST(0 AS bit), c.name, rs.name, rt.name, rc.name, fc.constraint_column_id
FROM sys.foreign_keys f
JOIN sys.foreign_key_columns fc ON fc.constraint_object_id = f.object_id
JOIN sys.tables t ON t.object_id = f.parent_object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.columns c ON c.object_id = fc.parent_object_id AND c.column_id = fc.parent_column_id
JOIN sys.tables rt ON rt.object_id = f.referenced_object_id
JOIN sys.schemas rs ON rs.schema_id = rt.schema_id
JOIN sys.columns rc ON rc.object_id = fc.referenced_object_id AND rc.column_id = fc.referenced_column_id
ORDER BY 1, 2, 3, 9";

pub(super) async fn introspect(pool: &MssqlPool) -> Result<Schema, TargetError> {
    let limits = QueryLimits::default();
    let place = pool_place(pool);
    let mut conn = pool
        .pool
        .get()
        .await
        .map_err(|e| pool_error(e, &place, limits))?;
    let err = |e| classify(e, &place, limits);
    let columns = conn
        .client
        .simple_query(COLUMNS_SQL)
        .await
        .map_err(err)?
        .into_first_result()
        .await
        .map_err(err)?;
    let keys = conn
        .client
        .simple_query(KEYS_SQL)
        .await
        .map_err(err)?
        .into_first_result()
        .await
        .map_err(err)?;
    let text = |r: &tiberius::Row, i: usize| r.get::<&str, _>(i).unwrap_or_default().to_owned();
    let columns = columns
        .iter()
        .map(|r| ColumnRow {
            schema: Some(text(r, 0)),
            table: text(r, 1),
            kind: if text(r, 2).trim() == "V" {
                TableKind::View
            } else {
                TableKind::Table
            },
            column: text(r, 3),
            data_type: text(r, 4),
            nullable: r.get::<bool, _>(5).unwrap_or(true),
            row_estimate: r.get::<i64, _>(6),
            comment: r.get::<&str, _>(7).map(str::to_owned),
        })
        .collect();
    let keys = keys
        .iter()
        .map(|r| KeyRow {
            schema: Some(text(r, 0)),
            table: text(r, 1),
            constraint: text(r, 2),
            primary: r.get::<bool, _>(3).unwrap_or(false),
            column: text(r, 4),
            ref_schema: r.get::<&str, _>(5).map(str::to_owned),
            ref_table: r.get::<&str, _>(6).map(str::to_owned),
            ref_column: r.get::<&str, _>(7).map(str::to_owned),
        })
        .collect();
    Ok(schema::build(columns, keys, crate::unix_now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn;
    use std::time::Duration;

    fn limits() -> QueryLimits {
        QueryLimits {
            timeout: Duration::from_secs(12),
            row_limit: 5,
            ..QueryLimits::default()
        }
    }

    #[test]
    fn configs_from_each_accepted_form() {
        for text in [
            "Server=db.example.com,1444;Database=crm;User Id=reader;Password=pw;Encrypt=true;TrustServerCertificate=true",
            "mssql://reader:pw@db.example.com:1444/crm",
            "mssql+pyodbc://reader:pw@db.example.com:1444/crm?driver=ODBC+Driver+18+for+SQL+Server",
        ] {
            let spec = conn::parse(text).expect(text);
            let config = config(&spec, limits()).expect(text);
            assert_eq!(config.get_addr(), "db.example.com:1444", "{text}");
            assert_eq!(config.get_command_timeout(), Some(Duration::from_secs(12)));
        }
        let spec = conn::parse("Server=db;Database=crm;User Id=u;Password=p").expect("parses");
        assert_eq!(
            config(&spec, limits()).expect("valid").get_addr(),
            "db:1433"
        );
    }

    #[test]
    fn unusable_settings_are_explained_without_the_password() {
        let spec = conn::parse("Server=db;Database=crm").expect("parses");
        let err = config(&spec, limits()).unwrap_err();
        assert!(err.message.contains("User Id and Password"), "{err}");
        let spec = conn::parse("Server=db;Database=crm;User Id=u;Password=hunter2;Encrypt=perhaps")
            .expect("parses");
        let err = config(&spec, limits()).unwrap_err();
        assert!(err.message.contains("Encrypt"), "{err}");
        assert!(!err.message.contains("hunter2"));
        let spec =
            conn::parse("Server=db\\SQLEXPRESS;Database=crm;User Id=u;Password=p").expect("parses");
        assert!(config(&spec, limits())
            .unwrap_err()
            .message
            .contains("instance"));
    }

    /// Found against a TDS server with a self-signed certificate: Encrypt=false
    /// still validated it (CaUsedAsEndEntity), unlike Microsoft's clients.
    #[test]
    fn encrypt_and_trust_follow_microsofts_rules() {
        let policy = |extra: &str| {
            let text = format!("Server=db;Database=crm;User Id=u;Password=p{extra}");
            tls_policy(&conn::parse(&text).expect("parses")).expect("valid")
        };
        assert_eq!(
            policy(""),
            (true, true),
            "mandatory and validated by default"
        );
        assert_eq!(policy(";Encrypt=true"), (true, true));
        assert_eq!(
            policy(";Encrypt=true;TrustServerCertificate=true"),
            (true, false)
        );
        assert_eq!(
            policy(";Encrypt=false"),
            (false, false),
            "login only, not validated"
        );
        assert_eq!(policy(";Encrypt=optional"), (false, false));
        assert_eq!(policy(";Encrypt=strict"), (true, true));
    }

    /// Found against a TDS server: the driver's advice to programmers reached the person.
    #[test]
    fn tls_failures_leave_out_the_drivers_advice() {
        let raw = "the server's certificate was rejected during the TLS handshake: invalid peer \
                   certificate: UnknownIssuer. To connect anyway you can: (1) trust a specific CA \
                   certificate with `Config::trust_cert_ca(path)` ... (4) build tiberius with the \
                   `native-tls` backend. Note: SQL Server always performs a TLS handshake";
        let message = tls_message("db:1433", raw);
        assert!(message.contains("not signed by an authority"), "{message}");
        // Issue 29, finding 15: the rustls error reads as words, not as Debug text.
        let message = tls_message(
            "db:1433",
            "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
        );
        assert!(
            message.contains("a certificate authority's certificate as its own"),
            "{message}"
        );
        assert!(!message.contains("OtherError"), "{message}");
        assert!(message.contains("TrustServerCertificate=true"), "{message}");
        for leak in ["Config::", "tiberius", "native-tls"] {
            assert!(!message.contains(leak), "{message}");
        }
        let db = classify(
            tiberius::error::Error::Io {
                kind: std::io::ErrorKind::TimedOut,
                message: "timed out".into(),
            },
            "db:1433",
            limits(),
        );
        assert_eq!(
            db.kind,
            TargetErrorKind::Unreachable,
            "connecting: unreachable"
        );
    }

    /// Issue 29, findings 12 and 13: every query left its connection marked
    /// broken (a new login and TLS handshake each time), and a query past the
    /// time limit kept running on the server. Now a query that ended is reset
    /// and reused; one interrupted (time limit, row or byte cap) is cancelled
    /// with an Attention first; only a failed connection is closed.
    #[test]
    fn after_a_query_the_connection_is_reset_cancelled_or_closed() {
        let ok = |truncated| Ok((Vec::new(), Vec::new(), truncated));
        let failed = |kind| Err(TargetError::new(kind, "x"));
        assert_eq!(after_query(&ok(false)), AfterQuery::Reset);
        assert_eq!(after_query(&ok(true)), AfterQuery::CancelThenReset);
        assert_eq!(
            after_query(&failed(TargetErrorKind::Query)),
            AfterQuery::Reset
        );
        assert_eq!(
            after_query(&failed(TargetErrorKind::ReadOnly)),
            AfterQuery::Reset
        );
        // Past the time limit (ours or the driver's), or past the byte cap.
        assert_eq!(
            after_query(&Err(engine::timed_out(limits()))),
            AfterQuery::CancelThenReset
        );
        assert_eq!(
            after_query(&failed(TargetErrorKind::TooLarge)),
            AfterQuery::CancelThenReset
        );
        assert_eq!(
            after_query(&failed(TargetErrorKind::Broken)),
            AfterQuery::Close
        );
    }

    /// Found against a TDS server: error 911 got only the generic message.
    #[test]
    fn a_missing_database_is_named_as_such() {
        for code in [911, 4060] {
            let err = server_error(code, "Database 'nope' does not exist.", "db:1433");
            assert_eq!(err.kind, TargetErrorKind::NoDatabase, "{code}");
        }
    }

    /// Found against a TDS server: a query past the limit was reported as
    /// "Could not reach ...". The driver's own timeout while a query runs is
    /// the query taking too long, and its connection is cancelled, not reused as is.
    #[test]
    fn a_query_past_the_limit_is_a_timeout_and_is_cancelled() {
        let err = query_error(
            tiberius::error::Error::Io {
                kind: std::io::ErrorKind::TimedOut,
                message: "timed out".into(),
            },
            "db:1433",
            limits(),
        );
        assert_eq!(err.kind, TargetErrorKind::Timeout);
        assert!(err.message.contains("longer than"), "{err}");
        assert_eq!(after_query(&Err(err)), AfterQuery::CancelThenReset);
    }

    #[test]
    fn every_statement_runs_in_a_transaction_that_is_rolled_back() {
        let guard = session_guard(limits());
        assert!(guard.starts_with("SET IMPLICIT_TRANSACTIONS ON;"));
        assert!(guard.contains("SET LOCK_TIMEOUT 10000"));
        assert!(SESSION_RESET.starts_with("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"));
    }

    #[test]
    fn values_decode_like_the_other_engines() {
        assert_eq!(decode(&ColumnData::I32(None)), Value::Null);
        assert_eq!(decode(&ColumnData::I64(Some(7))), Value::Int(7));
        assert_eq!(decode(&ColumnData::Bit(Some(true))), Value::Bool(true));
        assert_eq!(
            decode(&ColumnData::Binary(Some(vec![0xde, 0xad].into()))).render(),
            "0xDEAD"
        );
        assert_eq!(
            decode(&ColumnData::Numeric(Some(
                tiberius::numeric::Numeric::new_with_scale(12345, 2)
            )))
            .render(),
            "123.45"
        );
        let when = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .expect("a date");
        let data = tiberius::IntoSql::into_sql(when);
        assert_eq!(decode(&data).render(), "2026-11-26 09:30:00");
    }
}
