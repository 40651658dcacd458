//! /start, /help, and remembering who writes.

use crate::text;
use models::org::TelegramProfile;
use models::AppError;
use services::AppState;
use teloxide::prelude::*;

/// Registers or refreshes the sender, so every later rule knows them.
pub async fn remember_sender(state: AppState, senders: Senders, msg: Message) {
    let Some(user) = msg.from.as_ref() else {
        return;
    };
    let Ok(user_id) = i64::try_from(user.id.0) else {
        return;
    };
    let profile = TelegramProfile {
        user_id,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
    };
    if senders.known(&profile) {
        return;
    }
    match services::users::register(&state.store, &profile).await {
        Ok(_) => senders.remember(&profile),
        Err(err) => tracing::warn!(error = %err, "could not remember a Telegram user"),
    }
}

/// The senders this process has written to the store lately, as they were
/// (name and username): a person's next messages skip the write unless
/// something changed. An entry lasts [`Senders::FOR`]; the outbox forgets a
/// person it finds unreachable, so their next message marks them reachable.
#[derive(Clone, Default)]
pub struct Senders {
    seen:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, (u64, std::time::Instant)>>>,
}

impl Senders {
    pub const FOR: std::time::Duration = std::time::Duration::from_secs(10 * 60);

    fn fingerprint(profile: &TelegramProfile) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&profile.username, &profile.first_name, &profile.last_name).hash(&mut hasher);
        hasher.finish()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, (u64, std::time::Instant)>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn known(&self, profile: &TelegramProfile) -> bool {
        self.lock()
            .get(&profile.user_id)
            .is_some_and(|(print, at)| {
                *print == Self::fingerprint(profile) && at.elapsed() < Self::FOR
            })
    }

    fn remember(&self, profile: &TelegramProfile) {
        let mut seen = self.lock();
        if seen.len() > 100_000 {
            seen.retain(|_, (_, at)| at.elapsed() < Self::FOR);
        }
        seen.insert(
            profile.user_id,
            (Self::fingerprint(profile), std::time::Instant::now()),
        );
    }

    /// The person's next message is written to the store again.
    pub fn forget(&self, user_id: i64) {
        self.lock().remove(&user_id);
    }
}

/// /start, or /start with a deep-link payload (`join_<code>` joins).
pub async fn start(state: &AppState, msg: &Message, payload: &str) -> Result<String, AppError> {
    if models::InviteCode::is_deep_link(payload) {
        return super::invitations::join(state, msg, payload).await;
    }
    let name = msg.from.as_ref().map_or("there", |u| u.first_name.as_str());
    Ok(text::welcome(name))
}

/// /help: the commands the caller's role may use.
pub async fn help(state: &AppState, msg: &Message) -> Result<String, AppError> {
    let caller = super::caller_of(state, msg).await?;
    let admin = caller
        .user_id
        .is_some_and(|id| services::operator::is_admin(state, id));
    Ok(text::help(caller.role, admin))
}

/// /dashboard: new dashboard credentials (the old password stops working),
/// only in a private chat.
pub async fn dashboard(state: &AppState, msg: &Message) -> Result<String, AppError> {
    if !msg.chat.is_private() {
        return Ok(text::private_only().to_owned());
    }
    let caller = super::caller_of(state, msg).await?;
    let creds = services::auth::credentials::reset(&state.store, &caller).await?;
    Ok(text::dashboard(&creds))
}

/// /email <address> (or /email off).
pub async fn email(state: &AppState, msg: &Message, address: &str) -> Result<String, AppError> {
    let caller = super::caller_of(state, msg).await?;
    if address.trim().is_empty() {
        let now =
            services::email::own_address(&state.store, caller.user_id.unwrap_or_default()).await?;
        return Ok(match now {
            Some(a) => format!("Emails you ask to be sent to \"me\" go to {a}. Change it with /email <address>, or /email off."),
            None => "Tabletalk has no address for you. Set one with /email ada@example.com, then ask \"... and email it to me\".".into(),
        });
    }
    Ok(
        match services::email::set_own_address(&state.store, &caller, Some(address)).await? {
            Some(a) => format!("Saved: emails you ask to be sent to \"me\" go to {a}."),
            None => "Forgotten: Tabletalk has no address for you now.".into(),
        },
    )
}

/// A command the bot does not know.
pub fn unknown_command() -> String {
    text::unknown_command().to_owned()
}

/// /admin stats (operators only).
pub async fn admin(state: &AppState, msg: &Message, args: &str) -> Result<String, AppError> {
    let user_id =
        super::sender_id(msg).ok_or_else(|| AppError::bad_request("Who sent this is unknown."))?;
    let today = models::Day::of_unix(services::clock::now());
    let stats = services::operator::admin_stats(state, user_id, today).await?;
    match args.trim() {
        "" | "stats" => Ok(text::admin_stats(&stats)),
        other => Err(AppError::bad_request(format!(
            "/admin knows \"stats\" only, not {other:?}."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_is_written_again_when_changed_or_forgotten() {
        let senders = Senders::default();
        let mut ada = TelegramProfile {
            user_id: 7,
            username: Some("ada".into()),
            first_name: "Ada".into(),
            last_name: None,
        };
        assert!(!senders.known(&ada));
        senders.remember(&ada);
        assert!(senders.known(&ada));
        ada.username = Some("ada_l".into());
        assert!(!senders.known(&ada), "a new username is written");
        senders.remember(&ada);
        senders.forget(7);
        assert!(!senders.known(&ada), "found unreachable: written again");
    }
}
