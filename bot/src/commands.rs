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
    /// your role, organization, active database and usage
    MyInfo,
    /// found an organization: /createorg <name>
    CreateOrg(String),
    /// your organization
    Org,
    /// your organization (as /org)
    OrgInfo,
    /// the organization's members
    Members,
    /// invite people: /invite [uses] [days]
    Invite(String),
    /// join an organization with an invitation code: /join <code>
    Join(String),
    /// leave your organization
    Leave,
    /// remove a member: /removemember <user id or @username>
    RemoveMember(String),
    /// add a database, step by step (private chat)
    AddDb,
    /// choose the database your questions go to
    SelectDb,
    /// remove a database
    RemoveDb,
    /// get (or reset) your dashboard sign-in
    Dashboard,
    /// your usage today and this week
    Stats,
    /// your last 10 questions and what they cost
    History,
    /// forget the conversation so far (follow-ups start afresh)
    Clear,
    /// forget me: delete my questions and personal databases (costs stay, anonymous)
    ForgetMe,
    /// this month's costs by model and stage, and the budget
    Costs,
    /// where "send it to me" emails go: /email <address> (or /email off)
    Email(String),
    /// leave a guided step
    Cancel,
    /// for Tabletalk's operators: /admin stats
    Admin(String),
}

impl Command {
    /// The commands `role` may use, as the /help list and Telegram's command
    /// menu show them (/admin only for the operators).
    pub fn menu(role: models::Role, admin: bool) -> Vec<teloxide::types::BotCommand> {
        Command::bot_commands()
            .into_iter()
            .map(|mut c| {
                // Telegram's menu takes names without the slash.
                c.command = c.command.trim_start_matches('/').to_owned();
                c
            })
            .filter(|c| {
                let name = c.command.trim_start_matches('/');
                if name == "admin" {
                    return admin;
                }
                Command::needs(name).is_none_or(|action| models::allowed(role, action))
            })
            .collect()
    }

    /// What a command needs the caller's role to allow (`None`: anyone), so
    /// /help lists only what the caller may use.
    pub fn needs(command: &str) -> Option<models::Action> {
        use models::Action;
        match command {
            "createorg" => Some(Action::CreateOrg),
            "join" => Some(Action::JoinOrg),
            "org" | "orginfo" | "members" => Some(Action::ViewMembers),
            "invite" => Some(Action::CreateInvites),
            "leave" => Some(Action::LeaveOrg),
            "removemember" => Some(Action::RemoveMembers),
            "adddb" => Some(Action::AddDatabases),
            "selectdb" => Some(Action::SelectDatabase),
            "removedb" => Some(Action::RemoveDatabases),
            "costs" => Some(Action::ViewCosts),
            _ => None,
        }
    }
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
        assert_eq!(
            Command::parse("/invite 3 7", "tabletalk_bot").ok(),
            Some(Command::Invite("3 7".into()))
        );
        assert_eq!(
            Command::parse("/myinfo", "tabletalk_bot").ok(),
            Some(Command::MyInfo)
        );
        assert_eq!(
            Command::parse("/removemember @bo", "tabletalk_bot").ok(),
            Some(Command::RemoveMember("@bo".into()))
        );
    }

    #[test]
    fn every_command_is_described_and_the_role_rules_name_real_commands() {
        let listed: Vec<String> = Command::bot_commands()
            .into_iter()
            .map(|c| c.command.trim_start_matches('/').to_owned())
            .collect();
        assert_eq!(listed.len(), 23, "{listed:?}");
        for name in [
            "createorg",
            "join",
            "org",
            "orginfo",
            "members",
            "invite",
            "leave",
            "removemember",
            "selectdb",
            "removedb",
            "costs",
        ] {
            assert!(listed.iter().any(|c| c == name), "{name}");
            assert!(Command::needs(name).is_some(), "{name}");
        }
        assert_eq!(Command::needs("help"), None);
    }
}
