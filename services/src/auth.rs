//! Dashboard accounts and sessions (DESIGN.md §4).

pub mod credentials;
pub mod password;
pub mod throttle;
pub mod token;

use crate::audit::{self, Event};
use crate::error::internal;
use crate::store::{dashboard_users, sessions};
use crate::{clock, Store};
use models::auth::{
    validate_new_password, validate_new_username, LoginRequest, LoginResponse, SessionInfo,
};
use models::org::Caller;
use models::AppError;
use secrecy::SecretString;

/// How long a session lasts.
pub const SESSION_TTL_SECS: i64 = 24 * 60 * 60;

/// The one message for an unknown user and a wrong password, so neither can be told apart.
const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// Signs in with dashboard credentials and opens a session.
///
/// Throttled per username and per IP (see [`throttle`]): the attempt is
/// reserved (counted as a failure) before the password is checked, and marked
/// as a success afterwards if it was one. The password is checked on a
/// blocking thread; an unknown username costs the same hashing work as a
/// wrong password and gets the same answer. Hashes made with fewer
/// iterations than today's are upgraded on success. Every checked attempt is
/// audited.
#[tracing::instrument(skip_all, fields(username = %request.username.trim()))]
pub async fn login(
    store: &Store,
    request: &LoginRequest,
    ip: Option<&str>,
) -> Result<LoginResponse, AppError> {
    let username = models::auth::normalize_username(request.validate()?);
    let now = clock::now();
    let reservation = throttle::reserve(store, &username, ip, now).await?;
    let password = SecretString::from(request.password.clone());

    let account = dashboard_users::find_active_by_username(store, &username)
        .await
        .map_err(internal("looking up a dashboard user"))?;
    let verdict = match &account {
        Some(account) => password::verify(password.clone(), account.password_hash.clone())
            .await
            .map_err(internal("verifying a password"))?,
        None => {
            let work = password::burn_equivalent_work(password.clone()).await;
            password::Verdict {
                matches: false,
                needs_rehash: false,
                work,
            }
        }
    };
    let succeeded = verdict.matches;
    if succeeded {
        if let Err(err) = throttle::succeeded(store, reservation).await {
            tracing::error!(error = %err, "could not mark a sign-in attempt as a success");
        }
    }
    let (actor, org) = account
        .as_ref()
        .map_or((None, None), |a| (a.user_id, a.org_id.as_deref()));
    let event = if succeeded {
        Event::LoginSucceeded
    } else {
        Event::LoginFailed
    };
    if let Err(err) = audit::record_alone(store, actor, org, event, Some(&username)).await {
        tracing::error!(error = %err, "could not audit a login attempt");
    }
    let account = match account {
        Some(account) if succeeded => account,
        _ => {
            tracing::info!("login refused");
            return Err(AppError::unauthorized(WRONG_CREDENTIALS));
        }
    };
    if verdict.needs_rehash {
        upgrade_hash(store, account.id, password).await;
    }

    let token = token::SessionToken::generate().map_err(internal("generating a session token"))?;
    sessions::insert(
        store,
        &token.hash(),
        account.id,
        now,
        now + SESSION_TTL_SECS,
    )
    .await
    .map_err(internal("storing a session"))?;
    tracing::info!(role = %account.role, "signed in");
    Ok(LoginResponse {
        token: token.into_string(),
        role: account.role,
        org_id: account.org_id,
        org_name: account.org_name,
    })
}

/// Re-hashes with today's parameters; a failure is logged and the login still succeeds.
async fn upgrade_hash(store: &Store, account_id: i64, password: SecretString) {
    match password::hash(password).await {
        Ok(hash) => {
            if let Err(err) = dashboard_users::set_password_hash(store, account_id, &hash).await {
                tracing::warn!(error = %err, "could not store the upgraded password hash");
            } else {
                tracing::info!("password hash upgraded to current parameters");
            }
        }
        Err(err) => tracing::warn!(error = %err, "could not upgrade a password hash"),
    }
}

/// What a request with no valid session gets.
fn not_signed_in() -> AppError {
    AppError::unauthorized("You are not signed in, or your session has expired. Sign in again.")
}

/// The caller behind a session token, resolved fresh (role and organization as
/// they are now, not as they were at sign-in) in one store lookup. An
/// operator account (no Telegram user) is a caller without user or
/// organization: it may sign in and change its password, and every rule that
/// needs a Telegram user says so.
pub async fn session_caller(store: &Store, token: &str) -> Result<Caller, AppError> {
    let token = token::SessionToken::parse(token).ok_or_else(not_signed_in)?;
    let (user_id, org_id, role) = sessions::find_identity(store, &token.hash(), clock::now())
        .await
        .map_err(internal("reading a session"))?
        .ok_or_else(not_signed_in)?;
    let (org_id, role) = crate::access::membership(org_id, role)?;
    Ok(Caller {
        user_id,
        role,
        org_id,
    })
}

/// Who holds this session token, if it is valid now.
pub async fn verify_session(store: &Store, token: &str) -> Result<SessionInfo, AppError> {
    let token = token::SessionToken::parse(token).ok_or_else(not_signed_in)?;
    let found = sessions::find_valid(store, &token.hash(), clock::now())
        .await
        .map_err(internal("reading a session"))?;
    let Some((account_id, expires_at)) = found else {
        return Err(not_signed_in());
    };
    let account = dashboard_users::find_active_by_id(store, account_id)
        .await
        .map_err(internal("reading a session's account"))?
        .ok_or_else(not_signed_in)?;
    Ok(SessionInfo {
        username: account.username,
        user_id: account.user_id,
        role: account.role,
        org_id: account.org_id,
        org_name: account.org_name,
        expires_at,
    })
}

/// Creates a dashboard account not linked to a Telegram user (the first
/// operator, made with `server create-user`). Returns the stored username.
pub async fn create_account(
    store: &Store,
    username: &str,
    password: SecretString,
) -> Result<String, AppError> {
    let username = validate_new_username(username)?;
    validate_new_password(secrecy::ExposeSecret::expose_secret(&password))?;
    let hash = password::hash(password)
        .await
        .map_err(internal("hashing a new password"))?;
    let inserted = dashboard_users::insert(store, &username, &hash, None, clock::now())
        .await
        .map_err(internal("creating a dashboard user"))?;
    match inserted {
        Some(_) => Ok(username),
        None => Err(AppError::conflict(format!(
            "The username {username:?} is already taken."
        ))),
    }
}

/// Ends a session. Unknown or malformed tokens are not an error: the result is the same.
pub async fn logout(store: &Store, token: &str) -> Result<(), AppError> {
    let Some(token) = token::SessionToken::parse(token) else {
        return Ok(());
    };
    sessions::delete(store, &token.hash())
        .await
        .map_err(internal("deleting a session"))
}

/// Changes the password of the account signed in with `token`: the current
/// password is required, the new one needs at least 12 characters. Every other
/// session of the account ends; this one stays. Throttled like sign-in, on
/// the same per-username (and per-address) counters: a wrong current password
/// counts as a failed sign-in, and is audited.
pub async fn change_password(
    store: &Store,
    token: &str,
    current: SecretString,
    new: SecretString,
    ip: Option<&str>,
) -> Result<(), AppError> {
    use secrecy::ExposeSecret;
    let token = token::SessionToken::parse(token).ok_or_else(not_signed_in)?;
    let (account_id, _) = sessions::find_valid(store, &token.hash(), clock::now())
        .await
        .map_err(internal("reading a session"))?
        .ok_or_else(not_signed_in)?;
    let account = dashboard_users::find_active_by_id(store, account_id)
        .await
        .map_err(internal("reading an account"))?
        .ok_or_else(not_signed_in)?;
    validate_new_password(new.expose_secret())?;
    if current.expose_secret() == new.expose_secret() {
        return Err(AppError::bad_request(
            "The new password must differ from the current one.",
        ));
    }
    let reservation = throttle::reserve(store, &account.username, ip, clock::now()).await?;
    let verdict = password::verify(current, account.password_hash.clone())
        .await
        .map_err(internal("verifying a password"))?;
    if !verdict.matches {
        tracing::info!("password change refused: wrong current password");
        if let Err(err) = audit::record_alone(
            store,
            account.user_id,
            account.org_id.as_deref(),
            Event::PasswordChangeFailed,
            Some(&account.username),
        )
        .await
        {
            tracing::error!(error = %err, "could not audit a failed password change");
        }
        return Err(AppError::bad_request("The current password is not right."));
    }
    if let Err(err) = throttle::succeeded(store, reservation).await {
        tracing::error!(error = %err, "could not mark a password check as a success");
    }
    let hash = password::hash(new)
        .await
        .map_err(internal("hashing a password"))?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    sqlx::query("UPDATE dashboard_users SET password_hash = $1 WHERE id = $2")
        .bind(hash.as_str())
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .map_err(internal("storing a password"))?;
    sqlx::query("DELETE FROM sessions WHERE dashboard_user_id = $1 AND token_hash <> $2")
        .bind(account_id)
        .bind(token.hash())
        .execute(&mut *tx)
        .await
        .map_err(internal("ending other sessions"))?;
    audit::record(
        &mut tx,
        account.user_id,
        account.org_id.as_deref(),
        Event::PasswordChanged,
        Some(&account.username),
    )
    .await
    .map_err(internal("auditing"))?;
    tx.commit()
        .await
        .map_err(internal("committing a password change"))
}

/// Deletes expired sessions and login attempts older than a day. Returns how
/// many rows went. The server runs this periodically.
pub async fn purge_expired(store: &Store) -> Result<u64, sqlx::Error> {
    let now = clock::now();
    let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(store.pool())
        .await?
        .rows_affected();
    let attempts = sqlx::query("DELETE FROM login_attempts WHERE attempted_at < $1")
        .bind(now - 24 * 60 * 60)
        .execute(store.pool())
        .await?
        .rows_affected();
    Ok(sessions + attempts)
}
