//! Dashboard accounts and sessions (DESIGN.md §4).

pub mod password;
pub mod token;

use crate::error::internal;
use crate::store::{dashboard_users, sessions};
use crate::{clock, Store};
use models::auth::{
    validate_new_password, validate_new_username, LoginRequest, LoginResponse, SessionInfo,
};
use models::AppError;
use secrecy::SecretString;

/// How long a session lasts.
pub const SESSION_TTL_SECS: i64 = 24 * 60 * 60;

/// The one message for an unknown user and a wrong password, so neither can be told apart.
const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// Signs in with dashboard credentials and opens a session.
///
/// The password is checked on a blocking thread. An unknown username costs the
/// same hashing work as a wrong password. Hashes made with fewer iterations
/// than today's are upgraded on success.
#[tracing::instrument(skip_all, fields(username = %request.username.trim()))]
pub async fn login(store: &Store, request: &LoginRequest) -> Result<LoginResponse, AppError> {
    let username = models::auth::normalize_username(request.validate()?);
    let password = SecretString::from(request.password.clone());

    let account = dashboard_users::find_active_by_username(store, &username)
        .await
        .map_err(internal("looking up a dashboard user"))?;
    let Some(account) = account else {
        password::burn_equivalent_work(password).await;
        tracing::info!("login refused: unknown user");
        return Err(AppError::unauthorized(WRONG_CREDENTIALS));
    };

    let verdict = password::verify(password.clone(), account.password_hash.clone())
        .await
        .map_err(internal("verifying a password"))?;
    if !verdict.matches {
        tracing::info!("login refused: wrong password");
        return Err(AppError::unauthorized(WRONG_CREDENTIALS));
    }
    if verdict.needs_rehash {
        upgrade_hash(store, account.id, password).await;
    }

    let token = token::SessionToken::generate().map_err(internal("generating a session token"))?;
    let now = clock::now();
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

/// Who holds this session token, if it is valid now.
pub async fn verify_session(store: &Store, token: &str) -> Result<SessionInfo, AppError> {
    let not_signed_in = || {
        AppError::unauthorized("You are not signed in, or your session has expired. Sign in again.")
    };
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
