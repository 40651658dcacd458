//! The handler tree: which update goes to which handler.

use crate::{text, Command};
use models::org::TelegramProfile;
use services::AppState;
use teloxide::dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;

/// Every sender is remembered (or refreshed); then commands, then other text.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    Update::filter_message()
        .inspect_async(remember_sender)
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(on_command),
        )
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some_and(|t| t.starts_with('/')))
                .endpoint(on_unknown_command),
        )
        .branch(dptree::filter(|msg: Message| msg.text().is_some()).endpoint(on_text))
}

/// Registers or refreshes the sender, so every later rule knows them.
async fn remember_sender(state: AppState, msg: Message) {
    let Some(user) = msg.from.as_ref() else {
        return;
    };
    let Ok(user_id) = i64::try_from(user.id.0) else {
        return;
    };
    let profile = TelegramProfile {
        user_id,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    };
    if let Err(err) = services::users::register(&state.store, &profile).await {
        tracing::warn!(error = %err, "could not remember a Telegram user");
    }
}

#[tracing::instrument(skip_all, fields(chat = %msg.chat.id))]
async fn on_command(bot: Bot, state: AppState, msg: Message, cmd: Command) -> anyhow::Result<()> {
    let reply = match cmd {
        Command::Start(payload) if payload.starts_with("join_") => {
            join(&state, &msg, &payload).await
        }
        Command::Start(_) => {
            let name = msg.from.as_ref().map_or("there", |u| u.first_name.as_str());
            text::welcome(name)
        }
        Command::Help => text::help(),
        Command::Join(code) => join(&state, &msg, &code).await,
    };
    bot.send_message(msg.chat.id, reply).await?;
    Ok(())
}

/// Joins with an invitation code; the answer carries dashboard credentials, so
/// it is given only in a private chat.
async fn join(state: &AppState, msg: &Message, code: &str) -> String {
    if !msg.chat.is_private() {
        return text::private_only().to_owned();
    }
    let Some(user_id) = msg.from.as_ref().and_then(|u| i64::try_from(u.id.0).ok()) else {
        return text::private_only().to_owned();
    };
    let outcome = async {
        let caller = services::users::caller(&state.store, user_id).await?;
        services::orgs::invitations::join(&state.store, &caller, code).await
    }
    .await;
    match outcome {
        Ok((org, creds)) => text::joined(&org.name, &creds),
        Err(err) => err.message().to_owned(),
    }
}

async fn on_unknown_command(bot: Bot, msg: Message) -> anyhow::Result<()> {
    bot.send_message(msg.chat.id, text::unknown_command())
        .await?;
    Ok(())
}

async fn on_text(bot: Bot, msg: Message) -> anyhow::Result<()> {
    bot.send_message(msg.chat.id, text::questions_not_ready())
        .await?;
    Ok(())
}
