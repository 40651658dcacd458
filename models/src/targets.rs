//! Users' databases ("targets"): their kinds.

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

impl TargetKind {
    pub const ALL: [TargetKind; 4] = [
        TargetKind::Mssql,
        TargetKind::Postgres,
        TargetKind::Mysql,
        TargetKind::Sqlite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Mssql => "mssql",
            TargetKind::Postgres => "postgres",
            TargetKind::Mysql => "mysql",
            TargetKind::Sqlite => "sqlite",
        }
    }

    /// Accepts the usual names (`mssql`/`sqlserver`, `postgres`/`postgresql`, `mysql`/`mariadb`, `sqlite`).
    pub fn parse(text: &str) -> Result<TargetKind, AppError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mssql" | "sqlserver" | "sql-server" => Ok(TargetKind::Mssql),
            "postgres" | "postgresql" | "pg" => Ok(TargetKind::Postgres),
            "mysql" | "mariadb" => Ok(TargetKind::Mysql),
            "sqlite" | "sqlite3" => Ok(TargetKind::Sqlite),
            other => Err(AppError::bad_request(format!(
                "{other:?} is not a database kind Tabletalk knows; use mssql, postgres, mysql or sqlite."
            ))),
        }
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
        }
        assert_eq!(TargetKind::parse(" MariaDB "), Ok(TargetKind::Mysql));
        assert_eq!(TargetKind::parse("sqlserver"), Ok(TargetKind::Mssql));
        assert!(TargetKind::parse("oracle").is_err());
    }
}
