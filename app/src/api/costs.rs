//! Cost analytics for owners (seed §4): `/dashboard/costs/overview`,
//! `/by-model`, `/by-stage`, `/input-output`, `/per-user`, plus `/daily` and
//! `/conversations`. Every one takes an optional UTC date range
//! (`?from=2026-01-01&to=2026-01-31`); without one, all time.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use models::costs::{ConversationPage, CostRow, CostTotals, InputOutputSplit, PerUserCosts};
use models::AppError;
use serde::{Deserialize, Serialize};

/// The range of `?from=&to=` (empty values mean unbounded).
#[cfg(feature = "ssr")]
pub fn range(from: Option<String>, to: Option<String>) -> Result<models::DayRange, AppError> {
    let clean = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    models::DayRange::parse(clean(from).as_deref(), clean(to).as_deref())
}

/// Total cost, tokens and conversations.
#[server(prefix = "/dashboard", endpoint = "costs/overview", input = GetUrl, output = Json)]
pub async fn costs_overview(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<CostTotals, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::costs::analytics::overview(&state, &caller, &range(from, to)?).await
}

/// By model, most expensive first.
#[server(prefix = "/dashboard", endpoint = "costs/by-model", input = GetUrl, output = Json)]
pub async fn costs_by_model(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<Vec<CostRow>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::costs::analytics::by_model(&state, &caller, &range(from, to)?).await
}

/// By pipeline stage, in pipeline order.
#[server(prefix = "/dashboard", endpoint = "costs/by-stage", input = GetUrl, output = Json)]
pub async fn costs_by_stage(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<Vec<CostRow>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::costs::analytics::by_stage(&state, &caller, &range(from, to)?).await
}

/// Input versus output tokens and cost.
#[server(prefix = "/dashboard", endpoint = "costs/input-output", input = GetUrl, output = Json)]
pub async fn costs_input_output(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<InputOutputSplit, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::costs::analytics::input_output(&state, &caller, &range(from, to)?).await
}

/// Per user, most expensive first, with the average per member.
#[server(prefix = "/dashboard", endpoint = "costs/per-user", input = GetUrl, output = Json)]
pub async fn costs_per_user(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<PerUserCosts, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::costs::analytics::per_user(&state, &caller, &range(from, to)?).await
}

/// Per day, oldest first.
#[server(prefix = "/dashboard", endpoint = "costs/daily", input = GetUrl, output = Json)]
pub async fn costs_daily(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<Vec<CostRow>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::costs::analytics::daily(&state, &caller, &range(from, to)?).await
}

/// Conversations, newest first, a page at a time (`before_time`/`before_id`:
/// the last conversation of the previous page), optionally of one user and
/// of one status (`answered`, `failed`, `refused`).
#[server(prefix = "/dashboard", endpoint = "conversations", input = GetUrl, output = Json)]
pub async fn conversations(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    #[server(default)] user_id: Option<i64>,
    #[server(default)] status: Option<String>,
    #[server(default)] before_time: Option<i64>,
    #[server(default)] before_id: Option<i64>,
) -> Result<ConversationPage, AppError> {
    use models::costs::ConversationStatus;
    let (state, caller) = super::context::caller().await?;
    let range = range(from, to)?;
    let status = match status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(ConversationStatus::parse(text).ok_or_else(|| {
            AppError::bad_request(format!(
                "{text:?} is not a status; use answered, failed or refused."
            ))
        })?),
    };
    let before = match (before_time, before_id) {
        (Some(time), Some(id)) => Some((time, id)),
        (None, None) => None,
        _ => {
            return Err(AppError::bad_request(
                "Give both before_time and before_id (the last conversation of the previous page), or neither.",
            ))
        }
    };
    let filter = services::costs::export::Filter {
        user: user_id,
        status,
    };
    services::costs::export::page(&state.store, &caller, &range, filter, before).await
}

/// An ECharts option (JSON) and a sentence describing the chart, built with
/// charming on the server (`crate::charts`); `None` where there is nothing to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartData {
    pub option: String,
    pub description: String,
}

/// Everything the costs page shows for a range, each query run once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostsPageData {
    pub totals: CostTotals,
    pub by_model: Vec<CostRow>,
    pub by_stage: Vec<CostRow>,
    pub per_user: PerUserCosts,
    pub daily: Vec<CostRow>,
    pub daily_chart: Option<ChartData>,
    pub by_model_chart: Option<ChartData>,
    pub by_stage_chart: Option<ChartData>,
    pub input_output_chart: Option<ChartData>,
    pub per_user_chart: Option<ChartData>,
}

/// The costs page in one request: totals, breakdowns and their charts.
#[server(prefix = "/dashboard", endpoint = "costs/page", input = GetUrl, output = Json)]
pub async fn costs_page(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<CostsPageData, AppError> {
    use services::costs::analytics;
    let (state, caller) = super::context::caller().await?;
    let range = range(from, to)?;
    let totals = analytics::overview(&state, &caller, &range).await?;
    let by_model = analytics::by_model(&state, &caller, &range).await?;
    let by_stage = analytics::by_stage(&state, &caller, &range).await?;
    let per_user = analytics::per_user(&state, &caller, &range).await?;
    let daily = analytics::daily(&state, &caller, &range).await?;
    Ok(CostsPageData {
        daily_chart: crate::charts::daily(&daily),
        by_model_chart: crate::charts::rows_pie(&by_model, "by model"),
        by_stage_chart: crate::charts::series(&by_stage, "by stage"),
        input_output_chart: crate::charts::split_pie(&totals),
        per_user_chart: crate::charts::series(&per_user.users, "per user"),
        totals,
        by_model,
        by_stage,
        per_user,
        daily,
    })
}
