pub mod error_box;
pub mod layout;
pub mod loaded;
