//! Drains the outbox (`services::notify`): the server and the CLI only write
//! rows; the bot sends them (a text, or an answer rendered by
//! [`crate::deliver`] exactly like a live one; to the person's private chat
//! or to the group a row names), one at a time per person and in order, waiting
//! out Telegram's retry_after, backing off on other failures, giving up after
//! a day, and marking a person who blocked the bot unreachable instead of
//! retrying forever. Several bot processes may run it: each row is claimed.

use crate::handlers::account::Senders;
use crate::TgBot;
use services::notify::{self, Attempt, Pending};
use services::workers::{Step, Worker};
use services::AppState;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};

/// How often the outbox is looked at.
pub const POLL: Duration = Duration::from_secs(1);

/// The outbox drain as a [`Worker`] the bot registers. `senders` is the
/// dispatcher's memory of who wrote lately: a person found unreachable is
/// forgotten there, so that their next message marks them reachable again.
pub struct Outbox {
    bot: TgBot,
    senders: Senders,
}

impl Outbox {
    pub fn new(bot: TgBot, senders: Senders) -> Outbox {
        Outbox { bot, senders }
    }
}

impl Worker for Outbox {
    fn name(&self) -> &'static str {
        "outbox"
    }

    fn every(&self) -> Duration {
        POLL
    }

    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a> {
        Box::pin(drain_once(&self.bot, state, &self.senders))
    }
}

/// Sends what is due now; returns how many rows were tried.
pub async fn drain_once(bot: &TgBot, state: &AppState, senders: &Senders) -> anyhow::Result<usize> {
    let due = notify::claim_due(&state.store, services::clock::now(), 20).await?;
    for row in &due {
        let attempt = send(bot, row).await;
        match &attempt {
            Attempt::Sent => tracing::debug!(id = row.id, kind = %row.kind, "notification sent"),
            Attempt::Retry { after_secs, error } => {
                tracing::info!(id = row.id, after_secs, %error, "notification not sent; will retry")
            }
            Attempt::Unreachable { error } if row.to_private_chat() => {
                senders.forget(row.telegram_user_id);
                tracing::info!(id = row.id, %error, "the person cannot be written to; their notifications are given up")
            }
            Attempt::Unreachable { error } => {
                tracing::info!(id = row.id, chat = row.chat_id, %error, "the chat cannot be written to; its notifications are given up")
            }
        }
        notify::finish(&state.store, row, &attempt, services::clock::now()).await?;
    }
    Ok(due.len())
}

async fn send(bot: &TgBot, row: &Pending) -> Attempt {
    let attempt = send_once(bot, row).await;
    if !matches!(attempt, Attempt::Sent) {
        services::metrics::bot_error("outbox");
    }
    attempt
}

async fn send_once(bot: &TgBot, row: &Pending) -> Attempt {
    let chat = ChatId(row.chat_id);
    let sent = match &row.answer {
        Some(answer) => crate::deliver::deliver(bot, chat, None, answer).await,
        None => bot.send_message(chat, row.text.clone()).await.map(drop),
    };
    match sent {
        Ok(()) => Attempt::Sent,
        Err(RequestError::RetryAfter(wait)) => Attempt::Retry {
            after_secs: i64::from(wait.seconds()).max(1),
            error: format!("Telegram asked to wait {} s", wait.seconds()),
        },
        Err(RequestError::Api(e)) if unreachable(&e) => Attempt::Unreachable {
            error: e.to_string(),
        },
        Err(e) => Attempt::Retry {
            after_secs: notify::backoff_secs(row.attempts),
            error: e.to_string(),
        },
    }
}

/// Telegram's answers that mean this chat cannot be written to (403): the
/// person blocked the bot, or the bot is no longer in the group.
fn unreachable(e: &ApiError) -> bool {
    match e {
        ApiError::BotBlocked
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup => true,
        ApiError::Unknown(text) => text.starts_with("Forbidden"),
        _ => false,
    }
}
