//! What server functions and bot handlers get from start-up: built once.

use crate::costs::answers::Answers;
use crate::costs::PriceTable;
use crate::llm::Llm;
use crate::{Config, Store};
use std::sync::Arc;
use targets::Targets;

/// The shared context: the store, the configuration, the price table, the
/// pools of users' databases and the analytics answers this process remembers.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub prices: Arc<PriceTable>,
    pub targets: Arc<Targets>,
    pub answers: Answers,
    /// The language-model client (configured or not: asking says which variable is missing).
    pub llm: Llm,
    /// The mail server for email results (configured or not).
    pub mailer: crate::email::Mailer,
    /// Stopping: the questions running in this process, interrupted after the grace period.
    pub shutdown: crate::shutdown::Shutdown,
}

impl AppState {
    /// Opens the store named by the configuration (running migrations).
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        AppState::new(store, config)
    }

    /// Builds the state around an open store; loads the prices file if
    /// configured and the key for stored connection strings.
    pub fn new(store: Store, config: Config) -> anyhow::Result<Self> {
        let prices = PriceTable::load(config.prices_file.as_deref())?;
        let targets = Targets::new(config.targets_settings())?;
        let config = Arc::new(config);
        let llm = Llm::new(config.clone())?;
        let mailer = crate::email::Mailer::new(&config.email)?;
        Ok(AppState {
            mailer,
            llm,
            store,
            config,
            prices: Arc::new(prices),
            targets: Arc::new(targets),
            answers: Answers::default(),
            shutdown: crate::shutdown::Shutdown::default(),
        })
    }
}
