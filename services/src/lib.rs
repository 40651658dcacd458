//! All IO shared by the Tabletalk server and bot (DESIGN.md §1).
//!
//! Handlers stay thin: they parse input, call one function here and shape the
//! output. Business rules live here once.

pub mod access;
pub mod ask;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod costs;
pub mod csv;
pub mod databases;
pub mod demo;
pub mod dialogues;
pub mod email;
pub mod error;
pub mod llm;
pub mod metrics;
pub mod notify;
pub mod operator;
pub mod orgs;
pub mod privacy;
pub mod proxies;
pub mod random;
pub mod rate;
pub mod retention;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod users;
pub mod workers;

pub use config::Config;
pub use state::AppState;
pub use store::Store;
/// The engine layer (DESIGN.md §5), re-exported so handlers name one crate.
pub use targets;
