//! The Send / Cancel buttons under a drafted email. The button's data names
//! the email; the service checks it is the presser's own draft, so a forged
//! callback gets a refusal, never a send.

use crate::{text, TgBot};
use models::ask::EmailOutcome;
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

const SEND: &str = "email:send:";
const CANCEL: &str = "email:cancel:";

/// The buttons under a drafted email.
pub fn buttons(email_id: i64) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Send email", format!("{SEND}{email_id}")),
        InlineKeyboardButton::callback("Cancel", format!("{CANCEL}{email_id}")),
    ]])
}

/// Whether a button press is one of these.
pub fn is_email_button(q: &CallbackQuery) -> bool {
    q.data
        .as_deref()
        .is_some_and(|d| d.starts_with(SEND) || d.starts_with(CANCEL))
}

/// Sends or cancels the email a button names, and says what happened.
pub async fn on_button(bot: &TgBot, state: &AppState, q: &CallbackQuery) -> anyhow::Result<()> {
    let data = q.data.as_deref().unwrap_or_default();
    let (send, id) = match (data.strip_prefix(SEND), data.strip_prefix(CANCEL)) {
        (Some(id), _) => (true, id),
        (_, Some(id)) => (false, id),
        _ => return Ok(()),
    };
    let outcome = match (id.parse::<i64>(), i64::try_from(q.from.id.0)) {
        (Ok(id), Ok(user_id)) => match services::access::caller(&state.store, user_id).await {
            Ok(caller) if send => services::email::confirm(state, &caller, id).await,
            Ok(caller) => services::email::cancel(state, &caller, id).await,
            Err(err) => Err(err),
        },
        _ => Err(models::AppError::bad_request("That button is not valid.")),
    };
    let (reply, finished) = match outcome {
        Ok(outcome) => {
            let finished = !matches!(outcome, EmailOutcome::Queued { .. });
            (text::email_outcome(&outcome), finished)
        }
        Err(err) => (err.message().to_owned(), false),
    };
    // Best effort: the short notice on the button, then the message.
    let _ = bot.answer_callback_query(q.id.clone()).await;
    if let Some(message) = q.regular_message() {
        if finished {
            let _ = bot
                .edit_message_reply_markup(message.chat.id, message.id)
                .await;
        }
        bot.send_message(message.chat.id, reply).await?;
    }
    Ok(())
}
