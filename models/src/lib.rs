//! Typed models shared by every Tabletalk crate and the WASM client.
//!
//! No IO lives here: ids, roles, the DTOs of every endpoint, validation and the
//! one error enum that crosses the wire.

pub mod auth;
pub mod error;
pub mod role;

pub use error::AppError;
pub use role::Role;
