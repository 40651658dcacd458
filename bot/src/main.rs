//! `bot`: the Tabletalk Telegram bot (long polling).

use services::{AppState, Config};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    if config.telegram.token.is_none() {
        eprintln!("error: {}", bot::NO_TOKEN);
        return ExitCode::from(2);
    }
    services::telemetry::init(config.log_format);
    match start(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("the bot stopped: {err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn start(config: Config) -> anyhow::Result<()> {
    tracing::info!(store = %config.database_url_redacted(), "opening the store");
    let state = AppState::open(config).await?;
    bot::run(state).await
}
