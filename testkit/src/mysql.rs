//! A fresh MySQL/MariaDB database per test, for the users'-databases tests.
//!
//! Runs when `TABLETALK_TEST_MYSQL_URL` names a server where we may create
//! databases (CI sets it to MariaDB on 127.0.0.1:3306); otherwise the test
//! says it skipped. With `CI=true` a missing server is an error.

use crate::db::random_suffix;
use sqlx::{Connection, MySqlConnection};

/// The variable naming the MySQL/MariaDB server tests may use.
pub const MYSQL_URL_VAR: &str = "TABLETALK_TEST_MYSQL_URL";

/// A database that exists for one test. Dropping it removes it.
pub struct TestMysql {
    /// A URL to the fresh database (`mysql://user@host:port/name`).
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestMysql {
    /// A new database, or `None` (with a message) when no server is configured.
    pub async fn new() -> Option<TestMysql> {
        let Some(admin_url) = std::env::var(MYSQL_URL_VAR).ok().filter(|v| !v.is_empty()) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but {MYSQL_URL_VAR} is not set: MariaDB tests must run in CI");
            }
            eprintln!(
                "SKIPPED (MySQL/MariaDB half): set {MYSQL_URL_VAR}=mysql://root@127.0.0.1:3306/test to run it"
            );
            return None;
        };
        let name = format!("tabletalk_t_{}", random_suffix());
        let mut conn = MySqlConnection::connect(&admin_url)
            .await
            .expect("the MySQL server named for tests is reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4"
        )))
        .execute(&mut conn)
        .await
        .expect("may create a test database");
        drop(conn.close().await);
        let url = crate::db::replace_database(&admin_url, &name);
        Some(TestMysql {
            url,
            admin_url,
            name,
        })
    }

    /// Runs a script (several statements) in the test database.
    pub async fn execute(&self, script: &str) {
        let mut conn = MySqlConnection::connect(&self.url)
            .await
            .expect("the test database is reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned()))
            .execute(&mut conn)
            .await
            .expect("the script runs");
        drop(conn.close().await);
    }
}

impl Drop for TestMysql {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = MySqlConnection::connect(&admin_url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .execute(&mut conn)
                .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop a MySQL test database");
        }
    }
}
