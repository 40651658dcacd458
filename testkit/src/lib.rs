//! Test support for Tabletalk (dev only).
//!
//! - [`telegram::FakeTelegram`]: a local Telegram Bot API server speaking the real
//!   HTTP/JSON wire format, so the real bot can be driven and observed.
//! - [`db::TestDb`]: a fresh store database per test, on SQLite always and on
//!   PostgreSQL when `TABLETALK_TEST_POSTGRES_URL` is set.
//! - [`mysql::TestMysql`]: a fresh MySQL/MariaDB database per test when
//!   `TABLETALK_TEST_MYSQL_URL` is set (users'-databases tests).

pub mod db;
pub mod mysql;
pub mod telegram;
