//! The organization: /createorg, /org (/orginfo), /members, /invite, /leave
//! (confirmed with a button), /removemember.

use super::{caller_of, Reply};
use crate::callback::{self, Callback};
use crate::text;
use models::{AppError, Role};
use services::AppState;
use teloxide::prelude::*;

/// /createorg <name>: the caller founds an organization and becomes its
/// owner; the answer carries their dashboard sign-in, so private chats only.
pub async fn create(state: &AppState, msg: &Message, name: &str) -> Result<String, AppError> {
    if !msg.chat.is_private() {
        return Ok(text::private_only().to_owned());
    }
    if name.trim().is_empty() {
        return Err(AppError::bad_request(
            "Name the organization: /createorg Acme Analytics",
        ));
    }
    let caller = caller_of(state, msg).await?;
    let (org, creds) = services::orgs::create(&state.store, &caller, name).await?;
    Ok(text::org_created(&org.name, &creds))
}

/// /org and /orginfo.
pub async fn info(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = caller_of(state, msg).await?;
    if caller.org_id.is_none() {
        return Ok(text::no_org().to_owned());
    }
    let today = models::Day::of_unix(services::clock::now());
    let o = services::orgs::overview(state, &caller, today).await?;
    Ok(text::org_info(&o))
}

/// /members.
pub async fn members(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = caller_of(state, msg).await?;
    if caller.org_id.is_none() {
        return Ok(text::no_org().to_owned());
    }
    let list = services::orgs::members::list(&state.store, &caller).await?;
    Ok(text::members(&list))
}

/// /invite [uses] [days] (defaults: one use, seven days).
pub async fn invite(
    bot: &crate::TgBot,
    state: &AppState,
    msg: &Message,
    args: &str,
) -> Result<String, AppError> {
    let mut numbers = args.split_whitespace().map(|a| {
        a.parse::<i64>().map_err(|_| {
            AppError::bad_request(format!(
                "{a:?} is not a whole number. Use /invite [uses] [days], like /invite 5 7."
            ))
        })
    });
    let uses = numbers.next().transpose()?.unwrap_or(1);
    let days = numbers.next().transpose()?.unwrap_or(7);
    if numbers.next().is_some() {
        return Err(AppError::bad_request(
            "Too many numbers. Use /invite [uses] [days], like /invite 5 7.",
        ));
    }
    let caller = caller_of(state, msg).await?;
    let invitation = services::orgs::invitations::create(&state.store, &caller, uses, days).await?;
    let username = match state.config.telegram.bot_username.clone() {
        Some(u) => Some(u),
        None => bot.get_me().await.ok().map(|me| me.username().to_owned()),
    };
    Ok(text::invitation(&invitation, username.as_deref()))
}

/// /leave: asks first (owners are told to delete or hand over instead).
pub async fn leave(state: &AppState, msg: &Message) -> Result<Reply, AppError> {
    let caller = caller_of(state, msg).await?;
    if caller.org_id.is_none() {
        return Ok(text::no_org().into());
    }
    if caller.role == Role::Owner {
        return Err(AppError::forbidden(
            "You own this organization, so you cannot leave it. Remove the members first, or ask the operator to delete it.",
        ));
    }
    Ok(Reply {
        text: "Leave your organization? You will lose access to its databases.".into(),
        buttons: Some(callback::confirm(Callback::Leave, "Leave")),
    })
}

/// The confirmed /leave.
pub async fn leave_confirmed(state: &AppState, q: &CallbackQuery) -> Result<String, AppError> {
    let caller = super::buttons::presser(state, q).await?;
    services::orgs::members::leave(&state.store, &caller).await?;
    Ok("You have left the organization. Send /createorg to found one, or /join <code> to join another.".into())
}

/// /removemember <user id or @username>.
pub async fn remove_member(state: &AppState, msg: &Message, who: &str) -> Result<String, AppError> {
    let who = who.trim();
    if who.is_empty() {
        return Err(AppError::bad_request(
            "Say whom to remove: /removemember 123456789 or /removemember @username (see /members).",
        ));
    }
    let caller = caller_of(state, msg).await?;
    let list = services::orgs::members::list(&state.store, &caller).await?;
    let found = match who.strip_prefix('@') {
        Some(name) => list.iter().find(|m| {
            m.username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(name))
        }),
        None => {
            let id = who.parse::<i64>().map_err(|_| {
                AppError::bad_request(format!(
                    "{who:?} is neither a Telegram user id nor an @username."
                ))
            })?;
            list.iter().find(|m| m.user_id == id)
        }
    };
    let Some(member) = found else {
        return Err(AppError::not_found(format!(
            "{who} is not a member of your organization (see /members)."
        )));
    };
    services::orgs::members::remove(&state.store, &caller, member.user_id).await?;
    Ok(format!("{} is no longer a member.", member.name))
}
