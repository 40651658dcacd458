//! The value index: the distinct values of small text columns, read with the
//! schema, so pruning can match a question's words against cell values
//! ("sales in Aruba" finds `customers.country`, which holds 'Aruba').
//!
//! Bounded on every side: only text columns of tables (not views), never
//! columns whose names suggest secrets or contact details, at most
//! [`MAX_COLUMNS`] columns, the first [`SCAN_ROWS`] rows of each, a column
//! kept only when it has at most [`MAX_INDEXED_VALUES`] distinct short
//! values, two seconds per query and [`DEADLINE`] for the whole index. A
//! column that fails or runs long is simply left out. The values stay in the
//! process's memory with the cached schema; the model sees only those a
//! question names.

use super::engine::Engine;
use crate::QueryLimits;
use futures_util::StreamExt;
use models::targets::{Schema, TableKind, TargetKind, Value, MAX_INDEXED_VALUES};
use std::time::{Duration, Instant};

/// Most columns sampled per schema read.
pub const MAX_COLUMNS: usize = 200;
/// Rows of a table looked at per column.
pub const SCAN_ROWS: usize = 10_000;
/// Longest value kept, in characters.
const MAX_VALUE_CHARS: usize = 60;
/// The whole index's time.
const DEADLINE: Duration = Duration::from_secs(8);
/// Queries at once.
const PARALLEL: usize = 4;

/// Names that may hold secrets or personal contact details: never sampled.
const PRIVATE: &[&str] = &[
    "password", "passwd", "secret", "token", "hash", "salt", "key", "ssn", "email", "mail",
    "phone", "iban", "card", "address", "otp",
];

/// Whether a column is worth sampling: text, not private-looking.
pub fn candidate(column: &str, data_type: &str) -> bool {
    let t = data_type.to_lowercase();
    let text = ["char", "text", "string", "enum", "citext"]
        .iter()
        .any(|k| t.contains(k))
        && !t.contains("[]");
    let name = column.to_lowercase();
    text && !PRIVATE.iter().any(|p| name.contains(p))
}

/// The distinct non-null values of `column` among the first rows of the table.
pub fn sample_sql(kind: TargetKind, schema: Option<&str>, table: &str, column: &str) -> String {
    let from = match schema {
        Some(s) => format!(
            "{}.{}",
            kind.quote_identifier(s),
            kind.quote_identifier(table)
        ),
        None => kind.quote_identifier(table),
    };
    let col = kind.quote_identifier(column);
    let most = MAX_INDEXED_VALUES + 1;
    let limit = kind.row_limit_syntax();
    format!(
        "SELECT DISTINCT {}v FROM (SELECT {}{col} AS v FROM {from}{}) s WHERE v IS NOT NULL{}",
        limit.after_select(most),
        limit.after_select(SCAN_ROWS),
        limit.at_end(SCAN_ROWS),
        limit.at_end(most)
    )
}

/// Fills `values` of the schema's small text columns.
pub async fn index(engine: &Engine, schema: &mut Schema) {
    let kind = engine.kind();
    let started = Instant::now();
    let mut wanted: Vec<(usize, usize, String)> = Vec::new();
    for (t, table) in schema.tables.iter().enumerate() {
        if table.kind != TableKind::Table {
            continue;
        }
        for (c, column) in table.columns.iter().enumerate() {
            if wanted.len() < MAX_COLUMNS && candidate(&column.name, &column.data_type) {
                wanted.push((
                    t,
                    c,
                    sample_sql(kind, table.schema.as_deref(), &table.name, &column.name),
                ));
            }
        }
    }
    let limits = QueryLimits {
        timeout: Duration::from_secs(2),
        row_limit: MAX_INDEXED_VALUES + 1,
        max_bytes: 256 * 1024,
    };
    let found: Vec<(usize, usize, Vec<String>)> = futures_util::stream::iter(wanted)
        .map(|(t, c, sql)| async move {
            if started.elapsed() > DEADLINE {
                return None;
            }
            let result = engine.run(&sql, limits).await.ok()?;
            if result.truncated || result.rows.len() > MAX_INDEXED_VALUES {
                return None;
            }
            let mut values = Vec::with_capacity(result.rows.len());
            for row in &result.rows {
                match row.first()? {
                    Value::Text {
                        text,
                        truncated: false,
                    } if !text.trim().is_empty() && text.chars().count() <= MAX_VALUE_CHARS => {
                        values.push(text.clone());
                    }
                    _ => return None,
                }
            }
            Some((t, c, values))
        })
        .buffer_unordered(PARALLEL)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    for (t, c, values) in found {
        if let Some(column) = schema.tables.get_mut(t).and_then(|t| t.columns.get_mut(c)) {
            column.values = values;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_columns_that_look_harmless_are_sampled() {
        assert!(candidate("country", "varchar(40)"));
        assert!(candidate("status", "TEXT"));
        assert!(candidate("tier", "enum('gold','silver')"));
        assert!(!candidate("total", "numeric(10,2)"));
        assert!(!candidate("password_hash", "text"));
        assert!(!candidate("contact_email", "varchar(200)"));
        assert!(!candidate("tags", "text[]"));
    }

    #[test]
    fn sample_queries_quote_every_name_for_their_dialect() {
        assert_eq!(
            sample_sql(TargetKind::Postgres, Some("sales"), "cust\"omers", "country"),
            "SELECT DISTINCT v FROM (SELECT \"country\" AS v FROM \"sales\".\"cust\"\"omers\" LIMIT 10000) s WHERE v IS NOT NULL LIMIT 51"
        );
        assert_eq!(
            sample_sql(TargetKind::Mysql, None, "o`rders", "status"),
            "SELECT DISTINCT v FROM (SELECT `status` AS v FROM `o``rders` LIMIT 10000) s WHERE v IS NOT NULL LIMIT 51"
        );
        assert_eq!(
            sample_sql(TargetKind::Mssql, Some("dbo"), "or]ders", "status"),
            "SELECT DISTINCT TOP 51 v FROM (SELECT TOP 10000 [status] AS v FROM [dbo].[or]]ders]) s WHERE v IS NOT NULL"
        );
    }
}
