//! The outbox: notifications raised outside the bot (DESIGN.md §7). Services
//! add a row in the same transaction as the change it tells about; the bot
//! drains the table and sends each row to the user's private chat, or to the
//! chat the row names (a group). A row may carry a whole answer
//! ([`enqueue_answer`]), which the bot renders like a live one.

use crate::store::Tx;
use crate::Store;
use models::ask::Answered;
use models::UserId;
use sqlx::Row;

/// What a notification is about, as stored in `outbox.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An owner added the user to their organization from the dashboard.
    MemberAdded,
    /// An email result was sent after a retry, or could not be sent at all.
    Email,
    /// Someone joined the owner's organization.
    MemberJoined,
    /// Someone left the owner's organization.
    MemberLeft,
    /// The user was removed from their organization.
    MemberRemoved,
    /// An organization database was added or removed (to its members).
    DatabaseChanged,
    /// An answer nobody just asked for (a scheduled question's, for one).
    Answer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MemberAdded => "member_added",
            Kind::Email => "email",
            Kind::MemberJoined => "member_joined",
            Kind::MemberLeft => "member_left",
            Kind::MemberRemoved => "member_removed",
            Kind::DatabaseChanged => "database_changed",
            Kind::Answer => "answer",
        }
    }
}

/// A notification not sent yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub id: i64,
    /// Whose message it is: their messages go out in order, and their
    /// private chat is where it goes unless `chat_id` says otherwise.
    pub telegram_user_id: UserId,
    /// The chat it goes to: the person's private chat (their id) or a group.
    pub chat_id: i64,
    pub kind: String,
    /// The message; for an answer, its words (sent alone only when the
    /// answer cannot be read).
    pub text: String,
    /// An answer to render as a live one is, when the row carries one.
    pub answer: Option<Answered>,
    pub created_at: i64,
    pub attempts: i64,
}

impl Pending {
    /// Whether it goes to the person's own private chat (not a group).
    pub fn to_private_chat(&self) -> bool {
        self.chat_id == self.telegram_user_id
    }

    /// A row as the queries below select it (`columns!`).
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Pending, sqlx::Error> {
        let id: i64 = row.try_get(0)?;
        let answer = row.try_get::<Option<String>, _>(6)?.and_then(|json| {
            serde_json::from_str(&json)
                .inspect_err(|e| {
                    tracing::warn!(id, error = %e, "an outbox answer could not be read; its words are sent alone")
                })
                .ok()
        });
        Ok(Pending {
            id,
            telegram_user_id: row.try_get(1)?,
            chat_id: row.try_get(2)?,
            kind: row.try_get(3)?,
            text: row.try_get(4)?,
            answer,
            created_at: row.try_get(5)?,
            attempts: row.try_get(7)?,
        })
    }
}

/// The columns [`Pending::from_row`] reads, in order (`o` is the outbox).
macro_rules! columns {
    () => {
        "o.id, o.telegram_user_id, COALESCE(o.chat_id, o.telegram_user_id), \
         o.kind, o.text, o.created_at, o.answer, CAST(o.attempts AS BIGINT)"
    };
}

/// The message telling a user they were added to `org_name`.
pub fn member_added_text(org_name: &str) -> String {
    format!(
        "You were added to the organization \u{201c}{org_name}\u{201d} on Tabletalk. \
         For your dashboard sign-in, send /dashboard to me here in this private chat."
    )
}

/// How a person is named in a notification: their first name, and
/// @username when they have one.
pub async fn name_of(tx: &mut Tx, user_id: UserId) -> Result<String, sqlx::Error> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT first_name, username FROM telegram_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match row {
        Some((first, Some(username))) => format!("{first} (@{username})"),
        Some((first, None)) => first,
        None => format!("user {user_id}"),
    })
}

/// An organization's name and owner, read in the transaction.
pub async fn org_of(tx: &mut Tx, org_id: &str) -> Result<(String, UserId), sqlx::Error> {
    sqlx::query_as("SELECT name, owner_id FROM organizations WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(&mut **tx)
        .await
}

/// Tells every member of an organization but `except` (who made the change).
pub async fn enqueue_members(
    tx: &mut Tx,
    org_id: &str,
    except: UserId,
    kind: Kind,
    text: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let members: Vec<(UserId,)> =
        sqlx::query_as("SELECT user_id FROM organization_members WHERE org_id = $1 AND user_id <> $2 ORDER BY user_id")
            .bind(org_id)
            .bind(except)
            .fetch_all(&mut **tx)
            .await?;
    for (member,) in members {
        enqueue(tx, member, kind, text, now).await?;
    }
    Ok(())
}

/// Adds a notification inside the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    user_id: UserId,
    kind: Kind,
    text: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    insert(tx, user_id, None, kind, text, None, now).await
}

/// Adds an answer for `chat_id` (a group, or the person's private chat) on
/// behalf of `user_id`, inside the caller's transaction: the bot renders it
/// as a live answer (text, table, chart, CSV). Whether the person may write
/// to that chat is for the caller to have checked.
pub async fn enqueue_answer(
    tx: &mut Tx,
    user_id: UserId,
    chat_id: i64,
    answered: &Answered,
    now: i64,
) -> Result<(), sqlx::Error> {
    let json = serde_json::to_string(answered).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let chat = (chat_id != user_id).then_some(chat_id);
    let text = answered.answer.text.as_str();
    insert(tx, user_id, chat, Kind::Answer, text, Some(&json), now).await
}

async fn insert(
    tx: &mut Tx,
    user_id: UserId,
    chat_id: Option<i64>,
    kind: Kind,
    text: &str,
    answer: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (telegram_user_id, chat_id, kind, text, answer, created_at, attempts) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(user_id)
    .bind(chat_id)
    .bind(kind.as_str())
    .bind(text)
    .bind(answer)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// The oldest notifications not sent yet, at most `limit`.
pub async fn pending(store: &Store, limit: i64) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM outbox o WHERE o.sent_at IS NULL ORDER BY o.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(Pending::from_row)
    .collect()
}

/// A notification older than this is given up (and says so).
pub const GIVE_UP_AFTER_SECS: i64 = 86_400;
/// How long a claimed row is left to one sender before another may take it.
const CLAIM_SECS: i64 = 120;

/// What became of one attempt to send a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Try again after this many seconds (Telegram's retry_after, or backoff).
    Retry {
        after_secs: i64,
        error: String,
    },
    /// The person blocked the bot or cannot be written to: stop.
    Unreachable {
        error: String,
    },
}

/// The backoff after `attempts` failures: 5 s, 10 s, 20 s, ... at most 15
/// minutes, give or take a tenth (so many senders do not retry in step).
pub fn backoff_secs(attempts: i64) -> i64 {
    let base = 5i64.saturating_mul(1i64 << attempts.clamp(0, 20)).min(900);
    let jitter = crate::random::bytes().map_or(0, |b: [u8; 8]| i64::from(b[0] % 21) - 10);
    (base + base * jitter / 100).max(1)
}

/// Claims the notifications due now, at most `limit`: for each person only
/// their oldest one not yet sent or given up (so their messages arrive in
/// order), and not one another sender holds.
pub async fn claim_due(store: &Store, now: i64, limit: i64) -> Result<Vec<Pending>, sqlx::Error> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM outbox o WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1 \
         AND (o.claimed_until IS NULL OR o.claimed_until < $1) \
         AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.telegram_user_id = o.telegram_user_id \
                     AND p.sent_at IS NULL AND p.failed_at IS NULL) \
         ORDER BY o.id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get(0)?;
        let taken = sqlx::query(
            "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL \
             AND (claimed_until IS NULL OR claimed_until < $3)",
        )
        .bind(now + CLAIM_SECS)
        .bind(id)
        .bind(now)
        .execute(store.pool())
        .await?
        .rows_affected();
        if taken == 1 {
            claimed.push(Pending::from_row(row)?);
        }
    }
    Ok(claimed)
}

/// Records what an attempt came to: sent; to retry (or given up after
/// [`GIVE_UP_AFTER_SECS`]); or unreachable, which gives up every message
/// waiting for that chat and, for a person's private chat, marks them until
/// they write to the bot again. A finished row's answer is cleared: it was
/// only kept to be sent.
pub async fn finish(
    store: &Store,
    row: &Pending,
    attempt: &Attempt,
    now: i64,
) -> Result<(), sqlx::Error> {
    match attempt {
        Attempt::Sent => {
            sqlx::query("UPDATE outbox SET sent_at = $1, claimed_until = NULL, attempts = attempts + 1, answer = NULL WHERE id = $2")
                .bind(now)
                .bind(row.id)
                .execute(store.pool())
                .await?;
        }
        Attempt::Retry { after_secs, error } => {
            let give_up = now - row.created_at > GIVE_UP_AFTER_SECS;
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, next_attempt_at = $1, \
                 last_error = $2, failed_at = $3, answer = CASE WHEN $3 IS NULL THEN answer ELSE NULL END \
                 WHERE id = $4",
            )
            .bind(now + after_secs)
            .bind(if give_up {
                format!("given up after a day: {error}")
            } else {
                error.clone()
            })
            .bind(give_up.then_some(now))
            .bind(row.id)
            .execute(store.pool())
            .await?;
        }
        Attempt::Unreachable { error } => {
            // Everything waiting for that chat is given up; a person's own
            // chat marks them too (a group the bot left does not).
            let mut tx = store.begin_write().await?;
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + CASE WHEN id = $1 THEN 1 ELSE 0 END, \
                 claimed_until = NULL, failed_at = $2, last_error = $3, answer = NULL \
                 WHERE COALESCE(chat_id, telegram_user_id) = $4 AND sent_at IS NULL AND failed_at IS NULL",
            )
            .bind(row.id)
            .bind(now)
            .bind(format!("unreachable: {error}"))
            .bind(row.chat_id)
            .execute(&mut *tx)
            .await?;
            if row.to_private_chat() {
                sqlx::query("UPDATE telegram_users SET unreachable_at = $1 WHERE user_id = $2")
                    .bind(now)
                    .bind(row.telegram_user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Notifications waiting to be sent (for metrics and tests).
pub async fn backlog(store: &Store) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        .fetch_one(store.pool())
        .await
}
