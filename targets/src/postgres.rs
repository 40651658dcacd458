//! PostgreSQL targets (sqlx).
//!
//! Every session starts with `default_transaction_read_only = on`; every query
//! runs in `BEGIN READ ONLY` with `SET LOCAL statement_timeout`, through the
//! extended protocol (a prepared statement: one statement only), and the
//! transaction is rolled back afterwards.

use super::conn::ConnectionSpec;
use super::engine::{self, format, get, unreadable, ConnectContext, Rows};
use super::schema::{self, ColumnRow, KeyRow};
use super::{classify_sqlx, TargetError, TargetErrorKind};
use crate::QueryLimits;
use models::targets::{Schema, TableKind, Value};
use sqlx::postgres::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgRow, PgSslMode};
use sqlx::{Connection, Row};
use std::collections::HashSet;

fn place(spec: &ConnectionSpec) -> String {
    format!(
        "{}:{}/{}",
        spec.host.as_deref().unwrap_or("localhost"),
        spec.port_or_default().unwrap_or(5432),
        spec.database
    )
}

pub(super) fn options(
    spec: &ConnectionSpec,
    limits: QueryLimits,
) -> Result<PgConnectOptions, TargetError> {
    let ssl_mode = match spec.options.get("sslmode").map(|m| m.to_ascii_lowercase()) {
        None => PgSslMode::Prefer,
        Some(mode) => mode.parse::<PgSslMode>().map_err(|_| {
            TargetError::new(
                TargetErrorKind::Invalid,
                format!(
                    "sslmode={mode:?} is not one of disable, allow, prefer, require, verify-ca, verify-full."
                ),
            )
        })?,
    };
    // sqlx starts from the process environment (PGUSER, PGPASSWORD, PGOPTIONS...):
    // every field that could carry the operator's own settings to whatever host
    // a user names is set here from the connection string alone. (PGSSLCERT and
    // PGSSLKEY cannot be cleared this way; the configuration refuses to start
    // with them set, see `config`.)
    let mut options = PgConnectOptions::new_without_pgpass()
        .host(spec.host.as_deref().unwrap_or("localhost"))
        .port(spec.port_or_default().unwrap_or(5432))
        .database(&spec.database)
        .username(spec.user.as_deref().unwrap_or("postgres"))
        .password(spec.password().unwrap_or(""))
        .ssl_mode(ssl_mode)
        .application_name("tabletalk")
        .statement_cache_capacity(64)
        .options([
            ("default_transaction_read_only", "on".to_owned()),
            (
                "statement_timeout",
                format!("{}ms", limits.timeout.as_millis()),
            ),
            // The guard lexes strings as standard SQL: a backslash is a character.
            ("standard_conforming_strings", "on".to_owned()),
        ]);
    // Only a certificate pasted whole: a path would be a file of this server
    // (the connection string parser refuses those).
    if let Some(cert) = spec.options.get("sslrootcert") {
        options = options.ssl_root_cert_from_pem(cert.as_bytes().to_vec());
    }
    Ok(options)
}

/// A PostgreSQL pool and the server's own list of functions free of side effects.
pub struct PgTarget {
    pub pool: PgPool,
    /// `None` when the catalogue could not be read (the generated list applies).
    pub functions: Option<HashSet<String>>,
}

/// The names of every function the server says has no side effects: all of a
/// name's overloads, in every schema, IMMUTABLE or STABLE (one VOLATILE
/// overload anywhere refuses the name). Users' own functions count too.
pub(super) async fn function_catalogue(pool: &PgPool) -> Result<HashSet<String>, TargetError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT proname::text FROM pg_catalog.pg_proc GROUP BY proname \
         HAVING bool_and(provolatile IN ('i', 's'))",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| classify(e, QueryLimits::default()))?;
    Ok(names.into_iter().map(|n| n.to_lowercase()).collect())
}

/// Connects to `pin` (the address the host policy checked) when given.
pub(super) async fn connect(
    spec: &ConnectionSpec,
    ctx: &ConnectContext,
    pin: Option<std::net::IpAddr>,
) -> Result<PgTarget, TargetError> {
    let mut options = options(spec, ctx.limits)?;
    if let Some(ip) = pin {
        options = options.host(&ip.to_string());
    }
    engine::first_connection::<PgConnection>(&options, &place(spec), ctx.limits).await?;
    let pool = engine::pool_options().connect_lazy_with(options);
    let functions = match function_catalogue(&pool).await {
        Ok(functions) => Some(functions),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the server's function catalogue; the built-in list applies");
            None
        }
    };
    Ok(PgTarget { pool, functions })
}

fn classify(err: sqlx::Error, limits: QueryLimits) -> TargetError {
    if let sqlx::Error::Database(db) = &err {
        if db.message().contains(ROW_TOO_LARGE) {
            return engine::too_large(limits);
        }
    }
    classify_sqlx(err, "the PostgreSQL server", limits.timeout.as_secs())
}

/// What the server says when a row is past the byte cap (see [`bounded`]).
const ROW_TOO_LARGE: &str = "tabletalk: a row is larger than the byte limit";

/// The checked statement, as written, inside a query the server refuses to
/// answer once one row's text is longer than `max_bytes`: the refusal
/// happens on the server, before the row is sent, so no value past the cap
/// is ever held whole in this process (sqlx reads a row whole). The
/// statement is not re-rendered: its text sits between two fixed lines (the
/// newline ends any trailing comment), and the guard proved it is one whole
/// query, so it cannot close the parenthesis early. `ROW(r.*)` is the whole
/// row even when a column is named like the alias; the error comes from a
/// cast the planner cannot fold, as it depends on the row.
fn bounded(sql: &str, max_bytes: usize) -> String {
    format!(
        "SELECT tabletalk_row.* FROM (\n{sql}\n) AS tabletalk_row \
         WHERE CASE WHEN octet_length(ROW(tabletalk_row.*)::text) > {max_bytes} \
         THEN ('{ROW_TOO_LARGE}: ' || octet_length(ROW(tabletalk_row.*)::text))::int \
         ELSE 1 END = 1"
    )
}

pub(super) async fn version(pool: &PgPool) -> Result<String, TargetError> {
    let full: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(pool)
        .await
        .map_err(|e| classify(e, QueryLimits::default()))?;
    // "PostgreSQL 15.19 (Debian 15.19-0+deb12u1) on x86_64-pc-linux-gnu, ..." -> "PostgreSQL 15.19"
    Ok(full
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

pub(super) async fn run(
    pool: &PgPool,
    sql: &str,
    limits: QueryLimits,
) -> Result<Rows, TargetError> {
    let mut conn = pool.acquire().await.map_err(|e| classify(e, limits))?;
    let mut tx = conn
        .begin_with("BEGIN TRANSACTION READ ONLY")
        .await
        .map_err(|e| classify(e, limits))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL statement_timeout = {}",
        limits.timeout.as_millis()
    )))
    .execute(&mut *tx)
    .await
    .map_err(|e| classify(e, limits))?;
    let bounded = bounded(sql, limits.max_bytes);
    let result = engine::fetch_capped::<sqlx::Postgres>(
        &mut tx,
        &bounded,
        limits,
        decode,
        engine::raw_size,
        |e| classify(e, limits),
    )
    .await;
    if engine::stopped_early(&result) {
        // Closing the connection ends the statement and rolls it back.
        drop(tx);
        conn.close_on_drop();
    } else {
        // Nothing a query does is ever kept, even if the statement was COMMIT.
        drop(tx.rollback().await);
    }
    result
}

/// One value of a row, by the column's PostgreSQL type.
pub(super) fn decode(row: &PgRow, i: usize) -> Value {
    let Some(type_name) = engine::type_of(row, i) else {
        return Value::Null;
    };
    let t = type_name.as_str();
    match t {
        "BOOL" => get!(row, i, t, bool, Value::Bool),
        "INT2" => get!(row, i, t, i16, |v: i16| Value::Int(v.into())),
        "INT4" => get!(row, i, t, i32, |v: i32| Value::Int(v.into())),
        "INT8" => get!(row, i, t, i64, Value::Int),
        "OID" => get!(
            row,
            i,
            t,
            sqlx::postgres::types::Oid,
            |v: sqlx::postgres::types::Oid| Value::Int(v.0.into())
        ),
        "FLOAT4" => get!(row, i, t, f32, |v: f32| Value::Float(v.into())),
        "FLOAT8" => get!(row, i, t, f64, Value::Float),
        // As the engine writes it (its display scale): sqlx's BigDecimal
        // would show 10.50 as 10.5000 (the wire's base-10000 groups).
        "NUMERIC" => match row.try_get_raw(i) {
            Ok(raw) if sqlx::ValueRef::is_null(&raw) => Value::Null,
            Ok(raw) => match (raw.format(), raw.as_bytes()) {
                (sqlx::postgres::PgValueFormat::Text, Ok(bytes)) => {
                    Value::Decimal(String::from_utf8_lossy(bytes).into_owned())
                }
                (sqlx::postgres::PgValueFormat::Binary, Ok(bytes)) => match numeric_text(bytes) {
                    Some(text) => Value::Decimal(text),
                    None => unreadable(t, "not a binary numeric"),
                },
                (_, Err(e)) => unreadable(t, e),
            },
            Err(e) => unreadable(t, e),
        },
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "XML" => {
            get!(row, i, t, String, Value::text)
        }
        "UUID" => get!(row, i, t, sqlx::types::Uuid, |v: sqlx::types::Uuid| {
            Value::text(v.to_string())
        }),
        "JSON" | "JSONB" => get!(row, i, t, serde_json::Value, |v: serde_json::Value| {
            Value::text(v.to_string())
        }),
        "DATE" => get!(row, i, t, chrono::NaiveDate, |v| Value::Date(format::date(
            v
        ))),
        "TIME" => get!(row, i, t, chrono::NaiveTime, |v| Value::Time(format::time(
            v
        ))),
        "TIMESTAMP" => get!(row, i, t, chrono::NaiveDateTime, |v| Value::Timestamp(
            format::datetime(v)
        )),
        "TIMESTAMPTZ" => get!(row, i, t, chrono::DateTime<chrono::Utc>, |v| {
            Value::Timestamp(format::datetime_utc(v))
        }),
        "BYTEA" => get!(row, i, t, Vec<u8>, |v: Vec<u8>| Value::binary(&v)),
        // Enums and domains over text arrive as their label; anything else as hex.
        _ => match row
            .try_get_raw(i)
            .map(|raw| raw.as_bytes().map(<[u8]>::to_vec))
        {
            Ok(Ok(bytes)) => engine::bytes_as_other(t, &bytes),
            Ok(Err(e)) => unreadable(t, e),
            Err(e) => unreadable(t, e),
        },
    }
}

/// A binary `numeric` (ndigits, weight, sign, display scale, then base-10000
/// digits) as PostgreSQL prints it: exactly `dscale` decimals, `NaN`,
/// `Infinity`, `-Infinity`.
pub(super) fn numeric_text(bytes: &[u8]) -> Option<String> {
    let word = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => return None,
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Option<_>>()?;
    if digits.iter().any(|d| *d > 9_999) {
        return None;
    }
    let digit = |k: i32| -> u16 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(0).to_string());
        for k in 1..=weight {
            text.push_str(&format!("{:04}", digit(k)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut k = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(k)));
            k += 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Some(text)
}

const COLUMNS_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, c.relkind::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, c.reltuples::float8,
       col_description(c.oid, a.attnum)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname, a.attnum";

const KEYS_SQL: &str = "\
SELECT n.nspname::text, cl.relname::text, con.conname::text, con.contype = 'p', a.attname::text,
       fn.nspname::text, fc.relname::text, fa.attname::text
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_catalog.pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[k.ord]
WHERE con.contype IN ('p', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, cl.relname, con.conname, k.ord";

pub(super) async fn introspect(pool: &PgPool) -> Result<Schema, TargetError> {
    let limits = QueryLimits::default();
    let mut conn = pool.acquire().await.map_err(|e| classify(e, limits))?;
    let mut tx = conn
        .begin_with("BEGIN TRANSACTION READ ONLY")
        .await
        .map_err(|e| classify(e, limits))?;
    let columns = sqlx::query(COLUMNS_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| classify(e, limits))?;
    let keys = sqlx::query(KEYS_SQL)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| classify(e, limits))?;
    drop(tx.rollback().await);
    let bad = |e: sqlx::Error| {
        TargetError::new(
            TargetErrorKind::Query,
            format!("The catalogue answered in an unexpected shape: {e}"),
        )
    };
    let columns = columns
        .iter()
        .map(|r| {
            let relkind: String = r.try_get(2)?;
            let estimate: Option<f64> = r.try_get(6)?;
            Ok(ColumnRow {
                schema: Some(r.try_get(0)?),
                table: r.try_get(1)?,
                kind: if matches!(relkind.as_str(), "v" | "m") {
                    TableKind::View
                } else {
                    TableKind::Table
                },
                column: r.try_get(3)?,
                data_type: r.try_get(4)?,
                nullable: r.try_get(5)?,
                // Never-analysed tables say -1 (PostgreSQL 14+) or 0.
                row_estimate: estimate.filter(|n| *n >= 0.0).map(|n| n as i64),
                comment: r.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(bad)?;
    let keys = keys
        .iter()
        .map(|r| {
            Ok(KeyRow {
                schema: Some(r.try_get(0)?),
                table: r.try_get(1)?,
                constraint: r.try_get(2)?,
                primary: r.try_get(3)?,
                column: r.try_get(4)?,
                ref_schema: r.try_get(5)?,
                ref_table: r.try_get(6)?,
                ref_column: r.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(bad)?;
    Ok(schema::build(columns, keys, crate::unix_now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn;

    /// The wire form of a numeric: header words, then base-10000 digits.
    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [digits.len() as u16, weight as u16, sign, dscale] {
            out.extend(word.to_be_bytes());
        }
        for d in digits {
            out.extend(d.to_be_bytes());
        }
        out
    }

    /// Numerics read as PostgreSQL prints them (found by the pipeline's
    /// PostgreSQL test: 37.75 came back as 37.7500 through sqlx's BigDecimal).
    #[test]
    fn numerics_keep_the_engines_scale() {
        assert_eq!(
            numeric_text(&numeric(0, 0, 2, &[37, 7500])).as_deref(),
            Some("37.75")
        );
        assert_eq!(
            numeric_text(&numeric(0, 0x4000, 2, &[10, 5000])).as_deref(),
            Some("-10.50")
        );
        assert_eq!(
            numeric_text(&numeric(-1, 0, 4, &[1])).as_deref(),
            Some("0.0001")
        );
        assert_eq!(
            numeric_text(&numeric(1, 0, 0, &[1])).as_deref(),
            Some("10000")
        );
        assert_eq!(
            numeric_text(&numeric(1, 0, 3, &[12, 3456, 7800])).as_deref(),
            Some("123456.780")
        );
        assert_eq!(numeric_text(&numeric(0, 0, 0, &[])).as_deref(), Some("0"));
        assert_eq!(
            numeric_text(&numeric(0, 0, 2, &[])).as_deref(),
            Some("0.00")
        );
        assert_eq!(
            numeric_text(&numeric(0, 0xC000, 0, &[])).as_deref(),
            Some("NaN")
        );
        assert_eq!(
            numeric_text(&numeric(0, 0xF000, 0, &[])).as_deref(),
            Some("-Infinity")
        );
        assert_eq!(numeric_text(&[0, 1]), None, "too short");
        assert_eq!(
            numeric_text(&numeric(0, 0, 0, &[10_000])),
            None,
            "not a base-10000 digit"
        );
    }

    /// A connection string without a user or password must not pick up the
    /// server's own (PGUSER, PGPASSWORD, whoami) and send them to whatever host
    /// it names. (Fails on the old code: both were left as sqlx read them.)
    #[test]
    fn the_servers_environment_is_not_sent_to_a_users_host() {
        let spec = conn::parse("postgres://db.example.com/sales").expect("parses");
        let built = options(&spec, QueryLimits::default()).expect("valid");
        assert_eq!(built.get_username(), "postgres");
        let shown = format!("{built:?}");
        assert!(shown.contains("password: Some(\"\")"), "{shown}");
        assert!(shown.contains("standard_conforming_strings=on"), "{shown}");
        let spec = conn::parse("postgres://reader:pw@db.example.com/sales").expect("parses");
        let built = options(&spec, QueryLimits::default()).expect("valid");
        assert_eq!(built.get_username(), "reader");
    }
}
