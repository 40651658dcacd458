//! Users' databases (DESIGN.md §5). So far: the SQL guard.

pub mod conn;
pub mod guard;
pub mod secret_box;
