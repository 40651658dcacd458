//! `dashboard_users`: credentials for the web dashboard. The role is not stored
//! here; it is read from `organization_members` when a user signs in.

use crate::Store;
use models::Role;
use sqlx::Row;

/// A dashboard account with the identity it resolves to.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub user_id: Option<i64>,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
}

/// The joins that resolve an account to its role and organization; one place
/// for every lookup so login and session checks cannot disagree.
const ACCOUNT_SELECT: &str =
    "SELECT d.id, d.username, d.password_hash, m.role, o.org_id, o.name, d.user_id \
     FROM dashboard_users d \
     LEFT JOIN organization_members m ON m.user_id = d.user_id \
     LEFT JOIN organizations o ON o.org_id = m.org_id";

fn account_from_row(row: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    let role: Option<String> = row.try_get(3)?;
    Ok(Account {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        password_hash: row.try_get(2)?,
        role: role
            .as_deref()
            .and_then(Role::parse)
            .unwrap_or(Role::Individual),
        org_id: row.try_get(4)?,
        org_name: row.try_get(5)?,
        user_id: row.try_get(6)?,
    })
}

/// An active account by its (already normalised) username.
pub async fn find_active_by_username(
    store: &Store,
    username: &str,
) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!("{ACCOUNT_SELECT} WHERE d.username = $1 AND d.is_active = TRUE");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(username)
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
}

/// An active account by id.
pub async fn find_active_by_id(store: &Store, id: i64) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!("{ACCOUNT_SELECT} WHERE d.id = $1 AND d.is_active = TRUE");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
}

/// Inserts a new account; `Ok(None)` when the username is taken.
pub async fn insert(
    store: &Store,
    username: &str,
    password_hash: &str,
    user_id: Option<i64>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO dashboard_users (user_id, username, password_hash, is_active, created_at) \
         VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT (username) DO NOTHING RETURNING id",
    )
    .bind(user_id)
    .bind(username)
    .bind(password_hash)
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    result.map(|row| row.try_get(0)).transpose()
}

/// Replaces a password hash (after a rehash on login, or a password change).
pub async fn set_password_hash(store: &Store, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE dashboard_users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(store.pool())
        .await
        .map(drop)
}
