//! Small building blocks shared by pages.

pub mod error_box;
