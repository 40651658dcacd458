//! The audit log: one row per change and per sign-in. Never a password or token.

use crate::error::internal;
use crate::store::Tx;
use crate::Store;
use models::org::{AuditEntry, Caller};
use models::{Action, AppError, UserId};
use sqlx::Row;

/// Most rows one listing returns.
pub const MAX_LIST: i64 = models::org::MAX_AUDIT_ENTRIES;

/// What happened, as stored in `audit_log.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    OrgCreated,
    OrgDeleted,
    MemberAdded,
    MemberJoined,
    MemberRemoved,
    MemberLeft,
    InviteCreated,
    InviteRevoked,
    CredentialsReset,
    PasswordChanged,
    PasswordChangeFailed,
    LoginSucceeded,
    LoginFailed,
    DatabaseAdded,
    DatabaseRemoved,
    DatabaseFunctionsAllowed,
    QueryRefused,
    PersonForgotten,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::OrgCreated => "org_created",
            Event::OrgDeleted => "org_deleted",
            Event::MemberAdded => "member_added",
            Event::MemberJoined => "member_joined",
            Event::MemberRemoved => "member_removed",
            Event::MemberLeft => "member_left",
            Event::InviteCreated => "invite_created",
            Event::InviteRevoked => "invite_revoked",
            Event::CredentialsReset => "credentials_reset",
            Event::PasswordChanged => "password_changed",
            Event::PasswordChangeFailed => "password_change_failed",
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::DatabaseAdded => "database_added",
            Event::DatabaseRemoved => "database_removed",
            Event::DatabaseFunctionsAllowed => "database_functions_allowed",
            Event::QueryRefused => "query_refused",
            Event::PersonForgotten => "person_forgotten",
        }
    }
}

/// Writes one row inside the caller's transaction, so the change and its
/// record commit or roll back together.
pub async fn record(
    tx: &mut Tx,
    actor: Option<UserId>,
    org_id: Option<&str>,
    event: Event,
    target: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (created_at, actor_id, org_id, action, target) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(crate::clock::now())
    .bind(actor)
    .bind(org_id)
    .bind(event.as_str())
    .bind(target)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Writes one row on its own (for events that change nothing else, like sign-ins).
pub async fn record_alone(
    store: &Store,
    actor: Option<UserId>,
    org_id: Option<&str>,
    event: Event,
    target: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = store.begin_write().await?;
    record(&mut tx, actor, org_id, event, target).await?;
    tx.commit().await
}

/// The newest rows of the caller's organization (owners).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn list(store: &Store, caller: &Caller, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    let org_id = crate::access::require(caller, Action::ViewAuditLog)?;
    let rows = sqlx::query(
        "SELECT created_at, actor_id, org_id, action, target FROM audit_log \
         WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(org_id.as_str())
    .bind(limit.clamp(1, MAX_LIST))
    .fetch_all(store.pool())
    .await
    .map_err(internal("reading the audit log"))?;
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                created_at: row.try_get(0)?,
                actor_id: row.try_get(1)?,
                org_id: row.try_get(2)?,
                action: row.try_get(3)?,
                target: row.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding the audit log"))
}
