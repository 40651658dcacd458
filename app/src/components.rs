pub mod chart;
pub mod confirm;
pub mod error_box;
pub mod layout;
pub mod loaded;
pub mod money;
