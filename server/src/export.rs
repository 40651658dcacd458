//! `GET /dashboard/costs/export.csv?from=&to=`: the per-conversation ledger as
//! a CSV download (owners). A plain route, since a download is not JSON.

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use models::AppError;
use serde::Deserialize;
use services::AppState;

#[derive(Debug, Deserialize)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

pub async fn ledger_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(range): Query<Range>,
) -> Response {
    match csv(&state, &headers, range).await {
        Ok((body, name)) => {
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                [
                    (
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (CONTENT_DISPOSITION, disposition),
                    (CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(error)).into_response()
        }
    }
}

async fn csv(
    state: &AppState,
    headers: &HeaderMap,
    range: Range,
) -> Result<(String, String), AppError> {
    let token = app::api::context::token_from_headers(headers);
    let caller = app::api::context::caller_for_token(state, token.as_deref()).await?;
    let name = match (&range.from, &range.to) {
        (Some(f), Some(t)) if !f.trim().is_empty() && !t.trim().is_empty() => {
            format!("tabletalk-costs-{}-to-{}.csv", f.trim(), t.trim())
        }
        _ => "tabletalk-costs.csv".to_owned(),
    };
    let range = app::api::costs::range(range.from, range.to)?;
    let body = services::costs::export::ledger_csv(&state.store, &caller, &range).await?;
    Ok((body, name))
}
