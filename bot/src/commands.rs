//! The commands the bot understands. Doc strings become /help.

use teloxide::utils::command::BotCommands;

#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(
    rename_rule = "lowercase",
    description = "Tabletalk understands these commands:"
)]
pub enum Command {
    /// start using Tabletalk
    Start(String),
    /// show this list
    Help,
    /// join an organization with an invitation code: /join <code>
    Join(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_keeps_its_deep_link_payload() {
        assert_eq!(
            Command::parse("/start join_AbC123", "tabletalk_bot").ok(),
            Some(Command::Start("join_AbC123".into()))
        );
        assert_eq!(
            Command::parse("/start", "tabletalk_bot").ok(),
            Some(Command::Start(String::new()))
        );
        assert_eq!(
            Command::parse("/help@tabletalk_bot", "tabletalk_bot").ok(),
            Some(Command::Help)
        );
        assert!(Command::parse("/nonsense", "tabletalk_bot").is_err());
        assert_eq!(
            Command::parse("/join AbCdEfGhIjKlMnOp", "tabletalk_bot").ok(),
            Some(Command::Join("AbCdEfGhIjKlMnOp".into()))
        );
    }
}
