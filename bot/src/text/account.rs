//! Greeting, /help, long texts split for Telegram, and the answers about
//! the person's own account (dashboard sign-in, private-only commands).

use crate::Command;
use models::org::Credentials;

/// The greeting for /start.
pub fn welcome(first_name: &str) -> String {
    format!(
        "Hello, {first_name}! I am Tabletalk: ask your team's SQL databases questions in plain \
         language, and see what every answer cost.\n\nSend /help to see what I can do."
    )
}

/// The command list for /help: only what `role` may use (/admin only for
/// the operators).
pub fn help(role: models::Role, admin: bool) -> String {
    let mut out = String::from("Tabletalk understands these commands:\n\n");
    for c in Command::menu(role, admin) {
        let name = c.command.trim_start_matches('/');
        out.push_str(&format!("/{name} — {}\n", c.description));
    }
    out.push_str("\nAnything else you write is a question for your active database.");
    out
}

/// What Telegram takes in one message, with room to spare.
const PART_CHARS: usize = 4_000;

/// A long text as messages within Telegram's limit, cut at line ends where
/// possible (a single longer line is cut where it must).
pub fn split(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    for line in text.split_inclusive('\n') {
        let len = line.chars().count();
        if count + len > PART_CHARS && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            count = 0;
        }
        if len > PART_CHARS {
            let chars: Vec<char> = line.chars().collect();
            for piece in chars.chunks(PART_CHARS) {
                parts.push(piece.iter().collect());
            }
            continue;
        }
        current.push_str(line);
        count += len;
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

/// A command the bot does not know.
pub fn unknown_command() -> &'static str {
    "I don't know that command. Send /help to see the ones I understand."
}

/// Commands that reveal credentials work only in a private chat.
pub fn private_only() -> &'static str {
    "Send me this in a private chat, so your dashboard password stays private."
}

/// /dashboard's answer.
pub fn dashboard(creds: &Credentials) -> String {
    format!(
        "Your new dashboard sign-in (shown once, keep it private; the old password no longer \
         works):\nusername: {}\npassword: {}",
        creds.username, creds.password
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_split_at_line_ends_within_the_limit() {
        let text = "line of text\n".repeat(1_000);
        let parts = split(&text);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.chars().count() <= PART_CHARS));
        assert!(parts.iter().all(|p| p.ends_with('\n')));
        assert_eq!(parts.concat(), text);
    }
}
