//! Users' databases (DESIGN.md §5). So far: the SQL guard.

pub mod guard;
