//! The outbox: notifications raised outside the bot (DESIGN.md §7). Services
//! add a row in the same transaction as the change it tells about; the bot
//! drains the table and sends each row to the user's private chat.

use crate::store::Tx;
use crate::Store;
use models::UserId;
use sqlx::Row;

/// What a notification is about, as stored in `outbox.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An owner added the user to their organization from the dashboard.
    MemberAdded,
    /// An email result was sent after a retry, or could not be sent at all.
    Email,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MemberAdded => "member_added",
            Kind::Email => "email",
        }
    }
}

/// A notification not sent yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub telegram_user_id: UserId,
    pub kind: String,
    pub text: String,
    pub created_at: i64,
    pub attempts: i64,
}

/// The message telling a user they were added to `org_name`.
pub fn member_added_text(org_name: &str) -> String {
    format!(
        "You were added to the organization \u{201c}{org_name}\u{201d} on Tabletalk. \
         For your dashboard sign-in, send /dashboard to me here in this private chat."
    )
}

/// Adds a notification inside the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    user_id: UserId,
    kind: Kind,
    text: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (telegram_user_id, kind, text, created_at, attempts) \
         VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(text)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// The oldest notifications not sent yet, at most `limit`.
pub async fn pending(store: &Store, limit: i64) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query(
        "SELECT id, telegram_user_id, kind, text, created_at, CAST(attempts AS BIGINT) \
         FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| {
        Ok(Pending {
            id: row.try_get(0)?,
            telegram_user_id: row.try_get(1)?,
            kind: row.try_get(2)?,
            text: row.try_get(3)?,
            created_at: row.try_get(4)?,
            attempts: row.try_get(5)?,
        })
    })
    .collect()
}
