//! The organization's pages: `/dashboard/overview`, `/members`, `/members/add`,
//! `/members/remove`, `/invitations`, `/invitations/create`,
//! `/invitations/revoke`, `/audit` (seed §4). Thin: each calls one service.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use models::codec::StrictJson;
use models::org::{AuditEntry, Invitation, Member, MemberAdded, OrgOverview};
use models::AppError;

/// The organization's cards (seed: stats, member count, database count).
#[server(prefix = "/dashboard", endpoint = "overview", input = GetUrl, output = Json)]
pub async fn overview() -> Result<OrgOverview, AppError> {
    let (state, caller) = super::context::caller().await?;
    let today = models::Day::of_unix(services::clock::now());
    services::orgs::overview(&state, &caller, today).await
}

/// Members, owner first.
#[server(prefix = "/dashboard", endpoint = "members", input = GetUrl, output = Json)]
pub async fn members() -> Result<Vec<Member>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::orgs::members::list(&state.store, &caller).await
}

/// Adds a Telegram user (who has written to the bot) by id. The seed's
/// `{username, password}` fields are answered as `null`: the member gets
/// their sign-in from the bot, never through the owner.
#[server(prefix = "/dashboard", endpoint = "members/add", input = StrictJson, output = Json)]
pub async fn add_member(user_id: i64) -> Result<MemberAdded, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::orgs::members::add(&state.store, &caller, user_id).await
}

/// Removes a member (not the owner).
#[server(prefix = "/dashboard", endpoint = "members/remove", input = StrictJson, output = Json)]
pub async fn remove_member(user_id: i64) -> Result<(), AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::orgs::members::remove(&state.store, &caller, user_id).await
}

/// Every invitation with its status, newest first.
#[server(prefix = "/dashboard", endpoint = "invitations", input = GetUrl, output = Json)]
pub async fn invitations() -> Result<Vec<Invitation>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::orgs::invitations::list(&state.store, &caller).await
}

/// A new invitation code for `max_uses` people, valid `days` days.
#[server(prefix = "/dashboard", endpoint = "invitations/create", input = StrictJson, output = Json)]
pub async fn create_invitation(max_uses: i64, days: i64) -> Result<Invitation, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::orgs::invitations::create(&state.store, &caller, max_uses, days).await
}

/// Revokes an invitation: nobody can join with it any more.
#[server(prefix = "/dashboard", endpoint = "invitations/revoke", input = StrictJson, output = Json)]
pub async fn revoke_invitation(code: String) -> Result<(), AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::orgs::invitations::revoke(&state.store, &caller, &code).await
}

/// The newest entries of the organization's audit log (owners).
#[server(prefix = "/dashboard", endpoint = "audit", input = GetUrl, output = Json)]
pub async fn audit_log() -> Result<Vec<AuditEntry>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::audit::list(&state.store, &caller, models::org::MAX_AUDIT_ENTRIES).await
}

/// The bot's @username, for invitation deep links (`TELEGRAM_BOT_USERNAME`), if configured.
#[server(prefix = "/dashboard", endpoint = "bot", input = GetUrl, output = Json)]
pub async fn bot_username() -> Result<Option<String>, AppError> {
    let (state, _) = super::context::caller().await?;
    Ok(state.config.telegram.bot_username.clone())
}
