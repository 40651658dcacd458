//! Fresh databases for tests: one per test, removed afterwards.
//!
//! SQLite runs everywhere. PostgreSQL runs when `TABLETALK_TEST_POSTGRES_URL`
//! points at a server where we may create databases (CI sets it); otherwise the
//! PostgreSQL half of a test is skipped with a message on stderr. When `CI` is
//! set, a missing PostgreSQL is an error, so CI can never silently skip it.

use anyhow::Context;
use sqlx::{Connection, PgConnection};
use std::fmt;

/// An encryption key for stored connection strings in tests (base64 of 32 bytes).
pub const TEST_SECRET_KEY: &str = "dGFibGV0YWxrLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmM=";

/// The variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "TABLETALK_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        })
    }
}

/// A database that exists for one test. Dropping it removes it.
pub struct TestDb {
    pub kind: Kind,
    /// A URL the store can open (`sqlite://...` or `postgres://...`).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestDb({})", self.kind)
    }
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory for a test database");
        let url = format!("sqlite://{}/tabletalk.db", dir.path().display());
        TestDb {
            kind: Kind::Sqlite,
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new PostgreSQL database, or `None` (with a message) when none is configured.
    pub async fn postgres() -> Option<TestDb> {
        let Some(admin_url) = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|v| !v.is_empty())
        else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but {POSTGRES_URL_VAR} is not set: PostgreSQL tests must run in CI"
                );
            }
            eprintln!(
                "SKIPPED (PostgreSQL half): set {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/test \
                 to run this test against PostgreSQL too"
            );
            return None;
        };
        let name = format!("tabletalk_test_{}", random_suffix());
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("connecting to {POSTGRES_URL_VAR}"))
            .expect("the PostgreSQL server named for tests is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("may create a test database");
        drop(conn.close().await);
        let url = replace_database(&admin_url, &name);
        Some(TestDb {
            kind: Kind::Postgres,
            url,
            _dir: None,
            postgres: Some((admin_url, name)),
        })
    }

    /// SQLite, then PostgreSQL when configured: run a test body over each.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any async context we can rely on: use a thread with its own runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop a test database");
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with the database replaced by `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// 16 hex characters of randomness.
pub fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://p@h/test?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://p@h", "x"), "postgres://p@h/x");
    }
}
