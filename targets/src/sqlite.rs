//! SQLite targets (sqlx).
//!
//! The file must already exist inside the owner's folder of the configured
//! directory (`TABLETALK_SQLITE_DIR`, default `<data dir>/databases`, then
//! `<organization id>/` or `<Telegram user id>/`): SQLite reads files on the
//! Tabletalk machine, so without this rule anyone who may add a database could
//! read Tabletalk's own store or another organization's files. Relative paths
//! are taken inside that folder. Connections open the file read-only (`SQLITE_OPEN_READONLY`) with
//! `PRAGMA query_only`, and a progress handler interrupts a statement at the
//! time limit.

use super::conn::ConnectionSpec;
use super::engine::{self, get, ConnectContext, Rows};
use super::schema::{self, ColumnRow, KeyRow};
use super::{classify_sqlx, TargetError, TargetErrorKind};
use crate::QueryLimits;
use models::targets::{Schema, TableKind, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqliteRow};
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many SQLite VM steps run between checks of the deadline.
const PROGRESS_STEPS: i32 = 10_000;

/// The file a SQLite connection string names, resolved and checked against
/// the owner's folder (`<TABLETALK_SQLITE_DIR>/<organization or person id>/`)
/// and the store itself. Every file outside that folder gets the same answer
/// as a missing one, and no answer names a path on the server.
pub(super) fn resolve(spec: &ConnectionSpec, ctx: &ConnectContext) -> Result<PathBuf, TargetError> {
    let owner = ctx.sqlite_owner.as_deref().unwrap_or_default();
    let given = Path::new(&spec.database);
    let shown = given.file_name().map_or_else(
        || spec.database.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    let missing = || {
        TargetError::new(
            TargetErrorKind::NoDatabase,
            format!(
                "There is no SQLite file {shown:?} in the SQLite folder of {owner}. The operator \
                 puts its files in the folder {owner}/ inside TABLETALK_SQLITE_DIR."
            ),
        )
    };
    let root = ctx.sqlite_dir.canonicalize().map_err(|_| {
        TargetError::new(
            TargetErrorKind::NoDatabase,
            "This server has no folder for SQLite databases (TABLETALK_SQLITE_DIR); ask its operator.",
        )
    })?;
    // An owner id is letters, digits and `_` (org_..., or a Telegram id).
    let owner_ok = !owner.is_empty()
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !owner_ok {
        return Err(missing());
    }
    let folder = root.join(owner).canonicalize().ok();
    let mut candidates = Vec::with_capacity(2);
    if given.is_absolute() {
        candidates.push(given.to_path_buf());
    } else {
        candidates.push(root.join(owner).join(given));
        if ctx.sqlite_legacy {
            // Registered before per-owner folders: relative to the top folder.
            candidates.push(root.join(given));
        }
    }
    let store = ctx.store_file.as_ref().and_then(|f| f.canonicalize().ok());
    candidates
        .into_iter()
        .filter_map(|candidate| candidate.canonicalize().ok())
        .find(|path| {
            let inside = folder.as_ref().is_some_and(|f| path.starts_with(f));
            let legacy = ctx.sqlite_legacy && path.parent() == Some(root.as_path());
            (inside || legacy) && store.as_ref() != Some(path) && path.is_file()
        })
        .ok_or_else(missing)
}

pub(super) async fn connect(
    spec: &ConnectionSpec,
    ctx: &ConnectContext,
) -> Result<SqlitePool, TargetError> {
    let path = resolve(spec, ctx)?;
    let shown = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .read_only(true)
        .create_if_missing(false)
        .foreign_keys(false)
        .pragma("query_only", "ON")
        .statement_cache_capacity(64);
    let pool = engine::pool_options()
        .connect_with(options)
        .await
        .map_err(|e| classify_sqlx(e, &shown, ctx.limits.timeout.as_secs()))?;
    // Opening a file that is not a database succeeds; the first read tells.
    sqlx::query("SELECT count(*) FROM sqlite_master")
        .fetch_one(&pool)
        .await
        .map_err(|e| {
            TargetError::new(
                TargetErrorKind::NoDatabase,
                format!("{shown:?} is not a SQLite database ({e})."),
            )
        })?;
    Ok(pool)
}

fn classify(err: sqlx::Error, limits: QueryLimits) -> TargetError {
    if let sqlx::Error::Database(db) = &err {
        if db.message().contains("string or blob too big") {
            return engine::too_large(limits);
        }
    }
    classify_sqlx(err, "the SQLite file", limits.timeout.as_secs())
}

/// Caps the length of any one string or blob this connection makes or reads
/// (`SQLITE_LIMIT_LENGTH`) at the result's byte limit: `zeroblob(1000000000)`,
/// `printf('%.*c', ...)` or a runaway `group_concat` fail inside SQLite with
/// "string or blob too big" instead of being built in this process's memory.
/// sqlx has no setter for connection limits, hence the one FFI call.
#[expect(
    unsafe_code,
    reason = "sqlite3_limit on the connection's own handle, which the lock keeps valid and unshared"
)]
fn cap_value_length(handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>, max_bytes: usize) {
    let cap = i32::try_from(max_bytes).unwrap_or(i32::MAX).max(1);
    let raw = handle.as_raw_handle();
    // SAFETY: `raw` is the open connection's handle; the lock guarantees no
    // other use of it until it is dropped, and sqlite3_limit only sets an int.
    unsafe {
        libsqlite3_sys::sqlite3_limit(raw.as_ptr(), libsqlite3_sys::SQLITE_LIMIT_LENGTH, cap);
    }
}

pub(super) async fn version(pool: &SqlitePool) -> Result<String, TargetError> {
    let v: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(pool)
        .await
        .map_err(|e| classify(e, QueryLimits::default()))?;
    Ok(format!("SQLite {v}"))
}

pub(super) async fn run(
    pool: &SqlitePool,
    sql: &str,
    limits: QueryLimits,
) -> Result<Rows, TargetError> {
    let mut conn = pool.acquire().await.map_err(|e| classify(e, limits))?;
    let deadline = Instant::now() + limits.timeout;
    let mut handle = conn.lock_handle().await.map_err(|e| classify(e, limits))?;
    handle.set_progress_handler(PROGRESS_STEPS, move || Instant::now() < deadline);
    cap_value_length(&mut handle, limits.max_bytes);
    drop(handle);
    let result = engine::fetch_capped::<sqlx::Sqlite>(&mut conn, sql, limits, decode, size, |e| {
        classify(e, limits)
    })
    .await;
    let reset = match conn.lock_handle().await {
        Ok(mut handle) => {
            handle.remove_progress_handler();
            true
        }
        Err(_) => false,
    };
    if !reset {
        conn.close_on_drop();
    }
    result
}

/// The bytes of one value: text and blobs by their length, numbers as 8.
fn size(row: &SqliteRow, i: usize) -> usize {
    match engine::type_of(row, i).as_deref() {
        None => 0,
        Some("TEXT") => row.try_get_unchecked::<&str, _>(i).map_or(0, str::len),
        Some("BLOB") => row.try_get_unchecked::<&[u8], _>(i).map_or(0, <[u8]>::len),
        Some(_) => 8,
    }
}

/// One value, by its SQLite storage class (SQLite types values, not columns).
pub(super) fn decode(row: &SqliteRow, i: usize) -> Value {
    let Some(type_name) = engine::type_of(row, i) else {
        return Value::Null;
    };
    let t = type_name.as_str();
    match t {
        "INTEGER" | "BOOLEAN" | "INT8" => get!(row, i, t, i64, Value::Int),
        "REAL" => get!(row, i, t, f64, Value::Float),
        "BLOB" => get!(row, i, t, Vec<u8>, |v: Vec<u8>| Value::binary(&v)),
        _ => get!(row, i, t, String, Value::text),
    }
}

const COLUMNS_SQL: &str = "\
SELECT m.name, m.type, p.name, p.type, p.\"notnull\"
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.cid";

const PRIMARY_SQL: &str = "\
SELECT m.name, p.name
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND p.pk > 0 AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.pk";

const FOREIGN_SQL: &str = "\
SELECT m.name, f.id, f.\"from\", f.\"table\", f.\"to\"
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, f.id, f.seq";

pub(super) async fn introspect(pool: &SqlitePool) -> Result<Schema, TargetError> {
    let limits = QueryLimits::default();
    let fetch = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_all(pool)
            .await
            .map_err(|e| classify(e, limits))
    };
    let columns = fetch(COLUMNS_SQL).await?;
    let primary = fetch(PRIMARY_SQL).await?;
    let foreign = fetch(FOREIGN_SQL).await?;
    let bad = |e: sqlx::Error| {
        TargetError::new(
            TargetErrorKind::Query,
            format!("The catalogue answered in an unexpected shape: {e}"),
        )
    };
    let columns = columns
        .iter()
        .map(|r| {
            let kind: String = r.try_get(1)?;
            let data_type: String = r.try_get(3)?;
            let not_null: i64 = r.try_get(4)?;
            Ok(ColumnRow {
                schema: None,
                table: r.try_get(0)?,
                kind: if kind == "view" {
                    TableKind::View
                } else {
                    TableKind::Table
                },
                column: r.try_get(2)?,
                // SQLite columns may have no declared type.
                data_type: if data_type.is_empty() {
                    "any".into()
                } else {
                    data_type.to_lowercase()
                },
                nullable: not_null == 0,
                row_estimate: None,
                // SQLite keeps no comments.
                comment: None,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(bad)?;
    let mut keys = primary
        .iter()
        .map(|r| {
            Ok(KeyRow {
                schema: None,
                table: r.try_get(0)?,
                constraint: "primary".into(),
                primary: true,
                column: r.try_get(1)?,
                ref_schema: None,
                ref_table: None,
                ref_column: None,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(bad)?;
    for r in &foreign {
        let id: i64 = r.try_get(1).map_err(bad)?;
        keys.push(KeyRow {
            schema: None,
            table: r.try_get(0).map_err(bad)?,
            constraint: format!("fk{id}"),
            primary: false,
            column: r.try_get(2).map_err(bad)?,
            ref_schema: None,
            ref_table: r.try_get(3).map_err(bad)?,
            // NULL when the key refers to the other table's primary key.
            ref_column: r.try_get(4).map_err(bad)?,
        });
    }
    Ok(schema::build(columns, keys, crate::unix_now()))
}
