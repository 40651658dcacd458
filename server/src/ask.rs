//! `GET /dashboard/ask/stream?ticket=`: a question asked from the
//! dashboard's Ask page (left under the ticket by `POST /dashboard/ask/start`,
//! so it never travels in a URL), answered as server-sent events (the wire
//! format is `app::api::ask`). Thin: the pipeline is `services::ask::ask`.
//!
//! The question runs in its own task: a person who closes the page does not
//! cancel a question whose calls already cost money; it is answered and
//! recorded, and shows on the conversations page.
//!
//! Asking costs money, so it is a change: a browser request from another
//! site is refused (the session cookie is `SameSite=Strict` besides).

use app::api::ask::{AskEvent, STREAM_FIELDS};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use models::ask::AskRequest;
use models::costs::Channel;
use models::AppError;
use serde::Deserialize;
use services::AppState;
use std::net::SocketAddr;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    ticket: String,
}

pub async fn stream(State(state): State<AppState>, parts: Parts) -> Response {
    // A browser reconnecting after a lost connection: the question was
    // already asked (and is still being answered and recorded); asking it
    // again would pay twice. 204 tells an EventSource to stop.
    if parts.headers.contains_key("last-event-id") {
        return StatusCode::NO_CONTENT.into_response();
    }
    let (events, rx) = unbounded_channel();
    match admitted(&state, &parts).await {
        Ok((caller, request)) => {
            // The question keeps the request's span (its id) in its own task.
            tokio::spawn(tracing::Instrument::instrument(
                async move {
                    let event = run(&state, &caller, &request, &events).await;
                    let _ = events.send(event);
                },
                tracing::Span::current(),
            ));
        }
        Err(error) => {
            let _ = events.send(AskEvent::Failed(error));
        }
    }
    let mut response = Sse::new(sse_events(rx))
        .keep_alive(KeepAlive::default())
        .into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Reverse proxies (nginx) would otherwise hold the events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The caller and their question, or why it cannot be asked.
async fn admitted(
    state: &AppState,
    parts: &Parts,
) -> Result<(models::org::Caller, AskRequest), AppError> {
    let Query(query) = Query::<StreamQuery>::try_from_uri(&parts.uri).map_err(|_| {
        AppError::bad_request(format!(
            "The query is not valid: this endpoint takes {}.",
            STREAM_FIELDS.join(", ")
        ))
    })?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let arrived =
        app::api::context::arrived_scheme(&parts.headers, peer, &state.config.trusted_proxies);
    if !app::api::context::same_origin(&parts.headers, state.config.public_url.as_deref(), arrived)
    {
        return Err(AppError::forbidden(
            "This request came from another site and was refused. Use Tabletalk's own pages.",
        ));
    }
    let token = app::api::context::token_from_headers(&parts.headers);
    let caller = app::api::context::caller_for_token(state, token.as_deref()).await?;
    let request = services::ask::tickets::take(&state.store, &caller, &query.ticket).await?;
    request.validated_question()?;
    Ok((caller, request))
}

/// Asks, forwarding the pipeline's progress; the last event.
async fn run(
    state: &AppState,
    caller: &models::org::Caller,
    request: &AskRequest,
    events: &UnboundedSender<AskEvent>,
) -> AskEvent {
    let (progress, mut received) = unbounded_channel();
    let forward = async {
        while let Some(step) = received.recv().await {
            let _ = events.send(AskEvent::Progress(step));
        }
    };
    let ask = async move {
        let answer =
            services::ask::ask(state, caller, request, Channel::Web, Some(&progress)).await;
        drop(progress);
        answer
    };
    let (answer, ()) = tokio::join!(ask, forward);
    match answer {
        Ok(answer) => {
            let chart = answer.result.as_ref().and_then(app::charts::result);
            AskEvent::Answer {
                answer: Box::new(answer),
                chart,
            }
        }
        Err(error) => AskEvent::Failed(error),
    }
}

/// The events as SSE, numbered; the stream ends after the last one.
fn sse_events(
    rx: UnboundedReceiver<AskEvent>,
) -> impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>> {
    futures_util::stream::unfold((rx, 0u32, false), |(mut rx, n, done)| async move {
        if done {
            return None;
        }
        let event = rx.recv().await?;
        let last = event.is_last();
        let sse = match serde_json::to_string(&event) {
            Ok(json) => Event::default().id(n.to_string()).data(json),
            Err(_) => Event::default()
                .id(n.to_string())
                .comment("unserializable event"),
        };
        Some((Ok(sse), (rx, n + 1, last)))
    })
}
