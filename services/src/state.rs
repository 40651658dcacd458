//! What server functions and bot handlers get from start-up: built once.

use crate::{Config, Store};
use std::sync::Arc;

/// The shared context: the store and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
}

impl AppState {
    /// Opens the store named by the configuration (running migrations).
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        Ok(AppState {
            store,
            config: Arc::new(config),
        })
    }
}
