//! The Send / Cancel buttons under a drafted email. The button's data names
//! the email; the service checks it is the presser's own draft, so a forged
//! callback gets a refusal, never a send.

use crate::callback::Callback;
use crate::{text, TgBot};
use models::ask::EmailOutcome;
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;

/// The buttons under a drafted email.
pub fn buttons(email_id: i64) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
        Callback::SendEmail(email_id).button("Send email"),
        Callback::CancelEmail(email_id).button("Cancel"),
    ]])
}

/// What a press under a draft asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Send,
    Cancel,
}

/// Sends or cancels the email a button names, and says what happened.
pub async fn on_button(
    bot: &TgBot,
    state: &AppState,
    q: &CallbackQuery,
    id: i64,
    choice: Choice,
) -> anyhow::Result<()> {
    let outcome = match super::buttons::presser(state, q).await {
        Ok(caller) => match choice {
            Choice::Send => services::email::confirm(state, &caller, id).await,
            Choice::Cancel => services::email::cancel(state, &caller, id).await,
        },
        Err(err) => Err(err),
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
