//! The HTTP surface around every route (issue 11), all tower-http layers:
//! request ids and a trace span per request, security headers, a sign-in gate
//! for the API, a request timeout and body limit, and the static files served
//! precompressed (brotli, gzip: compressed once at build time by
//! `scripts/precompress.mjs`) with cache headers.

use crate::api_errors;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use axum::{middleware, Router};
use models::AppError;
use std::path::Path;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_http::validate_request::ValidateRequestHeaderLayer;

/// The longest a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Hashed files (`/pkg/tabletalk.<hash>.wasm`): their name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages and unhashed `/pkg` files: always revalidated.
pub const NO_CACHE: &str = "no-cache";
/// Other files of the site root (`/echarts.min.js`): not hashed, because the
/// page names it in code (`pages/costs.rs`) and it only changes when the npm
/// lock changes; a day, then revalidated with `Last-Modified` (a 304).
pub const ONE_DAY: &str = "public, max-age=86400";

/// Session cookie names: the `__Host-` one is used over https.
const SESSION_COOKIES: [&str; 2] = ["tabletalk_session", "__Host-tabletalk_session"];

/// Static files under `dir`, answered from their `.br` or `.gz` sibling when
/// the client accepts it (no compression per request), with `cache_control`
/// on successful answers only (a missing file must not be cached for good);
/// `fallback` answers what is not a file.
pub fn static_files<F>(dir: &Path, cache_control: &'static str, fallback: F) -> Router
where
    F: tower::Service<Request, Response = Response<Body>, Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    F::Future: Send + 'static,
{
    let value = HeaderValue::from_static(cache_control);
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .fallback(fallback);
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            move |response: &Response<_>| {
                let html = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
                (response.status().is_success() && !html).then(|| value.clone())
            },
        ))
        // The answer depends on Accept-Encoding: shared caches keep one per encoding.
        .layer(SetResponseHeaderLayer::if_not_present(
            VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// Wraps every route in the layers of the HTTP surface. `https`: the public
/// URL is https, so browsers are told to use nothing else (HSTS).
pub fn surface(router: Router, https: bool, max_body_bytes: usize) -> Router {
    let default_policy = HeaderValue::from_str(&app::security::content_security_policy(None))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let hsts = HeaderValue::from_static("max-age=31536000");
    router
        // Innermost first: each `.layer` wraps all of the above.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            max_body_bytes,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(ValidateRequestHeaderLayer::custom(known_query_fields(
            app::api::query_fields(),
        )))
        .layer(ValidateRequestHeaderLayer::custom(signed_in_gate))
        .layer(middleware::map_response(api_errors::plain_errors_as_json))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            default_policy,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            STRICT_TRANSPORT_SECURITY,
            move |_: &Response<_>| https.then(|| hsts.clone()),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            |response: &Response<_>| {
                let html = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
                html.then(|| HeaderValue::from_static(NO_CACHE))
            },
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(http_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// One span per request: method, path (never the query string, which may
/// hold a secret) and the request id, so every log line of the request
/// carries them.
fn http_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "http",
        method = %request.method(),
        path = request.uri().path(),
        request_id = id,
    )
}

/// An API request without any session (no session cookie, no bearer token)
/// is answered 401 before its body is read, except by the public endpoints.
/// Whether a session is valid is still decided by the endpoint.
#[allow(clippy::result_large_err)] // the `Err` is the response itself
fn signed_in_gate(request: &mut Request) -> Result<(), Response<Body>> {
    let path = request.uri().path();
    if !path.starts_with("/dashboard/")
        || app::api::public_endpoints().contains(&path)
        || carries_session(request.headers())
    {
        return Ok(());
    }
    Err(api_errors::json_response(&AppError::unauthorized(
        "You are not signed in. Sign in first.",
    )))
}

/// A `GET` to an API endpoint with a query parameter the endpoint does not
/// take is refused with a 400 naming it (a misspelt `?form=` would otherwise
/// silently answer for the default range).
#[allow(clippy::result_large_err)] // the `Err` is the response itself
fn known_query_fields(
    endpoints: Vec<(&'static str, &'static [&'static str])>,
) -> impl FnMut(&mut Request) -> Result<(), Response<Body>> + Clone {
    let endpoints: std::sync::Arc<std::collections::HashMap<_, _>> =
        std::sync::Arc::new(endpoints.into_iter().collect());
    move |request: &mut Request| {
        if request.method() != axum::http::Method::GET {
            return Ok(());
        }
        let (Some(fields), Some(query)) =
            (endpoints.get(request.uri().path()), request.uri().query())
        else {
            return Ok(());
        };
        let unknown = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            // `a[b]=c` is the nested form of `a`.
            .map(|pair| pair.split(['=', '[']).next().unwrap_or(pair))
            .find(|name| !fields.contains(name));
        match unknown {
            None => Ok(()),
            Some(name) => {
                let takes = if fields.is_empty() {
                    "takes no parameters".to_owned()
                } else {
                    format!("takes {}", fields.join(", "))
                };
                Err(api_errors::json_response(&AppError::bad_request(format!(
                    "The query is not valid: the parameter \"{}\" is not known (this endpoint {takes}).",
                    name.chars().take(64).collect::<String>()
                ))))
            }
        }
    }
}

/// Whether the request names a session at all: a non-empty bearer token or
/// session cookie.
pub fn carries_session(headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|token| !token.trim().is_empty());
    bearer
        || headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| SESSION_COOKIES.contains(&name) && !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_get_endpoint_has_its_query_fields_listed() {
        let listed: Vec<&str> = app::api::query_fields()
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        let gets: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .filter(|(_, method)| method == axum::http::Method::GET)
            .map(|(path, _)| path)
            .collect();
        assert!(
            gets.len() >= 17,
            "server functions are registered: {gets:?}"
        );
        for path in gets {
            assert!(
                listed.contains(&path),
                "{path} is missing from app::api::query_fields"
            );
        }
        let schema = app::api::query_fields()
            .into_iter()
            .find(|(path, _)| *path == "/dashboard/databases/schema")
            .map(|(_, fields)| fields);
        // Re-reading the schema is a POST (databases/schema/refresh): a GET changes nothing.
        assert_eq!(schema, Some(&["connection_id"][..]));
    }

    #[test]
    fn sessions_are_recognised_by_either_cookie_name_or_a_bearer_token() {
        let with = |name, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            headers
        };
        assert!(carries_session(&with(AUTHORIZATION, "Bearer abc")));
        assert!(!carries_session(&with(AUTHORIZATION, "Bearer  ")));
        assert!(!carries_session(&with(AUTHORIZATION, "Basic abc")));
        assert!(carries_session(&with(COOKIE, "a=1; tabletalk_session=x")));
        assert!(carries_session(&with(
            COOKIE,
            "__Host-tabletalk_session=x; b=2"
        )));
        assert!(!carries_session(&with(COOKIE, "tabletalk_session=")));
        assert!(!carries_session(&with(COOKIE, "other=1")));
        assert!(!carries_session(&HeaderMap::new()));
    }
}
