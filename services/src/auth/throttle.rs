//! Login throttling, kept in the store so every process shares it.
//!
//! Rule: after 5 failed attempts for a username within 5 minutes, further
//! attempts for it are refused (even with the right password) until the
//! oldest of those failures is 5 minutes old. The same holds per IP address
//! with 20 failures. Refused attempts are not counted, so waiting always
//! helps. Password changes count against the same per-username limit.
//!
//! An attempt is *reserved* before its password is checked: the check of the
//! counters and the insertion of the attempt (counted as a failure) happen in
//! one serialised transaction (SQLite's write lock; on PostgreSQL a
//! transaction-scoped advisory lock per username and per address), so
//! parallel attempts cannot all pass the check before any is recorded. An
//! attempt whose password turns out right is then marked as a success.

use crate::error::internal;
use crate::store::Backend;
use crate::Store;
use models::AppError;
use sqlx::Row;

pub const WINDOW_SECS: i64 = 5 * 60;
pub const MAX_FAILURES_PER_USERNAME: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;

/// An attempt counted as a failure until [`succeeded`] says otherwise.
#[derive(Debug)]
#[must_use = "a reservation is a failure unless marked as a success"]
pub struct Reservation {
    id: i64,
}

/// Refuses with 429 and the wait when the username or the IP is throttled;
/// otherwise records the attempt (as a failure) before anything is checked.
pub async fn reserve(
    store: &Store,
    username: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Reservation, AppError> {
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a sign-in attempt"))?;
    if store.backend() == Backend::Postgres {
        // Two lock spaces, always taken in this order: no deadlock.
        lock(&mut tx, crate::store::lock_space::LOGIN_USERNAME, username).await?;
        if let Some(ip) = ip {
            lock(&mut tx, crate::store::lock_space::LOGIN_IP, ip).await?;
        }
    }
    let by_name = wait_for(
        &mut tx,
        "username",
        username,
        MAX_FAILURES_PER_USERNAME,
        now,
    )
    .await
    .map_err(internal("reading sign-in attempts"))?;
    let by_ip = match ip {
        Some(ip) => wait_for(&mut tx, "ip", ip, MAX_FAILURES_PER_IP, now)
            .await
            .map_err(internal("reading sign-in attempts"))?,
        None => None,
    };
    if let Some(secs) = by_name.max(by_ip) {
        return Err(AppError::TooManyRequests {
            message: format!(
                "Too many failed sign-in attempts. Try again in {}.",
                describe_wait(secs)
            ),
            retry_after_secs: u64::try_from(secs).unwrap_or(1),
        });
    }
    let id: i64 = sqlx::query(
        "INSERT INTO login_attempts (username, ip, succeeded, attempted_at) \
         VALUES ($1, $2, FALSE, $3) RETURNING id",
    )
    .bind(username)
    .bind(ip)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .and_then(|row| row.try_get(0))
    .map_err(internal("recording a sign-in attempt"))?;
    tx.commit()
        .await
        .map_err(internal("recording a sign-in attempt"))?;
    Ok(Reservation { id })
}

/// Marks a reserved attempt as a success: it no longer counts as a failure.
pub async fn succeeded(store: &Store, reservation: Reservation) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_attempts SET succeeded = TRUE WHERE id = $1")
        .bind(reservation.id)
        .execute(store.pool())
        .await
        .map(drop)
}

/// [`crate::store::lock`] for sign-in attempts.
async fn lock(tx: &mut crate::store::Tx, space: i32, value: &str) -> Result<(), AppError> {
    crate::store::lock(tx, space, value)
        .await
        .map_err(internal("locking sign-in attempts"))
}

/// Seconds until the `limit`-th most recent failure leaves the window, if throttled.
async fn wait_for(
    tx: &mut crate::store::Tx,
    column: &str,
    value: &str,
    limit: i64,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    // `column` is one of two fixed names, never input.
    let sql = format!(
        "SELECT attempted_at FROM login_attempts WHERE {column} = $1 AND succeeded = FALSE \
         AND attempted_at > $2 ORDER BY attempted_at DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .bind(now - WINDOW_SECS)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
    if (rows.len() as i64) < limit {
        return Ok(None);
    }
    let oldest: i64 = rows
        .last()
        .map(|r| r.try_get(0))
        .transpose()?
        .unwrap_or(now);
    Ok(Some((oldest + WINDOW_SECS - now).max(1)))
}

/// "4 minutes 10 seconds", "1 second".
pub fn describe_wait(secs: i64) -> String {
    let (m, s) = (secs / 60, secs % 60);
    let unit = |n: i64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (m, s) {
        (0, s) => unit(s, "second"),
        (m, 0) => unit(m, "minute"),
        (m, s) => format!("{} {}", unit(m, "minute"), unit(s, "second")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(describe_wait(1), "1 second");
        assert_eq!(describe_wait(59), "59 seconds");
        assert_eq!(describe_wait(60), "1 minute");
        assert_eq!(describe_wait(250), "4 minutes 10 seconds");
    }
}
