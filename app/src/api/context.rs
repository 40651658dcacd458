//! What a server function needs from its request: the shared state and the
//! caller's session token (cookie for browsers, bearer header for scripts).

use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use leptos::prelude::*;
use models::org::Caller;
use models::AppError;
use services::AppState;

/// The cookie holding a browser's session token.
pub const SESSION_COOKIE: &str = "tabletalk_session";

/// The state built at start-up, provided to every server function.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::internal()
    })
}

/// The session token sent with this request, if any: `Authorization: Bearer`
/// first, then the session cookie.
pub async fn session_token() -> Option<String> {
    let headers: HeaderMap = leptos_axum::extract().await.ok()?;
    token_from_headers(&headers)
}

/// The signed-in caller, resolved fresh from the store (role and organization
/// as they are now, not as they were at sign-in); 401 when nobody is signed in.
pub async fn caller() -> Result<(AppState, Caller), AppError> {
    let state = state()?;
    let token = session_token().await;
    let caller = caller_for_token(&state, token.as_deref()).await?;
    Ok((state, caller))
}

/// The caller behind a session token (from any request: server functions
/// and plain routes like the CSV download share this).
pub async fn caller_for_token(state: &AppState, token: Option<&str>) -> Result<Caller, AppError> {
    let token =
        token.ok_or_else(|| AppError::unauthorized("You are not signed in. Sign in first."))?;
    services::auth::session_caller(&state.store, token).await
}

/// [`caller`] for requests that change something: also refuses a browser
/// request from another site (CSRF), see [`same_origin`].
pub async fn caller_for_change() -> Result<(AppState, Caller), AppError> {
    check_same_origin().await?;
    caller().await
}

/// Refuses a request whose `Origin` (or else `Referer`) names another site.
pub async fn check_same_origin() -> Result<(), AppError> {
    let state = state()?;
    let headers: HeaderMap = leptos_axum::extract()
        .await
        .map_err(|_| AppError::internal())?;
    if same_origin(&headers, state.config.public_url.as_deref()) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "This request came from another site and was refused. Use Tabletalk's own pages.",
        ))
    }
}

/// Whether a request may change state: scripts with a bearer token may (a
/// browser never adds one by itself); browser requests must come from this
/// site, judged by `Origin`, or `Referer` when there is no `Origin`, against
/// the `Host` header and the configured public URL. A request with neither
/// header is not from a modern browser's cross-site form and is let through;
/// the session cookie is `SameSite=Strict` besides.
pub fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    if headers.contains_key(AUTHORIZATION) {
        return true;
    }
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(source) = header(ORIGIN).or_else(|| header(REFERER)) else {
        return true;
    };
    let authority = |url: &str| -> Option<String> {
        let rest = url.split_once("://").map(|(_, r)| r)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Some(rest[..end].to_ascii_lowercase())
    };
    let Some(from) = authority(source) else {
        return false;
    };
    let host = header(HOST).map(str::to_ascii_lowercase);
    host.as_deref() == Some(from.as_str())
        || public_url.and_then(authority).as_deref() == Some(from.as_str())
}

/// The peer address of this request (the server is served with connect info).
pub async fn client_ip() -> Option<String> {
    let info: axum::extract::ConnectInfo<std::net::SocketAddr> =
        leptos_axum::extract().await.ok()?;
    Some(info.0.ip().to_string())
}

pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    if let Some(token) = bearer.filter(|t| !t.is_empty()) {
        return Some(token.to_owned());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Sets (or, with `None`, clears) the session cookie on the response.
pub fn set_session_cookie(token: Option<&str>, secure: bool) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let secure = if secure { "; Secure" } else { "" };
    let cookie = match token {
        Some(token) => format!(
            "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
            services::auth::SESSION_TTL_SECS
        ),
        None => format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.append_header(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_wins_over_cookie_and_cookies_are_split() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; tabletalk_session=from-cookie; b=2"),
        );
        assert_eq!(token_from_headers(&headers).as_deref(), Some("from-cookie"));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer from-header"),
        );
        assert_eq!(token_from_headers(&headers).as_deref(), Some("from-header"));
        assert_eq!(token_from_headers(&HeaderMap::new()), None);
    }

    fn headers(pairs: &[(axum::http::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn changes_from_other_sites_are_refused() {
        let own = headers(&[(HOST, "tt.example.com"), (ORIGIN, "https://tt.example.com")]);
        assert!(same_origin(&own, None));
        let evil = headers(&[(HOST, "tt.example.com"), (ORIGIN, "https://evil.example")]);
        assert!(!same_origin(&evil, None));
        let referer = headers(&[
            (HOST, "127.0.0.1:3000"),
            (REFERER, "http://127.0.0.1:3000/members"),
        ]);
        assert!(same_origin(&referer, None));
        let evil_referer = headers(&[(HOST, "127.0.0.1:3000"), (REFERER, "http://evil/x")]);
        assert!(!same_origin(&evil_referer, None));
        let null_origin = headers(&[(HOST, "tt.example.com"), (ORIGIN, "null")]);
        assert!(!same_origin(&null_origin, None));
        let scripts = headers(&[
            (ORIGIN, "https://evil.example"),
            (AUTHORIZATION, "Bearer x"),
        ]);
        assert!(same_origin(&scripts, None));
        assert!(same_origin(&headers(&[(HOST, "a")]), None));
        let proxied = headers(&[(HOST, "internal:3000"), (ORIGIN, "https://tt.example.com")]);
        assert!(same_origin(&proxied, Some("https://tt.example.com")));
        assert!(!same_origin(&proxied, None));
    }
}
