//! `bot`: the Tabletalk Telegram bot (long polling).

use anyhow::Context;
use services::{AppState, Config};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is optional; a malformed one is reported, not ignored.
    if let Err(err) = dotenv() {
        eprintln!("error: {err:#}");
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
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

fn dotenv() -> anyhow::Result<()> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(err) if err.not_found() => Ok(()),
        Err(err) => Err(err).context("could not read .env"),
    }
}

async fn start(config: Config) -> anyhow::Result<()> {
    tracing::info!(store = %config.database_url_redacted(), "opening the store");
    let state = AppState::open(config).await?;
    bot::run(state).await
}
