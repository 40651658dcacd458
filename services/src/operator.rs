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
