//! Retention (`TABLETALK_RETENTION_DAYS`): the text of questions older than
//! the period — the question, its SQL, its answer or error, and the emails
//! made from it — is removed; every number stays (tokens, costs, latencies,
//! statuses, rows, and the rollups the dashboard reads), so analytics do
//! not change. Unset, everything is kept.

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
    // Emails still waiting to be sent keep their text until they are done.
    let emails = sqlx::query(
        "UPDATE emails SET subject = '', body = '', attachment_csv = NULL, recipients = '' \
         WHERE created_at < $1 AND status IN ('sent', 'cancelled', 'failed') AND body <> ''",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await
    .map_err(internal("removing old emails"))?
    .rows_affected();
    tx.commit()
        .await
        .map_err(internal("finishing the retention"))?;
    Ok(Removed {
        conversations,
        stages,
        emails,
    })
}
