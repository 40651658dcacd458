//! /adddb, step by step in a private chat: the name, the kind (buttons), the
//! connection string. The message holding the connection string is deleted
//! as soon as it is read; the connection is tested and the schema read
//! before anything is stored (`services::databases::add`). The
//! step lives in the store ([`crate::dialogue`]), so a restart loses nothing;
//! /cancel stops it, and ten quiet minutes end it.

use super::{caller_of, Reply};
use crate::callback::Callback;
use crate::dialogue::{AddDb, AddDbDialogue};
use crate::{text, TgBot};
use models::targets::{NewDatabase, TargetKind};
use models::{Action, AppError};
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;

/// Whether a text looks like a connection string holding a password (a URL
/// with a user part, or an ADO-style `Password=`): such a message must not
/// stay in a chat.
pub fn looks_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("password=")
        || lower.contains("pwd=")
        || lower.split_whitespace().any(|w| {
            w.contains("://") && w.split("://").nth(1).is_some_and(|rest| rest.contains('@'))
        })
}

/// The example connection string, with where the database lives when it is a file.
fn example(kind: TargetKind) -> String {
    let example = kind.example_connection_string();
    match kind.location_note() {
        Some(note) => format!("{example} ({note})"),
        None => example.to_owned(),
    }
}

/// /adddb: private chats only; the caller must be allowed to add databases.
pub async fn start(
    state: &AppState,
    msg: &Message,
    dialogue: &AddDbDialogue,
) -> Result<Reply, AppError> {
    if !msg.chat.is_private() {
        return Ok(text::private_for_connections().into());
    }
    let caller = caller_of(state, msg).await?;
    services::access::allow(&caller, Action::AddDatabases)?;
    dialogue.update(AddDb::Name).await?;
    let whose = if caller.org_id.is_some()
        && matches!(caller.role, models::Role::Owner | models::Role::Admin)
    {
        "your organization"
    } else {
        "you"
    };
    Ok(format!(
        "Let's add a database for {whose}. What should it be called? (For example: Sales.)\n\nSend /cancel to stop at any step."
    )
    .into())
}

/// The name, then the kind buttons.
pub async fn name(bot: &TgBot, msg: &Message, dialogue: &AddDbDialogue) -> anyhow::Result<()> {
    let typed = msg.text().unwrap_or_default();
    let reply = match models::targets::validate_database_name(typed) {
        Ok(name) => {
            dialogue.update(AddDb::Kind { name: name.clone() }).await?;
            Reply {
                text: format!("What kind of database is {name}?"),
                buttons: Some(InlineKeyboardMarkup::new(
                    TargetKind::ALL.map(|k| [Callback::AddDbKind(k).button(k.label())]),
                )),
            }
        }
        Err(err) => Reply::from(format!("{} Send another name, or /cancel.", err.message())),
    };
    super::reply(bot, msg, Ok::<_, AppError>(reply)).await
}

/// A kind button: asks for the connection string (the chat's step is read
/// afresh: a button from a dialogue that has ended does nothing).
pub async fn on_kind(dialogue: &AddDbDialogue, kind: TargetKind) -> Result<Reply, AppError> {
    let step = dialogue.get().await?.unwrap_or_default();
    let AddDb::Kind { name } = step else {
        return Ok("This question is no longer open. Send /adddb to add a database.".into());
    };
    dialogue
        .update(AddDb::Connection {
            name: name.clone(),
            kind,
        })
        .await?;
    Ok(format!(
        "{name} is {}. Now send its connection string, like:\n{}\n\nI delete your message as soon as I have read it, so the password does not stay in this chat. I connect and read the schema before anything is saved; the string is stored encrypted.",
        kind.label(),
        example(kind)
    )
    .into())
}

/// Text while the kind buttons wait.
pub async fn expect_button(bot: &TgBot, msg: &Message) -> anyhow::Result<()> {
    // Someone may paste the connection string too early: it must not stay.
    if msg
        .text()
        .is_some_and(|t| t.contains("://") || t.to_ascii_lowercase().contains("password="))
    {
        let _ = bot.delete_message(msg.chat.id, msg.id).await;
    }
    super::reply(
        bot,
        msg,
        Ok::<_, AppError>("Choose the kind with the buttons above first (or /cancel).".to_owned()),
    )
    .await
}

/// The connection string: deleted first, then tested and, if it works, stored.
pub async fn connection(
    bot: &TgBot,
    state: &AppState,
    msg: &Message,
    dialogue: &AddDbDialogue,
    name: String,
    kind: TargetKind,
) -> anyhow::Result<()> {
    let deleted = bot.delete_message(msg.chat.id, msg.id).await.is_ok();
    let typed = msg.text().unwrap_or_default().trim().to_owned();
    let outcome: Result<String, AppError> = async {
        let found = services::databases::kind_of_connection(&typed)?;
        if found != kind {
            return Err(AppError::bad_request(format!(
                "That is a {} connection string, but you chose {}.",
                found.label(),
                kind.label()
            )));
        }
        let caller = caller_of(state, msg).await?;
        let new = NewDatabase {
            name: name.clone(),
            connection_string: typed,
            scope: None,
        };
        let added = services::databases::add(state, &caller, &new).await?;
        Ok(text::database_added(&added))
    }
    .await;
    let mut said = if deleted {
        "(I deleted your message with the connection string.)\n\n".to_owned()
    } else {
        "(I could not delete your message with the connection string: please delete it yourself.)\n\n".to_owned()
    };
    match outcome {
        Ok(done) => {
            dialogue.exit().await?;
            said.push_str(&done);
        }
        Err(err) => {
            said.push_str(err.message());
            said.push_str("\n\nSend the connection string again, or /cancel.");
        }
    }
    super::reply(bot, msg, Ok::<_, AppError>(said)).await
}

/// The first message after ten quiet minutes: the dialogue has ended.
pub async fn timed_out(bot: &TgBot, msg: &Message, dialogue: &AddDbDialogue) -> anyhow::Result<()> {
    if msg
        .text()
        .is_some_and(|t| t.contains("://") || t.to_ascii_lowercase().contains("password="))
    {
        let _ = bot.delete_message(msg.chat.id, msg.id).await;
    }
    dialogue.exit().await?;
    super::reply(
        bot,
        msg,
        Ok::<_, AppError>(
            "Adding the database timed out after 10 quiet minutes, so nothing was added and your message was not used. Send /adddb to start again."
                .to_owned(),
        ),
    )
    .await
}

/// /cancel.
pub async fn cancel(dialogue: &AddDbDialogue) -> Result<String, AppError> {
    let step = dialogue.get().await?.unwrap_or_default();
    if step == AddDb::Idle {
        return Ok("There is nothing to cancel.".to_owned());
    }
    dialogue.exit().await?;
    Ok("Stopped: no database was added.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn connection_strings_with_passwords_are_recognised() {
        assert!(looks_secret("postgres://reader:pw@db.example.com/sales"));
        assert!(looks_secret("here: mysql://u:p@h/db thanks"));
        assert!(looks_secret(
            "Server=h,1433;Database=d;User Id=u;Password=x"
        ));
        assert!(looks_secret("server=h;uid=u;pwd=x"));
        assert!(!looks_secret("sqlite://sales.db"));
        assert!(!looks_secret("what is on https://example.com/page?"));
        assert!(!looks_secret("how many orders shipped last week?"));
    }
}
