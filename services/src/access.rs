//! Who may do what (DESIGN.md §4): the one place every service asks.
//!
//! A service function opens with [`require`] (actions inside an organization)
//! or [`allow`] (actions open to people without one), and a function that
//! changes something re-checks inside its transaction with [`require_in_tx`],
//! so a caller removed or demoted a moment ago cannot act on a stale identity.
//! Callers are resolved here too ([`caller`]), from the membership table.
//!
//! This module imports only the store and `models`; every other service
//! module may import it, and it imports none of them back.

use crate::error::internal;
use crate::store::Tx;
use crate::Store;
use models::org::Caller;
use models::{allowed, Action, AppError, OrgId, Role, UserId};
use sqlx::Row;

/// Checks the matrix for the caller's role and returns their organization.
pub fn require(caller: &Caller, action: Action) -> Result<&OrgId, AppError> {
    allow(caller, action)?;
    caller
        .org_id
        .as_ref()
        .ok_or_else(|| AppError::forbidden("You do not belong to an organization."))
}

/// Checks the matrix for the caller's role, for actions that do not need an
/// organization (founding or joining one, one's own databases and password).
pub fn allow(caller: &Caller, action: Action) -> Result<(), AppError> {
    if allowed(caller.role, action) {
        Ok(())
    } else {
        Err(forbidden(action))
    }
}

/// The caller's Telegram user: operator accounts have none, and every rule
/// that needs one says so.
pub fn user(caller: &Caller) -> Result<UserId, AppError> {
    caller
        .user_id
        .ok_or_else(|| AppError::forbidden("This needs a Telegram user."))
}

/// What a caller whose role does not allow `action` is told.
pub fn forbidden(action: Action) -> AppError {
    match action {
        // Only people on their own may found or join an organization.
        Action::CreateOrg => AppError::conflict(
            "You already belong to an organization. Leave it (or delete it, as its owner) first.",
        ),
        Action::JoinOrg => AppError::conflict(
            "You already belong to an organization. Leave it first to join another.",
        ),
        _ => AppError::forbidden(format!(
            "Your role does not allow you to {}.",
            action.describe()
        )),
    }
}

/// Re-reads the caller's membership inside `tx` and checks `action` against it.
pub(crate) async fn require_in_tx(
    tx: &mut Tx,
    caller: &Caller,
    action: Action,
) -> Result<(OrgId, UserId), AppError> {
    let user_id = user(caller)?;
    let org_id = require(caller, action)?.clone();
    let role =
        sqlx::query("SELECT role FROM organization_members WHERE org_id = $1 AND user_id = $2")
            .bind(org_id.as_str())
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(internal("re-reading a membership"))?
            .map(|row| row.try_get::<String, _>(0))
            .transpose()
            .map_err(internal("decoding a membership"))?
            .and_then(|r| Role::parse(&r));
    match role {
        Some(role) if allowed(role, action) => Ok((org_id, user_id)),
        Some(_) => Err(forbidden(action)),
        None => Err(AppError::forbidden(
            "You no longer belong to this organization.",
        )),
    }
}

/// A person's organization id, if they belong to one, read inside `tx`.
pub(crate) async fn membership_of(
    tx: &mut Tx,
    user_id: UserId,
) -> Result<Option<String>, AppError> {
    sqlx::query("SELECT org_id FROM organization_members WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(internal("reading a membership"))?
        .map(|row| row.try_get::<String, _>(0))
        .transpose()
        .map_err(internal("decoding a membership"))
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

/// Whose registration [`require_known`] checks: the caller's own, or someone
/// the caller names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Caller,
    Named,
}

/// Refuses a Telegram user Tabletalk has not met: a person exists for
/// Tabletalk from their first message to the bot (`/start`).
pub(crate) async fn require_known(tx: &mut Tx, user_id: UserId, who: Who) -> Result<(), AppError> {
    let known = sqlx::query("SELECT 1 FROM telegram_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(internal("reading a user"))?
        .is_some();
    match (known, who) {
        (true, _) => Ok(()),
        (false, Who::Caller) => Err(AppError::not_found("Send /start to the bot first.")),
        (false, Who::Named) => Err(AppError::not_found(format!(
            "Telegram user {user_id} is not known to Tabletalk yet: they must send /start to the bot first."
        ))),
    }
}
