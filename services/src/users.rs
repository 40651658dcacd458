//! Telegram users: registered on first contact, refreshed on every contact.
//! (Resolving one to a caller, with role and organization, is `access::caller`.)

use crate::error::internal;
use crate::Store;
use models::org::TelegramProfile;
use models::AppError;

/// Records a Telegram user, or refreshes their names and last-seen time.
/// Idempotent: calling it twice changes nothing but `last_seen_at`.
pub async fn register(store: &Store, profile: &TelegramProfile) -> Result<(), AppError> {
    let now = crate::clock::now();
    sqlx::query(
        "INSERT INTO telegram_users (user_id, username, first_name, last_name, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, \
         first_name = excluded.first_name, last_name = excluded.last_name, \
         last_seen_at = excluded.last_seen_at, unreachable_at = NULL",
    )
    .bind(profile.user_id)
    .bind(profile.username.as_deref())
    .bind(profile.first_name.as_str())
    .bind(profile.last_name.as_deref())
    .bind(now)
    .execute(store.pool())
    .await
    .map(drop)
    .map_err(internal("registering a Telegram user"))
}
