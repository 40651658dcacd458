//! An answer to any chat: the live question's, a scheduled one's or one
//! from the outbox, rendered the same way — the answer as an HTML message
//! (words, a small table, the SQL, an email preview, the cost), then the
//! chart as a PNG when the rows are a series, and the rows as a CSV
//! document when they do not fit the message.

use crate::{text, TgBot};
use models::ask::Answered;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, InputFile, MessageId, ParseMode, ReplyParameters};
use teloxide::RequestError;

/// Sends `answer` to `chat` as a new message (replying to `reply_to`, when
/// given and still there), then its attachments. An error is the answer's
/// message not sent; a failed attachment is logged and said in a line.
pub async fn deliver(
    bot: &TgBot,
    chat: ChatId,
    reply_to: Option<MessageId>,
    answer: &Answered,
) -> Result<(), RequestError> {
    let sent = text::answer(&answer.answer);
    let mut send = bot
        .send_message(chat, sent.clone())
        .parse_mode(ParseMode::Html);
    if let Some(to) = reply_to {
        send = send.reply_parameters(replying(to));
    }
    if let Some(buttons) = buttons(answer) {
        send = send.reply_markup(buttons);
    }
    send.await?;
    attachments(bot, chat, reply_to, answer, &sent).await;
    Ok(())
}

/// [`deliver`] into a message already shown (the live question's status
/// line): it becomes the answer, and the attachments follow.
pub async fn deliver_over(
    bot: &TgBot,
    chat: ChatId,
    shown: MessageId,
    reply_to: Option<MessageId>,
    answer: &Answered,
) -> Result<(), RequestError> {
    let sent = text::answer(&answer.answer);
    let mut edit = bot
        .edit_message_text(chat, shown, sent.clone())
        .parse_mode(ParseMode::Html);
    if let Some(buttons) = buttons(answer) {
        edit = edit.reply_markup(buttons);
    }
    edit.await?;
    attachments(bot, chat, reply_to, answer, &sent).await;
    Ok(())
}

/// Send / Cancel under an answer that drafted an email.
fn buttons(answer: &Answered) -> Option<InlineKeyboardMarkup> {
    let email = answer.answer.email.as_ref()?;
    Some(crate::handlers::emails::buttons(email.email_id))
}

fn replying(to: MessageId) -> ReplyParameters {
    ReplyParameters::new(to).allow_sending_without_reply()
}

/// The chart (a PNG, when the rows are a label/number or date/number
/// series) and the rows as a CSV document (when they do not fit the message
/// `sent`). The answer is already shown: a failure here is logged and said
/// in a line, never an error for the answer.
async fn attachments(
    bot: &TgBot,
    chat: ChatId,
    reply_to: Option<MessageId>,
    answer: &Answered,
    sent: &str,
) {
    let Some(result) = &answer.answer.result else {
        return;
    };
    if let Some(series) = models::ask::chart_series(result) {
        let drawn = {
            let question = answer.question.clone();
            tokio::task::spawn_blocking(move || crate::chart::png(&series, &question)).await
        };
        match drawn {
            Ok(Ok(png)) => {
                let mut photo = bot.send_photo(chat, InputFile::memory(png).file_name("chart.png"));
                if let Some(to) = reply_to {
                    photo = photo.reply_parameters(replying(to));
                }
                if let Err(err) = photo.await {
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
        let mut document = bot
            .send_document(chat, InputFile::memory(csv.into_bytes()).file_name(name))
            .caption(caption);
        if let Some(to) = reply_to {
            document = document.reply_parameters(replying(to));
        }
        if let Err(err) = document.await {
            tracing::warn!(error = %err, "the rows' file could not be sent");
            let _ = bot
                .send_message(
                    chat,
                    "The rows could not be sent as a file just now; ask again in a moment.",
                )
                .await;
        }
    }
}
