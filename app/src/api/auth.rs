//! `/dashboard/login`, `/dashboard/logout`, `/dashboard/verify` (seed §4).

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use models::auth::{LoginResponse, SessionInfo};
use models::codec::StrictJson;
use models::AppError;

/// Signs in with dashboard credentials: JSON `{"username", "password"}` in,
/// the seed's `{token, role, org_id, org_name}` out, plus the session cookie.
#[server(prefix = "/dashboard", endpoint = "login", input = StrictJson, output = Json)]
pub async fn login(username: String, password: String) -> Result<LoginResponse, AppError> {
    super::context::check_same_origin().await?;
    let state = super::context::state()?;
    let request = models::auth::LoginRequest { username, password };
    let ip = super::context::client_ip().await;
    let answer = services::auth::login(&state.store, &request, ip.as_deref()).await?;
    super::context::set_session_cookie(Some(&answer.token), state.config.cookies_secure());
    Ok(answer)
}

/// Ends the caller's session (server-side) and clears the cookie.
#[server(prefix = "/dashboard", endpoint = "logout", input = StrictJson, output = Json)]
pub async fn logout() -> Result<(), AppError> {
    super::context::check_same_origin().await?;
    let state = super::context::state()?;
    if let Some(token) = super::context::session_token().await {
        services::auth::logout(&state.store, &token).await?;
    }
    super::context::set_session_cookie(None, state.config.cookies_secure());
    Ok(())
}

/// Who is signed in with this request's session; 401 when nobody is.
#[server(prefix = "/dashboard", endpoint = "verify", input = GetUrl, output = Json)]
pub async fn verify() -> Result<SessionInfo, AppError> {
    let state = super::context::state()?;
    let token = super::context::session_token()
        .await
        .ok_or_else(|| AppError::unauthorized("You are not signed in. Sign in first."))?;
    services::auth::verify_session(&state.store, &token).await
}
