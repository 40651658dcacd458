//! Typed models shared by every Tabletalk crate and the WASM client.
//!
//! No IO lives here: ids, roles, the permission matrix, the DTOs of every
//! endpoint, validation and the one error enum that crosses the wire.

pub mod ask;
pub mod auth;
pub mod codec;
pub mod costs;
pub mod day;
pub mod error;
pub mod format;
pub mod ids;
pub mod money;
pub mod org;
pub mod permissions;
pub mod role;
pub mod targets;

pub use day::{Day, DayRange, Preset};
pub use error::AppError;
pub use ids::{ConnectionId, InviteCode, OrgId, UserId};
pub use money::Usd;
pub use permissions::{allowed, Action};
pub use role::Role;

/// Whom the costs of a person who asked to be forgotten (`/forgetme`) are
/// attributed to: no one (Telegram user ids are positive).
pub const FORGOTTEN_USER: UserId = 0;
/// How the per-person breakdowns name them.
pub const FORGOTTEN_USER_LABEL: &str = "Forgotten people";
