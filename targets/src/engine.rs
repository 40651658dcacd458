//! One enum over the four kinds of users' databases.
//!
//! [`Engine::run`] is the second line of defence behind the guard: it runs
//! whatever it is given, but in the engine's own read-only mode, with a
//! statement timeout and a wall-clock timeout, and returns at most the row
//! limit. Callers outside this module go through
//! `services::databases::query`, which checks the caller and the guard
//! first; tests call `run` directly to prove the engine alone cannot write.

use super::conn::ConnectionSpec;
use super::{mssql, mysql, postgres, sqlite, TargetError, TargetErrorKind};
use crate::QueryLimits;
use futures_util::TryStreamExt;
use models::targets::{QueryResult, ResultColumn, Schema, TargetKind, Value};
use sqlx::{Column, Database, Executor, Row, Statement, TypeInfo};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long connecting may take before it counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections one pool opens to a user's database.
pub const POOL_SIZE: u32 = 4;
/// An idle pooled connection is closed after this long (the pool itself
/// closes after 30 idle minutes, see [`super::registry`]).
pub const IDLE_CONNECTION: Duration = Duration::from_secs(5 * 60);

/// What connecting needs besides the connection string.
#[derive(Debug, Clone)]
pub struct ConnectContext {
    pub limits: QueryLimits,
    /// SQLite targets must be files inside the owner's folder in this directory.
    pub sqlite_dir: PathBuf,
    /// Tabletalk's own store when it is a SQLite file: never a target.
    pub store_file: Option<PathBuf>,
    /// The folder (inside `sqlite_dir`) of the organization or person whose
    /// database this is: its id. Without one, no SQLite file is reachable.
    pub sqlite_owner: Option<String>,
    /// Also accept a file directly in `sqlite_dir`, as databases registered
    /// before per-owner folders were (stored connections only, never new ones).
    pub sqlite_legacy: bool,
    /// Which hosts may be connected to.
    pub hosts: super::hosts::HostPolicy,
}

impl ConnectContext {
    /// This context for a database of `owner` (an organization id or a
    /// person's Telegram id); `stored`: an already registered database.
    pub fn for_owner(&self, owner: &str, stored: bool) -> ConnectContext {
        ConnectContext {
            sqlite_owner: Some(owner.to_owned()),
            sqlite_legacy: stored,
            ..self.clone()
        }
    }
}

/// A pool of connections to one user's database.
pub enum Engine {
    Postgres(postgres::PgTarget),
    Mysql(mysql::MysqlPool),
    Sqlite(sqlx::SqlitePool),
    Mssql(mssql::MssqlPool),
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({})", self.kind())
    }
}

impl Engine {
    /// Opens a pool and one connection (so a bad host or password fails here).
    pub async fn connect(
        spec: &ConnectionSpec,
        ctx: &ConnectContext,
    ) -> Result<Engine, TargetError> {
        match spec.kind {
            TargetKind::Postgres => {
                let pin = checked_address(spec, ctx, "verify-full").await?;
                postgres::connect(spec, ctx, pin)
                    .await
                    .map(Engine::Postgres)
            }
            TargetKind::Mysql => {
                let pin = checked_address(spec, ctx, "verify_identity").await?;
                mysql::connect(spec, ctx, pin).await.map(Engine::Mysql)
            }
            TargetKind::Sqlite => sqlite::connect(spec, ctx).await.map(Engine::Sqlite),
            TargetKind::Mssql => mssql::connect(spec, ctx).await.map(Engine::Mssql),
        }
    }

    pub fn kind(&self) -> TargetKind {
        match self {
            Engine::Postgres(_) => TargetKind::Postgres,
            Engine::Mysql(_) => TargetKind::Mysql,
            Engine::Sqlite(_) => TargetKind::Sqlite,
            Engine::Mssql(_) => TargetKind::Mssql,
        }
    }

    /// What the server says it is, e.g. `PostgreSQL 15.19`.
    pub async fn server_version(&self) -> Result<String, TargetError> {
        match self {
            Engine::Postgres(pg) => postgres::version(&pg.pool).await,
            Engine::Mysql(pool) => mysql::version(pool).await,
            Engine::Sqlite(pool) => sqlite::version(pool).await,
            Engine::Mssql(pool) => mssql::version(pool).await,
        }
    }

    /// Checks `sql` with the guard, using what this server's catalogue says
    /// of functions (PostgreSQL) and the names the owner allowed.
    pub fn check(
        &self,
        sql: &str,
        owner_allowed: &[String],
    ) -> Result<crate::guard::AllowedQuery, String> {
        let catalogue = match self {
            Engine::Postgres(pg) => pg.functions.as_ref(),
            Engine::Mysql(_) | Engine::Sqlite(_) | Engine::Mssql(_) => None,
        };
        let functions = crate::guard::Functions {
            catalogue,
            owner_allowed,
        };
        crate::guard::check_with(self.kind(), functions, sql)
    }

    /// Runs one statement read-only, within `limits`. Does not run the guard.
    pub async fn run(&self, sql: &str, limits: QueryLimits) -> Result<QueryResult, TargetError> {
        let started = Instant::now();
        // The engines stop the statement at the limit themselves; this outer
        // timeout is the backstop if one does not (a few seconds later).
        let backstop = limits.timeout + Duration::from_secs(5);
        let run = async {
            match self {
                Engine::Postgres(pg) => postgres::run(&pg.pool, sql, limits).await,
                Engine::Mysql(pool) => mysql::run(pool, sql, limits).await,
                Engine::Sqlite(pool) => sqlite::run(pool, sql, limits).await,
                Engine::Mssql(pool) => mssql::run(pool, sql, limits).await,
            }
        };
        let ran = tokio::time::timeout(backstop, run)
            .await
            .map_err(|_| timed_out(limits))
            .and_then(|ran| ran);
        crate::record_query(self.kind(), ran.is_ok(), started.elapsed());
        let (columns, rows, truncated) = ran?;
        Ok(QueryResult {
            columns,
            rows,
            truncated,
            row_limit: limits.row_limit,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Reads tables, views, columns, comments, keys and row estimates, then
    /// the value index of small text columns ([`super::values`]).
    pub async fn introspect(&self) -> Result<Schema, TargetError> {
        let mut schema = self.catalogue().await?;
        super::values::index(self, &mut schema).await;
        Ok(schema)
    }

    async fn catalogue(&self) -> Result<Schema, TargetError> {
        let read = async {
            match self {
                Engine::Postgres(pg) => postgres::introspect(&pg.pool).await,
                Engine::Mysql(pool) => mysql::introspect(pool).await,
                Engine::Sqlite(pool) => sqlite::introspect(pool).await,
                Engine::Mssql(pool) => mssql::introspect(pool).await,
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .map_err(|_| {
                TargetError::new(
                    TargetErrorKind::Timeout,
                    "Reading the schema took longer than 60 s.",
                )
            })?
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        match self {
            Engine::Postgres(pg) => pg.pool.close().await,
            Engine::Mysql(pool) => pool.pool.close().await,
            Engine::Sqlite(pool) => pool.close().await,
            Engine::Mssql(_) => {} // bb8 closes its connections when the pool is dropped.
        }
    }
}

/// Checks the host against the policy (before anything connects) and
/// returns the checked address to connect to. When the TLS mode (`sslmode`,
/// one key in every spelling: the parser refuses it twice) is `verify_value`,
/// which verifies the certificate's name, the name itself must be used, so
/// none is pinned: the one case where the driver resolves the name again,
/// and TLS then proves it reached the named host.
async fn checked_address(
    spec: &ConnectionSpec,
    ctx: &ConnectContext,
    verify_value: &str,
) -> Result<Option<std::net::IpAddr>, TargetError> {
    let host = spec.host.as_deref().unwrap_or("localhost");
    let port = spec.port_or_default().unwrap_or_default();
    let addrs = ctx.hosts.check(host, port).await?;
    let verifies_name = spec.options.get("sslmode").is_some_and(|value| {
        value
            .replace('-', "_")
            .eq_ignore_ascii_case(&verify_value.replace('-', "_"))
    });
    Ok((!verifies_name)
        .then(|| addrs.first().map(std::net::SocketAddr::ip))
        .flatten())
}

/// The pool settings every sqlx target shares; pools are created lazily after
/// [`first_connection`] has shown the settings work.
pub(crate) fn pool_options<DB: Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(POOL_SIZE)
        .min_connections(0)
        .acquire_timeout(CONNECT_TIMEOUT)
        .idle_timeout(Some(IDLE_CONNECTION))
}

/// One direct connection, closed again: a pool retries until its timeout and
/// then reports only that, where this reports what actually went wrong.
pub(crate) async fn first_connection<C: sqlx::Connection>(
    options: &<C as sqlx::Connection>::Options,
    place: &str,
    limits: QueryLimits,
) -> Result<(), TargetError> {
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, C::connect_with(options))
        .await
        .map_err(|_| connect_timed_out(place))?
        .map_err(|e| match e {
            // The server answered as a database: what it said helps the person.
            sqlx::Error::Database(_) | sqlx::Error::Tls(_) | sqlx::Error::Configuration(_) => {
                super::classify_sqlx(e, place, limits.timeout.as_secs())
            }
            sqlx::Error::Io(ref io) if super::looks_like_tls(&io.to_string()) => {
                super::classify_sqlx(e, place, limits.timeout.as_secs())
            }
            other => super::unreachable(place, &other),
        })?;
    drop(conn.close().await);
    Ok(())
}

pub(crate) fn connect_timed_out(place: &str) -> TargetError {
    super::unreachable(
        place,
        &format_args!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
    )
}

pub(crate) fn timed_out(limits: QueryLimits) -> TargetError {
    TargetError::new(
        TargetErrorKind::Timeout,
        format!(
            "The query ran longer than {} s and was stopped.",
            limits.timeout.as_secs()
        ),
    )
}

/// Columns, rows (at most the cap) and whether more rows existed.
pub(crate) type Rows = (Vec<ResultColumn>, Vec<Vec<Value>>, bool);

/// Prepares `sql` on `conn` (for the column list, even with no rows), then
/// streams at most `limits.row_limit` rows through `decode`, noting whether
/// more existed. `size` tells how many bytes a value took as the engine sent
/// it; a result past `limits.max_bytes` is refused, not held.
pub(crate) async fn fetch_capped<DB>(
    conn: &mut DB::Connection,
    sql: &str,
    limits: QueryLimits,
    decode: impl Fn(&DB::Row, usize) -> Value,
    size: impl Fn(&DB::Row, usize) -> usize,
    classify: impl Fn(sqlx::Error) -> TargetError,
) -> Result<Rows, TargetError>
where
    DB: Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    use sqlx::SqlSafeStr;
    let statement = (&mut *conn)
        .prepare(sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str())
        .await
        .map_err(&classify)?;
    let columns: Vec<ResultColumn> = statement
        .columns()
        .iter()
        .map(|c| ResultColumn {
            name: c.name().to_owned(),
            type_name: c.type_info().name().to_owned(),
        })
        .collect();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut bytes = 0usize;
    let mut stream = statement.query().fetch(&mut *conn);
    while let Some(row) = stream.try_next().await.map_err(&classify)? {
        if rows.len() == limits.row_limit {
            truncated = true;
            break;
        }
        bytes = (0..row.len()).fold(bytes, |sum, i| sum.saturating_add(size(&row, i)));
        if bytes > limits.max_bytes {
            return Err(too_large(limits));
        }
        rows.push((0..row.len()).map(|i| decode(&row, i)).collect());
    }
    Ok((columns, rows, truncated))
}

/// Whether reading stopped before the end of the result (row cap or byte
/// cap): the rest is still on its way, and draining it would mean reading
/// every remaining row, so such a connection is closed instead of reused.
pub(crate) fn stopped_early(result: &Result<Rows, TargetError>) -> bool {
    match result {
        Ok((_, _, truncated)) => *truncated,
        Err(e) => e.kind == TargetErrorKind::TooLarge,
    }
}

/// The refusal of a result over [`QueryLimits::max_bytes`].
pub(crate) fn too_large(limits: QueryLimits) -> TargetError {
    TargetError::new(
        TargetErrorKind::TooLarge,
        format!(
            "The result is larger than {} MB; narrow the question (fewer rows or columns, or shorter values).",
            limits.max_bytes.div_ceil(crate::MB)
        ),
    )
}

/// The bytes of value `i` as the engine sent it, for engines whose raw
/// values are their wire bytes (PostgreSQL, MySQL); 0 for NULL.
pub(crate) fn raw_size<R>(row: &R, i: usize) -> usize
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> &'r [u8]: sqlx::Decode<'r, R::Database>,
{
    use sqlx::ValueRef;
    match row.try_get_raw(i) {
        Ok(raw) if raw.is_null() => 0,
        Ok(_) => row.try_get_unchecked::<&[u8], _>(i).map_or(0, <[u8]>::len),
        Err(_) => 0,
    }
}

/// The engine's type name of value `i` of a row, or `None` when it is NULL.
pub(crate) fn type_of<R>(row: &R, i: usize) -> Option<String>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
{
    use sqlx::ValueRef;
    let raw = row.try_get_raw(i).ok()?;
    (!raw.is_null()).then(|| raw.type_info().name().to_owned())
}

/// Value `i` decoded as `T` and mapped to a [`Value`], or shown as unreadable.
pub(crate) fn typed<'r, R, T>(
    row: &'r R,
    i: usize,
    type_name: &str,
    f: impl FnOnce(T) -> Value,
) -> Value
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row.try_get::<T, _>(i) {
        Ok(v) => f(v),
        Err(e) => unreadable(type_name, e),
    }
}

/// `get!(row, i, type_name, T, f)`: [`typed`] with the type written out.
macro_rules! get {
    ($row:expr, $i:expr, $t:expr, $ty:ty, $f:expr) => {
        $crate::engine::typed::<_, $ty>($row, $i, $t, $f)
    };
}
pub(crate) use get;

/// A value that could not be read as its type, shown as such rather than failing the query.
pub(crate) fn unreadable(type_name: &str, err: impl std::fmt::Display) -> Value {
    Value::Other {
        type_name: type_name.to_owned(),
        text: format!("(unreadable {type_name}: {err})"),
    }
}

/// Renders raw bytes of an unknown type: as text when they are UTF-8, else hex.
pub(crate) fn bytes_as_other(type_name: &str, bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => match Value::text(text) {
            Value::Text { text, .. } => Value::Other {
                type_name: type_name.to_owned(),
                text,
            },
            other => other,
        },
        Err(_) => match Value::binary(bytes) {
            Value::Binary { hex, .. } => Value::Other {
                type_name: type_name.to_owned(),
                text: hex,
            },
            other => other,
        },
    }
}

pub(crate) mod format {
    //! One text form for dates and times whatever the engine.
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

    pub fn date(d: NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }
    pub fn time(t: NaiveTime) -> String {
        t.format("%H:%M:%S%.f").to_string()
    }
    pub fn datetime(t: NaiveDateTime) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }
    pub fn datetime_utc(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.f+00:00").to_string()
    }
    pub fn datetime_offset(t: DateTime<chrono::FixedOffset>) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.f%:z").to_string()
    }
}
