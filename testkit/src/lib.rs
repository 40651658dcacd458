//! Test support for Tabletalk (dev only): the one way tests start things.
//!
//! - [`db::TestDb`]: a fresh store database per test, on SQLite always and on
//!   PostgreSQL when `TABLETALK_TEST_POSTGRES_URL` is set.
//! - [`app`]: a store, an `AppState` from a test configuration, a person, an
//!   organization.
//! - [`server`] (feature `server`): the real server on port 0 with a client
//!   and signed-in sessions.
//! - [`telegram::FakeTelegram`]: a local Telegram Bot API server speaking the real
//!   HTTP/JSON wire format, so the real bot can be driven and observed.
//! - [`mysql::TestMysql`]: a fresh MySQL/MariaDB database per test when
//!   `TABLETALK_TEST_MYSQL_URL` is set (users'-databases tests).
//! - [`llm::StubLlm`]: a stub language-model server speaking Gemini's and
//!   OpenAI's wire formats over real HTTP, scripted by the test.
//! - [`proxy::TcpProxy`]: a TCP proxy to cut and restore (a store that goes away).
//! - [`raw`]: cost answers by GROUP BY over the raw rows, to check the rollups.
//! - [`scrape`]: sums of samples on a Prometheus `/metrics` page.
//! - [`status`]: a service call's refusal or a response's status in one line.
//! - [`timing`]: benchmarks' time outside Tabletalk (model, target query) and percentiles.

pub mod app;
pub mod db;
pub mod llm;
pub mod mysql;
pub mod proxy;
pub mod raw;
pub mod scrape;
#[cfg(feature = "server")]
pub mod server;
pub mod smtp;
pub mod status;
pub mod telegram;
pub mod timing;

/// A local port nothing listens on now (for a process that must be told its
/// address before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
