//! Tabletalk's Telegram bot (DESIGN.md §7), built as teloxide's examples are:
//! a `Command` enum whose doc strings become /help, the handler tree in
//! [`schema::schema`], dependencies injected with `deps!`, reply texts in [`text`].

pub mod callback;
pub mod chart;
pub mod commands;
pub mod deliver;
pub mod dialogue;
pub mod handlers;
pub mod menus;
pub mod outbox;
pub mod schema;
pub mod text;
pub mod webhook;

use anyhow::Context;
use secrecy::ExposeSecret;
use services::AppState;
use teloxide::adaptors::throttle::Limits;
use teloxide::adaptors::Throttle;
use teloxide::prelude::*;

pub use commands::Command;

/// The Bot API client every handler uses: requests are queued to respect
/// Telegram's limits (30 messages a second, one a second per chat, 20 a
/// minute per group).
pub type TgBot = Throttle<Bot>;

/// Why the bot cannot start.
pub const NO_TOKEN: &str = "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in \
     Telegram, then start the bot with TELEGRAM_BOT_TOKEN=<the token it gives you>.";

/// The Bot API client for this configuration (token and API base URL), throttled.
pub fn client(state: &AppState) -> anyhow::Result<TgBot> {
    let token = state.config.telegram.token.as_ref().context(NO_TOKEN)?;
    let api_url = url::Url::parse(&state.config.telegram.api_url)
        .context("TELEGRAM_API_URL is not a valid URL")?;
    Ok(Bot::new(token.expose_secret())
        .set_api_url(api_url)
        .throttle(Limits::default()))
}

/// The dispatcher type [`dispatcher`] builds.
pub type TgDispatcher =
    teloxide::dispatching::Dispatcher<TgBot, anyhow::Error, teloxide::dispatching::DefaultKey>;

/// Builds the dispatcher with its own client; the caller runs `.dispatch()`
/// and may keep its shutdown token.
pub async fn dispatcher(state: AppState) -> anyhow::Result<TgDispatcher> {
    let bot = client(&state)?;
    dispatcher_with(bot, state, handlers::account::Senders::default()).await
}

/// [`dispatcher`] on `bot` (a clone shares its Throttle queue, so every
/// sender in the process counts against one set of Telegram's limits) and
/// sharing `senders` with the outbox drain.
pub async fn dispatcher_with(
    bot: TgBot,
    state: AppState,
    senders: handlers::account::Senders,
) -> anyhow::Result<TgDispatcher> {
    let me = bot
        .get_me()
        .await
        .context("could not reach the Telegram Bot API (is the token right?)")?;
    tracing::info!(bot = %me.username(), "connected to the Bot API");
    menus::Menus::publish_default(&bot).await;
    let dialogues = dialogue::StoreStorage::new(state.store.clone());
    Ok(Dispatcher::builder(bot, schema::schema())
        .dependencies(dptree::deps![
            state,
            dialogues,
            me,
            menus::Menus::default(),
            senders
        ])
        .default_handler(|_update| async {})
        .error_handler(std::sync::Arc::new(|err: anyhow::Error| async move {
            services::metrics::bot_error("handler");
            tracing::error!(error = %format!("{err:#}"), "a bot handler failed");
        }))
        .build())
}

/// A bot that is running: its dispatcher, the outbox drain and the email
/// sender, until [`Running::stop`] or SIGTERM or Ctrl-C.
pub struct Running {
    shutdown: teloxide::dispatching::ShutdownToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops taking updates, lets the ones in hand finish, and waits.
    pub async fn stop(self) {
        if let Ok(done) = self.shutdown.shutdown() {
            done.await;
        }
        let _ = self.task.await;
    }

    /// Waits until the bot stops (SIGTERM or Ctrl-C).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts the bot: long polling, or webhook mode when `TELEGRAM_WEBHOOK_URL`
/// is set ([`webhook`]; the webhook is registered before this returns).
/// SIGTERM or Ctrl-C stops the dispatcher after the updates in hand are answered.
pub async fn start(state: AppState) -> anyhow::Result<Running> {
    services::metrics::install();
    // Bound before anything starts, so a taken port stops the start with a clear message.
    let metrics = match state.config.telegram.metrics_listen {
        Some(addr) => Some(metrics_endpoint(state.clone(), addr).await?),
        None => None,
    };
    // One client for everything this process sends: one Throttle queue.
    let bot = client(&state)?;
    let webhook = match state.config.telegram.webhook_url {
        Some(_) => Some(webhook::listen(&state, &bot).await?),
        None => None,
    };
    let senders = handlers::account::Senders::default();
    let mut dispatcher = dispatcher_with(bot.clone(), state.clone(), senders.clone()).await?;
    let shutdown = dispatcher.shutdown_token();
    let signals = tokio::spawn(stop_on_signal(shutdown.clone(), state.clone()));
    // Every background job (services::workers), and the bot's own outbox
    // drain. Email results the mail server did not take at once are retried
    // here too: a bot without a dashboard server still delivers them.
    let mut jobs = services::workers::standard();
    jobs.push(std::sync::Arc::new(outbox::Outbox::new(bot, senders)));
    let workers = services::workers::start(state.clone(), jobs);
    let grace = state.config.shutdown_grace;
    let task = tokio::spawn(async move {
        match webhook {
            Some(listener) => {
                dispatcher
                    .dispatch_with_listener(
                        listener,
                        LoggingErrorHandler::with_custom_text("the webhook listener failed"),
                    )
                    .await;
            }
            None => {
                tracing::info!("bot is polling for updates");
                dispatcher.dispatch().await;
            }
        }
        signals.abort();
        workers.stop(grace).await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
    });
    Ok(Running { shutdown, task })
}

/// On SIGTERM or Ctrl-C: no new updates; the ones in hand are answered,
/// and questions still running when the grace period
/// (`TABLETALK_SHUTDOWN_GRACE_SECS`) ends are interrupted, recorded as such
/// and answered so.
async fn stop_on_signal(shutdown: teloxide::dispatching::ShutdownToken, state: AppState) {
    services::shutdown::signal().await;
    let grace = state.config.shutdown_grace;
    tracing::info!(
        grace_secs = grace.as_secs(),
        "stopping: no new updates, finishing the ones in hand"
    );
    let questions = state.shutdown.clone();
    tokio::spawn(async move { questions.drain(grace).await });
    match shutdown.shutdown() {
        Ok(done) => done.await,
        Err(_) => tracing::info!("the dispatcher was not running"),
    }
}

/// Serves Prometheus `/metrics` (and `/healthz`) on `addr`
/// (`TABLETALK_BOT_METRICS_LISTEN`) until aborted.
async fn metrics_endpoint(
    state: AppState,
    addr: std::net::SocketAddr,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("could not listen on {addr} for /metrics (set TABLETALK_BOT_METRICS_LISTEN to another address)")
    })?;
    let router = axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics_page))
        .with_state(state);
    tracing::info!("bot metrics at http://{addr}/metrics");
    Ok(tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(err) = axum::serve(listener, service).await {
            tracing::warn!(error = %err, "the metrics endpoint stopped");
        }
    }))
}

/// The bot's `/metrics`: for this machine or a scraper with the metrics
/// token ([`services::metrics::may_scrape`]); a refusal is the JSON error.
async fn metrics_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::http::{header::CONTENT_TYPE, StatusCode};
    use axum::response::IntoResponse;
    let scraper = services::metrics::Scraper::of(Some(peer.ip()), &headers);
    match services::metrics::may_scrape(scraper, state.config.metrics_token.as_ref()) {
        Ok(()) => (
            [(CONTENT_TYPE, services::metrics::CONTENT_TYPE)],
            services::metrics::render(&state).await,
        )
            .into_response(),
        Err(refused) => (
            StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::FORBIDDEN),
            [(CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&refused).unwrap_or_default(),
        )
            .into_response(),
    }
}

/// Runs the bot until SIGTERM or Ctrl-C.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    start(state).await?.wait().await;
    Ok(())
}
