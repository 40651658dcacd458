//! Inline buttons: what each carries and where a press goes. A button's data
//! is only a request: every press is checked against the presser's access
//! by the service it calls, so a forged callback gets a refusal, not an action.

use super::{databases, org, usage, Reply};
use crate::TgBot;
use models::{AppError, ConnectionId};
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Make a database the active one: `db:use:<id>`.
pub const USE_DB: &str = "db:use:";
/// Ask to remove a database: `db:rm:<id>`; confirmed: `db:rm!:<id>`.
pub const REMOVE_DB: &str = "db:rm:";
pub const REMOVE_DB_CONFIRMED: &str = "db:rm!:";
/// Confirmed /leave and /clear.
pub const LEAVE: &str = "leave!";
pub const CLEAR: &str = "clear!";
/// Confirmed /forgetme (honoured in a private chat only: the presser is the one forgotten).
pub const FORGET_ME: &str = "forgetme!";
/// "No" under a question: nothing happens.
pub const DISMISS: &str = "dismiss";

/// A yes/no pair: `yes_data` does it, the other button does nothing.
pub fn confirm(yes_data: &str, yes: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(yes, yes_data),
        InlineKeyboardButton::callback("No, keep it", DISMISS),
    ]])
}

/// Whether a press is one of these (the email buttons have their own handler).
pub fn is_ours(q: &CallbackQuery) -> bool {
    q.data.as_deref().is_some_and(|d| {
        d.starts_with(USE_DB)
            || d.starts_with(REMOVE_DB)
            || d.starts_with(REMOVE_DB_CONFIRMED)
            || d == LEAVE
            || d == CLEAR
            || d == FORGET_ME
            || d == DISMISS
    })
}

/// One press: do what it asks if the presser may, then say what happened
/// (and take the buttons away, so a question is answered once).
pub async fn on_press(bot: &TgBot, state: &AppState, q: &CallbackQuery) -> anyhow::Result<()> {
    let data = q.data.as_deref().unwrap_or_default();
    let outcome: Result<Reply, AppError> = async {
        let user_id = i64::try_from(q.from.id.0)
            .map_err(|_| AppError::bad_request("That button is not valid."))?;
        let caller = services::access::caller(&state.store, user_id).await?;
        let id = |prefix: &str| {
            ConnectionId::parse(&data[prefix.len()..])
                .map_err(|_| AppError::bad_request("That button is not valid."))
        };
        if data.starts_with(USE_DB) {
            databases::select(state, &caller, &id(USE_DB)?)
                .await
                .map(Reply::from)
        } else if data.starts_with(REMOVE_DB_CONFIRMED) {
            databases::remove(state, &caller, &id(REMOVE_DB_CONFIRMED)?)
                .await
                .map(Reply::from)
        } else if data.starts_with(REMOVE_DB) {
            databases::confirm_remove(state, &caller, &id(REMOVE_DB)?).await
        } else if data == LEAVE {
            org::leave_confirmed(state, &caller).await.map(Reply::from)
        } else if data == FORGET_ME {
            let private = q.message.as_ref().is_some_and(|m| m.chat().is_private());
            if !private {
                return Err(AppError::bad_request(
                    "Send /forgetme to me in a private chat: only you can ask me to forget you.",
                ));
            }
            usage::forget_me_confirmed(state, &caller)
                .await
                .map(Reply::from)
        } else if data == CLEAR {
            usage::clear_confirmed(state, &caller)
                .await
                .map(Reply::from)
        } else {
            Ok(Reply::from("Nothing was changed."))
        }
    }
    .await;
    let reply = match outcome {
        Ok(reply) => reply,
        Err(err) => Reply::from(err.message().to_owned()),
    };
    // Best effort: stop the button's spinner, then replace the question (its
    // buttons go with it, unless the answer asks something new).
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
