//! Invitations: create, list, revoke, and join with a code.
//!
//! A use is claimed with one conditional `UPDATE ... RETURNING` inside the
//! joining transaction, so concurrent joins can never exceed `max_uses`: the
//! database serializes the claims (SQLite's write lock, PostgreSQL's row lock
//! with the condition re-checked on the locked row).

use crate::access::{self, membership_of, require, require_in_tx, require_known, Who};
use crate::audit::{self, Event};
use crate::auth::credentials;
use crate::error::internal;
use crate::Store;
use models::org::{
    validate_invite_limits, Caller, Credentials, Invitation, InviteStatus, Organization,
};
use models::{Action, AppError, InviteCode, OrgId, Role};
use sqlx::Row;

const DAY_SECS: i64 = 24 * 60 * 60;

/// Creates an invitation for the caller's organization (owner).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn create(
    store: &Store,
    caller: &Caller,
    max_uses: i64,
    days: i64,
) -> Result<Invitation, AppError> {
    require(caller, Action::CreateInvites)?;
    validate_invite_limits(max_uses, days)?;
    let code =
        InviteCode::from_random(crate::random::bytes().map_err(internal("generating a code"))?);
    let now = crate::clock::now();
    let expires_at = now + days * DAY_SECS;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, actor) = require_in_tx(&mut tx, caller, Action::CreateInvites).await?;
    sqlx::query(
        "INSERT INTO invitations (invite_code, org_id, created_by, created_at, expires_at, max_uses, current_uses, is_active) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, TRUE)",
    )
    .bind(code.as_str())
    .bind(org_id.as_str())
    .bind(actor)
    .bind(now)
    .bind(expires_at)
    .bind(max_uses)
    .execute(&mut *tx)
    .await
    .map_err(internal("creating an invitation"))?;
    let target = format!("{max_uses} uses, {days} days");
    audit::record(
        &mut tx,
        Some(actor),
        Some(org_id.as_str()),
        Event::InviteCreated,
        Some(&target),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing an invitation"))?;
    Ok(Invitation {
        code,
        org_id,
        created_by: actor,
        created_at: now,
        expires_at,
        max_uses,
        current_uses: 0,
        status: InviteStatus::Active,
    })
}

/// The caller's organization's invitations, newest first, with their status now.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<Invitation>, AppError> {
    let org_id = require(caller, Action::ViewInvites)?;
    let rows = sqlx::query(
        "SELECT invite_code, created_by, created_at, expires_at, max_uses, current_uses, revoked_at \
         FROM invitations WHERE org_id = $1 ORDER BY created_at DESC, invite_code",
    )
    .bind(org_id.as_str())
    .fetch_all(store.pool())
    .await
    .map_err(internal("listing invitations"))?;
    let now = crate::clock::now();
    rows.iter()
        .map(|row| -> Result<Invitation, AppError> {
            let decode = internal("decoding an invitation");
            let code: String = row.try_get(0).map_err(internal("decoding an invitation"))?;
            let expires_at: i64 = row.try_get(3).map_err(internal("decoding an invitation"))?;
            let max_uses: i64 = row.try_get(4).map_err(internal("decoding an invitation"))?;
            let current_uses: i64 = row.try_get(5).map_err(internal("decoding an invitation"))?;
            let revoked_at: Option<i64> = row.try_get(6).map_err(decode)?;
            Ok(Invitation {
                code: InviteCode::parse(&code)?,
                org_id: org_id.clone(),
                created_by: row.try_get(1).map_err(internal("decoding an invitation"))?,
                created_at: row.try_get(2).map_err(internal("decoding an invitation"))?,
                expires_at,
                max_uses,
                current_uses,
                status: status(revoked_at, current_uses, max_uses, expires_at, now),
            })
        })
        .collect()
}

/// Where an invitation stands at `now`; revocation wins, then use, then time.
fn status(
    revoked_at: Option<i64>,
    current_uses: i64,
    max_uses: i64,
    expires_at: i64,
    now: i64,
) -> InviteStatus {
    if revoked_at.is_some() {
        InviteStatus::Revoked
    } else if current_uses >= max_uses {
        InviteStatus::UsedUp
    } else if expires_at <= now {
        InviteStatus::Expired
    } else {
        InviteStatus::Active
    }
}

/// Revokes one of the caller's organization's invitations (owner).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn revoke(store: &Store, caller: &Caller, code: &str) -> Result<(), AppError> {
    require(caller, Action::RevokeInvites)?;
    let code = InviteCode::parse(code)?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, actor) = require_in_tx(&mut tx, caller, Action::RevokeInvites).await?;
    let row =
        sqlx::query("SELECT revoked_at FROM invitations WHERE invite_code = $1 AND org_id = $2")
            .bind(code.as_str())
            .bind(org_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(internal("reading an invitation"))?
            .ok_or_else(|| {
                AppError::not_found("Your organization has no invitation with this code.")
            })?;
    let revoked_at: Option<i64> = row.try_get(0).map_err(internal("decoding an invitation"))?;
    if revoked_at.is_some() {
        return Err(AppError::conflict("This invitation is already revoked."));
    }
    sqlx::query("UPDATE invitations SET is_active = FALSE, revoked_at = $1 WHERE invite_code = $2 AND org_id = $3")
        .bind(crate::clock::now())
        .bind(code.as_str())
        .bind(org_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(internal("revoking an invitation"))?;
    audit::record(
        &mut tx,
        Some(actor),
        Some(org_id.as_str()),
        Event::InviteRevoked,
        Some(code.as_str()),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing a revocation"))?;
    Ok(())
}

/// Joins the organization of an invitation. Each failure has its own message:
/// unknown, expired, used up, revoked, or the caller already belongs to one.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn join(
    store: &Store,
    caller: &Caller,
    code: &str,
) -> Result<(Organization, Credentials), AppError> {
    let code = InviteCode::parse(code)?;
    access::allow(caller, Action::JoinOrg)?;
    let user_id = caller
        .user_id
        .ok_or_else(|| AppError::forbidden("Joining needs a Telegram user."))?;
    let prepared = credentials::prepare().await?;
    let now = crate::clock::now();

    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    require_known(&mut tx, user_id, Who::Caller).await?;
    if membership_of(&mut tx, user_id).await?.is_some() {
        return Err(access::forbidden(Action::JoinOrg));
    }
    let claimed = sqlx::query(
        "UPDATE invitations SET current_uses = current_uses + 1, \
         is_active = (current_uses + 1 < max_uses) \
         WHERE invite_code = $1 AND is_active = TRUE AND revoked_at IS NULL \
         AND current_uses < max_uses AND expires_at > $2 \
         RETURNING org_id",
    )
    .bind(code.as_str())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await
    .map_err(internal("claiming an invitation use"))?;
    let Some(claimed) = claimed else {
        return Err(why_not_joinable(&mut tx, &code, now).await);
    };
    let org: String = claimed
        .try_get(0)
        .map_err(internal("decoding an invitation"))?;
    let org_id = OrgId::parse(&org)?;
    sqlx::query(
        "INSERT INTO invitation_uses (invite_code, user_id, used_at) VALUES ($1, $2, $3) \
         ON CONFLICT (invite_code, user_id) DO UPDATE SET used_at = excluded.used_at",
    )
    .bind(code.as_str())
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(internal("recording an invitation use"))?;
    super::members::insert(&mut tx, &org_id, user_id, Role::Member, now).await?;
    let creds = credentials::issue(&mut tx, user_id, prepared).await?;
    audit::record(
        &mut tx,
        Some(user_id),
        Some(org_id.as_str()),
        Event::MemberJoined,
        Some(code.as_str()),
    )
    .await
    .map_err(internal("auditing"))?;
    let organization = super::find(&mut *tx, &org_id)
        .await?
        .ok_or_else(|| AppError::not_found("The invitation's organization no longer exists."))?;
    let who = crate::notify::name_of(&mut tx, user_id)
        .await
        .map_err(internal("naming a new member"))?;
    crate::notify::enqueue(
        &mut tx,
        organization.owner_id,
        crate::notify::Kind::MemberJoined,
        &format!(
            "{who} joined \u{201c}{}\u{201d} with an invitation.",
            organization.name
        ),
        now,
    )
    .await
    .map_err(internal("queueing a notification"))?;
    tx.commit().await.map_err(internal("committing a join"))?;
    tracing::info!(org = %org_id, "member joined with an invitation");
    Ok((organization, creds))
}

/// Explains why a code could not be claimed.
async fn why_not_joinable(tx: &mut crate::store::Tx, code: &InviteCode, now: i64) -> AppError {
    let row = sqlx::query("SELECT expires_at, max_uses, current_uses, revoked_at FROM invitations WHERE invite_code = $1")
        .bind(code.as_str())
        .fetch_optional(&mut **tx)
        .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => {
            return AppError::not_found(
                "No invitation has this code. Check it, or ask for a new one.",
            )
        }
        Err(err) => return internal("reading an invitation")(err),
    };
    let fields = (|| -> Result<(i64, i64, i64, Option<i64>), sqlx::Error> {
        Ok((
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        ))
    })();
    match fields {
        Ok((expires_at, max_uses, current_uses, revoked_at)) => {
            match status(revoked_at, current_uses, max_uses, expires_at, now) {
                InviteStatus::Revoked => AppError::conflict("This invitation was revoked. Ask for a new one."),
                InviteStatus::UsedUp => AppError::conflict(format!(
                    "This invitation has been used up ({current_uses} of {max_uses} uses). Ask for a new one."
                )),
                InviteStatus::Expired => AppError::conflict("This invitation has expired. Ask for a new one."),
                // Claimable after all (a race with nothing else): say so plainly.
                InviteStatus::Active => AppError::conflict("This invitation could not be used just now. Try again."),
            }
        }
        Err(err) => internal("decoding an invitation")(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_precedence() {
        assert_eq!(status(Some(1), 5, 5, 0, 10), InviteStatus::Revoked);
        assert_eq!(status(None, 5, 5, 0, 10), InviteStatus::UsedUp);
        assert_eq!(status(None, 1, 5, 10, 10), InviteStatus::Expired);
        assert_eq!(status(None, 1, 5, 11, 10), InviteStatus::Active);
    }
}
