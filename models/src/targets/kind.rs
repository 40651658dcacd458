//! The engines Tabletalk can query, and everything that differs between them
//! outside the driver and the guard: one method per fact, each an exhaustive
//! `match`, so a new engine makes the compiler point at every fact it needs.
//! The guard's per-engine rules (parser dialect, built-ins, refused functions,
//! system relations) live beside the guard, in `targets::guard::rules::of`.

use crate::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The engines Tabletalk can query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Mssql,
    Postgres,
    Mysql,
    Sqlite,
}

/// How a query asks for at most `n` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLimitSyntax {
    /// `SELECT ... LIMIT n` at the end of the query.
    Limit,
    /// `SELECT TOP n ...` right after `SELECT` (and `DISTINCT`).
    Top,
}

impl RowLimitSyntax {
    /// What follows `SELECT` (and `DISTINCT`): `TOP n ` or nothing.
    pub fn after_select(self, n: usize) -> String {
        match self {
            RowLimitSyntax::Limit => String::new(),
            RowLimitSyntax::Top => format!("TOP {n} "),
        }
    }

    /// What ends the query: ` LIMIT n` or nothing.
    pub fn at_end(self, n: usize) -> String {
        match self {
            RowLimitSyntax::Limit => format!(" LIMIT {n}"),
            RowLimitSyntax::Top => String::new(),
        }
    }

    /// How the model is told to write a limit of `n` rows.
    pub fn prompt_hint(self, n: usize) -> String {
        match self {
            RowLimitSyntax::Limit => format!("LIMIT {n} at the end of the query"),
            RowLimitSyntax::Top => format!("TOP {n} right after SELECT (there is no LIMIT)"),
        }
    }
}

impl TargetKind {
    pub const ALL: [TargetKind; 4] = [
        TargetKind::Mssql,
        TargetKind::Postgres,
        TargetKind::Mysql,
        TargetKind::Sqlite,
    ];

    /// The name stored and sent over the wire (`TABLETALK` kind names, `--kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Mssql => "mssql",
            TargetKind::Postgres => "postgres",
            TargetKind::Mysql => "mysql",
            TargetKind::Sqlite => "sqlite",
        }
    }

    /// The name shown to people (dashboard, bot).
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::Mssql => "SQL Server",
            TargetKind::Postgres => "PostgreSQL",
            TargetKind::Mysql => "MySQL / MariaDB",
            TargetKind::Sqlite => "SQLite",
        }
    }

    /// The URL schemes of its connection strings (before any `+driver`).
    pub fn url_schemes(self) -> &'static [&'static str] {
        match self {
            TargetKind::Mssql => &["mssql", "sqlserver"],
            TargetKind::Postgres => &["postgres", "postgresql"],
            TargetKind::Mysql => &["mysql", "mariadb"],
            TargetKind::Sqlite => &["sqlite", "sqlite3"],
        }
    }

    /// Other names people use for it (beside [`as_str`](Self::as_str) and the URL schemes).
    fn other_names(self) -> &'static [&'static str] {
        match self {
            TargetKind::Mssql => &["sql-server"],
            TargetKind::Postgres => &["pg"],
            TargetKind::Mysql | TargetKind::Sqlite => &[],
        }
    }

    /// The TCP port when a connection string names none; `None` for a file.
    pub fn default_port(self) -> Option<u16> {
        match self {
            TargetKind::Mssql => Some(1433),
            TargetKind::Postgres => Some(5432),
            TargetKind::Mysql => Some(3306),
            TargetKind::Sqlite => None,
        }
    }

    /// A connection string to show as an example (placeholder, bot hint).
    pub fn example_connection_string(self) -> &'static str {
        match self {
            TargetKind::Mssql => {
                "Server=db.example.com,1433;Database=sales;User Id=reader;Password=...;Encrypt=true"
            }
            TargetKind::Postgres => "postgres://reader:password@db.example.com:5432/sales",
            TargetKind::Mysql => "mysql://reader:password@db.example.com:3306/sales",
            TargetKind::Sqlite => "sqlite://sales.db",
        }
    }

    /// Whether a database of this kind is a file in the server's folder for
    /// them (no host, no port; only the file's name is ever shown).
    pub fn is_file(self) -> bool {
        match self {
            TargetKind::Sqlite => true,
            TargetKind::Mssql | TargetKind::Postgres | TargetKind::Mysql => false,
        }
    }

    /// Where the database lives when that is not a server of its own.
    pub fn location_note(self) -> Option<&'static str> {
        match self {
            TargetKind::Sqlite => Some("a file in the server's SQLite folder"),
            TargetKind::Mssql | TargetKind::Postgres | TargetKind::Mysql => None,
        }
    }

    /// The dialect as the LLM prompt names it.
    pub fn prompt_dialect(self) -> &'static str {
        match self {
            TargetKind::Mssql => "Microsoft SQL Server (T-SQL)",
            TargetKind::Postgres => "PostgreSQL",
            TargetKind::Mysql => "MySQL / MariaDB",
            TargetKind::Sqlite => "SQLite",
        }
    }

    /// `name` as a quoted identifier, the closing quote doubled inside.
    pub fn quote_identifier(self, name: &str) -> String {
        match self {
            TargetKind::Postgres | TargetKind::Sqlite => {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
            TargetKind::Mysql => format!("`{}`", name.replace('`', "``")),
            TargetKind::Mssql => format!("[{}]", name.replace(']', "]]")),
        }
    }

    /// How its queries limit rows.
    pub fn row_limit_syntax(self) -> RowLimitSyntax {
        match self {
            TargetKind::Mssql => RowLimitSyntax::Top,
            TargetKind::Postgres | TargetKind::Mysql | TargetKind::Sqlite => RowLimitSyntax::Limit,
        }
    }

    /// Accepts the usual names: [`as_str`](Self::as_str), the URL schemes
    /// (`sqlserver`, `postgresql`, `mariadb`...) and a few more (`pg`, `sql-server`).
    pub fn parse(text: &str) -> Result<TargetKind, AppError> {
        let text = text.trim().to_ascii_lowercase();
        TargetKind::ALL
            .into_iter()
            .find(|kind| {
                kind.as_str() == text
                    || kind.url_schemes().contains(&text.as_str())
                    || kind.other_names().contains(&text.as_str())
            })
            .ok_or_else(|| {
                let known: Vec<&str> = TargetKind::ALL.iter().map(|k| k.as_str()).collect();
                AppError::bad_request(format!(
                    "{text:?} is not a database kind Tabletalk knows; use one of {}.",
                    known.join(", ")
                ))
            })
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_their_common_names() {
        for kind in TargetKind::ALL {
            assert_eq!(TargetKind::parse(kind.as_str()), Ok(kind));
            for scheme in kind.url_schemes() {
                assert_eq!(TargetKind::parse(scheme), Ok(kind), "{scheme}");
            }
        }
        assert_eq!(TargetKind::parse(" MariaDB "), Ok(TargetKind::Mysql));
        assert_eq!(TargetKind::parse("sqlserver"), Ok(TargetKind::Mssql));
        assert_eq!(TargetKind::parse("sql-server"), Ok(TargetKind::Mssql));
        assert_eq!(TargetKind::parse("pg"), Ok(TargetKind::Postgres));
        let err = TargetKind::parse("oracle").expect_err("unknown");
        assert!(
            err.message().contains("mssql, postgres, mysql, sqlite"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn every_kind_has_every_fact() {
        let mut schemes: Vec<&str> = Vec::new();
        for kind in TargetKind::ALL {
            assert!(!kind.label().is_empty(), "{kind}");
            assert!(!kind.prompt_dialect().is_empty(), "{kind}");
            assert!(!kind.url_schemes().is_empty(), "{kind}");
            schemes.extend(kind.url_schemes());
            let example = kind.example_connection_string();
            assert!(!example.is_empty(), "{kind}");
            // A server engine has a port, and its example names it.
            match kind.default_port() {
                Some(port) => assert!(example.contains(&port.to_string()), "{kind}: {example}"),
                None => assert!(kind.is_file() && kind.location_note().is_some(), "{kind}"),
            }
            assert_eq!(kind.is_file(), kind.default_port().is_none(), "{kind}");
            assert_ne!(kind.quote_identifier("a"), "a", "{kind}");
        }
        let count = schemes.len();
        schemes.sort_unstable();
        schemes.dedup();
        assert_eq!(schemes.len(), count, "a URL scheme names one engine");
    }

    #[test]
    fn identifiers_are_quoted_with_the_closing_quote_doubled() {
        assert_eq!(
            TargetKind::Postgres.quote_identifier("cust\"omers"),
            "\"cust\"\"omers\""
        );
        assert_eq!(TargetKind::Sqlite.quote_identifier("a b"), "\"a b\"");
        assert_eq!(TargetKind::Mysql.quote_identifier("o`rders"), "`o``rders`");
        assert_eq!(TargetKind::Mssql.quote_identifier("or]ders"), "[or]]ders]");
    }

    #[test]
    fn row_limits_are_written_where_the_engine_reads_them() {
        let query = |kind: TargetKind| {
            let syntax = kind.row_limit_syntax();
            format!(
                "SELECT {}x FROM t{}",
                syntax.after_select(5),
                syntax.at_end(5)
            )
        };
        assert_eq!(query(TargetKind::Mssql), "SELECT TOP 5 x FROM t");
        for kind in [TargetKind::Postgres, TargetKind::Mysql, TargetKind::Sqlite] {
            assert_eq!(query(kind), "SELECT x FROM t LIMIT 5", "{kind}");
        }
        assert!(RowLimitSyntax::Top.prompt_hint(9).contains("TOP 9"));
        assert!(RowLimitSyntax::Limit.prompt_hint(9).contains("LIMIT 9"));
    }
}
