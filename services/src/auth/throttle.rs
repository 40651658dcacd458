//! Login throttling, kept in the store so every process shares it.
//!
//! Rule: after 5 failed attempts for a username within 5 minutes, further
//! attempts for it are refused (even with the right password) until the
//! oldest of those failures is 5 minutes old. The same holds per IP address
//! with 20 failures. Refused attempts are not counted, so waiting always
//! helps. Concurrent attempts can each pass the check before any is recorded,
//! so a burst may try a few more than the limit; the window still closes.

use crate::Store;
use models::AppError;
use sqlx::Row;

pub const WINDOW_SECS: i64 = 5 * 60;
pub const MAX_FAILURES_PER_USERNAME: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;

/// Refuses with 429 and the wait when the username or the IP is throttled.
pub async fn check(
    store: &Store,
    username: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    let by_name = wait_for(store, "username", username, MAX_FAILURES_PER_USERNAME, now).await;
    let by_ip = match ip {
        Some(ip) => wait_for(store, "ip", ip, MAX_FAILURES_PER_IP, now).await,
        None => Ok(None),
    };
    let wait = match (by_name, by_ip) {
        (Ok(a), Ok(b)) => a.max(b),
        (Err(err), _) | (_, Err(err)) => {
            // A throttling failure must not lock everyone out: log it and let the attempt through.
            tracing::error!(error = %err, "could not read login attempts");
            None
        }
    };
    match wait {
        Some(secs) => Err(AppError::TooManyRequests {
            message: format!(
                "Too many failed sign-in attempts. Try again in {}.",
                describe_wait(secs)
            ),
            retry_after_secs: u64::try_from(secs).unwrap_or(1),
        }),
        None => Ok(()),
    }
}

/// Seconds until the `limit`-th most recent failure leaves the window, if throttled.
async fn wait_for(
    store: &Store,
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
        .fetch_all(store.pool())
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

/// Records an attempt whose password was checked.
pub async fn record(
    store: &Store,
    username: &str,
    ip: Option<&str>,
    succeeded: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_attempts (username, ip, succeeded, attempted_at) VALUES ($1, $2, $3, $4)")
        .bind(username)
        .bind(ip)
        .bind(succeeded)
        .bind(now)
        .execute(store.pool())
        .await
        .map(drop)
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
