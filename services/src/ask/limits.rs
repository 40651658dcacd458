//! Per-person limits on questions (by default the seed's original: one
//! question per second with a burst of three; always one question in
//! flight), held in the store so they hold when several processes share it.
//! Each refusal says which.

use crate::config::QuestionRate;
use crate::error::internal;
use crate::store::Backend;
use crate::Store;
use models::{AppError, UserId};
/// A question "in flight" for longer than this was lost with its process
/// (the longest question: four calls at the 600-second maximum timeout and
/// the query's): the person may ask again.
pub const STALE_SECS: i64 = 45 * 60;

/// Admits one question for `user_id`, or refuses with a 429 and the wait.
///
/// A generic cell rate algorithm: `tat_ms` is when the next question is
/// due; a question is admitted while that is at most `burst - 1` intervals
/// ahead of now, and moves it one interval on. Read and written in one write
/// transaction (SQLite's write lock, PostgreSQL's row lock).
pub async fn admit(store: &Store, user_id: UserId, rate: QuestionRate) -> Result<(), AppError> {
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    sqlx::query(
        "INSERT INTO question_rate (user_id, tat_ms) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(internal("reading the question rate"))?;
    let read = match store.backend() {
        Backend::Sqlite => "SELECT tat_ms FROM question_rate WHERE user_id = $1",
        Backend::Postgres => "SELECT tat_ms FROM question_rate WHERE user_id = $1 FOR UPDATE",
    };
    let tat: i64 = sqlx::query_scalar(read)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(internal("reading the question rate"))?;
    let now = crate::clock::now_ms();
    let due = tat.max(now);
    let ahead = due - now - (rate.burst - 1) * rate.interval_ms;
    if ahead > 0 {
        let wait = u64::try_from((ahead + 999) / 1000).unwrap_or(1).max(1);
        let every = if rate.interval_ms % 1_000 == 0 {
            format!("{} s", rate.interval_ms / 1_000)
        } else {
            format!("{} ms", rate.interval_ms)
        };
        return Err(AppError::TooManyRequests {
            message: format!(
                "You can ask one question every {every}, {} in a row at most. Try again in {wait} s.",
                rate.burst
            ),
            retry_after_secs: wait,
        });
    }
    sqlx::query("UPDATE question_rate SET tat_ms = $1 WHERE user_id = $2")
        .bind(due + rate.interval_ms)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(internal("moving the question rate"))?;
    tx.commit()
        .await
        .map_err(internal("committing the question rate"))
}

/// The person's one question in flight; [`InFlight::finish`] ends it (if the
/// question is dropped instead, the row is removed in the background).
#[derive(Debug)]
pub struct InFlight {
    store: Store,
    user_id: UserId,
    token: String,
    finished: bool,
}

/// Marks a question of `user_id` as in flight, or refuses while another is.
pub async fn start(store: &Store, user_id: UserId) -> Result<InFlight, AppError> {
    let token = hex::encode(crate::random::bytes::<16>().map_err(internal("generating a token"))?);
    let now = crate::clock::now();
    let taken: Option<String> = sqlx::query_scalar(
        "INSERT INTO questions_in_flight (user_id, token, started_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, started_at = excluded.started_at \
         WHERE questions_in_flight.started_at < $4 \
         RETURNING token",
    )
    .bind(user_id)
    .bind(token.as_str())
    .bind(now)
    .bind(now - STALE_SECS)
    .fetch_optional(store.pool())
    .await
    .map_err(internal("marking a question in flight"))?;
    if taken.as_deref() != Some(token.as_str()) {
        return Err(AppError::conflict(
            "Your previous question is still being answered. Wait for its answer, then ask again.",
        ));
    }
    Ok(InFlight {
        store: store.clone(),
        user_id,
        token,
        finished: false,
    })
}

impl InFlight {
    /// Ends the question: the person may ask the next one.
    pub async fn finish(mut self) {
        self.finished = true;
        remove(&self.store, self.user_id, &self.token).await;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped mid-question (the caller went away): clear it in the background.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, user_id, token) = (self.store.clone(), self.user_id, self.token.clone());
            runtime.spawn(async move { remove(&store, user_id, &token).await });
        }
    }
}

async fn remove(store: &Store, user_id: UserId, token: &str) {
    let removed = sqlx::query("DELETE FROM questions_in_flight WHERE user_id = $1 AND token = $2")
        .bind(user_id)
        .bind(token)
        .execute(store.pool())
        .await;
    if let Err(e) = removed {
        tracing::warn!(error = %e, "could not clear a question in flight; it expires by itself");
    }
}
