//! Users' databases ("targets"): kinds, what is shown of a connection, the
//! schema read from it and the typed result of a query.

use crate::{AppError, ConnectionId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

mod kind;

pub use kind::{RowLimitSyntax, TargetKind};

/// Longest database name accepted.
pub const MAX_DATABASE_NAME_LEN: usize = 100;
/// Longest connection string accepted.
pub const MAX_CONNECTION_STRING_LEN: usize = 4_096;
/// Characters of one text value kept in a result; longer text is cut with "…".
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Bytes of one binary value shown (as hex) in a result.
pub const MAX_BINARY_BYTES: usize = 64;

/// Checks a database's display name: 1 to 100 characters, no control characters.
pub fn validate_database_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_request("Give the database a name."));
    }
    if name.chars().count() > MAX_DATABASE_NAME_LEN {
        return Err(AppError::bad_request(format!(
            "A database name is at most {MAX_DATABASE_NAME_LEN} characters."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "A database name cannot contain line breaks or control characters.",
        ));
    }
    Ok(name.to_owned())
}

/// What may be shown of a connection: kind, host, port, database, user. Never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    pub kind: TargetKind,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The database name, or the file name for SQLite.
    pub database: String,
    pub user: Option<String>,
}

impl fmt::Display for ConnectionSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind)?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if let Some(host) = &self.host {
            write!(f, "{host}")?;
            if let Some(port) = self.port {
                write!(f, ":{port}")?;
            }
            write!(f, "/")?;
        }
        write!(f, "{}", self.database)
    }
}

/// Whose a registered database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseScope {
    /// Shared with every member of the organization (added by its owner).
    Organization,
    /// One person's own database.
    Personal,
}

impl DatabaseScope {
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseScope::Organization => "organization",
            DatabaseScope::Personal => "user",
        }
    }
}

/// A registered database as listed to the people who may use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub connection_id: ConnectionId,
    pub name: String,
    pub scope: DatabaseScope,
    pub summary: ConnectionSummary,
    pub created_by: UserId,
    /// Unix seconds, UTC.
    pub created_at: i64,
    pub last_used: Option<i64>,
    /// Whether this is the caller's active database.
    pub selected: bool,
    /// Functions of the database's own that its owner allows in questions.
    #[serde(default)]
    pub allowed_functions: Vec<String>,
}

/// Most function names an owner may allow on one database.
pub const MAX_ALLOWED_FUNCTIONS: usize = 50;

/// Checks the names an owner allows: lower case, trimmed, each a plain or
/// schema-qualified SQL name (letters, digits, `_`, `$`, one `.`), at most
/// 63 characters, at most [`MAX_ALLOWED_FUNCTIONS`]; duplicates dropped.
pub fn validate_function_names(names: &[String]) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for raw in names {
        let name = raw.trim().to_lowercase();
        if name.is_empty() {
            continue;
        }
        let plain = |part: &str| {
            !part.is_empty()
                && part.len() <= 63
                && part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        };
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() > 2 || !parts.iter().all(|p| plain(p)) {
            return Err(AppError::bad_request(format!(
                "{:?} is not a function name: use letters, digits and _ (optionally schema.name).",
                raw.chars().take(70).collect::<String>()
            )));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.len() > MAX_ALLOWED_FUNCTIONS {
        return Err(AppError::bad_request(format!(
            "At most {MAX_ALLOWED_FUNCTIONS} functions can be allowed on one database."
        )));
    }
    Ok(out)
}

/// What the dashboard (or the bot) sends to add a database. `Debug` hides the
/// connection string: it holds a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDatabase {
    pub name: String,
    pub connection_string: String,
    /// Where it goes; `None` picks the organization for owners and personal otherwise.
    #[serde(default)]
    pub scope: Option<DatabaseScope>,
}

impl fmt::Debug for NewDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDatabase")
            .field("name", &self.name)
            .field("connection_string", &"[hidden]")
            .field("scope", &self.scope)
            .finish()
    }
}

/// A database just added, with what the connection test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedDatabase {
    pub database: DatabaseInfo,
    pub test: ConnectionTest,
}

/// Table or view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Table,
    View,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    /// The engine's own type name, e.g. `integer`, `varchar(40)`, `decimal(10,2)`.
    pub data_type: String,
    pub nullable: bool,
    /// The column's comment in the catalogue (PostgreSQL, MySQL, SQL Server's
    /// `MS_Description`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// For a small text column: every distinct value (at most
    /// [`MAX_INDEXED_VALUES`]), read with the schema so a question naming one
    /// ("sales in Aruba") finds its column. Kept in memory for pruning only:
    /// never sent to the dashboard.
    #[serde(skip)]
    pub values: Vec<String>,
}

/// Most distinct values kept for one column of the value index.
pub const MAX_INDEXED_VALUES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    /// The referenced table, qualified like [`TableInfo::qualified_name`].
    pub references_table: String,
    pub references_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// The schema (PostgreSQL, SQL Server), `None` where there is one namespace.
    pub schema: Option<String>,
    pub name: String,
    pub kind: TableKind,
    pub columns: Vec<ColumnInfo>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The engine's estimate of the row count where it is cheap to read.
    pub row_estimate: Option<i64>,
}

impl TableInfo {
    /// `schema.name`, or `name` where there is no schema.
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What a database holds, as read by introspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Schema {
    pub tables: Vec<TableInfo>,
    /// Unix seconds when it was read.
    pub read_at: i64,
}

/// Counts for a one-line description of a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSummary {
    pub tables: usize,
    pub views: usize,
    pub columns: usize,
}

impl Schema {
    pub fn summary(&self) -> SchemaSummary {
        SchemaSummary {
            tables: self
                .tables
                .iter()
                .filter(|t| t.kind == TableKind::Table)
                .count(),
            views: self
                .tables
                .iter()
                .filter(|t| t.kind == TableKind::View)
                .count(),
            columns: self.tables.iter().map(|t| t.columns.len()).sum(),
        }
    }
}

impl fmt::Display for SchemaSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        write!(
            f,
            "{}, {}, {}",
            plural(self.tables, "table", "tables"),
            plural(self.views, "view", "views"),
            plural(self.columns, "column", "columns")
        )
    }
}

/// A database, its schema and the caller's rights, answered after add or test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub summary: ConnectionSummary,
    pub schema: SchemaSummary,
    /// A few table names, for a person to recognise their database.
    pub sample_tables: Vec<String>,
    /// What the server says it is, e.g. `PostgreSQL 15.19`.
    pub server_version: String,
}

/// One value of a result, rendered the same way whatever the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Integers beyond `i64` (unsigned 64-bit columns).
    BigInt(String),
    Float(f64),
    /// Exact decimals, as written by the engine (never through a float).
    Decimal(String),
    /// Text; `truncated` when longer than [`MAX_TEXT_CHARS`].
    Text {
        text: String,
        truncated: bool,
    },
    /// `YYYY-MM-DD`
    Date(String),
    /// `HH:MM:SS[.ffffff]`
    Time(String),
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]`, with `+HH:MM` when the engine stores a zone.
    Timestamp(String),
    /// Hex, `0x…`, the first [`MAX_BINARY_BYTES`] bytes; `len` is the full length.
    Binary {
        hex: String,
        len: usize,
    },
    /// A value of a type not rendered natively (arrays, intervals, geometry…), as text.
    Other {
        type_name: String,
        text: String,
    },
}

impl Value {
    /// Text, cut at [`MAX_TEXT_CHARS`] characters.
    pub fn text(text: impl Into<String>) -> Value {
        let text = text.into();
        match text.char_indices().nth(MAX_TEXT_CHARS) {
            Some((cut, _)) => Value::Text {
                text: format!("{}…", &text[..cut]),
                truncated: true,
            },
            None => Value::Text {
                text,
                truncated: false,
            },
        }
    }

    /// Bytes as hex, the first [`MAX_BINARY_BYTES`] of them.
    pub fn binary(bytes: &[u8]) -> Value {
        let shown = &bytes[..bytes.len().min(MAX_BINARY_BYTES)];
        let mut hex = String::with_capacity(2 + shown.len() * 2);
        hex.push_str("0x");
        for b in shown {
            hex.push_str(&format!("{b:02X}"));
        }
        if bytes.len() > shown.len() {
            hex.push('…');
        }
        Value::Binary {
            hex,
            len: bytes.len(),
        }
    }

    /// How a person sees it in a table: `NULL`, numbers as written, text as is.
    pub fn render(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Bool(b) => if *b { "true" } else { "false" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => render_float(*x),
            Value::BigInt(s)
            | Value::Decimal(s)
            | Value::Date(s)
            | Value::Time(s)
            | Value::Timestamp(s) => s.clone(),
            Value::Text { text, .. } => text.clone(),
            Value::Binary { hex, .. } => hex.clone(),
            Value::Other { text, .. } => text.clone(),
        }
    }
}

fn render_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        // The shortest text that reads back as the same number.
        format!("{x}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultColumn {
    pub name: String,
    /// The engine's type name for the column, e.g. `INT8`, `VARCHAR`.
    pub type_name: String,
}

/// The rows a query returned, at most the row limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Value>>,
    /// More rows existed than the limit; only the first `row_limit` are here.
    pub truncated: bool,
    pub row_limit: usize,
    pub elapsed_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_and_binary_are_cut_and_say_so() {
        let short = Value::text("héllo");
        assert_eq!(short.render(), "héllo");
        assert!(matches!(
            short,
            Value::Text {
                truncated: false,
                ..
            }
        ));
        let long = Value::text("é".repeat(MAX_TEXT_CHARS + 5));
        let Value::Text { text, truncated } = &long else {
            panic!("text")
        };
        assert!(*truncated);
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(text.ends_with('…'));
        assert_eq!(Value::binary(&[0, 0xAB, 0xFF]).render(), "0x00ABFF");
        let big = Value::binary(&[1; 100]);
        assert!(matches!(&big, Value::Binary { len: 100, hex } if hex.ends_with('…')));
    }

    #[test]
    fn values_render_consistently() {
        assert_eq!(Value::Null.render(), "NULL");
        assert_eq!(Value::Float(0.1).render(), "0.1");
        assert_eq!(Value::Float(f64::NAN).render(), "NaN");
        assert_eq!(Value::Decimal("12.50".into()).render(), "12.50");
        assert_eq!(Value::Bool(true).render(), "true");
        let json = serde_json::to_string(&Value::Int(7)).unwrap();
        assert_eq!(json, r#"{"t":"int","v":7}"#);
    }

    #[test]
    fn a_new_database_never_prints_its_connection_string() {
        let new = NewDatabase {
            name: "Sales".into(),
            connection_string: "postgres://u:hunter2@h/db".into(),
            scope: None,
        };
        let shown = format!("{new:?}");
        assert!(
            shown.contains("Sales") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn database_names_are_checked() {
        assert_eq!(validate_database_name("  Sales  "), Ok("Sales".into()));
        assert!(validate_database_name(" ").is_err());
        assert!(validate_database_name(&"x".repeat(101)).is_err());
        assert!(validate_database_name("a\nb").is_err());
    }

    #[test]
    fn schema_summary_counts_and_reads_well() {
        let table = |name: &str, kind, cols: usize| TableInfo {
            schema: None,
            name: name.into(),
            kind,
            columns: (0..cols)
                .map(|i| ColumnInfo {
                    name: format!("c{i}"),
                    data_type: "int".into(),
                    nullable: false,
                    ..ColumnInfo::default()
                })
                .collect(),
            primary_key: vec![],
            foreign_keys: vec![],
            row_estimate: None,
        };
        let schema = Schema {
            tables: vec![
                table("a", TableKind::Table, 2),
                table("v", TableKind::View, 1),
            ],
            read_at: 0,
        };
        assert_eq!(schema.summary().to_string(), "1 table, 1 view, 3 columns");
    }
}
