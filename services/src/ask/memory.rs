//! Conversation memory: the person's last turns with one database, for five
//! minutes, so a follow-up question can lean on the one before.

use crate::error::internal;
use crate::store::Tx;
use crate::Store;
use models::{AppError, ConnectionId, UserId};

/// How long a turn is remembered, in seconds.
pub const MEMORY_SECS: i64 = 5 * 60;
/// Most turns read back into a prompt.
pub const MAX_TURNS: i64 = 5;
/// Characters of one turn's answer kept.
const ANSWER_CHARS: usize = 1_000;

/// One earlier question, the SQL that answered it and the answer in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub question: String,
    pub sql: Option<String>,
    pub answer: String,
}

/// The person's remembered turns with `database`, oldest first.
pub async fn recent(
    store: &Store,
    user_id: UserId,
    database: &ConnectionId,
) -> Result<Vec<Turn>, AppError> {
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT question, sql_text, answer FROM memory_turns \
         WHERE user_id = $1 AND database_id = $2 AND created_at >= $3 \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(database.as_str())
    .bind(crate::clock::now() - MEMORY_SECS)
    .bind(MAX_TURNS)
    .fetch_all(store.pool())
    .await
    .map_err(internal("reading the conversation memory"))?;
    Ok(rows
        .into_iter()
        .rev()
        .map(|(question, sql, answer)| Turn {
            question,
            sql,
            answer,
        })
        .collect())
}

/// Remembers an answered turn and forgets the person's expired ones, inside
/// the caller's transaction.
pub async fn remember_in(
    tx: &mut Tx,
    user_id: UserId,
    database: &ConnectionId,
    turn: &Turn,
) -> Result<(), AppError> {
    let now = crate::clock::now();
    let answer: String = turn.answer.chars().take(ANSWER_CHARS).collect();
    sqlx::query("DELETE FROM memory_turns WHERE user_id = $1 AND created_at < $2")
        .bind(user_id)
        .bind(now - MEMORY_SECS)
        .execute(&mut **tx)
        .await
        .map_err(internal("forgetting old turns"))?;
    sqlx::query(
        "INSERT INTO memory_turns (user_id, database_id, question, sql_text, answer, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user_id)
    .bind(database.as_str())
    .bind(turn.question.as_str())
    .bind(turn.sql.as_deref())
    .bind(answer)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(internal("remembering a turn"))?;
    Ok(())
}

/// Forgets every remembered turn of the person (the bot's /clear).
pub async fn forget(store: &Store, user_id: UserId) -> Result<u64, AppError> {
    sqlx::query("DELETE FROM memory_turns WHERE user_id = $1")
        .bind(user_id)
        .execute(store.pool())
        .await
        .map(|done| done.rows_affected())
        .map_err(internal("forgetting the conversation"))
}
