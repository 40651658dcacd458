//! Tabletalk's axum server: the Leptos dashboard (SSR + hydration), its server
//! functions at `/dashboard/...`, health endpoints and the operator CLI.

pub mod api_errors;
pub mod ask;
pub mod cli;
pub mod export;
pub mod health;
pub mod http;
pub mod site;

use axum::extract::FromRef;
use axum::handler::Handler;
use axum::routing::get;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use services::AppState;
use std::path::PathBuf;

/// The router's state: Leptos' options for rendering, and our services.
#[derive(Clone, FromRef)]
pub struct ServerState {
    pub leptos_options: LeptosOptions,
    pub app: AppState,
}

/// Every route of the server: pages, server functions and health answers
/// compressed on the fly (brotli or gzip, as the client accepts); the site
/// root's files (`/pkg/...`, `/echarts.min.js`) precompressed at build time;
/// all of it inside the layers of [`http::surface`].
pub fn router(app: AppState, leptos_options: LeptosOptions) -> Router {
    // Counters start with the first router (several in one test process share them).
    services::metrics::install();
    let https = app
        .config
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let state = ServerState {
        leptos_options: leptos_options.clone(),
        app: app.clone(),
    };
    let site_root = PathBuf::from(leptos_options.site_root.as_ref());
    let pkg = leptos_options.site_pkg_dir.to_string();
    // cargo-leptos' `hash-files` puts a content hash in the /pkg file names.
    let pkg_cache = if leptos_options.hash_files {
        http::IMMUTABLE
    } else {
        http::NO_CACHE
    };
    let shell_options = leptos_options.clone();
    let routes = generate_route_list(app::App);
    let dynamic = Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/dashboard/costs/export.csv", get(export::ledger_csv))
        .route(app::api::ask::STREAM_PATH, get(ask::stream))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(app.clone()),
            move || app::shell(shell_options.clone()),
        )
        .layer(middleware::from_fn(api_errors::with_status))
        .layer(middleware::from_fn(health::record))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state.clone());
    // Not a file: the not-found page.
    let not_found =
        leptos_axum::file_and_error_handler::<ServerState, _>(app::shell).with_state(state);
    let files = Router::new()
        .nest(
            &format!("/{pkg}"),
            // A missing bundle file is a plain 404, not a rendered page.
            http::static_files(
                &site_root.join(&pkg),
                pkg_cache,
                axum::routing::any(|| async { axum::http::StatusCode::NOT_FOUND }),
            ),
        )
        .merge(http::static_files(&site_root, http::ONE_DAY, not_found));
    http::surface(
        dynamic.merge(files),
        https,
        models::codec::MAX_REQUEST_BODY_BYTES,
    )
}

/// Serves until Ctrl-C or SIGTERM, then finishes open requests and closes the store.
pub async fn serve(app: AppState, leptos_options: LeptosOptions) -> anyhow::Result<()> {
    use anyhow::Context;
    let addr = leptos_options.site_addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("could not listen on {addr} (set LEPTOS_SITE_ADDR to another address)")
    })?;
    let store = app.store.clone();
    // Every background job (DESIGN.md §1: services::workers), and the
    // server's own: expired sessions and old login attempts.
    let mut jobs = services::workers::standard();
    jobs.push(std::sync::Arc::new(services::workers::Housekeeping));
    let workers = services::workers::start(app.clone(), jobs);
    let shutdown = app.shutdown.clone();
    let grace = app.config.shutdown_grace;
    let router = router(app, leptos_options);
    tracing::info!("listening on http://{addr}");
    println!("Tabletalk is running at {}", site::browser_url(addr));
    // On SIGTERM or Ctrl-C: no new connections; the requests in hand finish
    // (a question's stream ends with its answer); questions still running
    // when the grace period ends are interrupted and recorded as such.
    let (stopping, signalled) = tokio::sync::watch::channel(None::<tokio::time::Instant>);
    let drain = {
        let shutdown = shutdown.clone();
        let mut signalled = signalled.clone();
        async move {
            let _ = signalled.wait_for(Option::is_some).await;
            let deadline = tokio::time::Instant::now() + grace;
            shutdown.drain(grace).await;
            // Requests still open get the rest of the grace period, and at
            // least a moment to send what an interrupted question recorded.
            let moment = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
            tokio::time::sleep_until(deadline.max(moment)).await;
        }
    };
    // No Nagle: the Ask stream writes small events one after another, and
    // each would otherwise wait for the client's delayed ACK (~40 ms).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        services::shutdown::signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "stopping: no new connections, finishing the requests in hand"
        );
        let _ = stopping.send(Some(tokio::time::Instant::now()));
    });
    tokio::select! {
        served = server => served.context("the HTTP server failed")?,
        () = drain => tracing::warn!("open connections did not end within the grace period"),
    }
    // A question whose page went away runs on without a connection: wait for
    // it too, within what is left of the grace period.
    let left = signalled
        .borrow()
        .map_or(grace, |since| grace.saturating_sub(since.elapsed()));
    shutdown.drain(left).await;
    // A job's step in hand gets what is left of the grace period too.
    let left = signalled
        .borrow()
        .map_or(grace, |since| grace.saturating_sub(since.elapsed()));
    workers.stop(left).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
