//! One function per command, grouped by area: each parses its input, calls
//! one service and renders the answer with [`crate::text`]. Every handler
//! answers `Result<String, AppError>`, and [`reply`] is the one path from
//! that to a message: the answer, or the error's message for the person
//! (never internals: those are logged by the services).

pub mod account;
pub mod emails;
pub mod invitations;
pub mod questions;

use crate::TgBot;
use models::AppError;
use teloxide::prelude::*;

/// Sends a handler's outcome to the chat the message came from.
pub async fn reply(
    bot: &TgBot,
    msg: &Message,
    outcome: Result<String, AppError>,
) -> anyhow::Result<()> {
    let text = match outcome {
        Ok(text) => text,
        Err(err) => {
            tracing::debug!(error = %err.message(), "a command was refused");
            err.message().to_owned()
        }
    };
    bot.send_message(msg.chat.id, text).await?;
    Ok(())
}

/// The sender's Telegram id, when the message has one that fits.
pub fn sender_id(msg: &Message) -> Option<i64> {
    msg.from.as_ref().and_then(|u| i64::try_from(u.id.0).ok())
}
