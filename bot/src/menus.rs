//! Telegram's command menu (the "/" button), per person: everyone starts
//! with the menu of someone without an organization (the default scope);
//! once a person uses a command in a private chat, their chat gets the menu
//! of their role (and /admin for operators), published again whenever the
//! role changes (founding, joining, leaving, being removed).

use crate::{Command, TgBot};
use models::Role;
use services::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use teloxide::prelude::*;
use teloxide::types::{BotCommandScope, Recipient};

/// The menu last published for each chat in this process.
#[derive(Clone, Default)]
pub struct Menus {
    published: Arc<Mutex<HashMap<i64, (Role, bool)>>>,
}

impl Menus {
    /// Publishes the default menu: what a person without an organization may use.
    pub async fn publish_default(bot: &TgBot) {
        if let Err(err) = bot
            .set_my_commands(Command::menu(Role::Individual, false))
            .await
        {
            tracing::warn!(error = %err, "could not publish the command menu");
        }
    }

    /// Publishes `msg`'s sender's menu in their private chat if it is not
    /// the one published there last. Best effort: a failure is logged.
    pub async fn refresh(&self, bot: &TgBot, state: &AppState, msg: &Message) {
        if let (true, Some(user_id)) = (msg.chat.is_private(), crate::handlers::sender_id(msg)) {
            self.refresh_chat(bot, state, user_id).await;
        }
    }

    /// The same after a button press in a private chat (leaving changes the role).
    pub async fn refresh_after_press(&self, bot: &TgBot, state: &AppState, q: &CallbackQuery) {
        let private = q.message.as_ref().is_some_and(|m| m.chat().is_private());
        if let (true, Ok(user_id)) = (private, i64::try_from(q.from.id.0)) {
            self.refresh_chat(bot, state, user_id).await;
        }
    }

    /// A private chat's id is its person's id.
    async fn refresh_chat(&self, bot: &TgBot, state: &AppState, user_id: i64) {
        let role = match services::access::caller(&state.store, user_id).await {
            Ok(caller) => caller.role,
            Err(_) => return,
        };
        let admin = services::operator::is_admin(state, user_id);
        {
            let published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            if published.get(&user_id) == Some(&(role, admin)) {
                return;
            }
        }
        let scope = BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(user_id)),
        };
        match bot
            .set_my_commands(Command::menu(role, admin))
            .scope(scope)
            .await
        {
            Ok(_) => {
                self.published
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(user_id, (role, admin));
            }
            Err(err) => tracing::warn!(error = %err, "could not publish a person's command menu"),
        }
    }
}
