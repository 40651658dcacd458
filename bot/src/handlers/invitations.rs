//! /join <code> (and /start join_<code>).

use crate::text;
use models::AppError;
use services::AppState;
use teloxide::prelude::*;

/// Joins with an invitation code; the answer carries dashboard credentials, so
/// it is given only in a private chat.
pub async fn join(state: &AppState, msg: &Message, code: &str) -> Result<String, AppError> {
    let user_id = super::sender_id(msg).filter(|_| msg.chat.is_private());
    let Some(user_id) = user_id else {
        return Ok(text::private_only().to_owned());
    };
    let caller = services::access::caller(&state.store, user_id).await?;
    let (org, creds) = services::orgs::invitations::join(&state.store, &caller, code).await?;
    Ok(text::joined(&org.name, &creds))
}
