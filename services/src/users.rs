//! Telegram users: registered on first contact, refreshed on every contact,
//! and resolved to a [`Caller`] (role and organization) for each request.

use crate::error::internal;
use crate::Store;
use models::org::{Caller, TelegramProfile};
use models::{AppError, OrgId, Role, UserId};
use sqlx::Row;

/// Records a Telegram user, or refreshes their names and last-seen time.
/// Idempotent: calling it twice changes nothing but `last_seen_at`.
pub async fn register(store: &Store, profile: &TelegramProfile) -> Result<(), AppError> {
    let now = crate::clock::now();
    sqlx::query(
        "INSERT INTO telegram_users (user_id, username, first_name, last_name, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, \
         first_name = excluded.first_name, last_name = excluded.last_name, \
         last_seen_at = excluded.last_seen_at",
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

/// Who this Telegram user is right now: role from membership, organization if
/// any. Unknown users are individuals. (Admins are a separate, system-level
/// notion from configuration; being one grants nothing inside organizations.)
pub async fn caller(store: &Store, user_id: UserId) -> Result<Caller, AppError> {
    let row = sqlx::query("SELECT org_id, role FROM organization_members WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(store.pool())
        .await
        .map_err(internal("reading a membership"))?;
    let (org, role) = match row {
        Some(row) => (
            row.try_get(0).map_err(internal("decoding a membership"))?,
            row.try_get(1).map_err(internal("decoding a membership"))?,
        ),
        None => (None, None),
    };
    let (org_id, role) = membership(org, role)?;
    Ok(Caller {
        user_id: Some(user_id),
        role,
        org_id,
    })
}

/// A membership row's organization and role as a caller has them: no row
/// means someone on their own.
pub(crate) fn membership(
    org: Option<String>,
    role: Option<String>,
) -> Result<(Option<OrgId>, Role), AppError> {
    match (org, role) {
        (Some(org), Some(role)) => Ok((
            Some(OrgId::parse(&org)?),
            Role::parse(&role).unwrap_or(Role::Member),
        )),
        _ => Ok((None, Role::Individual)),
    }
}

/// Whether a Telegram user is known.
pub(crate) async fn exists(
    tx: &mut crate::store::Tx,
    user_id: UserId,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 FROM telegram_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}
