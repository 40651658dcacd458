//! The Ask page's wire format. `POST /dashboard/ask/start` (JSON
//! `{"question", "database_id"}`, a server function) leaves the question
//! under a single-use ticket and answers the ticket; then
//! `GET /dashboard/ask/stream?ticket=` answers with server-sent events (the
//! server's `ask` route, read in the browser with gloo-net's `EventSource`).
//! The question never travels in a URL: proxies, browsers and access logs
//! keep URLs. A plain route for the stream rather than a server function: the
//! answer is a stream of events, not one JSON value.
//!
//! Every event is a default (`message`) event whose data is one [`AskEvent`]
//! as JSON, and carries an `id`: a browser that loses the connection
//! reconnects with `Last-Event-ID`, which the server answers with 204 (and
//! the browser stops) instead of asking the question, and paying, again.

use crate::api::costs::ChartData;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use models::ask::{Answer, EmailOutcome, Progress};
use models::codec::StrictJson;
use models::AppError;
use serde::{Deserialize, Serialize};

/// The stream's path.
pub const STREAM_PATH: &str = "/dashboard/ask/stream";
/// Its query fields.
pub const STREAM_FIELDS: &[&str] = &["ticket"];

/// One event of the stream: progress, then exactly one `Answer` or `Failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum AskEvent {
    Progress(Progress),
    /// The outcome, recorded (answered, failed or refused), with the chart
    /// of its rows when they make one.
    Answer {
        answer: Box<Answer>,
        chart: Option<ChartData>,
    },
    /// Nothing was asked of the model: why (not signed in, budget, rate
    /// limit, no database, no provider...).
    Failed(AppError),
}

impl AskEvent {
    /// Whether the stream ends with this event.
    pub fn is_last(&self) -> bool {
        !matches!(self, AskEvent::Progress(_))
    }
}

/// Leaves a question for the caller's stream; the ticket to open it with
/// (a minute, once). Asking costs money, so this is a change: checked
/// against cross-site requests like every other.
#[server(prefix = "/dashboard", endpoint = "ask/start", input = StrictJson, output = Json)]
pub async fn start_ask(question: String, database_id: Option<String>) -> Result<String, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    let database_id = match database_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(models::ConnectionId::parse(id).map_err(|_| {
            AppError::bad_request("That database id is not valid: choose a database from the list.")
        })?),
    };
    let request = models::ask::AskRequest {
        question,
        database_id,
    };
    services::ask::tickets::issue(&state.store, &caller, &request).await
}

/// Sends a drafted email (or retries one whose sending failed).
#[server(prefix = "/dashboard", endpoint = "ask/email/send", input = StrictJson, output = Json)]
pub async fn send_email(email_id: i64) -> Result<EmailOutcome, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::email::confirm(&state, &caller, email_id).await
}

/// Cancels a drafted email.
#[server(prefix = "/dashboard", endpoint = "ask/email/cancel", input = StrictJson, output = Json)]
pub async fn cancel_email(email_id: i64) -> Result<EmailOutcome, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::email::cancel(&state, &caller, email_id).await
}

/// The stream's URL for a ticket from [`start_ask`] (percent-encoded).
pub fn stream_url(ticket: &str) -> String {
    format!("{STREAM_PATH}?ticket={}", encode(ticket))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_percent_encoded_into_the_url() {
        assert_eq!(stream_url("0a1b"), "/dashboard/ask/stream?ticket=0a1b");
        assert_eq!(
            stream_url("a&b c"),
            "/dashboard/ask/stream?ticket=a%26b%20c"
        );
    }

    #[test]
    fn events_read_back_as_written() {
        let event = AskEvent::Progress(Progress::SqlReady {
            sql: "SELECT 1".into(),
        });
        let json = serde_json::to_string(&event).expect("json");
        assert_eq!(
            json,
            r#"{"kind":"progress","data":{"event":"sql_ready","sql":"SELECT 1"}}"#
        );
        assert_eq!(serde_json::from_str::<AskEvent>(&json).ok(), Some(event));
        let failed = AskEvent::Failed(AppError::conflict("Choose a database first."));
        let json = serde_json::to_string(&failed).expect("json");
        assert_eq!(serde_json::from_str::<AskEvent>(&json).ok(), Some(failed));
    }
}
