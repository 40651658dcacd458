//! Plain text: a question for the person's selected database, answered
//! through the question pipeline. A status message shows each stage as it
//! starts and is replaced by the answer.

use crate::{text, TgBot};
use models::ask::AskRequest;
use models::costs::Channel;
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::{ChatAction, InputFile, Me, ParseMode};

/// The question in a message: all of a private chat's text; in a group,
/// only a message that mentions the bot (the mention taken out) or replies
/// to it — the rest of the group's talk is not for the bot.
pub fn addressed(msg: &Message, me: &Me) -> Option<String> {
    let text = msg.text()?;
    if msg.chat.is_private() {
        return Some(text.to_owned());
    }
    if let Some(question) = without_mention(text, me.username()) {
        return Some(question);
    }
    let replied_to_bot = msg
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|u| u.id == me.id);
    replied_to_bot.then(|| text.to_owned())
}

/// `text` with the first `@username` taken out (case aside), when it has one.
/// Matched on ASCII case only: usernames are ASCII, and ASCII case keeps
/// every byte where it was (full Unicode lowercasing can move them, and the
/// cut would land inside a character).
pub fn without_mention(text: &str, username: &str) -> Option<String> {
    let mention = format!("@{}", username.to_ascii_lowercase());
    let at = text.to_ascii_lowercase().find(&mention)?;
    let rest = format!("{}{}", &text[..at], &text[at + mention.len()..]);
    Some(rest.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A connection string posted in a group: deleted if the bot may, and the
/// person told to use a private chat.
pub async fn guard_group(bot: &TgBot, msg: &Message) -> anyhow::Result<bool> {
    if msg.chat.is_private() || !msg.text().is_some_and(super::adddb::looks_secret) {
        return Ok(false);
    }
    let deleted = bot.delete_message(msg.chat.id, msg.id).await.is_ok();
    let said = if deleted {
        "I deleted a message that looked like a connection string with a password. Add databases in a private chat with me (/adddb), never in a group — and change that password, since others saw it."
    } else {
        "That message looks like a connection string with a password. Delete it and change the password: add databases in a private chat with me (/adddb), never in a group."
    };
    bot.send_message(msg.chat.id, said).await?;
    Ok(true)
}

/// Answers `msg`'s text as a question (see [`addressed`]).
pub async fn ask(bot: &TgBot, state: &AppState, msg: &Message, me: &Me) -> anyhow::Result<()> {
    if guard_group(bot, msg).await? {
        return Ok(());
    }
    let (Some(user_id), Some(question)) = (super::sender_id(msg), addressed(msg, me)) else {
        return Ok(());
    };
    if question.trim().is_empty() {
        return super::reply(
            bot,
            msg,
            Ok::<_, models::AppError>("Yes? Ask me a question about your data.".to_owned()),
        )
        .await;
    }
    let question = question.as_str();
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
        // The message's id on every log line of the question.
        let span = tracing::info_span!(
            "telegram",
            request_id = %format!("tg-{}-{}", msg.chat.id.0, msg.id.0)
        );
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                services::ask::ask(&state, &caller, &request, Channel::Telegram, Some(&events))
                    .await
            },
            span,
        ))
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
    let outcome = asking.await?;
    let (text, parse_mode, email) = match &outcome {
        Ok(answer) => (
            text::answer(answer),
            Some(ParseMode::Html),
            answer.email.as_ref().map(|e| e.email_id),
        ),
        Err(err) => (err.message().to_owned(), None, None),
    };
    let mut edit = bot.edit_message_text(msg.chat.id, status.id, text.clone());
    if let Some(id) = email {
        edit = edit.reply_markup(super::emails::buttons(id));
    }
    match parse_mode {
        Some(mode) => edit.parse_mode(mode).await?,
        None => edit.await?,
    };
    if let Ok(answer) = &outcome {
        attachments(bot, msg, question, answer, &text).await;
    }
    Ok(())
}

/// The chart (a PNG, when the rows are a label/number or date/number
/// series) and the rows as a CSV document (when they do not fit a message),
/// each replying to the question. The answer is already shown: a failure
/// here is logged and said in a line, never an error for the question.
async fn attachments(
    bot: &TgBot,
    msg: &Message,
    question: &str,
    answer: &models::ask::Answer,
    sent: &str,
) {
    let Some(result) = &answer.result else {
        return;
    };
    let reply_to = teloxide::types::ReplyParameters::new(msg.id).allow_sending_without_reply();
    if let Some(series) = models::ask::chart_series(result) {
        let drawn = {
            let question = question.to_owned();
            tokio::task::spawn_blocking(move || crate::chart::png(&series, &question)).await
        };
        match drawn {
            Ok(Ok(png)) => {
                let photo = InputFile::memory(png).file_name("chart.png");
                if let Err(err) = bot
                    .send_photo(msg.chat.id, photo)
                    .reply_parameters(reply_to.clone())
                    .await
                {
                    tracing::warn!(error = %err, "the chart could not be sent");
                }
            }
            Ok(Err(err)) => tracing::warn!(error = %err, "the chart could not be drawn"),
            Err(err) => tracing::warn!(error = %err, "drawing the chart failed"),
        }
    }
    if text::rows_need_file(result, sent) {
        let Some(csv) = services::csv::result_csv(result) else {
            return;
        };
        let (name, caption) = text::rows_file(result);
        let sent = bot
            .send_document(
                msg.chat.id,
                InputFile::memory(csv.into_bytes()).file_name(name),
            )
            .caption(caption)
            .reply_parameters(reply_to)
            .await;
        if let Err(err) = sent {
            tracing::warn!(error = %err, "the rows' file could not be sent");
            let _ = bot
                .send_message(
                    msg.chat.id,
                    "The rows could not be sent as a file just now; ask again in a moment.",
                )
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_mention;

    #[test]
    fn a_mention_is_taken_out_whatever_the_text_around_it() {
        assert_eq!(
            without_mention("@Tabletalk_Bot sales by region?", "tabletalk_bot").as_deref(),
            Some("sales by region?")
        );
        assert_eq!(
            without_mention("@tabletalk_bot", "tabletalk_bot").as_deref(),
            Some("")
        );
        // Letters whose lowercase is longer in bytes before the mention.
        assert_eq!(
            without_mention("İİİ sales in İstanbul @tabletalk_bot?", "tabletalk_bot").as_deref(),
            Some("İİİ sales in İstanbul ?")
        );
        assert_eq!(without_mention("lunch at noon?", "tabletalk_bot"), None);
    }
}
