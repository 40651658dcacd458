//! Webhook mode (`TELEGRAM_WEBHOOK_URL`): Telegram posts each update to the
//! bot's address instead of the bot asking for them. The bot listens on
//! `TELEGRAM_WEBHOOK_LISTEN`, registers the address with setWebhook and a
//! secret token, and takes a post only when Telegram's
//! `X-Telegram-Bot-Api-Secret-Token` header carries that secret (wrong or
//! missing: 401). An update Telegram delivers twice (it retries when it did
//! not see a 2xx in time) is handled once: its id is remembered in the store
//! (`services::dialogues::first_delivery`), so a restart or a second bot
//! process behind the same address does not answer it again either.
//!
//! Stopping leaves the webhook registered: Telegram keeps the updates that
//! arrive while the bot is down and delivers them once it is back.

use crate::TgBot;
use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::ExposeSecret;
use services::AppState;
use std::convert::Infallible;
use teloxide::prelude::*;
use teloxide::stop::{mk_stop_token, StopToken};
use teloxide::types::Update;
use teloxide::update_listeners::{StatefulListener, UpdateListener};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

/// The header Telegram sends the secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
struct Hook {
    secret: std::sync::Arc<str>,
    store: services::Store,
    updates: mpsc::UnboundedSender<Result<Update, Infallible>>,
}

/// Listens on the configured address, registers the webhook with Telegram
/// and returns the listener the dispatcher reads updates from. The HTTP
/// server stops when the dispatcher stops the listener.
pub async fn listen(
    state: &AppState,
    bot: &TgBot,
) -> anyhow::Result<impl UpdateListener<Err = Infallible>> {
    let telegram = &state.config.telegram;
    let url = telegram
        .webhook_url
        .as_deref()
        .context("TELEGRAM_WEBHOOK_URL is not set")?;
    let url = url::Url::parse(url).context("TELEGRAM_WEBHOOK_URL is not a valid URL")?;
    let secret: String = match &telegram.webhook_secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None => hex::encode(
            services::random::bytes::<32>()
                .map_err(|e| anyhow::anyhow!("no randomness for a webhook secret: {e}"))?,
        ),
    };
    let socket = tokio::net::TcpListener::bind(telegram.webhook_listen)
        .await
        .with_context(|| {
            format!(
                "could not listen on {} for Telegram's posts (TELEGRAM_WEBHOOK_LISTEN)",
                telegram.webhook_listen
            )
        })?;
    let (updates, received) = mpsc::unbounded_channel();
    let hook = Hook {
        secret: secret.clone().into(),
        store: state.store.clone(),
        updates,
    };
    let path = match url.path() {
        "" => "/",
        path => path,
    };
    let app = axum::Router::new()
        .route(path, post(receive))
        .with_state(hook);
    let (stop_token, stop_flag) = mk_stop_token();
    tokio::spawn(async move {
        let served = axum::serve(socket, app)
            .with_graceful_shutdown(stop_flag)
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "the webhook server stopped");
        }
    });
    bot.set_webhook(url.clone())
        .secret_token(secret)
        .await
        .context("Telegram refused the webhook (setWebhook)")?;
    tracing::info!(
        listen = %telegram.webhook_listen,
        path,
        "webhook registered; Telegram posts updates to TELEGRAM_WEBHOOK_URL"
    );
    let stream = UnboundedReceiverStream::new(received);
    Ok(StatefulListener::new(
        (stream, stop_token),
        first_mut,
        |state: &mut (_, StopToken)| state.1.clone(),
    ))
}

fn first_mut<A, B>(pair: &mut (A, B)) -> &mut A {
    &mut pair.0
}

/// One post from Telegram.
async fn receive(
    State(hook): State<Hook>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same(given, hook.secret.as_bytes()) {
        tracing::warn!("a webhook post without the right secret token was refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(err) => {
            // Telegram would post it again and again: take it, and say why.
            tracing::warn!(error = %err, "a webhook post is not an update Telegram would send");
            return StatusCode::OK;
        }
    };
    let id = i64::from(update.id.0);
    if hook.updates.is_closed() {
        // The bot is stopping; Telegram posts it again once it is back.
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match services::dialogues::first_delivery(&hook.store, id).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(update_id = id, "an update delivered again was skipped");
            return StatusCode::OK;
        }
        // Not taken: Telegram posts it again later.
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE,
    }
    if hook.updates.send(Ok(update)).is_err() {
        // Stopped in between: forgotten again, so that Telegram's next post
        // of it is taken.
        let _ = services::dialogues::forget_delivery(&hook.store, id).await;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::OK
}

/// Compares secrets in time that does not depend on where they differ.
fn same(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_whole() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abd", b"abc"));
        assert!(!super::same(b"ab", b"abc"));
        assert!(!super::same(b"", b"abc"));
    }
}
