//! What a server function needs from its request: the shared state and the
//! caller's session token (cookie for browsers, bearer header for scripts).

use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use leptos::prelude::*;
use models::org::Caller;
use models::AppError;
use services::AppState;

/// The cookie holding a browser's session token over plain HTTP, and (for one
/// release) still read when served over HTTPS, where it was named so before.
pub const SESSION_COOKIE: &str = "tabletalk_session";
/// The session cookie's name when the dashboard is served over HTTPS: the
/// `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and no
/// `Domain`, so no other host (a sibling subdomain) can set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-tabletalk_session";

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
    let peer = peer_ip().await;
    let arrived = arrived_scheme(&headers, peer, &state.config.trusted_proxies);
    if same_origin(&headers, state.config.public_url.as_deref(), arrived) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "This request came from another site and was refused. Use Tabletalk's own pages.",
        ))
    }
}

/// How the request reached the first proxy, when a trusted proxy says so
/// (`X-Forwarded-Proto` from a peer in `TABLETALK_TRUSTED_PROXIES`); `None`
/// when unknown. The server itself speaks plain HTTP, but an undeclared
/// proxy in front may have taken HTTPS, so without that header the scheme
/// is not known.
pub fn arrived_scheme(
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    proxies: &services::proxies::TrustedProxies,
) -> Option<&'static str> {
    if !peer.is_some_and(|ip| proxies.contains(ip)) {
        return None;
    }
    let proto = headers.get("x-forwarded-proto")?.to_str().ok()?;
    // With several proxies the first (leftmost) is the one the browser reached.
    let first = proto.split(',').next()?.trim();
    if first.eq_ignore_ascii_case("https") {
        Some("https")
    } else if first.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

/// Whether a request may change state.
///
/// - A request authenticated by an `Authorization: Bearer <token>` header
///   (the token used is that one, see [`token_from_headers`]) may: a browser
///   never adds one by itself. Any other `Authorization` header (`Basic`,
///   an empty `Bearer`) does not exempt a request that the session cookie
///   authenticates.
/// - Otherwise the request's `Origin` (or `Referer` when there is no
///   `Origin`) must name this site, scheme and host (and port) alike:
///   - the configured public URL (`TABLETALK_PUBLIC_URL`), exactly; or
///   - the `Host` header, with the scheme the request arrived by: the public
///     URL's scheme when one is configured, else `X-Forwarded-Proto` from a
///     trusted proxy (`arrived`), else (unknown) `http` or `https`.
///   - default ports (`:80` for http, `:443` for https) are ignored.
/// - A request with neither header is not from a modern browser's cross-site
///   form and is let through; the session cookie is `SameSite=Strict` besides.
///   `Origin: null` is refused.
pub fn same_origin(headers: &HeaderMap, public_url: Option<&str>, arrived: Option<&str>) -> bool {
    if bearer_token(headers).is_some() {
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
    let Some((scheme, from)) = origin_of(source) else {
        return false;
    };
    let public = public_url.and_then(origin_of);
    if public.as_ref() == Some(&(scheme.clone(), from.clone())) {
        return true;
    }
    let expected_scheme = public.as_ref().map(|(s, _)| s.as_str()).or(arrived);
    let scheme_ok = match expected_scheme {
        Some(expected) => scheme == expected,
        None => scheme == "http" || scheme == "https",
    };
    let host = header(HOST).map(|h| without_default_port(&scheme, &h.to_ascii_lowercase()));
    scheme_ok && host.as_deref() == Some(from.as_str())
}

/// The scheme and authority (lower-case, default port removed) of a URL.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest[..end].to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = without_default_port(&scheme, &authority);
    Some((scheme, authority))
}

fn without_default_port(scheme: &str, authority: &str) -> String {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_owned()
}

/// The TCP peer of this request (the server is served with connect info).
async fn peer_ip() -> Option<std::net::IpAddr> {
    let info: axum::extract::ConnectInfo<std::net::SocketAddr> =
        leptos_axum::extract().await.ok()?;
    Some(info.0.ip())
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy
/// (`TABLETALK_TRUSTED_PROXIES`), the rightmost `X-Forwarded-For` hop that is
/// not one (see [`services::proxies::TrustedProxies::client_ip`]).
pub async fn client_ip() -> Option<String> {
    let peer = peer_ip().await?;
    let Ok(state) = state() else {
        return Some(peer.to_canonical().to_string());
    };
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    Some(
        state
            .config
            .trusted_proxies
            .client_ip(peer, forwarded)
            .to_string(),
    )
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any
/// case), if there is one and it is not empty.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The session token of a request: a bearer token first, else the session
/// cookie (the `__Host-` name first, then the old name).
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = bearer_token(headers) {
        return Some(token.to_owned());
    }
    let cookies: Vec<cookie::Cookie<'_>> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .collect();
    [SECURE_SESSION_COOKIE, SESSION_COOKIE]
        .iter()
        .find_map(|name| cookies.iter().find(|c| c.name() == *name))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` values that set (or, with `None`, clear) the session
/// cookie. Over HTTPS (`secure`) the cookie is `__Host-` prefixed and
/// `Secure`, and the old name is cleared.
pub fn session_cookies(token: Option<&str>, secure: bool) -> Vec<String> {
    use cookie::{time::Duration, Cookie, SameSite};
    let name = if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    };
    let max_age = match token {
        Some(_) => Duration::seconds(services::auth::SESSION_TTL_SECS),
        None => Duration::ZERO,
    };
    let build = |name: &'static str, value: &str, max_age: Duration| {
        Cookie::build((name, value.to_owned()))
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .max_age(max_age)
            .secure(secure)
            .build()
            .to_string()
    };
    let mut cookies = vec![build(name, token.unwrap_or_default(), max_age)];
    if secure {
        cookies.push(build(SESSION_COOKIE, "", Duration::ZERO));
    }
    cookies
}

/// Sets (or, with `None`, clears) the session cookie on the response.
pub fn set_session_cookie(token: Option<&str>, secure: bool) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    for cookie in session_cookies(token, secure) {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.append_header(SET_COOKIE, value);
        }
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
        assert!(same_origin(&own, None, None));
        let evil = headers(&[(HOST, "tt.example.com"), (ORIGIN, "https://evil.example")]);
        assert!(!same_origin(&evil, None, None));
        let referer = headers(&[
            (HOST, "127.0.0.1:3000"),
            (REFERER, "http://127.0.0.1:3000/members"),
        ]);
        assert!(same_origin(&referer, None, None));
        let evil_referer = headers(&[(HOST, "127.0.0.1:3000"), (REFERER, "http://evil/x")]);
        assert!(!same_origin(&evil_referer, None, None));
        let null_origin = headers(&[(HOST, "tt.example.com"), (ORIGIN, "null")]);
        assert!(!same_origin(&null_origin, None, None));
        let scripts = headers(&[
            (ORIGIN, "https://evil.example"),
            (AUTHORIZATION, "Bearer x"),
        ]);
        assert!(same_origin(&scripts, None, None));
        assert!(same_origin(&headers(&[(HOST, "a")]), None, None));
        let proxied = headers(&[(HOST, "internal:3000"), (ORIGIN, "https://tt.example.com")]);
        assert!(same_origin(&proxied, Some("https://tt.example.com"), None));
        assert!(!same_origin(&proxied, None, None));
    }

    /// Only a bearer token that is actually used exempts a request; before,
    /// any `Authorization` header did (tests fail before the fix).
    #[test]
    fn only_a_used_bearer_token_skips_the_origin_check() {
        for authorization in ["Basic YTpi", "Bearer ", "Bearer", "Token abc", ""] {
            let request = headers(&[
                (HOST, "tt.example.com"),
                (ORIGIN, "https://evil.example"),
                (AUTHORIZATION, authorization),
                (COOKIE, "tabletalk_session=from-cookie"),
            ]);
            assert_eq!(
                token_from_headers(&request).as_deref(),
                Some("from-cookie"),
                "{authorization:?}: the cookie is what authenticates"
            );
            assert!(!same_origin(&request, None, None), "{authorization:?}");
        }
        let bearer = headers(&[
            (ORIGIN, "https://evil.example"),
            (AUTHORIZATION, "bEaReR tok"),
            (COOKIE, "tabletalk_session=from-cookie"),
        ]);
        assert_eq!(token_from_headers(&bearer).as_deref(), Some("tok"));
        assert!(same_origin(&bearer, None, None));
    }

    /// The scheme counts as well as the host (before, only the host did).
    #[test]
    fn the_scheme_is_compared_too() {
        let public = Some("https://tt.example.com");
        let http_origin = headers(&[(HOST, "tt.example.com"), (ORIGIN, "http://tt.example.com")]);
        assert!(!same_origin(&http_origin, public, None));
        let https_origin = headers(&[
            (HOST, "tt.example.com"),
            (ORIGIN, "https://tt.example.com:443"),
        ]);
        assert!(same_origin(&https_origin, public, None));
        // No public URL: the scheme the request arrived by, when a trusted proxy says.
        assert!(!same_origin(&http_origin, None, Some("https")));
        assert!(same_origin(&https_origin, None, Some("https")));
        assert!(!same_origin(&https_origin, None, Some("http")));
        // Unknown and no public URL: http or https with the right host.
        assert!(same_origin(&http_origin, None, None));
        let ftp = headers(&[(HOST, "tt.example.com"), (ORIGIN, "ftp://tt.example.com")]);
        assert!(!same_origin(&ftp, None, None));
        // An http public URL: an https origin is another site.
        let local = headers(&[(HOST, "127.0.0.1:3000"), (ORIGIN, "https://127.0.0.1:3000")]);
        assert!(!same_origin(&local, Some("http://127.0.0.1:3000"), None));
    }

    #[test]
    fn x_forwarded_proto_counts_only_from_a_trusted_proxy() {
        let proxies = services::proxies::TrustedProxies::parse("10.0.0.0/8").expect("valid");
        let h = headers(&[(
            axum::http::HeaderName::from_static("x-forwarded-proto"),
            "https",
        )]);
        let proxy = "10.0.0.2".parse().ok();
        let stranger = "198.51.100.1".parse().ok();
        assert_eq!(arrived_scheme(&h, proxy, &proxies), Some("https"));
        assert_eq!(arrived_scheme(&h, stranger, &proxies), None);
        assert_eq!(arrived_scheme(&HeaderMap::new(), proxy, &proxies), None);
    }

    #[test]
    fn secure_session_cookies_use_the_host_prefix_and_the_old_name_still_works() {
        let set = session_cookies(Some("tok"), true);
        assert!(
            set[0].starts_with("__Host-tabletalk_session=tok;"),
            "{set:?}"
        );
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Secure",
            "Max-Age=86400",
        ] {
            assert!(set[0].contains(part), "{part}: {set:?}");
        }
        assert!(!set[0].contains("Domain"), "{set:?}");
        assert!(
            set[1].starts_with("tabletalk_session=;") && set[1].contains("Max-Age=0"),
            "the old name is cleared: {set:?}"
        );
        let plain = session_cookies(Some("tok"), false);
        assert_eq!(plain.len(), 1);
        assert!(plain[0].starts_with("tabletalk_session=tok;") && !plain[0].contains("Secure"));
        let cleared = session_cookies(None, true);
        assert!(
            cleared[0].starts_with("__Host-tabletalk_session=;")
                && cleared[0].contains("Max-Age=0")
        );

        let both = headers(&[(
            COOKIE,
            "tabletalk_session=old; __Host-tabletalk_session=new",
        )]);
        assert_eq!(token_from_headers(&both).as_deref(), Some("new"));
        let old = headers(&[(COOKIE, "x=1; tabletalk_session=old")]);
        assert_eq!(token_from_headers(&old).as_deref(), Some("old"));
    }
}
