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
/// How often a process says it is alive ([`beat`]).
pub const HEARTBEAT_SECS: u64 = 5;
/// A process not heard from for this long is dead: its questions in flight
/// may be taken over at once.
pub const DEAD_AFTER_SECS: i64 = 15;

/// Admits one question for `user_id` and marks it in flight, or refuses:
/// 409 while another of theirs is in flight, 429 with the wait when they
/// ask faster than the rate. One write transaction for both (SQLite's write
/// lock, PostgreSQL's row locks), so a refusal changes nothing.
///
/// The rate is a generic cell rate algorithm: `tat_ms` is when the next
/// question is due; a question is admitted while that is at most `burst - 1`
/// intervals ahead of now, and moves it one interval on.
///
/// `process_id` marks the question as this process's (and says the process
/// is alive): a question in flight whose process is dead (not heard from for
/// [`DEAD_AFTER_SECS`]) is taken over, so a crash does not hold its people up.
pub async fn admit(
    store: &Store,
    process_id: &str,
    user_id: UserId,
    rate: QuestionRate,
) -> Result<InFlight, AppError> {
    let token = hex::encode(crate::random::bytes::<16>().map_err(internal("generating a token"))?);
    let now_ms = crate::clock::now_ms();
    let now = now_ms.div_euclid(1_000);
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    alive_in(&mut tx, process_id, now)
        .await
        .map_err(internal("noting the process alive"))?;
    let taken = hold_in(&mut tx, process_id, user_id, &token, now)
        .await
        .map_err(internal("marking a question in flight"))?;
    if !taken {
        return Err(AppError::conflict(
            "Your previous question is still being answered. Wait for its answer, then ask again.",
        ));
    }
    let tat: Option<i64> = sqlx::query_scalar(match store.backend() {
        Backend::Sqlite => "SELECT tat_ms FROM question_rate WHERE user_id = $1",
        Backend::Postgres => "SELECT tat_ms FROM question_rate WHERE user_id = $1 FOR UPDATE",
    })
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(internal("reading the question rate"))?;
    let due = tat.unwrap_or(0).max(now_ms);
    let ahead = due - now_ms - (rate.burst - 1) * rate.interval_ms;
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
    // Two people's first questions at once on PostgreSQL: the insert of the
    // second waits for the first's row lock, then updates it.
    sqlx::query(
        "INSERT INTO question_rate (user_id, tat_ms) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET tat_ms = excluded.tat_ms",
    )
    .bind(user_id)
    .bind(due + rate.interval_ms)
    .execute(&mut *tx)
    .await
    .map_err(internal("moving the question rate"))?;
    tx.commit()
        .await
        .map_err(internal("committing the question's admission"))?;
    Ok(InFlight {
        store: store.clone(),
        user_id,
        token,
        finished: false,
    })
}

/// The person's one question in flight; [`InFlight::finish`] (or
/// [`InFlight::finish_in`], inside the transaction recording the question)
/// ends it. If the question is dropped instead, the row is removed in the
/// background.
#[derive(Debug)]
pub struct InFlight {
    store: Store,
    user_id: UserId,
    token: String,
    finished: bool,
}

impl InFlight {
    /// Ends the question: the person may ask the next one.
    pub async fn finish(mut self) {
        self.finished = true;
        remove(&self.store, self.user_id, &self.token).await;
    }

    /// Ends the question inside `tx`; call [`InFlight::committed`] once the
    /// caller commits it (until then, dropping this removes the row in the
    /// background, so a failed transaction does not block the person).
    pub async fn finish_in(&self, tx: &mut crate::store::Tx) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM questions_in_flight WHERE user_id = $1 AND token = $2")
            .bind(self.user_id)
            .bind(self.token.as_str())
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }

    /// The transaction of [`InFlight::finish_in`] was committed.
    pub fn committed(mut self) {
        self.finished = true;
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

/// Marks `token` as the person's one question in flight, inside `tx`, unless
/// a live one holds it: one in flight for over [`STALE_SECS`], or of a
/// process not heard from for [`DEAD_AFTER_SECS`], is taken over. Whether it
/// was marked. (`/forgetme` holds it too, so no question of the person is
/// recorded while they are forgotten.)
pub(crate) async fn hold_in(
    tx: &mut crate::store::Tx,
    process_id: &str,
    user_id: UserId,
    token: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let taken: Option<String> = sqlx::query_scalar(
        "INSERT INTO questions_in_flight (user_id, token, started_at, process_id) VALUES ($1, $2, $3, $5) \
         ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, started_at = excluded.started_at, \
         process_id = excluded.process_id \
         WHERE questions_in_flight.started_at < $4 OR NOT EXISTS (SELECT 1 FROM process_heartbeats h \
         WHERE h.process_id = questions_in_flight.process_id AND h.seen_at >= $6) \
         RETURNING token",
    )
    .bind(user_id)
    .bind(token)
    .bind(now)
    .bind(now - STALE_SECS)
    .bind(process_id)
    .bind(now - DEAD_AFTER_SECS)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(taken.as_deref() == Some(token))
}

/// Notes `process_id` alive at `now`.
async fn alive_in(
    tx: &mut crate::store::Tx,
    process_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO process_heartbeats (process_id, seen_at) VALUES ($1, $2) \
         ON CONFLICT (process_id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(process_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Notes this process alive now (and forgets processes silent for a day);
/// the heartbeat worker calls it every [`HEARTBEAT_SECS`].
pub async fn beat(store: &Store, process_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = store.begin_write().await?;
    alive_in(&mut tx, process_id, now).await?;
    sqlx::query("DELETE FROM process_heartbeats WHERE seen_at < $1")
        .bind(now - 86_400)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
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
