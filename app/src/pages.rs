//! One page per file.

pub mod ask;
pub mod audit;
pub mod conversations;
pub mod costs;
pub mod databases;
pub mod invitations;
pub mod login;
pub mod members;
pub mod not_found;
pub mod overview;
pub mod settings;
