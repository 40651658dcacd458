//! Per-user limits on costly actions, kept in the store (so every process
//! shares them): a fixed window per key, counted by one atomic upsert.

use crate::error::internal;
use crate::Store;
use models::AppError;
use sqlx::Row;

/// A limit: at most `allowed` uses per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub allowed: i64,
    pub window_secs: i64,
}

/// Testing or adding a user's database, or re-reading its schema: each
/// connects to a host the user names, so a person may do it a few times a minute.
pub const DATABASE_PROBES: Limit = Limit {
    allowed: 6,
    window_secs: 60,
};

/// Takes one use of `limit` for `key`; a 429 saying how long to wait when none is left.
pub async fn take(store: &Store, key: &str, limit: Limit, what: &str) -> Result<(), AppError> {
    let now = crate::clock::now();
    let row = sqlx::query(
        "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           count = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.count + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING count, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(now - limit.window_secs)
    .fetch_one(store.pool())
    .await
    .map_err(internal("counting a rate limit"))?;
    let count: i64 = row.try_get(0).map_err(internal("reading a rate limit"))?;
    let start: i64 = row.try_get(1).map_err(internal("reading a rate limit"))?;
    if count <= limit.allowed {
        return Ok(());
    }
    let wait = u64::try_from((start + limit.window_secs - now).max(1)).unwrap_or(1);
    Err(AppError::TooManyRequests {
        message: format!(
            "You can {what} at most {} times a minute. Try again in {wait} s.",
            limit.allowed
        ),
        retry_after_secs: wait,
    })
}
