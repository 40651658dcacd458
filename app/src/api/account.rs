//! The signed-in person's settings: `/dashboard/password` (change password)
//! and `/dashboard/budget` (read, and set by owners).

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use models::codec::StrictJson;
use models::AppError;

/// Changes the caller's dashboard password; other sessions end, this one stays.
#[server(prefix = "/dashboard", endpoint = "password", input = StrictJson, output = Json)]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    super::context::check_same_origin().await?;
    let state = super::context::state()?;
    let token = super::context::session_token()
        .await
        .ok_or_else(|| AppError::unauthorized("You are not signed in. Sign in first."))?;
    let ip = super::context::client_ip().await;
    services::auth::change_password(
        &state.store,
        &token,
        current.into(),
        new.into(),
        ip.as_deref(),
    )
    .await
}

/// The organization's monthly budget in USD (as a decimal string), if one is set.
#[server(prefix = "/dashboard", endpoint = "budget", input = GetUrl, output = Json)]
pub async fn budget() -> Result<Option<String>, AppError> {
    let (state, caller) = super::context::caller().await?;
    let budget = services::costs::budget::get(&state.store, &caller).await?;
    Ok(budget.map(models::Usd::to_decimal_string))
}

/// Sets (a decimal amount of USD) or clears (empty) the monthly budget.
#[server(prefix = "/dashboard", endpoint = "budget/set", input = StrictJson, output = Json)]
pub async fn set_budget(#[server(default)] usd: Option<String>) -> Result<(), AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    let budget = usd
        .filter(|s| !s.trim().is_empty())
        .map(|s| models::Usd::parse(&s))
        .transpose()?;
    services::costs::budget::set(&state.store, &caller, budget).await
}
