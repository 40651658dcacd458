//! Operator actions for the command line (first runs without Telegram, and
//! administration). They go through the same rules as the bot and dashboard:
//! each acts as the Telegram user it concerns (or the organization's owner).

use crate::error::internal;
use crate::orgs::{self, members};
use crate::{access, users, Store};
use models::org::{validate_name, Credentials, Organization, TelegramProfile};
use models::{AppError, OrgId, UserId};
use sqlx::Row;

/// Records a Telegram user the bot has not seen yet (name given or a placeholder).
async fn ensure_user(store: &Store, user_id: UserId, name: Option<&str>) -> Result<(), AppError> {
    if user_id <= 0 {
        return Err(AppError::bad_request(format!(
            "{user_id} is not a Telegram user id (they are positive whole numbers)."
        )));
    }
    let known = sqlx::query("SELECT 1 FROM telegram_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(store.pool())
        .await
        .map_err(internal("reading a Telegram user"))?
        .is_some();
    if known {
        return Ok(());
    }
    let first_name = match name {
        Some(name) => validate_name("name", name)?,
        None => format!("user {user_id}"),
    };
    let profile = TelegramProfile {
        user_id,
        username: None,
        first_name,
        last_name: None,
    };
    users::register(store, &profile).await
}

/// `server create-org <name> --owner <id> [--owner-name <name>]`.
pub async fn create_org(
    store: &Store,
    name: &str,
    owner_id: UserId,
    owner_name: Option<&str>,
) -> Result<(Organization, Credentials), AppError> {
    validate_name("organization name", name)?;
    ensure_user(store, owner_id, owner_name).await?;
    let owner = access::caller(store, owner_id).await?;
    orgs::create(store, &owner, name).await
}

/// `server add-member <org_id> <user_id> [--name <name>]`, acting as the owner.
/// Unlike an owner's add, the operator (the system's administrator) gets the
/// member's new dashboard credentials to hand over.
pub async fn add_member(
    store: &Store,
    org_id: &str,
    user_id: UserId,
    name: Option<&str>,
) -> Result<Credentials, AppError> {
    let org_id = OrgId::parse(org_id)?;
    let owner_id: UserId = sqlx::query("SELECT owner_id FROM organizations WHERE org_id = $1")
        .bind(org_id.as_str())
        .fetch_optional(store.pool())
        .await
        .map_err(internal("reading an organization"))?
        .ok_or_else(|| AppError::not_found(format!("There is no organization {org_id}.")))?
        .try_get(0)
        .map_err(internal("decoding an organization"))?;
    ensure_user(store, user_id, name).await?;
    let owner = access::caller(store, owner_id).await?;
    members::add_with_credentials(store, &owner, user_id).await
}

/// Whether `user_id` is one of the operators' Telegram ids (`TABLETALK_ADMIN_IDS`).
pub fn is_admin(state: &crate::AppState, user_id: UserId) -> bool {
    state.config.admin_ids.contains(&user_id)
}

/// Totals across the installation for the operators (`/admin stats`):
/// organizations, people, questions and cost today. Counts only; refused to
/// anyone not in `TABLETALK_ADMIN_IDS`.
pub async fn admin_stats(
    state: &crate::AppState,
    user_id: UserId,
    today: models::Day,
) -> Result<models::costs::AdminStats, AppError> {
    if !is_admin(state, user_id) {
        return Err(AppError::forbidden(
            "Only Tabletalk's operators may see this (their Telegram ids are in TABLETALK_ADMIN_IDS).",
        ));
    }
    let pool = state.store.pool();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .map_err(internal("counting for the operators"))
    };
    let organizations = count("SELECT COUNT(*) FROM organizations").await?;
    let users = count("SELECT COUNT(*) FROM telegram_users").await?;
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(conversations), 0) AS BIGINT), CAST(COALESCE(SUM(total_cost), 0) AS BIGINT) \
         FROM usage_daily_org WHERE day = $1",
    )
    .bind(today.0)
    .fetch_one(pool)
    .await
    .map_err(internal("summing today's usage"))?;
    Ok(models::costs::AdminStats {
        organizations,
        users,
        questions_today: row.try_get(0).map_err(internal("decoding today's usage"))?,
        cost_today: models::Usd(row.try_get(1).map_err(internal("decoding today's usage"))?),
    })
}
