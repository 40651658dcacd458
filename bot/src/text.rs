//! Every reply text of the bot, in one place: one file per area, all read
//! as `text::<name>`.

mod account;
mod answers;
mod databases;
mod org;
mod usage;

pub use account::*;
pub use answers::*;
pub use databases::*;
pub use org::*;
pub use usage::*;
