//! Drafts: what the pipeline proposes is stored and previewed; nothing is
//! sent until the person confirms (or cancels) it.

use crate::error::internal;
use crate::{access, AppState, Store};
use models::ask::{EmailOutcome, EmailPreview};
use models::org::Caller;
use models::{Action, AppError, Day, OrgId, UserId};

/// Longest subject kept, in characters.
const SUBJECT_CHARS: usize = 200;
/// Longest body kept, in characters.
const BODY_CHARS: usize = 20_000;

/// "Ada Lovelace (@ada)" for the line naming who asked.
async fn who(store: &Store, user_id: UserId) -> Result<String, AppError> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT first_name, last_name, username FROM telegram_users WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(store.pool())
    .await
    .map_err(internal("reading who asked"))?;
    let Some((first, last, username)) = row else {
        return Ok(format!("Telegram user {user_id}"));
    };
    let mut name = [Some(first), last]
        .into_iter()
        .flatten()
        .filter(|n| !n.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        name = format!("Telegram user {user_id}");
    }
    Ok(match username {
        Some(u) if !u.is_empty() => format!("{name} (@{u})"),
        _ => name,
    })
}

/// What the pipeline hands over to be drafted.
pub struct NewEmail<'a> {
    pub user_id: UserId,
    pub org_id: Option<&'a OrgId>,
    pub conversation_id: Option<i64>,
    pub question: &'a str,
    pub recipients: Vec<String>,
    pub subject: &'a str,
    pub body: &'a str,
    /// The rows as CSV, and how many.
    pub attachment: Option<(String, usize)>,
}

/// Stores a draft and returns its preview (nothing is sent).
pub async fn draft(store: &Store, email: NewEmail<'_>) -> Result<EmailPreview, AppError> {
    let asked_by = who(store, email.user_id).await?;
    let subject: String = email
        .subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SUBJECT_CHARS)
        .collect::<String>()
        .trim()
        .to_owned();
    let subject = if subject.is_empty() {
        "Your Tabletalk result".to_owned()
    } else {
        subject
    };
    let text: String = email.body.trim().chars().take(BODY_CHARS).collect();
    let body = format!(
        "{text}\n\n--\nAsked by {asked_by} with Tabletalk: \u{201c}{}\u{201d}",
        email.question
    );
    let now = crate::clock::now();
    let (csv, rows) = match email.attachment {
        Some((csv, rows)) => (Some(csv), Some(rows)),
        None => (None, None),
    };
    // Made from a recorded question: it belongs where the question was
    // recorded (a personal database's question is the person's alone), and
    // it is not made once the person forgot the question (a /forgetme
    // between the answer and its draft).
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO emails (user_id, org_id, conversation_id, recipients, subject, body, \
         attachment_csv, status, created_at) \
         SELECT $1, COALESCE((SELECT c.org_id FROM conversations c WHERE c.conversation_id = $3), $2), \
         $3, $4, $5, $6, $7, 'draft', $8 \
         WHERE CAST($3 AS BIGINT) IS NULL OR EXISTS (SELECT 1 FROM conversations c \
         WHERE c.conversation_id = $3 AND c.user_id = $1) \
         RETURNING email_id",
    )
    .bind(email.user_id)
    .bind(email.org_id.map_or("", OrgId::as_str))
    .bind(email.conversation_id)
    .bind(email.recipients.join(","))
    .bind(subject.as_str())
    .bind(body.as_str())
    .bind(csv)
    .bind(now)
    .fetch_optional(store.pool())
    .await
    .map_err(internal("drafting an email"))?;
    let id = id.ok_or_else(|| {
        AppError::conflict("This question was removed at your request; no email was drafted.")
    })?;
    Ok(EmailPreview {
        email_id: id,
        recipients: email.recipients,
        subject,
        body,
        attached_rows: rows,
    })
}

/// The status of one of the caller's emails.
async fn status_of(store: &Store, user_id: UserId, email_id: i64) -> Result<String, AppError> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM emails WHERE email_id = $1 AND user_id = $2")
            .bind(email_id)
            .bind(user_id)
            .fetch_optional(store.pool())
            .await
            .map_err(internal("reading an email"))?;
    status.ok_or_else(|| AppError::not_found("There is no such email among yours."))
}

fn not_sendable(status: &str) -> AppError {
    AppError::conflict(match status {
        "queued" | "sending" => "This email is already on its way.",
        "sent" => "This email was already sent.",
        "cancelled" => "This email was cancelled; ask again to draft a new one.",
        _ => "This email cannot be sent.",
    })
}

/// Sends one of the caller's drafts (or re-queues one whose sending failed):
/// tried at once; when the mail server does not take it, it stays queued
/// and is retried in the background, and the answer says why.
#[tracing::instrument(level = "debug", skip_all, fields(email_id))]
pub async fn confirm(
    state: &AppState,
    caller: &Caller,
    email_id: i64,
) -> Result<EmailOutcome, AppError> {
    access::allow(caller, Action::AskQuestions)?;
    let user_id = access::user(caller)?;
    let status = status_of(&state.store, user_id, email_id).await?;
    if !matches!(status.as_str(), "draft" | "failed") {
        return Err(not_sendable(&status));
    }
    if !state.mailer.is_configured() {
        return Err(AppError::Unavailable {
            message: super::settings::NOT_CONFIGURED.to_owned(),
        });
    }
    let now = crate::clock::now();
    let today = Day::of_unix(now).0 * 86_400;
    // The count and the queueing in one write, under the person's lock
    // (SQLite's write lock; an advisory lock on PostgreSQL): two confirms
    // at once cannot both pass the limit.
    let mut tx = state
        .store
        .begin_write()
        .await
        .map_err(internal("starting to queue an email"))?;
    if state.store.backend() == crate::store::Backend::Postgres {
        crate::store::lock(
            &mut tx,
            crate::store::lock_space::EMAILS,
            &user_id.to_string(),
        )
        .await
        .map_err(internal("locking today's emails"))?;
    }
    let sent_today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM emails WHERE user_id = $1 AND queued_at >= $2 AND email_id <> $3",
    )
    .bind(user_id)
    .bind(today)
    .bind(email_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal("counting today's emails"))?;
    let limit = state.config.email.per_day;
    if sent_today >= limit {
        return Err(AppError::conflict(format!(
            "You have sent {sent_today} emails today, the daily limit of {limit}; the draft is \
             kept and can be sent tomorrow (UTC)."
        )));
    }
    let queued = sqlx::query(
        "UPDATE emails SET status = 'queued', queued_at = $1, next_attempt_at = $1, \
         attempts = 0, last_error = NULL \
         WHERE email_id = $2 AND user_id = $3 AND status IN ('draft', 'failed')",
    )
    .bind(now)
    .bind(email_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(internal("queueing an email"))?;
    tx.commit().await.map_err(internal("queueing an email"))?;
    if queued.rows_affected() == 0 {
        let status = status_of(&state.store, user_id, email_id).await?;
        return Err(not_sendable(&status));
    }
    super::queue::deliver(state, email_id).await
}

/// Cancels one of the caller's drafts.
pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    email_id: i64,
) -> Result<EmailOutcome, AppError> {
    access::allow(caller, Action::AskQuestions)?;
    let user_id = access::user(caller)?;
    let done = sqlx::query(
        "UPDATE emails SET status = 'cancelled' \
         WHERE email_id = $1 AND user_id = $2 AND status IN ('draft', 'failed')",
    )
    .bind(email_id)
    .bind(user_id)
    .execute(state.store.pool())
    .await
    .map_err(internal("cancelling an email"))?;
    if done.rows_affected() == 0 {
        let status = status_of(&state.store, user_id, email_id).await?;
        return Err(match status.as_str() {
            "cancelled" => AppError::conflict("This email was already cancelled."),
            other => not_sendable(other),
        });
    }
    Ok(EmailOutcome::Cancelled)
}
