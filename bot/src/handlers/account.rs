//! /start, /help, and remembering who writes.

use crate::text;
use models::org::TelegramProfile;
use models::AppError;
use services::AppState;
use teloxide::prelude::*;

/// Registers or refreshes the sender, so every later rule knows them.
pub async fn remember_sender(state: AppState, msg: Message) {
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

/// /start, or /start with a deep-link payload (`join_<code>` joins).
pub async fn start(state: &AppState, msg: &Message, payload: &str) -> Result<String, AppError> {
    if models::InviteCode::is_deep_link(payload) {
        return super::invitations::join(state, msg, payload).await;
    }
    let name = msg.from.as_ref().map_or("there", |u| u.first_name.as_str());
    Ok(text::welcome(name))
}

/// /help.
pub fn help() -> String {
    text::help()
}

/// A command the bot does not know.
pub fn unknown_command() -> String {
    text::unknown_command().to_owned()
}
