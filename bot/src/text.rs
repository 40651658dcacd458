//! Every reply text of the bot, in one place.

use crate::Command;
use models::org::Credentials;
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

/// After joining an organization: the dashboard credentials, shown once.
pub fn joined(org_name: &str, creds: &Credentials) -> String {
    format!(
        "Welcome to {org_name}! You are now a member.\n\nYour dashboard sign-in (shown once, keep \
         it private):\nusername: {}\npassword: {}",
        creds.username, creds.password
    )
}

/// Commands that reveal credentials work only in a private chat.
pub fn private_only() -> &'static str {
    "Send me this in a private chat, so your dashboard password stays private."
}
