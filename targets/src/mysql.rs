//! MySQL and MariaDB targets (sqlx).
//!
//! A `READ ONLY` transaction alone is not enough here: DDL commits the open
//! transaction implicitly and then runs (measured on MariaDB 10.11:
//! `START TRANSACTION READ ONLY; CREATE TABLE t (x int)` creates the table).
//! So before every query the session itself is made read-only
//! (`SET SESSION TRANSACTION READ ONLY`, which refuses DDL too) and given a
//! statement time limit, then the statement runs prepared (one statement only)
//! inside `START TRANSACTION READ ONLY`, and is rolled back.

use super::conn::ConnectionSpec;
use super::engine::{self, format, get, unreadable, ConnectContext, Rows};
use super::schema::{self, ColumnRow, KeyRow};
use super::{classify_sqlx, TargetError, TargetErrorKind};
use crate::QueryLimits;
use models::targets::{Schema, TableKind, Value};
use sqlx::mysql::MySqlConnection;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlRow, MySqlSslMode};
use sqlx::Row;

/// The pool and what the server turned out to be.
pub struct MysqlPool {
    pub(super) pool: MySqlPool,
    /// MariaDB and MySQL name their statement time limits differently.
    mariadb: bool,
}

fn place(spec: &ConnectionSpec) -> String {
    format!(
        "{}:{}/{}",
        spec.host.as_deref().unwrap_or("localhost"),
        spec.port_or_default().unwrap_or(3306),
        spec.database
    )
}

pub(super) fn options(spec: &ConnectionSpec) -> Result<MySqlConnectOptions, TargetError> {
    // One key whatever its spelling (ssl-mode, ssl_mode, sslmode): see conn::canonical_key.
    let mode = spec.options.get("sslmode");
    let ssl_mode = match mode {
        None => MySqlSslMode::Preferred,
        Some(mode) => mode
            .to_ascii_uppercase()
            .replace('-', "_")
            .parse::<MySqlSslMode>()
            .map_err(|_| {
                TargetError::new(
                    TargetErrorKind::Invalid,
                    format!(
                        "ssl-mode={mode:?} is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY."
                    ),
                )
            })?,
    };
    let mut options = MySqlConnectOptions::new()
        .host(spec.host.as_deref().unwrap_or("localhost"))
        .port(spec.port_or_default().unwrap_or(3306))
        .database(&spec.database)
        .ssl_mode(ssl_mode)
        .charset("utf8mb4")
        .statement_cache_capacity(64);
    if let Some(user) = &spec.user {
        options = options.username(user);
    }
    if let Some(password) = spec.password() {
        options = options.password(password);
    }
    Ok(options)
}

/// Connects to `pin` (the address the host policy checked) when given.
pub(super) async fn connect(
    spec: &ConnectionSpec,
    ctx: &ConnectContext,
    pin: Option<std::net::IpAddr>,
) -> Result<MysqlPool, TargetError> {
    let mut options = options(spec)?;
    if let Some(ip) = pin {
        options = options.host(&ip.to_string());
    }
    engine::first_connection::<MySqlConnection>(&options, &place(spec), ctx.limits).await?;
    let pool = engine::pool_options().connect_lazy_with(options);
    let pool = MysqlPool {
        mariadb: false,
        pool,
    };
    let version = version(&pool).await?;
    Ok(MysqlPool {
        mariadb: version.contains("MariaDB"),
        ..pool
    })
}

fn classify(err: sqlx::Error, limits: QueryLimits) -> TargetError {
    classify_sqlx(err, "the MySQL server", limits.timeout.as_secs())
}

pub(super) async fn version(pool: &MysqlPool) -> Result<String, TargetError> {
    let full: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
        .fetch_one(&pool.pool)
        .await
        .map_err(|e| classify(e, QueryLimits::default()))?;
    // "10.11.19-MariaDB-0+deb12u1" -> "MariaDB 10.11.19"; "8.0.36" -> "MySQL 8.0.36"
    let number = full.split(['-', ' ']).next().unwrap_or(&full);
    Ok(if full.contains("MariaDB") {
        format!("MariaDB {number}")
    } else {
        format!("MySQL {number}")
    })
}

/// The statements that make the session read-only and time-limited, then open
/// a read-only transaction. Only constants and a number: never user input.
fn session_guard(mariadb: bool, limits: QueryLimits) -> String {
    let limit = if mariadb {
        format!(
            "SET SESSION max_statement_time = {}",
            limits.timeout.as_secs()
        )
    } else {
        format!(
            "SET SESSION max_execution_time = {}",
            limits.timeout.as_millis()
        )
    };
    // A known SQL mode: without ANSI_QUOTES and NO_BACKSLASH_ESCAPES, strings are
    // lexed as the guard lexes them, whatever the server's default.
    // group_concat stops at the byte cap; every other value (and row) is
    // bounded by the server's max_allowed_packet, which a session cannot raise.
    format!(
        "SET SESSION sql_mode = 'PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION'; \
         SET SESSION group_concat_max_len = {}; \
         SET SESSION TRANSACTION READ ONLY; {limit}; START TRANSACTION READ ONLY",
        limits.max_bytes
    )
}

pub(super) async fn run(
    pool: &MysqlPool,
    sql: &str,
    limits: QueryLimits,
) -> Result<Rows, TargetError> {
    let mut conn = pool.pool.acquire().await.map_err(|e| classify(e, limits))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(session_guard(pool.mariadb, limits)))
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(e, limits))?;
    let result = engine::fetch_capped::<sqlx::MySql>(
        &mut conn,
        sql,
        limits,
        decode,
        engine::raw_size,
        |e| classify(e, limits),
    )
    .await;
    if engine::stopped_early(&result)
        || sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.is_err()
    {
        // Rows still on their way, or a state that is unknown: the
        // connection is closed (which rolls back), not given to the next query.
        conn.close_on_drop();
    }
    result
}

/// One value of a row, by the column's MySQL type.
pub(super) fn decode(row: &MySqlRow, i: usize) -> Value {
    let Some(type_name) = engine::type_of(row, i) else {
        return Value::Null;
    };
    let t = type_name.as_str();
    match t {
        "BOOLEAN" => get!(row, i, t, bool, Value::Bool),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => get!(row, i, t, i64, Value::Int),
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "INT UNSIGNED" | "MEDIUMINT UNSIGNED"
        | "BIGINT UNSIGNED" | "BIT" | "YEAR" => {
            get!(row, i, t, u64, |v: u64| match i64::try_from(v) {
                Ok(v) => Value::Int(v),
                Err(_) => Value::BigInt(v.to_string()),
            })
        }
        "FLOAT" => get!(row, i, t, f32, |v: f32| Value::Float(v.into())),
        "DOUBLE" => get!(row, i, t, f64, Value::Float),
        "DECIMAL" => get!(
            row,
            i,
            t,
            bigdecimal::BigDecimal,
            |v: bigdecimal::BigDecimal| { Value::Decimal(v.to_plain_string()) }
        ),
        "DATE" => get!(row, i, t, chrono::NaiveDate, |v| Value::Date(format::date(
            v
        ))),
        "TIME" => get!(row, i, t, chrono::NaiveTime, |v| Value::Time(format::time(
            v
        ))),
        "DATETIME" => get!(row, i, t, chrono::NaiveDateTime, |v| Value::Timestamp(
            format::datetime(v)
        )),
        // The session's time zone is UTC (sqlx sets it on connect).
        "TIMESTAMP" => get!(row, i, t, chrono::DateTime<chrono::Utc>, |v| {
            Value::Timestamp(format::datetime_utc(v))
        }),
        "CHAR" | "VARCHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET"
        | "JSON" => get!(row, i, t, String, Value::text),
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY" => {
            get!(row, i, t, Vec<u8>, |v: Vec<u8>| Value::binary(&v))
        }
        _ => match row.try_get_unchecked::<Vec<u8>, _>(i) {
            Ok(bytes) => engine::bytes_as_other(&type_name, &bytes),
            Err(e) => unreadable(&type_name, e),
        },
    }
}

const COLUMNS_SQL: &str = "\
SELECT CAST(c.TABLE_NAME AS CHAR), CAST(t.TABLE_TYPE AS CHAR), CAST(c.COLUMN_NAME AS CHAR),
       CAST(c.COLUMN_TYPE AS CHAR), CAST(c.IS_NULLABLE AS CHAR), CAST(t.TABLE_ROWS AS SIGNED),
       CAST(c.COLUMN_COMMENT AS CHAR)
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE()
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

const KEYS_SQL: &str = "\
SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR),
       CAST(k.REFERENCED_TABLE_SCHEMA AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR),
       CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(DATABASE() AS CHAR)
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.TABLE_SCHEMA = DATABASE()
  AND (k.CONSTRAINT_NAME = 'PRIMARY' OR k.REFERENCED_TABLE_NAME IS NOT NULL)
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

pub(super) async fn introspect(pool: &MysqlPool) -> Result<Schema, TargetError> {
    let limits = QueryLimits::default();
    let columns = sqlx::query(COLUMNS_SQL)
        .fetch_all(&pool.pool)
        .await
        .map_err(|e| classify(e, limits))?;
    let keys = sqlx::query(KEYS_SQL)
        .fetch_all(&pool.pool)
        .await
        .map_err(|e| classify(e, limits))?;
    let bad = |e: sqlx::Error| {
        TargetError::new(
            TargetErrorKind::Query,
            format!("The catalogue answered in an unexpected shape: {e}"),
        )
    };
    let columns = columns
        .iter()
        .map(|r| {
            let table_type: String = r.try_get(1)?;
            let nullable: String = r.try_get(4)?;
            Ok(ColumnRow {
                schema: None,
                table: r.try_get(0)?,
                kind: if table_type.contains("VIEW") {
                    TableKind::View
                } else {
                    TableKind::Table
                },
                column: r.try_get(2)?,
                data_type: r.try_get(3)?,
                nullable: nullable == "YES",
                row_estimate: r.try_get(5)?,
                // MySQL says '' for a column without a comment.
                comment: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(bad)?;
    let keys = keys
        .iter()
        .map(|r| {
            let constraint: String = r.try_get(1)?;
            let ref_schema: Option<String> = r.try_get(3)?;
            let this_schema: Option<String> = r.try_get(6)?;
            Ok(KeyRow {
                schema: None,
                table: r.try_get(0)?,
                primary: constraint == "PRIMARY",
                constraint,
                column: r.try_get(2)?,
                // Name the schema only when the reference leaves this database.
                ref_schema: ref_schema.filter(|s| Some(s) != this_schema.as_ref()),
                ref_table: r.try_get(4)?,
                ref_column: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(bad)?;
    Ok(schema::build(columns, keys, crate::unix_now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_session_is_made_read_only_with_the_right_time_limit() {
        let limits = QueryLimits {
            timeout: Duration::from_secs(7),
            row_limit: 10,
            ..QueryLimits::default()
        };
        let maria = session_guard(true, limits);
        assert!(maria.contains("SET SESSION TRANSACTION READ ONLY;"));
        assert!(
            maria.starts_with("SET SESSION sql_mode = 'PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION';")
        );
        assert!(maria.contains("max_statement_time = 7"));
        assert!(maria.ends_with("START TRANSACTION READ ONLY"));
        assert!(session_guard(false, limits).contains("max_execution_time = 7000"));
    }
}
