//! One function per command, grouped by area: each parses its input, calls
//! one service and renders the answer with [`crate::text`]. Every handler
//! answers `Result<String, AppError>`, and [`reply`] is the one path from
//! that to a message: the answer, or the error's message for the person
//! (never internals: those are logged by the services).

pub mod account;
pub mod adddb;
pub mod buttons;
pub mod databases;
pub mod emails;
pub mod invitations;
pub mod org;
pub mod questions;
pub mod usage;

use crate::TgBot;
use models::AppError;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;

/// What a handler answers: plain text (no markup to escape), maybe with buttons.
pub struct Reply {
    pub text: String,
    pub buttons: Option<InlineKeyboardMarkup>,
}

impl From<String> for Reply {
    fn from(text: String) -> Reply {
        Reply {
            text,
            buttons: None,
        }
    }
}

impl From<&'static str> for Reply {
    fn from(text: &'static str) -> Reply {
        Reply::from(text.to_owned())
    }
}

/// Sends a handler's outcome to the chat the message came from.
pub async fn reply(
    bot: &TgBot,
    msg: &Message,
    outcome: Result<impl Into<Reply>, AppError>,
) -> anyhow::Result<()> {
    let reply = match outcome {
        Ok(reply) => reply.into(),
        Err(err) => {
            tracing::debug!(error = %err.message(), "a command was refused");
            Reply::from(err.message().to_owned())
        }
    };
    for (i, part) in crate::text::split(&reply.text).into_iter().enumerate() {
        let mut send = bot.send_message(msg.chat.id, part);
        if i == 0 {
            if let Some(buttons) = reply.buttons.clone() {
                send = send.reply_markup(buttons);
            }
        }
        send.await?;
    }
    Ok(())
}

/// The caller behind a message (registered by then: every sender is
/// remembered before a handler runs).
pub async fn caller_of(
    state: &services::AppState,
    msg: &Message,
) -> Result<models::org::Caller, AppError> {
    let user_id =
        sender_id(msg).ok_or_else(|| AppError::bad_request("Who sent this is unknown."))?;
    services::access::caller(&state.store, user_id).await
}

/// The sender's Telegram id, when the message has one that fits.
pub fn sender_id(msg: &Message) -> Option<i64> {
    msg.from.as_ref().and_then(|u| i64::try_from(u.id.0).ok())
}
