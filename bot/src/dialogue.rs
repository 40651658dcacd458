//! The /adddb dialogue's state, kept in the store through a teloxide
//! `Storage` (`services::dialogues`): a restart, or another bot process,
//! carries on where the person was. Only the name and the kind are kept; the
//! connection string is never stored here.

use serde::{Deserialize, Serialize};
use services::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use teloxide::dispatching::dialogue::{Dialogue, Storage};
use teloxide::types::ChatId;

/// Where a chat is in /adddb.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum AddDb {
    /// No dialogue: messages are questions.
    #[default]
    Idle,
    /// Waiting for the database's name.
    Name,
    /// Waiting for a press on a kind button.
    Kind { name: String },
    /// Waiting for the connection string (deleted as soon as it is read).
    Connection {
        name: String,
        kind: models::targets::TargetKind,
    },
    /// The dialogue sat for longer than `services::dialogues::TIMEOUT_SECS`:
    /// said once, then ended. Never stored.
    #[serde(skip)]
    TimedOut,
}

/// The dialogue of one chat.
pub type AddDbDialogue = Dialogue<AddDb, StoreStorage>;

/// teloxide's `Storage` over Tabletalk's store (SQLite or PostgreSQL).
pub struct StoreStorage {
    store: Store,
}

impl StoreStorage {
    pub fn new(store: Store) -> Arc<StoreStorage> {
        Arc::new(StoreStorage { store })
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, models::AppError>> + Send>>;

impl Storage<AddDb> for StoreStorage {
    type Error = models::AppError;

    fn remove_dialogue(self: Arc<Self>, chat_id: ChatId) -> Boxed<()> {
        Box::pin(async move { services::dialogues::remove(&self.store, chat_id.0).await })
    }

    fn update_dialogue(self: Arc<Self>, chat_id: ChatId, dialogue: AddDb) -> Boxed<()> {
        Box::pin(async move {
            if matches!(dialogue, AddDb::Idle | AddDb::TimedOut) {
                return services::dialogues::remove(&self.store, chat_id.0).await;
            }
            let state = serde_json::to_string(&dialogue).map_err(|e| {
                tracing::error!(error = %e, "a dialogue could not be written as JSON");
                models::AppError::internal()
            })?;
            services::dialogues::put(&self.store, chat_id.0, &state).await
        })
    }

    fn get_dialogue(self: Arc<Self>, chat_id: ChatId) -> Boxed<Option<AddDb>> {
        Box::pin(async move {
            let Some(stored) = services::dialogues::get(&self.store, chat_id.0).await? else {
                return Ok(None);
            };
            if stored.timed_out {
                return Ok(Some(AddDb::TimedOut));
            }
            // A state this version cannot read (written by another) starts afresh.
            Ok(serde_json::from_str(&stored.state).ok())
        })
    }
}
