//! The rules for users' databases (seed §3, §5): add (test first, store only
//! what works), test without storing, list, remove, select the active one,
//! read the schema, and run a query. Every function checks the caller's role
//! against the matrix and scopes by the caller: an organization's databases
//! are visible to its members, a personal database only to its owner.

use crate::access;
use crate::audit::{self, Event};
use crate::error::internal;
use crate::AppState;
use models::org::Caller;
use models::targets::{
    validate_database_name, AddedDatabase, ConnectionSummary, ConnectionTest, DatabaseInfo,
    DatabaseScope, NewDatabase, QueryResult, Schema, TableKind,
};
use models::{Action, AppError, ConnectionId, Role, UserId};
use sqlx::Row;
use std::sync::Arc;
use targets::conn;
use targets::engine::Engine;
use targets::registry::Entry;
use targets::TargetError;

mod add;
mod functions;

pub use add::{add, kind_of_connection, test};
use add::{shown, take_probe};
pub use functions::allow_functions;

/// Most databases one organization or one person may register.
pub const MAX_PER_OWNER: i64 = 50;

/// A stored connection as read from the store.
struct Stored {
    id: ConnectionId,
    name: String,
    kind: models::targets::TargetKind,
    sealed: String,
    scope: DatabaseScope,
    owner_id: String,
    created_by: UserId,
    created_at: i64,
    last_used: Option<i64>,
    /// Functions of the database's own its owner allows in questions.
    allowed_functions: Vec<String>,
}

const COLUMNS: &str = "connection_id, name, connection_encrypted, owner_type, owner_id, created_by, created_at, last_used, kind, allowed_functions";

fn stored(row: &sqlx::any::AnyRow) -> Result<Stored, sqlx::Error> {
    let owner_type: String = row.try_get(3)?;
    let id: String = row.try_get(0)?;
    let kind: String = row.try_get(8)?;
    Ok(Stored {
        id: ConnectionId::parse(&id).map_err(|e| sqlx::Error::Decode(e.message().into()))?,
        name: row.try_get(1)?,
        kind: models::targets::TargetKind::parse(&kind)
            .map_err(|e| sqlx::Error::Decode(e.message().into()))?,
        sealed: row.try_get(2)?,
        scope: if owner_type == "organization" {
            DatabaseScope::Organization
        } else {
            DatabaseScope::Personal
        },
        owner_id: row.try_get(4)?,
        created_by: row.try_get(5)?,
        created_at: row.try_get(6)?,
        last_used: row.try_get(7)?,
        allowed_functions: row
            .try_get::<Option<String>, _>(9)?
            .map(|names| names.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

/// The matrix for `action`, and the caller's Telegram user (databases belong
/// to people or their organization, never to an operator account).
fn check(caller: &Caller, action: Action) -> Result<UserId, AppError> {
    access::allow(caller, action)?;
    access::user(caller)
}

fn not_found() -> AppError {
    AppError::not_found("There is no such database, or it is not yours to use.")
}

/// Where a new database goes: (scope, owner id as stored).
fn placement(
    caller: &Caller,
    scope: Option<DatabaseScope>,
) -> Result<(DatabaseScope, String), AppError> {
    let user_id = check(caller, Action::AddDatabases)?;
    let manages_org = caller.org_id.is_some() && matches!(caller.role, Role::Owner | Role::Admin);
    let scope = scope.unwrap_or(if manages_org {
        DatabaseScope::Organization
    } else {
        DatabaseScope::Personal
    });
    match scope {
        DatabaseScope::Organization => {
            let org = access::require(caller, Action::AddDatabases)?;
            Ok((scope, org.as_str().to_owned()))
        }
        DatabaseScope::Personal => Ok((scope, user_id.to_string())),
    }
}

/// The databases the caller may use: their organization's, then their own.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<DatabaseInfo>, AppError> {
    let user_id = check(caller, Action::ViewDatabases)?;
    let org = caller.org_id.as_ref().map_or("", |o| o.as_str());
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM database_connections \
         WHERE (owner_type = 'organization' AND owner_id = $1) OR (owner_type = 'user' AND owner_id = $2) \
         ORDER BY CASE WHEN owner_type = 'organization' THEN 0 ELSE 1 END, created_at, name"
    )))
    .bind(org)
    .bind(user_id.to_string())
    .fetch_all(state.store.pool())
    .await
    .map_err(internal("listing databases"))?;
    let active = active_id(state, user_id).await?;
    rows.iter()
        .map(|row| {
            let s = stored(row).map_err(internal("decoding a database"))?;
            Ok(info(state, &s, active.as_ref()))
        })
        .collect()
}

fn info(state: &AppState, s: &Stored, active: Option<&ConnectionId>) -> DatabaseInfo {
    let summary = match state.targets.unseal(&s.sealed) {
        Ok(spec) => shown(&spec),
        Err(_) => ConnectionSummary {
            kind: s.kind,
            host: None,
            port: None,
            database: "(unreadable: the encryption key changed)".into(),
            user: None,
        },
    };
    DatabaseInfo {
        connection_id: s.id.clone(),
        name: s.name.clone(),
        scope: s.scope,
        summary,
        created_by: s.created_by,
        created_at: s.created_at,
        last_used: s.last_used,
        selected: active == Some(&s.id),
        allowed_functions: s.allowed_functions.clone(),
    }
}

async fn active_id(state: &AppState, user_id: UserId) -> Result<Option<ConnectionId>, AppError> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT active_connection_id FROM telegram_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(state.store.pool())
            .await
            .map_err(internal("reading the active database"))?
            .flatten();
    Ok(id.and_then(|id| ConnectionId::parse(&id).ok()))
}

/// One database, if the caller may use it.
async fn visible(
    state: &AppState,
    caller: &Caller,
    user_id: UserId,
    id: &ConnectionId,
) -> Result<Stored, AppError> {
    let org = caller.org_id.as_ref().map_or("", |o| o.as_str());
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM database_connections WHERE connection_id = $1 \
         AND ((owner_type = 'organization' AND owner_id = $2) OR (owner_type = 'user' AND owner_id = $3))"
    )))
    .bind(id.as_str())
    .bind(org)
    .bind(user_id.to_string())
    .fetch_optional(state.store.pool())
    .await
    .map_err(internal("reading a database"))?
    .ok_or_else(not_found)?;
    stored(&row).map_err(internal("decoding a database"))
}

/// Removes a database: the owner for an organization's, its owner for a personal one.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn remove(state: &AppState, caller: &Caller, id: &ConnectionId) -> Result<(), AppError> {
    let user_id = check(caller, Action::RemoveDatabases)?;
    let s = visible(state, caller, user_id, id).await?;
    let mut tx = state
        .store
        .begin_write()
        .await
        .map_err(internal("starting to remove a database"))?;
    let org_id = match s.scope {
        DatabaseScope::Organization => {
            let (org_id, _) =
                access::require_in_tx(&mut tx, caller, Action::RemoveDatabases).await?;
            if org_id.as_str() != s.owner_id {
                return Err(not_found());
            }
            Some(org_id)
        }
        DatabaseScope::Personal => None,
    };
    sqlx::query(
        "UPDATE telegram_users SET active_connection_id = NULL WHERE active_connection_id = $1",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await
    .map_err(internal("clearing an active database"))?;
    sqlx::query("DELETE FROM organization_databases WHERE connection_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(internal("unlinking a database"))?;
    let deleted = sqlx::query("DELETE FROM database_connections WHERE connection_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(internal("removing a database"))?
        .rows_affected();
    if deleted == 0 {
        return Err(not_found());
    }
    if let Some(org_id) = &org_id {
        let text = format!(
            "removed the database \u{201c}{}\u{201d}; questions no longer go to it (if it was your active one, choose another with /selectdb).",
            s.name
        );
        tell_members(&mut tx, org_id, user_id, &text, crate::clock::now()).await?;
    }
    audit::record(
        &mut tx,
        Some(user_id),
        org_id.as_ref().map(|o| o.as_str()),
        Event::DatabaseRemoved,
        Some(&format!("{} ({id})", s.name)),
    )
    .await
    .map_err(internal("recording a removed database"))?;
    tx.commit().await.map_err(internal("removing a database"))?;
    state.targets.forget(id).await;
    Ok(())
}

/// The engine of a database the caller may use and whose it is (one lookup,
/// nothing decrypted).
pub async fn kind_of(
    state: &AppState,
    caller: &Caller,
    id: &ConnectionId,
) -> Result<(models::targets::TargetKind, DatabaseScope), AppError> {
    let user_id = check(caller, Action::ViewDatabases)?;
    let s = visible(state, caller, user_id, id).await?;
    Ok((s.kind, s.scope))
}

/// Makes a database the caller's active one (what the bot queries).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn select(
    state: &AppState,
    caller: &Caller,
    id: &ConnectionId,
) -> Result<DatabaseInfo, AppError> {
    let user_id = check(caller, Action::SelectDatabase)?;
    let s = visible(state, caller, user_id, id).await?;
    sqlx::query("UPDATE telegram_users SET active_connection_id = $1 WHERE user_id = $2")
        .bind(id.as_str())
        .bind(user_id)
        .execute(state.store.pool())
        .await
        .map_err(internal("selecting a database"))?;
    Ok(info(state, &s, Some(id)))
}

/// The caller's active database, if one is selected and still usable by them.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn active(state: &AppState, caller: &Caller) -> Result<Option<DatabaseInfo>, AppError> {
    let user_id = check(caller, Action::ViewDatabases)?;
    let Some(id) = active_id(state, user_id).await? else {
        return Ok(None);
    };
    match visible(state, caller, user_id, &id).await {
        Ok(s) => Ok(Some(info(state, &s, Some(&id)))),
        Err(AppError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn entry_for(state: &AppState, s: &Stored) -> Result<Arc<Entry>, AppError> {
    match state.targets.entry(&s.id, &s.sealed, &s.owner_id).await {
        Ok(entry) => Ok(entry),
        Err(e) => {
            note_failure(state, &s.id, &e).await;
            Err(e.into())
        }
    }
}

/// Remembers why a database could not be reached (the overview lists it
/// for the owner until a query runs again). Best effort: a store error here
/// is logged, and the person still gets the database's own error.
async fn note_failure(state: &AppState, id: &ConnectionId, e: &TargetError) {
    if !e.breaks_pool() {
        return;
    }
    let noted = sqlx::query(
        "UPDATE database_connections SET last_error = $1, last_error_at = $2 WHERE connection_id = $3",
    )
    .bind(&e.message)
    .bind(crate::clock::now())
    .bind(id.as_str())
    .execute(state.store.pool())
    .await;
    if let Err(err) = noted {
        tracing::warn!(error = %err, "could not note a database's failure");
    }
}

/// Tells an organization's members (but the one who did it) that `who did`:
/// "Olga (@olga) added the database “Sales” to “Acme”; ...".
async fn tell_members(
    tx: &mut crate::store::Tx,
    org_id: &models::OrgId,
    actor: UserId,
    did: &str,
    now: i64,
) -> Result<(), AppError> {
    let queue = internal("queueing a notification");
    let who = crate::notify::name_of(tx, actor)
        .await
        .map_err(internal("naming a member"))?;
    let (org_name, _) = crate::notify::org_of(tx, org_id.as_str())
        .await
        .map_err(internal("reading an organization"))?;
    crate::notify::enqueue_members(
        tx,
        org_id.as_str(),
        actor,
        crate::notify::Kind::DatabaseChanged,
        &format!("In \u{201c}{org_name}\u{201d}, {who} {did}"),
        now,
    )
    .await
    .map_err(queue)
}

/// The organization's databases whose last attempt failed: (name, error,
/// when), most recent first.
pub async fn failing(
    state: &AppState,
    org: &models::OrgId,
) -> Result<Vec<(String, String, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT name, last_error, last_error_at FROM database_connections \
         WHERE owner_type = 'organization' AND owner_id = $1 AND last_error IS NOT NULL \
         ORDER BY last_error_at DESC",
    )
    .bind(org.as_str())
    .fetch_all(state.store.pool())
    .await
    .map_err(internal("reading databases' health"))?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding databases' health"))
}

/// The schema of a database the caller may use; cached, or read again with `refresh`.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn schema(
    state: &AppState,
    caller: &Caller,
    id: &ConnectionId,
    refresh: bool,
) -> Result<Arc<Schema>, AppError> {
    let user_id = check(caller, Action::ViewDatabases)?;
    let s = visible(state, caller, user_id, id).await?;
    if refresh {
        take_probe(state, user_id).await?;
    }
    let entry = entry_for(state, &s).await?;
    match state.targets.schema(&entry, refresh).await {
        Ok(schema) => Ok(schema),
        Err(e) => {
            if e.breaks_pool() {
                state.targets.forget(id).await;
                note_failure(state, id, &e).await;
            }
            Err(e.into())
        }
    }
}

/// Why [`execute`] ran nothing or got no rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// The guard refused the statement (recorded in the audit log); it never ran.
    Refused(String),
    /// The engine could not run it (the SQL, the connection, a limit).
    Target(TargetError),
    /// Anything else: access, an unknown database, the store.
    Other(AppError),
}

impl From<QueryError> for AppError {
    fn from(err: QueryError) -> AppError {
        match err {
            QueryError::Refused(reason) => AppError::bad_request(format!(
                "Tabletalk only runs one read-only query, and refused this one: {reason}."
            )),
            QueryError::Target(e) => e.into(),
            QueryError::Other(e) => e,
        }
    }
}

/// Runs one read-only query on a database the caller may use: the guard
/// first (a refusal is recorded), then the engine's read-only mode.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn query(
    state: &AppState,
    caller: &Caller,
    id: &ConnectionId,
    sql: &str,
) -> Result<QueryResult, AppError> {
    execute(state, caller, id, sql)
        .await
        .map_err(AppError::from)
}

/// [`query`] with the reason it failed kept apart (the question pipeline
/// repairs SQL the engine rejected, never SQL the guard refused).
pub async fn execute(
    state: &AppState,
    caller: &Caller,
    id: &ConnectionId,
    sql: &str,
) -> Result<QueryResult, QueryError> {
    let user_id = check(caller, Action::ViewDatabases).map_err(QueryError::Other)?;
    let s = visible(state, caller, user_id, id)
        .await
        .map_err(QueryError::Other)?;
    // The guard runs with what the server's own catalogue says of functions,
    // so the pool is opened first.
    let entry = entry_for(state, &s).await.map_err(QueryError::Other)?;
    let allowed = match entry.engine.check(sql, &s.allowed_functions) {
        Ok(allowed) => allowed,
        Err(reason) => {
            let org = (s.scope == DatabaseScope::Organization).then_some(s.owner_id.as_str());
            audit::record_alone(
                &state.store,
                Some(user_id),
                org,
                Event::QueryRefused,
                Some(&format!("{id}: {reason}")),
            )
            .await
            .map_err(internal("recording a refused query"))
            .map_err(QueryError::Other)?;
            return Err(QueryError::Refused(reason.to_string()));
        }
    };
    match entry.engine.run(&allowed.sql, state.targets.limits()).await {
        Ok(result) => {
            sqlx::query(
                "UPDATE database_connections SET last_used = $1, last_error = NULL, last_error_at = NULL \
                 WHERE connection_id = $2",
            )
                .bind(crate::clock::now())
                .bind(id.as_str())
                .execute(state.store.pool())
                .await
                .map_err(internal("noting a database's use"))
                .map_err(QueryError::Other)?;
            Ok(result)
        }
        Err(e) => {
            if e.breaks_pool() {
                state.targets.forget(id).await;
                note_failure(state, id, &e).await;
            }
            Err(QueryError::Target(e))
        }
    }
}
