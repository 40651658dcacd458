//! Server functions, one module per domain. Each has an explicit path under
//! `/dashboard` (seed §4): reads are GET, writes POST, JSON in and out.

pub mod account;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod context;
pub mod costs;
pub mod databases;
pub mod org;
