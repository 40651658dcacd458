//! `sessions`: only the SHA-256 of each token is stored.

use crate::Store;
use sqlx::Row;

/// Stores a new session for `dashboard_user_id`.
pub async fn insert(
    store: &Store,
    token_hash: &str,
    dashboard_user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, dashboard_user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(dashboard_user_id)
    .bind(now)
    .bind(expires_at)
    .execute(store.pool())
    .await
    .map(drop)
}

/// Who a valid session belongs to, in one lookup: the account's Telegram user
/// (none for operator accounts) and that user's organization and role now.
pub async fn find_identity(
    store: &Store,
    token_hash: &str,
    now: i64,
) -> Result<Option<(Option<i64>, Option<String>, Option<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT d.user_id, m.org_id, m.role FROM sessions s \
         JOIN dashboard_users d ON d.id = s.dashboard_user_id AND d.is_active = TRUE \
         LEFT JOIN organization_members m ON m.user_id = d.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .transpose()
}

/// The account and expiry of a session that is still valid at `now`.
pub async fn find_valid(
    store: &Store,
    token_hash: &str,
    now: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT dashboard_user_id, expires_at FROM sessions \
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
}

/// Removes a session.
pub async fn delete(store: &Store, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(store.pool())
        .await
        .map(drop)
}
