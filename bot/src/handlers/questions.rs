//! Plain text: a question (the question pipeline is not built yet).

use crate::text;

/// A question in plain language.
pub fn ask() -> String {
    text::questions_not_ready().to_owned()
}
