//! Members of an organization: list, add, remove, leave.

use crate::access::{membership_of, require, require_in_tx, require_known, Who};
use crate::audit::{self, Event};
use crate::auth::credentials;
use crate::error::internal;
use crate::notify;
use crate::store::Tx;
use crate::Store;
use models::org::{display_name, Caller, Credentials, Member, MemberAdded, MEMBER_ADDED_NOTICE};
use models::{Action, AppError, OrgId, Role, UserId};
use sqlx::Row;

/// The caller's organization's members, owner first, then by joining time.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<Member>, AppError> {
    let org_id = require(caller, Action::ViewMembers)?;
    let rows = sqlx::query(
        "SELECT m.user_id, u.first_name, u.last_name, u.username, m.role, m.joined_at \
         FROM organization_members m JOIN telegram_users u ON u.user_id = m.user_id \
         WHERE m.org_id = $1 ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.joined_at, m.user_id",
    )
    .bind(org_id.as_str())
    .fetch_all(store.pool())
    .await
    .map_err(internal("listing members"))?;
    rows.iter()
        .map(|row| {
            let user_id: i64 = row.try_get(0)?;
            let first: Option<String> = row.try_get(1)?;
            let last: Option<String> = row.try_get(2)?;
            let username: Option<String> = row.try_get(3)?;
            let role: String = row.try_get(4)?;
            Ok(Member {
                user_id,
                name: display_name(
                    first.as_deref(),
                    last.as_deref(),
                    username.as_deref(),
                    user_id,
                ),
                username,
                role: Role::parse(&role).unwrap_or(Role::Member),
                joined_at: row.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding members"))
}

/// Adds a known Telegram user (without an organization) as a member (owner).
///
/// The owner gets no credentials: a member's password is theirs alone (it
/// would open their personal databases too). Any dashboard account the
/// person already has is left as it is. A notification in the outbox tells
/// them, in Telegram, that they were added and to send `/dashboard` to the
/// bot in a private chat for their sign-in.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn add(store: &Store, caller: &Caller, user_id: UserId) -> Result<MemberAdded, AppError> {
    require(caller, Action::AddMembers)?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, actor) = admit(&mut tx, caller, user_id).await?;
    let org_name: String = sqlx::query("SELECT name FROM organizations WHERE org_id = $1")
        .bind(org_id.as_str())
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(internal("reading an organization's name"))?;
    notify::enqueue(
        &mut tx,
        user_id,
        notify::Kind::MemberAdded,
        &notify::member_added_text(&org_name),
        crate::clock::now(),
    )
    .await
    .map_err(internal("queueing a notification"))?;
    audit_and_commit(tx, actor, &org_id, user_id).await?;
    Ok(MemberAdded {
        user_id,
        username: None,
        password: None,
        message: MEMBER_ADDED_NOTICE.to_owned(),
    })
}

/// [`add`] for the operator's command line (`server add-member`): the
/// operator administers the system and hands the new member fresh
/// dashboard credentials, so they are issued and returned here (any earlier
/// password of that person stops working). No Telegram notification.
pub(crate) async fn add_with_credentials(
    store: &Store,
    caller: &Caller,
    user_id: UserId,
) -> Result<Credentials, AppError> {
    require(caller, Action::AddMembers)?;
    let prepared = credentials::prepare().await?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, actor) = admit(&mut tx, caller, user_id).await?;
    let creds = credentials::issue(&mut tx, user_id, prepared).await?;
    audit_and_commit(tx, actor, &org_id, user_id).await?;
    Ok(creds)
}

/// The audit row and the commit that end both ways of adding.
async fn audit_and_commit(
    mut tx: Tx,
    actor: UserId,
    org_id: &OrgId,
    user_id: UserId,
) -> Result<(), AppError> {
    audit::record(
        &mut tx,
        Some(actor),
        Some(org_id.as_str()),
        Event::MemberAdded,
        Some(&user_id.to_string()),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing a new member"))
}

/// The checks and the membership row shared by both ways of adding: the
/// caller may add members, the person is known and in no organization.
async fn admit(tx: &mut Tx, caller: &Caller, user_id: UserId) -> Result<(OrgId, UserId), AppError> {
    let (org_id, actor) = require_in_tx(tx, caller, Action::AddMembers).await?;
    require_known(tx, user_id, Who::Named).await?;
    match membership_of(tx, user_id).await? {
        Some(org) if org == org_id.as_str() => {
            return Err(AppError::conflict(format!(
                "User {user_id} is already a member."
            )))
        }
        Some(_) => {
            return Err(AppError::conflict(format!(
                "User {user_id} belongs to another organization; they must leave it first."
            )))
        }
        None => {}
    }
    insert(tx, &org_id, user_id, Role::Member, crate::clock::now()).await?;
    Ok((org_id, actor))
}

/// Removes a member (owner). The owner cannot be removed; the removed user's
/// active database is cleared if it was one of the organization's, and their
/// dashboard access ends.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn remove(store: &Store, caller: &Caller, user_id: UserId) -> Result<(), AppError> {
    require(caller, Action::RemoveMembers)?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, actor) = require_in_tx(&mut tx, caller, Action::RemoveMembers).await?;
    let role =
        sqlx::query("SELECT role FROM organization_members WHERE org_id = $1 AND user_id = $2")
            .bind(org_id.as_str())
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(internal("reading a membership"))?
            .map(|row| row.try_get::<String, _>(0))
            .transpose()
            .map_err(internal("decoding a membership"))?;
    match role.as_deref() {
        None => {
            return Err(AppError::not_found(format!(
                "User {user_id} is not a member of your organization."
            )))
        }
        Some("owner") => {
            return Err(AppError::conflict(
                "The owner cannot be removed. To close the organization, delete it.",
            ))
        }
        Some(_) => {}
    }
    detach(&mut tx, &org_id, user_id).await?;
    let (org_name, _) = notify::org_of(&mut tx, org_id.as_str())
        .await
        .map_err(internal("reading an organization"))?;
    notify::enqueue(
        &mut tx,
        user_id,
        notify::Kind::MemberRemoved,
        &format!(
            "You were removed from the organization \u{201c}{org_name}\u{201d} on Tabletalk: its databases and your dashboard sign-in no longer work for you. Send /createorg to found one, or /join <code> to join another."
        ),
        crate::clock::now(),
    )
    .await
    .map_err(internal("queueing a notification"))?;
    audit::record(
        &mut tx,
        Some(actor),
        Some(org_id.as_str()),
        Event::MemberRemoved,
        Some(&user_id.to_string()),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing a removal"))?;
    Ok(())
}

/// The caller (a member) leaves their organization. Owners delete it instead.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn leave(store: &Store, caller: &Caller) -> Result<(), AppError> {
    require(caller, Action::LeaveOrg).map_err(|refused| {
        if caller.role == Role::Owner {
            AppError::conflict(
                "As the owner you cannot leave your organization; delete it instead.",
            )
        } else {
            refused
        }
    })?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, user_id) = require_in_tx(&mut tx, caller, Action::LeaveOrg).await?;
    detach(&mut tx, &org_id, user_id).await?;
    let (org_name, owner) = notify::org_of(&mut tx, org_id.as_str())
        .await
        .map_err(internal("reading an organization"))?;
    let who = notify::name_of(&mut tx, user_id)
        .await
        .map_err(internal("naming a member"))?;
    notify::enqueue(
        &mut tx,
        owner,
        notify::Kind::MemberLeft,
        &format!("{who} left \u{201c}{org_name}\u{201d}."),
        crate::clock::now(),
    )
    .await
    .map_err(internal("queueing a notification"))?;
    audit::record(
        &mut tx,
        Some(user_id),
        Some(org_id.as_str()),
        Event::MemberLeft,
        Some(&user_id.to_string()),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing a departure"))?;
    Ok(())
}

/// Adds a membership row.
pub(crate) async fn insert(
    tx: &mut Tx,
    org_id: &OrgId,
    user_id: UserId,
    role: Role,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO organization_members (org_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(org_id.as_str())
        .bind(user_id)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map(drop)
        .map_err(internal("adding a member"))
}

/// Everything that ends a user's membership: the row, their active database if
/// it was the organization's, their unsent email drafts of its data, their
/// dashboard account and its sessions.
pub(crate) async fn detach(tx: &mut Tx, org_id: &OrgId, user_id: UserId) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE telegram_users SET active_connection_id = NULL WHERE user_id = $1 \
         AND active_connection_id IN (SELECT connection_id FROM organization_databases WHERE org_id = $2)",
    )
    .bind(user_id)
    .bind(org_id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(internal("clearing an active database"))?;
    sqlx::query(
        "DELETE FROM emails WHERE user_id = $1 AND org_id = $2 AND status IN ('draft', 'failed')",
    )
    .bind(user_id)
    .bind(org_id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(internal("removing drafts of the organization's data"))?;
    sqlx::query("DELETE FROM organization_members WHERE org_id = $1 AND user_id = $2")
        .bind(org_id.as_str())
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map_err(internal("removing a membership"))?;
    credentials::revoke(tx, user_id).await
}
