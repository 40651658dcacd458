//! Organization rules (seed §3, §5): create, read, delete; members and
//! invitations in their own modules. Every function takes the caller, checks
//! the access matrix, and scopes every query by the caller's organization,
//! re-reading the caller's role inside the transaction that acts on it.

pub mod invitations;
pub mod members;

use crate::access::{self, membership_of, require, require_in_tx, Who};
use crate::audit::{self, Event};
use crate::auth::credentials;
use crate::error::internal;
use crate::Store;
use models::org::{validate_name, Caller, Credentials, Organization};
use models::{allowed, Action, AppError, OrgId, Role, UserId};
use sqlx::Row;

/// Founds an organization: the caller (without one) becomes its owner and gets
/// dashboard credentials, shown once.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn create(
    store: &Store,
    caller: &Caller,
    name: &str,
) -> Result<(Organization, Credentials), AppError> {
    let name = validate_name("organization name", name)?;
    access::allow(caller, Action::CreateOrg)?;
    let owner = caller.user_id.ok_or_else(|| {
        AppError::forbidden("An organization needs a Telegram user as its owner.")
    })?;
    let prepared = credentials::prepare().await?;
    let org_id = OrgId::from_random(crate::random::bytes().map_err(internal("generating an id"))?);
    let now = crate::clock::now();

    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    access::require_known(&mut tx, owner, Who::Named).await?;
    if membership_of(&mut tx, owner).await?.is_some() {
        return Err(AppError::conflict(
            "You already belong to an organization. Leave it (or delete it, as its owner) first.",
        ));
    }
    sqlx::query(
        "INSERT INTO organizations (org_id, name, owner_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org_id.as_str())
    .bind(name.as_str())
    .bind(owner)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(internal("creating an organization"))?;
    members::insert(&mut tx, &org_id, owner, Role::Owner, now).await?;
    let creds = credentials::issue(&mut tx, owner, prepared).await?;
    audit::record(
        &mut tx,
        Some(owner),
        Some(org_id.as_str()),
        Event::OrgCreated,
        Some(&name),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing a new organization"))?;
    tracing::info!(org = %org_id, "organization created");
    Ok((
        Organization {
            org_id,
            name,
            owner_id: owner,
            description: None,
            created_at: now,
        },
        creds,
    ))
}

/// The caller's organization.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn get(store: &Store, caller: &Caller) -> Result<Organization, AppError> {
    let org_id = require(caller, Action::ViewOverview)?;
    find(store.pool(), org_id)
        .await?
        .ok_or_else(|| AppError::not_found("Your organization no longer exists."))
}

/// The overview cards of the caller's organization; spend, budget and
/// invitations only for those who may see costs and invitations.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn overview(
    state: &crate::AppState,
    caller: &Caller,
    today: models::Day,
) -> Result<models::org::OrgOverview, AppError> {
    access::allow(caller, Action::ViewOverview)?;
    let store = &state.store;
    let Some(user_id) = caller.user_id else {
        return Ok(models::org::OrgOverview {
            organization: None,
            role: caller.role,
            member_count: 0,
            database_count: 0,
            active_invitations: None,
            joined_at: 0,
            month_spend: None,
            budget: None,
            operator: true,
            story: None,
            own: None,
        });
    };
    if caller.org_id.is_none() {
        let mut o = individual_overview(store, caller, user_id).await?;
        o.own = Some(crate::costs::analytics::own_totals(store, user_id, today).await?);
        return Ok(o);
    }
    let organization = get(store, caller).await?;
    let org = organization.org_id.as_str();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .bind(org)
            .fetch_one(store.pool())
            .await
            .map_err(internal("counting for the overview"))
    };
    let member_count = count("SELECT COUNT(*) FROM organization_members WHERE org_id = $1").await?;
    let database_count = count(
        "SELECT COUNT(*) FROM database_connections WHERE owner_type = 'organization' AND owner_id = $1",
    )
    .await?;
    let active_invitations = if allowed(caller.role, Action::ViewInvites) {
        let now = crate::clock::now();
        Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM invitations WHERE org_id = $1 AND is_active = TRUE \
                 AND revoked_at IS NULL AND expires_at > $2 AND current_uses < max_uses",
            )
            .bind(org)
            .bind(now)
            .fetch_one(store.pool())
            .await
            .map_err(internal("counting invitations"))?,
        )
    } else {
        None
    };
    let joined_at: i64 = sqlx::query_scalar(
        "SELECT joined_at FROM organization_members WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org)
    .bind(user_id)
    .fetch_optional(store.pool())
    .await
    .map_err(internal("reading a join date"))?
    .unwrap_or(organization.created_at);
    let (month_spend, budget, story, own) = if allowed(caller.role, Action::ViewCosts) {
        // The story already holds the month's spend and the budget.
        let story = crate::costs::story::month(state, caller, today).await?;
        (
            Some(story.this_month.total_cost),
            story.budget,
            Some(story),
            None,
        )
    } else {
        let own = crate::costs::analytics::own_totals(store, user_id, today).await?;
        (None, None, None, Some(own))
    };
    Ok(models::org::OrgOverview {
        role: caller.role,
        member_count,
        database_count,
        active_invitations,
        joined_at,
        month_spend,
        budget,
        organization: Some(organization),
        operator: false,
        story,
        own,
    })
}

/// The overview of someone without an organization: their own databases.
async fn individual_overview(
    store: &Store,
    caller: &Caller,
    user_id: UserId,
) -> Result<models::org::OrgOverview, AppError> {
    let database_count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM database_connections WHERE owner_type = 'user' AND owner_id = $1",
    )
    .bind(user_id.to_string())
    .fetch_one(store.pool())
    .await
    .map_err(internal("counting databases"))?;
    let joined_at: i64 =
        sqlx::query_scalar("SELECT created_at FROM telegram_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(store.pool())
            .await
            .map_err(internal("reading a user"))?
            .unwrap_or(0);
    Ok(models::org::OrgOverview {
        organization: None,
        role: caller.role,
        member_count: 0,
        database_count,
        active_invitations: None,
        joined_at,
        month_spend: None,
        budget: None,
        operator: false,
        story: None,
        own: None,
    })
}

/// Reads one organization, through the pool or inside a transaction.
pub(crate) async fn find<'e, E>(
    executor: E,
    org_id: &OrgId,
) -> Result<Option<Organization>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT name, owner_id, description, created_at FROM organizations WHERE org_id = $1",
    )
    .bind(org_id.as_str())
    .fetch_optional(executor)
    .await
    .map_err(internal("reading an organization"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let decode = || -> Result<Organization, sqlx::Error> {
        Ok(Organization {
            org_id: org_id.clone(),
            name: row.try_get(0)?,
            owner_id: row.try_get(1)?,
            description: row.try_get(2)?,
            created_at: row.try_get(3)?,
        })
    };
    decode()
        .map(Some)
        .map_err(internal("decoding an organization"))
}

/// Deletes the caller's organization (owner): every member loses access and
/// their dashboard sign-in, its invitations and databases go with it.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn delete(store: &Store, caller: &Caller) -> Result<(), AppError> {
    require(caller, Action::DeleteOrg)?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, actor) = require_in_tx(&mut tx, caller, Action::DeleteOrg).await?;
    let member_ids: Vec<i64> =
        sqlx::query("SELECT user_id FROM organization_members WHERE org_id = $1")
            .bind(org_id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(internal("listing members"))?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(internal("decoding members"))?;
    for user_id in member_ids {
        members::detach(&mut tx, &org_id, user_id).await?;
    }
    for sql in [
        "DELETE FROM database_connections WHERE owner_type = 'organization' AND owner_id = $1",
        "DELETE FROM organizations WHERE org_id = $1",
    ] {
        sqlx::query(sql)
            .bind(org_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(internal("deleting an organization"))?;
    }
    audit::record(
        &mut tx,
        Some(actor),
        Some(org_id.as_str()),
        Event::OrgDeleted,
        None,
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing an organization's deletion"))?;
    tracing::info!(org = %org_id, "organization deleted");
    Ok(())
}
