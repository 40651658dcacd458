//! Dashboard credentials for Telegram users: a readable username and a
//! generated high-entropy password, returned once and stored only as a hash.

use crate::access::{self, Who};
use crate::audit::{self, Event};
use crate::error::internal;
use crate::store::Tx;
use crate::Store;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use models::org::{Caller, Credentials};
use models::{Action, AppError, UserId};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

/// Random bytes in a generated password (144 bits; 24 characters).
const PASSWORD_BYTES: usize = 18;
/// Attempts at a free username before giving up.
const USERNAME_TRIES: usize = 8;

/// A generated password and its hash, made before a transaction opens so the
/// slow hashing never holds a lock.
pub struct Prepared {
    password: SecretString,
    hash: String,
}

/// Generates a password and hashes it (on a blocking thread).
pub async fn prepare() -> Result<Prepared, AppError> {
    let bytes: [u8; PASSWORD_BYTES] =
        crate::random::bytes().map_err(internal("generating a password"))?;
    let password = SecretString::from(URL_SAFE_NO_PAD.encode(bytes));
    let hash = super::password::hash(password.clone())
        .await
        .map_err(internal("hashing a generated password"))?;
    Ok(Prepared { password, hash })
}

/// Gives `user_id` dashboard access with the prepared password: their existing
/// account is re-activated with it (old sessions end), or a new one is made.
/// The caller audits the change that led here (created, joined, added, reset).
pub(crate) async fn issue(
    tx: &mut Tx,
    user_id: UserId,
    prepared: Prepared,
) -> Result<Credentials, AppError> {
    let existing = sqlx::query("SELECT id, username FROM dashboard_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(internal("reading a dashboard account"))?;
    let username = match existing {
        Some(row) => {
            let id: i64 = row
                .try_get(0)
                .map_err(internal("decoding a dashboard account"))?;
            let username: String = row
                .try_get(1)
                .map_err(internal("decoding a dashboard account"))?;
            sqlx::query(
                "UPDATE dashboard_users SET password_hash = $1, is_active = TRUE WHERE id = $2",
            )
            .bind(prepared.hash.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(internal("updating a dashboard account"))?;
            end_sessions(tx, id).await?;
            username
        }
        None => insert_with_fresh_username(tx, user_id, &prepared.hash).await?,
    };
    Ok(Credentials {
        username,
        password: prepared.password.expose_secret().to_owned(),
    })
}

async fn insert_with_fresh_username(
    tx: &mut Tx,
    user_id: UserId,
    hash: &str,
) -> Result<String, AppError> {
    let row = sqlx::query("SELECT username, first_name FROM telegram_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(internal("reading a Telegram user"))?;
    let (tg_username, first_name): (Option<String>, Option<String>) = match row {
        Some(row) => (
            row.try_get(0)
                .map_err(internal("decoding a Telegram user"))?,
            row.try_get(1)
                .map_err(internal("decoding a Telegram user"))?,
        ),
        None => (None, None),
    };
    let base = username_base(tg_username.as_deref().or(first_name.as_deref()));
    for _ in 0..USERNAME_TRIES {
        let suffix: [u8; 2] = crate::random::bytes().map_err(internal("generating a username"))?;
        let candidate = format!("{base}-{:04}", u16::from_le_bytes(suffix) % 10_000);
        let inserted = sqlx::query(
            "INSERT INTO dashboard_users (user_id, username, password_hash, is_active, created_at) \
             VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(user_id)
        .bind(candidate.as_str())
        .bind(hash)
        .bind(crate::clock::now())
        .fetch_optional(&mut **tx)
        .await
        .map_err(internal("creating a dashboard account"))?;
        if inserted.is_some() {
            return Ok(candidate);
        }
    }
    tracing::error!("no free dashboard username after {USERNAME_TRIES} tries");
    Err(AppError::internal())
}

/// A readable username stem: lower-case letters and digits of the Telegram
/// username or first name, at most 20 characters; `user` when none are left.
pub fn username_base(source: Option<&str>) -> String {
    let stem: String = source
        .unwrap_or_default()
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    if stem.len() < 2 {
        "user".to_owned()
    } else {
        stem
    }
}

/// Ends a user's dashboard access: the account is deactivated, sessions deleted.
pub(crate) async fn revoke(tx: &mut Tx, user_id: UserId) -> Result<(), AppError> {
    let ids: Vec<i64> =
        sqlx::query("UPDATE dashboard_users SET is_active = FALSE WHERE user_id = $1 RETURNING id")
            .bind(user_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(internal("deactivating a dashboard account"))?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(internal("decoding a dashboard account"))?;
    for id in ids {
        end_sessions(tx, id).await?;
    }
    Ok(())
}

async fn end_sessions(tx: &mut Tx, account_id: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM sessions WHERE dashboard_user_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await
        .map(drop)
        .map_err(internal("ending sessions"))
}

/// Issues the caller new dashboard credentials; every existing session ends.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn reset(store: &Store, caller: &Caller) -> Result<Credentials, AppError> {
    access::allow(caller, Action::ManageOwnCredentials)?;
    let user_id = caller.user_id.ok_or_else(|| {
        AppError::forbidden("Only Telegram users have dashboard credentials to reset.")
    })?;
    let prepared = prepare().await?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    access::require_known(&mut tx, user_id, Who::Caller).await?;
    let creds = issue(&mut tx, user_id, prepared).await?;
    let org = access::membership_of(&mut tx, user_id).await?;
    audit::record(
        &mut tx,
        Some(user_id),
        org.as_deref(),
        Event::CredentialsReset,
        Some(&creds.username),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing new credentials"))?;
    Ok(creds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_stems_are_readable() {
        assert_eq!(username_base(Some("Ada_Lovelace")), "adalovelace");
        assert_eq!(username_base(Some("Влад")), "user");
        assert_eq!(username_base(None), "user");
        assert_eq!(username_base(Some(&"x".repeat(40))).len(), 20);
    }
}
