//! Forgetting a person on their request (`/forgetme`, issue 15): the text of
//! everything they asked (questions, SQL, answers, errors, emails), what the
//! bot remembers of their conversation, their notifications (sent ones too) and
//! guided steps, and their personal databases are deleted; their costs stay
//! in their organization's totals, attributed to no one
//! ([`models::FORGOTTEN_USER`], shown as "Forgotten people"). One write
//! transaction: all of it or nothing. The account and memberships stay
//! (`/leave` leaves the organization).

use crate::access;
use crate::audit::{self, Event};
use crate::error::internal;
use crate::AppState;
use models::org::Caller;
use models::{AppError, ConnectionId, FORGOTTEN_USER};

/// What a forgotten question reads as afterwards.
pub const FORGOTTEN: &str = "(removed at the person's request)";

/// How much was forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forgotten {
    pub questions: u64,
    pub emails: u64,
    pub databases: u64,
}

/// Forgets the caller (see the module).
pub async fn forget(state: &AppState, caller: &Caller) -> Result<Forgotten, AppError> {
    let user_id = access::user(caller)?;
    let mut tx = state
        .store
        .begin_write()
        .await
        .map_err(internal("starting to forget"))?;
    // The person's question slot, held for the forget: a question being
    // answered now would be recorded after it, so the forget is refused
    // until its answer (a question of a dead process is taken over).
    let now = crate::clock::now();
    let token = format!("forget-{now}");
    let held =
        crate::ask::limits::hold_in(&mut tx, state.shutdown.process_id(), user_id, &token, now)
            .await
            .map_err(internal("holding the person's questions"))?;
    if !held {
        return Err(AppError::conflict(
            "Your question is still being answered. Send this again once its answer has arrived.",
        ));
    }
    // The organizations whose totals move from this person to no one: their
    // remembered analytics answers must be dropped (usage counters).
    let orgs: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT org_id FROM usage_daily_user WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(internal("finding the person's organizations"))?;
    sqlx::query(
        "UPDATE conversation_stages SET generated_sql = NULL, error = NULL, \
         chat_id = CASE WHEN chat_id = $1 THEN $2 ELSE chat_id END \
         WHERE conversation_id IN (SELECT conversation_id FROM conversations WHERE user_id = $1)",
    )
    .bind(user_id)
    .bind(FORGOTTEN_USER)
    .execute(&mut *tx)
    .await
    .map_err(internal("forgetting SQL"))?;
    let questions = sqlx::query(
        "UPDATE conversations SET user_question = $3, answer = NULL, error = NULL, username = NULL, \
         user_id = $2, chat_id = CASE WHEN chat_id = $1 THEN $2 ELSE chat_id END WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(FORGOTTEN_USER)
    .bind(FORGOTTEN)
    .execute(&mut *tx)
    .await
    .map_err(internal("forgetting questions"))?
    .rows_affected();
    // The per-person rollups: this person's rows added onto no one's, then removed.
    let sums = "conversations, calls, input_tokens, cached_tokens, output_tokens, input_cost, \
                output_cost, total_cost";
    let add = sums
        .split(", ")
        .map(|c| format!("{c} = {{t}}.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    for (table, keys) in [
        (
            "usage_daily",
            "org_id, day, user_id, model_name, stage_name",
        ),
        ("usage_daily_user", "org_id, day, user_id"),
    ] {
        let selected = keys.replace("user_id", "$2");
        let sql = format!(
            "INSERT INTO {table} ({keys}, {sums}) SELECT {selected}, {sums} FROM {table} \
             WHERE user_id = $1 ON CONFLICT ({keys}) DO UPDATE SET {}",
            add.replace("{t}", table)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(FORGOTTEN_USER)
            .execute(&mut *tx)
            .await
            .map_err(internal("moving the person's usage"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE user_id = $1"
        )))
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(internal("moving the person's usage"))?;
    }
    crate::costs::rollup::bump_versions(&mut tx, orgs.iter().map(String::as_str))
        .await
        .map_err(internal("moving the usage counters"))?;
    let emails = sqlx::query("DELETE FROM emails WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(internal("forgetting emails"))?
        .rows_affected();
    for (sql, what) in [
        (
            "DELETE FROM memory_turns WHERE user_id = $1",
            "forgetting the conversation",
        ),
        (
            "DELETE FROM outbox WHERE telegram_user_id = $1 OR chat_id = $1",
            "forgetting notifications",
        ),
        (
            "DELETE FROM questions_in_flight WHERE user_id = $1",
            "ending the hold on questions",
        ),
        (
            "DELETE FROM bot_dialogues WHERE chat_id = $1",
            "forgetting a guided step",
        ),
        (
            "DELETE FROM ask_tickets WHERE user_id = $1",
            "forgetting a question about to be asked",
        ),
        (
            "UPDATE telegram_users SET active_connection_id = NULL WHERE user_id = $1",
            "clearing the active database",
        ),
    ] {
        sqlx::query(sql)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(internal(what))?;
    }
    let databases: Vec<String> = sqlx::query_scalar(
        "DELETE FROM database_connections WHERE owner_type = 'user' AND owner_id = $1 \
         RETURNING connection_id",
    )
    .bind(user_id.to_string())
    .fetch_all(&mut *tx)
    .await
    .map_err(internal("removing personal databases"))?;
    let forgotten = Forgotten {
        questions,
        emails,
        databases: databases.len() as u64,
    };
    audit::record(
        &mut tx,
        Some(user_id),
        caller.org_id.as_ref().map(|o| o.as_str()),
        Event::PersonForgotten,
        Some(&format!(
            "{} questions, {} emails, {} personal databases",
            forgotten.questions, forgotten.emails, forgotten.databases
        )),
    )
    .await
    .map_err(internal("recording the request"))?;
    tx.commit().await.map_err(internal("forgetting"))?;
    for id in databases {
        if let Ok(id) = ConnectionId::parse(&id) {
            state.targets.forget(&id).await;
        }
    }
    Ok(forgotten)
}
