//! Every reply text of the bot, in one place.

use crate::Command;
use teloxide::utils::command::BotCommands;

/// The greeting for /start.
pub fn welcome(first_name: &str) -> String {
    format!(
        "Hello, {first_name}! I am Tabletalk: ask your team's SQL databases questions in plain \
         language, and see what every answer cost.\n\nSend /help to see what I can do."
    )
}

/// The command list for /help.
pub fn help() -> String {
    Command::descriptions().to_string()
}

/// A command the bot does not know.
pub fn unknown_command() -> &'static str {
    "I don't know that command. Send /help to see the ones I understand."
}

/// Plain text, before the question pipeline exists.
pub fn questions_not_ready() -> &'static str {
    "Questions in plain language are not available yet. Send /help to see what I can do today."
}
