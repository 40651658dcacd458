//! The cost ledger (DESIGN.md §6): prices, recording, analytics, budgets.

pub mod analytics;
pub mod answers;
pub mod budget;
pub mod export;
pub mod ledger;
pub mod pricing;
pub mod recorder;
pub mod rollup;
pub mod story;
pub mod synthetic;

pub use pricing::PriceTable;
pub use recorder::Recorder;
