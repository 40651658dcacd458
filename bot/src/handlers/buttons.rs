//! How a press on one of our buttons is answered (the presses themselves are
//! routed in [`crate::schema`], their data typed in [`crate::callback`]):
//! the presser is looked up afresh, and the answer replaces the message
//! that held the buttons, so a question is answered once.

use super::Reply;
use crate::TgBot;
use models::org::Caller;
use models::AppError;
use services::AppState;
use teloxide::prelude::*;

/// Who pressed: read from the store on every press, never from the button.
pub async fn presser(state: &AppState, q: &CallbackQuery) -> Result<Caller, AppError> {
    let user_id = i64::try_from(q.from.id.0)
        .map_err(|_| AppError::bad_request("That button is not valid."))?;
    services::access::caller(&state.store, user_id).await
}

/// Whether the button was pressed in a private chat.
pub fn in_private(q: &CallbackQuery) -> bool {
    q.message.as_ref().is_some_and(|m| m.chat().is_private())
}

/// Stops the button's spinner, then replaces the message that held it with
/// what the press did (its buttons go with it, unless the answer asks
/// something new).
pub async fn show(
    bot: &TgBot,
    q: &CallbackQuery,
    outcome: Result<Reply, AppError>,
) -> anyhow::Result<()> {
    let reply = match outcome {
        Ok(reply) => reply,
        Err(err) => Reply::from(err.message().to_owned()),
    };
    // Best effort: the spinner.
    let _ = bot.answer_callback_query(q.id.clone()).await;
    if let Some(message) = q.regular_message() {
        let mut edit = bot.edit_message_text(message.chat.id, message.id, reply.text);
        if let Some(buttons) = reply.buttons {
            edit = edit.reply_markup(buttons);
        }
        edit.await?;
    }
    Ok(())
}

/// A press whose data no button of ours carries (an old or forged button).
pub async fn unknown(bot: &TgBot, q: &CallbackQuery) -> anyhow::Result<()> {
    bot.answer_callback_query(q.id.clone())
        .text("That button is not valid.")
        .await?;
    Ok(())
}
