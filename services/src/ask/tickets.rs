//! The Ask page's question travels in the body of a POST, never in a URL
//! (URLs are kept by proxies, browsers and access logs). The POST leaves a
//! single-use ticket in the store, so whichever process serves the stream
//! (an `EventSource`, which can only GET) finds it; the stream takes it.

use crate::error::internal;
use crate::Store;
use models::ask::AskRequest;
use models::org::Caller;
use models::{AppError, ConnectionId};

/// A ticket not taken within this long is gone.
pub const TTL_SECS: i64 = 60;

/// Leaves `request` for the caller's stream; the ticket to open it with.
/// Expired tickets (anyone's) are removed in the same statement's transaction.
pub async fn issue(
    store: &Store,
    caller: &Caller,
    request: &AskRequest,
) -> Result<String, AppError> {
    request.validated_question()?;
    let user = caller
        .user_id
        .ok_or_else(|| AppError::unauthorized("Sign in to ask."))?;
    let ticket = hex::encode(crate::random::bytes::<16>().map_err(internal("drawing a ticket"))?);
    let now = crate::clock::now();
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("opening a ticket"))?;
    sqlx::query("DELETE FROM ask_tickets WHERE created_at < $1")
        .bind(now - TTL_SECS)
        .execute(&mut *tx)
        .await
        .map_err(internal("removing expired tickets"))?;
    sqlx::query(
        "INSERT INTO ask_tickets (ticket, user_id, question, database_id, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&ticket)
    .bind(user)
    .bind(&request.question)
    .bind(request.database_id.as_ref().map(ConnectionId::as_str))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(internal("saving a ticket"))?;
    tx.commit().await.map_err(internal("saving a ticket"))?;
    Ok(ticket)
}

/// The question left under `ticket` by the same person, once.
pub async fn take(store: &Store, caller: &Caller, ticket: &str) -> Result<AskRequest, AppError> {
    let gone =
        || AppError::bad_request("This question has expired or was already asked: ask it again.");
    let user = caller
        .user_id
        .ok_or_else(|| AppError::unauthorized("Sign in to ask."))?;
    if ticket.len() != 32 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "DELETE FROM ask_tickets WHERE ticket = $1 AND user_id = $2 AND created_at >= $3 \
         RETURNING question, database_id",
    )
    .bind(ticket)
    .bind(user)
    .bind(crate::clock::now() - TTL_SECS)
    .fetch_optional(store.pool())
    .await
    .map_err(internal("taking a ticket"))?;
    let (question, database_id) = row.ok_or_else(gone)?;
    let database_id = database_id
        .map(|id| ConnectionId::parse(&id))
        .transpose()
        .map_err(|_| gone())?;
    Ok(AskRequest {
        question,
        database_id,
    })
}
