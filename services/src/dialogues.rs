//! The bot's guided dialogues, kept in the store (table `bot_dialogues`): one
//! per chat, as JSON, with the time of its last step. The bot wraps this in a
//! teloxide `Storage`; a restart, or another bot process, picks the dialogue
//! up where it was.

use crate::error::internal;
use crate::Store;
use models::AppError;

/// A dialogue idle for longer than this has timed out.
pub const TIMEOUT_SECS: i64 = 10 * 60;

/// A chat's dialogue, and whether it has timed out (the caller says so and
/// removes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub state: String,
    pub timed_out: bool,
}

/// The dialogue of `chat_id`, if one is under way.
pub async fn get(store: &Store, chat_id: i64) -> Result<Option<Stored>, AppError> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT state, updated_at FROM bot_dialogues WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(store.pool())
            .await
            .map_err(internal("reading a dialogue"))?;
    Ok(row.map(|(state, updated_at)| Stored {
        state,
        timed_out: crate::clock::now() - updated_at > TIMEOUT_SECS,
    }))
}

/// Saves the dialogue of `chat_id` (its clock starts again).
pub async fn put(store: &Store, chat_id: i64, state: &str) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO bot_dialogues (chat_id, state, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(chat_id)
    .bind(state)
    .bind(crate::clock::now())
    .execute(store.pool())
    .await
    .map(drop)
    .map_err(internal("saving a dialogue"))
}

/// Ends the dialogue of `chat_id` (nothing to end is fine).
pub async fn remove(store: &Store, chat_id: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM bot_dialogues WHERE chat_id = $1")
        .bind(chat_id)
        .execute(store.pool())
        .await
        .map(drop)
        .map_err(internal("ending a dialogue"))
}

/// How long a taken update id is remembered: Telegram keeps an undelivered
/// update for at most a day.
pub const UPDATE_MEMORY_SECS: i64 = 24 * 60 * 60;

/// Whether `update_id` arrives for the first time (webhook mode): it is
/// remembered in the same statement, so of two deliveries of one update
/// (Telegram retrying, or two bot processes behind one address) exactly one
/// is told `true`. Ids older than a day are forgotten now and then.
pub async fn first_delivery(store: &Store, update_id: i64) -> Result<bool, AppError> {
    let now = crate::clock::now();
    let taken = sqlx::query(
        "INSERT INTO bot_updates (update_id, received_at) VALUES ($1, $2) \
         ON CONFLICT (update_id) DO NOTHING",
    )
    .bind(update_id)
    .bind(now)
    .execute(store.pool())
    .await
    .map_err(internal("remembering an update"))?
    .rows_affected()
        == 1;
    if taken && update_id % 512 == 0 {
        sqlx::query("DELETE FROM bot_updates WHERE received_at < $1")
            .bind(now - UPDATE_MEMORY_SECS)
            .execute(store.pool())
            .await
            .map_err(internal("forgetting old updates"))?;
    }
    Ok(taken)
}

/// Forgets that `update_id` arrived (it could not be handled after all).
pub async fn forget_delivery(store: &Store, update_id: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM bot_updates WHERE update_id = $1")
        .bind(update_id)
        .execute(store.pool())
        .await
        .map(drop)
        .map_err(internal("forgetting an update"))
}
