//! What the caller used and what it cost: /myinfo, /stats, /history, /costs;
//! /clear forgets the conversation memory (confirmed with a button).

use super::buttons::presser;
use super::{caller_of, Reply};
use crate::callback::{self, Callback};
use crate::text;
use models::{AppError, Day, DayRange};
use services::AppState;
use teloxide::prelude::*;

fn today() -> Day {
    Day::of_unix(services::clock::now())
}

/// /myinfo: role, organization, active database, own usage today and this week.
pub async fn my_info(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = caller_of(state, msg).await?;
    let user_id = caller.user_id.unwrap_or_default();
    let org = match &caller.org_id {
        Some(_) => Some(services::orgs::get(&state.store, &caller).await?.name),
        None => None,
    };
    let active = services::databases::active(state, &caller).await?;
    let own = services::costs::analytics::own_totals(&state.store, user_id, today()).await?;
    let email = services::email::own_address(&state.store, user_id).await?;
    Ok(text::my_info(
        &caller,
        org.as_deref(),
        active.as_ref().map(|d| d.name.as_str()),
        &own,
        email.as_deref(),
    ))
}

/// /stats: own usage today and this week.
pub async fn stats(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = caller_of(state, msg).await?;
    let own = services::costs::analytics::own_totals(
        &state.store,
        caller.user_id.unwrap_or_default(),
        today(),
    )
    .await?;
    Ok(text::stats(&own))
}

/// /history: the last ten questions and their cost.
pub async fn history(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = caller_of(state, msg).await?;
    let list = services::costs::export::own_history(&state.store, &caller, 10).await?;
    Ok(text::history(&list, services::clock::now()))
}

/// /costs (owners): this month by model and by stage, and the budget.
pub async fn costs(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = caller_of(state, msg).await?;
    let day = today();
    let month = DayRange::between(day.month_start(), day);
    let totals = services::costs::analytics::overview(state, &caller, &month).await?;
    let by_model = services::costs::analytics::by_model(state, &caller, &month).await?;
    let by_stage = services::costs::analytics::by_stage(state, &caller, &month).await?;
    let budget = services::costs::budget::get(&state.store, &caller).await?;
    Ok(text::costs(&totals, &by_model, &by_stage, budget))
}

/// /clear: asks first.
pub async fn clear(state: &AppState, msg: &Message) -> Result<Reply, AppError> {
    caller_of(state, msg).await?;
    Ok(Reply {
        text: "Forget our conversation so far? Your next question starts afresh (nothing is removed from the costs).".into(),
        buttons: Some(callback::confirm(Callback::Clear, "Forget it")),
    })
}

/// The confirmed /clear.
pub async fn clear_confirmed(state: &AppState, q: &CallbackQuery) -> Result<String, AppError> {
    let caller = presser(state, q).await?;
    let user_id = caller
        .user_id
        .ok_or_else(|| AppError::forbidden("Only Telegram users have a conversation to forget."))?;
    let forgotten = services::ask::memory::forget(&state.store, user_id).await?;
    Ok(if forgotten == 0 {
        "There was nothing to forget; your next question starts afresh.".into()
    } else {
        "Forgotten. Your next question starts afresh.".into()
    })
}

/// /forgetme: says what will go and what stays, and asks first (private chats only).
pub async fn forget_me(state: &AppState, msg: &Message) -> Result<Reply, AppError> {
    if !msg.chat.is_private() {
        return Ok(Reply::from(
            "Send /forgetme to me in a private chat: only you can ask me to forget you.",
        ));
    }
    caller_of(state, msg).await?;
    Ok(Reply {
        text: "Forget you? I will delete the text of every question you asked (with its SQL, \
               answer and emails), what I remember of our conversation, and your personal \
               databases. What your questions cost stays in your organization's totals, \
               attributed to no one. Your membership stays (/leave leaves the organization). \
               This cannot be undone."
            .into(),
        buttons: Some(callback::confirm(Callback::ForgetMe, "Forget me")),
    })
}

/// The confirmed /forgetme, in a private chat only: the presser is the one forgotten.
pub async fn forget_me_confirmed(state: &AppState, q: &CallbackQuery) -> Result<String, AppError> {
    if !super::buttons::in_private(q) {
        return Err(AppError::bad_request(
            "Send /forgetme to me in a private chat: only you can ask me to forget you.",
        ));
    }
    let caller = presser(state, q).await?;
    let forgotten = services::privacy::forget(state, &caller).await?;
    Ok(format!(
        "Done: I forgot {} question{}, {} email{} and {} personal database{}. \
         Their costs stay in the totals, attributed to no one.",
        forgotten.questions,
        if forgotten.questions == 1 { "" } else { "s" },
        forgotten.emails,
        if forgotten.emails == 1 { "" } else { "s" },
        forgotten.databases,
        if forgotten.databases == 1 { "" } else { "s" },
    ))
}
