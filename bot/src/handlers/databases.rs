//! /selectdb and /removedb: the caller's databases as buttons. Each press is
//! checked again by the service (`select`, `remove`: the caller must still
//! see the database and, to remove it, may remove it).

use super::buttons::presser;
use super::{caller_of, Reply};
use crate::callback::{self, Callback};
use models::targets::DatabaseInfo;
use models::{AppError, ConnectionId};
use services::AppState;
use teloxide::prelude::*;
use teloxide::types::InlineKeyboardMarkup;

/// One button per database, each asking for `press` of it.
fn keyboard(list: &[DatabaseInfo], press: fn(ConnectionId) -> Callback) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(list.iter().map(|d| {
        let mark = if d.selected { " ✓" } else { "" };
        [press(d.connection_id.clone()).button(format!("{}{mark}", d.name))]
    }))
}

const NONE_YET: &str = "There are no databases yet. Owners add them on the dashboard's Databases page (or with /adddb once it is here).";

/// /selectdb.
pub async fn choose(state: &AppState, msg: &Message) -> Result<Reply, AppError> {
    let caller = caller_of(state, msg).await?;
    let list = services::databases::list(state, &caller).await?;
    if list.is_empty() {
        return Ok(NONE_YET.into());
    }
    Ok(Reply {
        text: "Which database should your questions go to?".into(),
        buttons: Some(keyboard(&list, Callback::UseDb)),
    })
}

/// A press on /selectdb's button.
pub async fn select(
    state: &AppState,
    q: &CallbackQuery,
    id: &ConnectionId,
) -> Result<String, AppError> {
    let caller = presser(state, q).await?;
    let db = services::databases::select(state, &caller, id).await?;
    Ok(format!("Your questions now go to {}.", db.name))
}

/// /removedb: the databases the caller may remove.
pub async fn choose_removal(state: &AppState, msg: &Message) -> Result<Reply, AppError> {
    let caller = caller_of(state, msg).await?;
    services::access::allow(&caller, models::Action::RemoveDatabases)?;
    let list = services::databases::list(state, &caller).await?;
    // The service checks each removal again when the button is pressed.
    let removable = list;
    if removable.is_empty() {
        return Ok(NONE_YET.into());
    }
    Ok(Reply {
        text: "Which database should be removed?".into(),
        buttons: Some(keyboard(&removable, Callback::RemoveDb)),
    })
}

/// A press on /removedb's button: asks once more.
pub async fn confirm_remove(
    state: &AppState,
    q: &CallbackQuery,
    id: &ConnectionId,
) -> Result<Reply, AppError> {
    let caller = presser(state, q).await?;
    let list = services::databases::list(state, &caller).await?;
    let db = list
        .iter()
        .find(|d| &d.connection_id == id)
        .ok_or_else(|| AppError::not_found("That database is not one you can use."))?;
    Ok(Reply {
        text: format!(
            "Remove {}? Questions can no longer go to it; what was asked of it stays in the costs.",
            db.name
        ),
        buttons: Some(callback::confirm(
            Callback::RemoveDbConfirmed(id.clone()),
            "Remove it",
        )),
    })
}

/// The confirmed removal.
pub async fn remove(
    state: &AppState,
    q: &CallbackQuery,
    id: &ConnectionId,
) -> Result<String, AppError> {
    let caller = presser(state, q).await?;
    let list = services::databases::list(state, &caller).await?;
    let name = list
        .iter()
        .find(|d| &d.connection_id == id)
        .map(|d| d.name.clone())
        .ok_or_else(|| AppError::not_found("That database is not one you can use."))?;
    services::databases::remove(state, &caller, id).await?;
    Ok(format!("{name} is removed."))
}
