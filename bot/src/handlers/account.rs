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

/// /help: the commands the caller's role may use.
pub async fn help(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = super::caller_of(state, msg).await?;
    let admin = caller
        .user_id
        .is_some_and(|id| services::operator::is_admin(state, id));
    Ok(text::help(caller.role, admin))
}

/// /dashboard: new dashboard credentials (the old password stops working),
/// only in a private chat.
pub async fn dashboard(state: &AppState, msg: &Message) -> Result<String, AppError> {
    if !msg.chat.is_private() {
        return Ok(text::private_only().to_owned());
    }
    let caller = super::caller_of(state, msg).await?;
    let creds = services::auth::credentials::reset(&state.store, &caller).await?;
    Ok(text::dashboard(&creds))
}

/// /email <address> (or /email off).
pub async fn email(state: &AppState, msg: &Message, address: &str) -> Result<String, AppError> {
    let caller = super::caller_of(state, msg).await?;
    if address.trim().is_empty() {
        let now =
            services::email::own_address(&state.store, caller.user_id.unwrap_or_default()).await?;
        return Ok(match now {
            Some(a) => format!("Emails you ask to be sent to \"me\" go to {a}. Change it with /email <address>, or /email off."),
            None => "Tabletalk has no address for you. Set one with /email ada@example.com, then ask \"... and email it to me\".".into(),
        });
    }
    Ok(
        match services::email::set_own_address(&state.store, &caller, Some(address)).await? {
            Some(a) => format!("Saved: emails you ask to be sent to \"me\" go to {a}."),
            None => "Forgotten: Tabletalk has no address for you now.".into(),
        },
    )
}

/// A command the bot does not know.
pub fn unknown_command() -> String {
    text::unknown_command().to_owned()
}

/// /admin stats (operators only).
pub async fn admin(state: &AppState, msg: &Message, args: &str) -> Result<String, AppError> {
    let user_id =
        super::sender_id(msg).ok_or_else(|| AppError::bad_request("Who sent this is unknown."))?;
    let today = models::Day::of_unix(services::clock::now());
    let stats = services::operator::admin_stats(state, user_id, today).await?;
    match args.trim() {
        "" | "stats" => Ok(text::admin_stats(&stats)),
        other => Err(AppError::bad_request(format!(
            "/admin knows \"stats\" only, not {other:?}."
        ))),
    }
}
