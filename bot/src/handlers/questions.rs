//! Plain text: a question for the person's selected database, answered
//! through the question pipeline. A status message shows each stage as it
//! starts and is replaced by the answer.

use crate::{text, TgBot};
use models::ask::AskRequest;
use models::costs::Channel;
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::{ChatAction, ParseMode};

/// Answers `msg`'s text as a question.
pub async fn ask(bot: &TgBot, state: &AppState, msg: &Message) -> anyhow::Result<()> {
    let (Some(user_id), Some(question)) = (super::sender_id(msg), msg.text()) else {
        return Ok(());
    };
    let caller = match services::access::caller(&state.store, user_id).await {
        Ok(caller) => caller,
        Err(err) => return super::reply(bot, msg, Err::<String, _>(err)).await,
    };
    // Progress is best effort: a failed chat action or edit never stops the question.
    let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
    let status = bot.send_message(msg.chat.id, text::thinking()).await?;
    let (events, mut progress) = tokio::sync::mpsc::unbounded_channel();
    let request = AskRequest {
        question: question.to_owned(),
        database_id: None,
    };
    let asking = {
        let state = state.clone();
        tokio::spawn(async move {
            services::ask::ask(&state, &caller, &request, Channel::Telegram, Some(&events)).await
        })
    };
    let mut shown = text::thinking();
    while let Some(event) = progress.recv().await {
        if let Some(line) = text::progress(&event) {
            if line != shown {
                let _ = bot.edit_message_text(msg.chat.id, status.id, line).await;
                let _ = bot.send_chat_action(msg.chat.id, ChatAction::Typing).await;
                shown = line;
            }
        }
    }
    let (answer, parse_mode, email) = match asking.await? {
        Ok(answer) => (
            text::answer(&answer),
            Some(ParseMode::Html),
            answer.email.as_ref().map(|e| e.email_id),
        ),
        Err(err) => (err.message().to_owned(), None, None),
    };
    let mut edit = bot.edit_message_text(msg.chat.id, status.id, answer);
    if let Some(id) = email {
        edit = edit.reply_markup(super::emails::buttons(id));
    }
    match parse_mode {
        Some(mode) => edit.parse_mode(mode).await?,
        None => edit.await?,
    };
    Ok(())
}
