//! The project's own data (DESIGN.md §2): SQLite by default, PostgreSQL for scale.
//!
//! One sqlx `Any` pool serves both backends, so every query is written once
//! with `$n` placeholders (which SQLite accepts too). Where the dialects differ,
//! both versions sit side by side in the one function that needs them, chosen
//! by [`Store::backend`].

pub mod dashboard_users;
pub mod sessions;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// A transaction on the store.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// PostgreSQL advisory lock spaces (the first key of [`lock`]), one per use,
/// so two uses never wait on each other.
pub mod lock_space {
    /// Sign-in attempts by username.
    pub const LOGIN_USERNAME: i32 = 1;
    /// Sign-in attempts by address.
    pub const LOGIN_IP: i32 = 2;
    /// A person's daily email count.
    pub const EMAILS: i32 = 3;
}

/// Takes a PostgreSQL advisory lock on `(space, value)` until the
/// transaction ends (SQLite's write transaction already holds the one lock).
pub async fn lock(tx: &mut Tx, space: i32, value: &str) -> Result<(), sqlx::Error> {
    // Counted in a subquery: the lock function's `void` is never decoded.
    sqlx::query("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock($1, hashtext($2))) AS locked")
        .bind(space)
        .bind(value)
        .fetch_one(&mut **tx)
        .await
        .map(drop)
}

/// The newest migration this program brings for `backend`.
pub fn newest_migration(backend: Backend) -> i64 {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Which engine holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = anyhow::Error;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("the store URL must start with sqlite: or postgres:")
        }
    }
}

/// A handle on the store; cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: a shared lock on `<store>.lock` while this process has the
    /// store open, so that `server restore` can tell it is in use.
    _in_use: Option<std::sync::Arc<std::fs::File>>,
}

impl Store {
    /// Connects, prepares the connection settings and runs pending migrations.
    ///
    /// For SQLite the file (and its directory) is created when missing, in WAL
    /// mode with a busy timeout and foreign keys on.
    pub async fn connect(url: &SecretString) -> anyhow::Result<Store> {
        install_default_drivers();
        let raw = url.expose_secret();
        let backend: Backend = raw.parse()?;
        let mut in_use = None;
        let pool = match backend {
            Backend::Sqlite => {
                let (url, path) = prepare_sqlite_url(raw)?;
                in_use = Some(std::sync::Arc::new(crate::backup::hold_shared(&path)?));
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                                 PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
            }
            Backend::Postgres => {
                // One connection first: its error says why (refused, a wrong
                // password, no such database) where the pool would only say
                // it timed out after retrying.
                let first = sqlx::AnyConnection::connect(raw).await;
                match first {
                    Ok(conn) => {
                        drop(conn.close().await);
                        AnyPoolOptions::new()
                            .max_connections(16)
                            .acquire_timeout(Duration::from_secs(10))
                            .connect(raw)
                            .await
                    }
                    Err(err) => Err(err),
                }
            }
        }
        // sqlx's connect errors name host and database, never the password.
        .with_context(|| {
            format!(
                "could not open the store named by DATABASE_URL ({})",
                crate::config::redact_url(raw)
            )
        })?;

        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .context("could not bring the store's schema up to date")?;
        Ok(Store {
            pool,
            backend,
            _in_use: in_use,
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write.
    ///
    /// On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so
    /// concurrent writers queue on the busy timeout instead of failing with
    /// "database is locked" when a read inside the transaction would have to
    /// be upgraded. Every rule that changes data runs in one of these.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let started = std::time::Instant::now();
        let (tx, backend) = match self.backend {
            Backend::Sqlite => (self.pool.begin_with("BEGIN IMMEDIATE").await, "sqlite"),
            Backend::Postgres => (self.pool.begin().await, "postgres"),
        };
        crate::metrics::store_write_wait(backend, started.elapsed());
        tx
    }

    /// Checks the store answers (for /readyz).
    /// Whether the store's schema is the one this program brings: `Ok(None)`
    /// when it is, else what differs (for `/readyz`).
    pub async fn schema_mismatch(&self) -> Result<Option<String>, sqlx::Error> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        let known = newest_migration(self.backend);
        Ok(match applied {
            Some(v) if v == known => None,
            Some(v) if v > known => Some(format!(
                "the store's schema (version {v}) is newer than this program's ({known}): another process of a newer release migrated it"
            )),
            other => Some(format!(
                "the store's schema (version {}) is older than this program's ({known}): restart to migrate it",
                other.unwrap_or(0)
            )),
        })
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }

    /// Closes every connection (lets SQLite checkpoint its WAL on shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `(p1, ..., pk), (pk+1, ...)` placeholders for a multi-row statement of
/// `rows` rows of `columns` values. SQLite gets numbered `?N` parameters: it
/// treats `$N` as a *named* parameter and looks names up one by one, which
/// makes statements with thousands of parameters slow to prepare.
pub fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let sigil = match backend {
        Backend::Sqlite => '?',
        Backend::Postgres => '$',
    };
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=columns)
                .map(|c| format!("{sigil}{}", r * columns + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Makes sure the SQLite file's directory exists and the file is created on first use.
/// The URL sqlx opens (`mode=rwc` unless given) and the store's file.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<(String, std::path::PathBuf)> {
    let Some(path) = crate::backup::sqlite_path(url) else {
        anyhow::bail!("an in-memory SQLite store would lose everything; give a file path");
    };
    let query = url.split_once('?').map_or("", |(_, query)| query);
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create the directory {}", dir.display()))?;
        }
    }
    let url = if query.contains("mode=") {
        url.to_owned()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    };
    Ok((url, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_per_dialect() {
        assert_eq!(placeholders(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(Backend::Sqlite, 1, 3), "(?1, ?2, ?3)");
    }

    #[test]
    fn backends_are_told_apart_by_scheme() {
        assert_eq!(
            "sqlite://x.db".parse::<Backend>().ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            "postgres://h/db".parse::<Backend>().ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            "postgresql://h/db".parse::<Backend>().ok(),
            Some(Backend::Postgres)
        );
        assert!("mysql://h/db".parse::<Backend>().is_err());
    }

    #[test]
    fn sqlite_urls_create_their_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/nested/t.db", dir.path().display());
        let (prepared, file) = prepare_sqlite_url(&url).expect("valid");
        assert!(prepared.ends_with("?mode=rwc"));
        assert_eq!(file, dir.path().join("nested/t.db"));
        assert!(dir.path().join("nested").is_dir());
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
        let ro = format!("sqlite://{}/t.db?mode=ro", dir.path().display());
        assert_eq!(prepare_sqlite_url(&ro).expect("valid").0, ro);
    }
}
