//! The send queue: a confirmed email is claimed, sent, and on failure
//! retried with growing waits; the person is told of a late success or the
//! last failure through the bot's outbox.

use crate::error::internal;
use crate::AppState;
use lettre::AsyncTransport;
use models::ask::EmailOutcome;
use models::{AppError, UserId};

/// Sends after the first: waits of 1, 2, 4, 8 and 16 minutes, then failed.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long a sender holds a claimed email before another may take it over.
const CLAIM_SECS: i64 = 120;

/// Sends every queued email that is due (and takes over ones a dead process
/// held); how many were sent.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    if !state.mailer.is_configured() {
        return Ok(0);
    }
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT email_id FROM emails WHERE status IN ('queued', 'sending') \
         AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 50",
    )
    .bind(crate::clock::now())
    .fetch_all(state.store.pool())
    .await
    .map_err(internal("reading due emails"))?;
    let mut sent = 0;
    for id in due {
        if let Ok(EmailOutcome::Sent { .. }) = deliver(state, id).await {
            sent += 1;
        }
    }
    Ok(sent)
}

type Row = (i64, String, String, String, Option<String>, i64);

/// Claims one due email, sends it, records the outcome.
pub(super) async fn deliver(state: &AppState, email_id: i64) -> Result<EmailOutcome, AppError> {
    let Some((transport, from)) = &state.mailer.inner else {
        return Err(AppError::Unavailable {
            message: super::settings::NOT_CONFIGURED.to_owned(),
        });
    };
    let now = crate::clock::now();
    let claimed = sqlx::query(
        "UPDATE emails SET status = 'sending', next_attempt_at = $1 \
         WHERE email_id = $2 AND status IN ('queued', 'sending') AND next_attempt_at <= $3",
    )
    .bind(now + CLAIM_SECS)
    .bind(email_id)
    .bind(now)
    .execute(state.store.pool())
    .await
    .map_err(internal("claiming an email"))?;
    if claimed.rows_affected() == 0 {
        return Ok(EmailOutcome::Queued {
            reason: "Another Tabletalk process is sending it.".into(),
        });
    }
    let (user_id, recipients, subject, body, csv, attempts): Row = sqlx::query_as(
        "SELECT user_id, recipients, subject, body, attachment_csv, attempts \
         FROM emails WHERE email_id = $1",
    )
    .bind(email_id)
    .fetch_one(state.store.pool())
    .await
    .map_err(internal("reading an email"))?;
    let to: Vec<String> = recipients.split(',').map(str::to_owned).collect();
    let sent = match super::transport::message(from, &to, &subject, &body, csv) {
        Ok(message) => transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| super::transport::smtp_error(&e)),
        Err(problem) => Err(problem),
    };
    let attempts = attempts + 1;
    let now = crate::clock::now();
    match sent {
        Ok(()) => {
            sqlx::query(
                "UPDATE emails SET status = 'sent', sent_at = $1, attempts = $2, last_error = NULL \
                 WHERE email_id = $3",
            )
            .bind(now)
            .bind(attempts)
            .bind(email_id)
            .execute(state.store.pool())
            .await
            .map_err(internal("recording a sent email"))?;
            tracing::info!(email_id, attempts, "email sent");
            if attempts > 1 {
                notify(
                    state,
                    user_id,
                    &format!(
                        "Your email \u{201c}{subject}\u{201d} was sent to {}.",
                        to.join(", ")
                    ),
                )
                .await;
            }
            Ok(EmailOutcome::Sent { recipients: to })
        }
        Err(problem) => {
            let last = attempts >= MAX_ATTEMPTS;
            let wait = 60 * (1_i64 << (attempts - 1).clamp(0, 5));
            sqlx::query(
                "UPDATE emails SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4 \
                 WHERE email_id = $5",
            )
            .bind(if last { "failed" } else { "queued" })
            .bind(attempts)
            .bind(problem.as_str())
            .bind(now + wait)
            .bind(email_id)
            .execute(state.store.pool())
            .await
            .map_err(internal("recording an email not sent"))?;
            tracing::warn!(email_id, attempts, error = %problem, "email not sent");
            if last {
                notify(
                    state,
                    user_id,
                    &format!(
                        "Your email \u{201c}{subject}\u{201d} could not be sent after {attempts} \
                         tries ({problem}). It is kept: send it again from the Ask page or the bot."
                    ),
                )
                .await;
            }
            Ok(EmailOutcome::Queued {
                reason: format!(
                    "The mail server did not take it ({problem}). It is kept and sent as soon as \
                     the mail server answers; you will be told."
                ),
            })
        }
    }
}

/// Tells the person through the bot's outbox; a failure only logs.
async fn notify(state: &AppState, user_id: UserId, text: &str) {
    let result = async {
        let mut tx = state.store.begin_write().await?;
        crate::notify::enqueue(
            &mut tx,
            user_id,
            crate::notify::Kind::Email,
            text,
            crate::clock::now(),
        )
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(error = %error, "could not queue the email notification");
    }
}
