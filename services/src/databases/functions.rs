//! Functions of a database's own that its owner allows in questions by name
//! (issue 29). The guard allows a function when the engine says it has no
//! side effects (PostgreSQL's catalogue) or it is one of the engine's
//! documented built-ins; anything else — a MySQL or SQL Server function the
//! team wrote, a VOLATILE PostgreSQL one — runs only when listed here. The
//! refused families (files, locks, sessions, SQL from a string) can never be.

use super::{check, info, not_found, visible};
use crate::access;
use crate::audit::{self, Event};
use crate::error::internal;
use crate::AppState;
use models::org::Caller;
use models::targets::{validate_function_names, DatabaseInfo, DatabaseScope};
use models::{Action, AppError, ConnectionId};

/// Replaces the names allowed on `id`; the database as listed afterwards.
/// Who may add databases decides (an organization's owner for its
/// databases, a person for their own).
pub async fn allow_functions(
    state: &AppState,
    caller: &Caller,
    id: &ConnectionId,
    names: &[String],
) -> Result<DatabaseInfo, AppError> {
    let user_id = check(caller, Action::AddDatabases)?;
    let names = validate_function_names(names)?;
    let mut s = visible(state, caller, user_id, id).await?;
    let rules = targets::guard::rules::of(s.kind);
    for name in &names {
        let parts: Vec<String> = name.split('.').map(str::to_owned).collect();
        let only_this = targets::guard::Functions {
            catalogue: None,
            owner_allowed: std::slice::from_ref(name),
        };
        if rules.check_function(&parts, only_this).is_err() {
            return Err(AppError::bad_request(format!(
                "{name} can never be allowed: functions that read files, wait, take locks, change \
                 the session or run SQL from a string are refused whatever the owner says."
            )));
        }
    }
    let mut tx = state
        .store
        .begin_write()
        .await
        .map_err(internal("starting to allow functions"))?;
    let org = match s.scope {
        DatabaseScope::Organization => {
            let (org_id, _) = access::require_in_tx(&mut tx, caller, Action::AddDatabases).await?;
            if org_id.as_str() != s.owner_id {
                return Err(not_found());
            }
            Some(org_id)
        }
        DatabaseScope::Personal => None,
    };
    let stored = (!names.is_empty()).then(|| names.join(" "));
    sqlx::query("UPDATE database_connections SET allowed_functions = $1 WHERE connection_id = $2")
        .bind(stored.as_deref())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(internal("allowing functions"))?;
    let detail = format!(
        "{id}: {}",
        if names.is_empty() {
            "none"
        } else {
            stored.as_deref().unwrap_or("")
        }
    );
    audit::record(
        &mut tx,
        Some(user_id),
        org.as_ref().map(|o| o.as_str()),
        Event::DatabaseFunctionsAllowed,
        Some(&detail),
    )
    .await
    .map_err(internal("recording allowed functions"))?;
    tx.commit().await.map_err(internal("allowing functions"))?;
    s.allowed_functions = names;
    let active = super::active_id(state, user_id).await?;
    Ok(info(state, &s, active.as_ref()))
}
