//! What server functions and bot handlers get from start-up: built once.

use crate::costs::PriceTable;
use crate::{Config, Store};
use std::sync::Arc;

/// The shared context: the store, the configuration and the price table.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub prices: Arc<PriceTable>,
}

impl AppState {
    /// Opens the store named by the configuration (running migrations).
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        AppState::new(store, config)
    }

    /// Builds the state around an open store; loads the prices file if configured.
    pub fn new(store: Store, config: Config) -> anyhow::Result<Self> {
        let prices = PriceTable::load(config.prices_file.as_deref())?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            prices: Arc::new(prices),
        })
    }
}
