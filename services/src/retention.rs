//! Retention (`TABLETALK_RETENTION_DAYS`): the text of questions older than
//! the period — the question, its SQL, its answer or error, the emails made
//! from it in any state (an unsent one is cancelled), notifications, sent or
//! not, and unfinished guided steps — is removed; every number stays
//! (tokens, costs, latencies, statuses, rows, and the rollups the dashboard
//! reads), so analytics do not change. Unset, everything is kept, except the
//! conversation memory, which always ends after its five minutes
//! ([`forget_expired_memory`]).

use crate::error::internal;
use crate::Store;
use models::AppError;

/// What a removed question reads as afterwards.
pub const REMOVED: &str = "(removed: older than the retention period)";

/// How many rows lost their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    pub conversations: u64,
    pub stages: u64,
    pub emails: u64,
    pub notifications: u64,
}

/// Removes the text of everything asked before `now - days`.
pub async fn remove_old_text(store: &Store, days: u32, now: i64) -> Result<Removed, AppError> {
    let cutoff = now - i64::from(days) * 86_400;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting the retention"))?;
    let stages = sqlx::query(
        "UPDATE conversation_stages SET generated_sql = NULL, error = NULL \
         WHERE (generated_sql IS NOT NULL OR error IS NOT NULL) AND conversation_id IN \
         (SELECT conversation_id FROM conversations WHERE timestamp < $1)",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await
    .map_err(internal("removing old SQL"))?
    .rows_affected();
    let conversations = sqlx::query(
        "UPDATE conversations SET user_question = $1, answer = NULL, error = NULL \
         WHERE timestamp < $2 AND user_question <> $1",
    )
    .bind(REMOVED)
    .bind(cutoff)
    .execute(&mut *tx)
    .await
    .map_err(internal("removing old questions"))?
    .rows_affected();
    // Older than the period whatever their state: a draft or an email still
    // queued after all that time is cancelled with its text. One being sent
    // right now is left to finish.
    let emails = sqlx::query(
        "UPDATE emails SET subject = '', body = '', attachment_csv = NULL, recipients = '', \
         last_error = NULL, \
         status = CASE WHEN status IN ('draft', 'queued') THEN 'cancelled' ELSE status END \
         WHERE created_at < $1 AND status <> 'sending' AND (body <> '' OR status IN ('draft', 'queued'))",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await
    .map_err(internal("removing old emails"))?
    .rows_affected();
    let notifications = sqlx::query("DELETE FROM outbox WHERE created_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(internal("removing old notifications"))?
        .rows_affected();
    sqlx::query("DELETE FROM bot_dialogues WHERE updated_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(internal("removing old guided steps"))?;
    forget_expired_memory_in(&mut tx, now).await?;
    tx.commit()
        .await
        .map_err(internal("finishing the retention"))?;
    Ok(Removed {
        conversations,
        stages,
        emails,
        notifications,
    })
}

/// Removes every remembered turn past the memory's five minutes (the
/// retention worker calls it every run, retention set or not).
pub async fn forget_expired_memory(store: &Store, now: i64) -> Result<u64, AppError> {
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting to forget old turns"))?;
    let removed = forget_expired_memory_in(&mut tx, now).await?;
    tx.commit()
        .await
        .map_err(internal("forgetting old turns"))?;
    Ok(removed)
}

async fn forget_expired_memory_in(tx: &mut crate::store::Tx, now: i64) -> Result<u64, AppError> {
    // The Ask page's tickets live a minute: one never taken goes too.
    sqlx::query("DELETE FROM ask_tickets WHERE created_at < $1")
        .bind(now - crate::ask::tickets::TTL_SECS)
        .execute(&mut **tx)
        .await
        .map_err(internal("removing expired questions"))?;
    sqlx::query("DELETE FROM memory_turns WHERE created_at < $1")
        .bind(now - crate::ask::memory::MEMORY_SECS)
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected())
        .map_err(internal("forgetting old turns"))
}
