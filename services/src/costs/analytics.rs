//! Cost analytics over the daily rollups (never the raw history), scoped to the
//! caller's organization, owners only (the access matrix's ViewCosts).

use super::answers::{self, Key, Rows};
use crate::access::require;
use crate::error::internal;
use crate::{AppState, Store};
use models::costs::{CostRow, CostTotals, InputOutputSplit, OwnTotals, PerUserCosts, Stage};
use models::org::{display_name, Caller};
use models::{Action, AppError, Day, DayRange, Usd, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The eight sums every answer carries, in this order.
pub(crate) const TOTALS: &str = "CAST(COALESCE(SUM(conversations), 0) AS BIGINT), \
     CAST(COALESCE(SUM(calls), 0) AS BIGINT), CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), \
     CAST(COALESCE(SUM(cached_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), \
     CAST(COALESCE(SUM(input_cost), 0) AS BIGINT), CAST(COALESCE(SUM(output_cost), 0) AS BIGINT), \
     CAST(COALESCE(SUM(total_cost), 0) AS BIGINT)";

/// Reads the eight sums starting at column `at` (of `TOTALS` or a query
/// with the same columns).
pub fn totals_at(row: &AnyRow, at: usize) -> Result<CostTotals, sqlx::Error> {
    Ok(CostTotals {
        conversations: row.try_get(at)?,
        calls: row.try_get(at + 1)?,
        input_tokens: row.try_get(at + 2)?,
        cached_tokens: row.try_get(at + 3)?,
        output_tokens: row.try_get(at + 4)?,
        input_cost: Usd(row.try_get(at + 5)?),
        output_cost: Usd(row.try_get(at + 6)?),
        total_cost: Usd(row.try_get(at + 7)?),
    })
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Model,
    Stage,
    User,
    Day,
}

impl Grouping {
    pub const ALL: [Grouping; 4] = [
        Grouping::Model,
        Grouping::Stage,
        Grouping::User,
        Grouping::Day,
    ];

    /// The narrowest rollup that holds this grouping's key.
    fn rollup_table(self) -> &'static str {
        match self {
            Grouping::User => "usage_daily_user",
            Grouping::Model | Grouping::Stage | Grouping::Day => "usage_daily_org",
        }
    }

    fn rollup_column(self) -> &'static str {
        match self {
            Grouping::Model => "model_name",
            Grouping::Stage => "stage_name",
            Grouping::User => "user_id",
            Grouping::Day => "day",
        }
    }

    /// Reads the group key at column 0 as text (ids and days as their numbers).
    pub fn key(self, row: &AnyRow) -> Result<String, sqlx::Error> {
        match self {
            Grouping::Model | Grouping::Stage => row.try_get(0),
            Grouping::User => row.try_get::<i64, _>(0).map(|v| v.to_string()),
            Grouping::Day => row.try_get::<i64, _>(0).map(|v| Day(v).to_string()),
        }
    }
}

fn scope<'a>(caller: &'a Caller, range: &DayRange) -> Result<(&'a str, i64, i64), AppError> {
    let org = require(caller, Action::ViewCosts)?;
    range.validate()?;
    let (from, to) = range.bounds();
    Ok((org.as_str(), from, to))
}

/// Totals of the caller's organization over `range`.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn overview(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
) -> Result<CostTotals, AppError> {
    require(caller, Action::ViewCosts)?;
    let rows = remembered(state, caller, range, None).await?;
    Ok(rows.first().map(|(_, t)| *t).unwrap_or_default())
}

/// Input versus output tokens and cost.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn input_output(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
) -> Result<InputOutputSplit, AppError> {
    require(caller, Action::ViewCosts)?;
    let t = overview(state, caller, range).await?;
    Ok(InputOutputSplit {
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        input_cost: t.input_cost,
        output_cost: t.output_cost,
    })
}

/// Rows grouped by `grouping` (key, totals), in no particular order.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn grouped(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
    grouping: Grouping,
) -> Result<Vec<(String, CostTotals)>, AppError> {
    require(caller, Action::ViewCosts)?;
    let rows = remembered(state, caller, range, Some(grouping)).await?;
    Ok(rows.as_ref().clone())
}

/// The rollup query's answer for the caller's organization: remembered while
/// the organization's usage counter stands still (see `answers`). `None`
/// asks for the totals (one row).
async fn remembered(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
    grouping: Option<Grouping>,
) -> Result<Rows, AppError> {
    let (org, from, to) = scope(caller, range)?;
    let store = &state.store;
    let version = answers::version(store, org)
        .await
        .map_err(internal("reading the usage counter"))?;
    let key = Key {
        org: org.to_owned(),
        query: grouping.map_or("totals", Grouping::rollup_column),
        from,
        to,
    };
    state
        .answers
        .get_or_compute(key, version, || {
            rollup_query(store, org, from, to, grouping)
        })
        .await
}

/// The aggregate itself, straight from the rollups (no remembering).
async fn rollup_query(
    store: &Store,
    org: &str,
    from: i64,
    to: i64,
    grouping: Option<Grouping>,
) -> Result<Vec<(String, CostTotals)>, AppError> {
    let Some(grouping) = grouping else {
        let sql = format!(
            "SELECT {TOTALS} FROM usage_daily_org WHERE org_id = $1 AND day BETWEEN $2 AND $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org)
            .bind(from)
            .bind(to)
            .fetch_one(store.pool())
            .await
            .map_err(internal("reading cost totals"))?;
        let totals = totals_at(&row, 0).map_err(internal("decoding cost totals"))?;
        return Ok(vec![(String::new(), totals)]);
    };
    let column = grouping.rollup_column();
    let table = grouping.rollup_table();
    let sql = format!(
        "SELECT {column}, {TOTALS} FROM {table} WHERE org_id = $1 AND day BETWEEN $2 AND $3 GROUP BY {column}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(from)
        .bind(to)
        .fetch_all(store.pool())
        .await
        .map_err(internal("reading a cost breakdown"))?;
    rows.iter()
        .map(|row| Ok((grouping.key(row)?, totals_at(row, 1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding a cost breakdown"))
}

fn labelled(rows: Vec<(String, CostTotals)>) -> Vec<CostRow> {
    rows.into_iter()
        .map(|(key, totals)| CostRow {
            label: key.clone(),
            key,
            totals,
        })
        .collect()
}

/// By model, most expensive first.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn by_model(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
) -> Result<Vec<CostRow>, AppError> {
    require(caller, Action::ViewCosts)?;
    let mut rows = labelled(grouped(state, caller, range, Grouping::Model).await?);
    rows.sort_by(|a, b| {
        b.totals
            .total_cost
            .cmp(&a.totals.total_cost)
            .then(a.key.cmp(&b.key))
    });
    Ok(rows)
}

/// By stage, in pipeline order.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn by_stage(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
) -> Result<Vec<CostRow>, AppError> {
    require(caller, Action::ViewCosts)?;
    let mut rows = labelled(grouped(state, caller, range, Grouping::Stage).await?);
    rows.sort_by_key(|r| {
        (
            Stage::parse(&r.key).map_or(usize::MAX, |s| s as usize),
            r.key.clone(),
        )
    });
    Ok(rows)
}

/// Per day, oldest first (days without usage are absent).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn daily(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
) -> Result<Vec<CostRow>, AppError> {
    require(caller, Action::ViewCosts)?;
    let mut rows = labelled(grouped(state, caller, range, Grouping::Day).await?);
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(rows)
}

/// Per user (most expensive first, with names) and the average per current member.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn per_user(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
) -> Result<PerUserCosts, AppError> {
    let org = require(caller, Action::ViewCosts)?;
    let rows = grouped(state, caller, range, Grouping::User).await?;
    let ids: Vec<UserId> = rows
        .iter()
        .filter_map(|(key, _)| key.parse().ok())
        .collect();
    let found = state
        .answers
        .people_or_read(org.as_str(), &ids, || {
            people(&state.store, org.as_str(), &ids)
        })
        .await?;
    let (names, members) = (&found.0, found.1);
    let name_of = |id: UserId| -> String {
        if id == models::FORGOTTEN_USER {
            return models::FORGOTTEN_USER_LABEL.to_owned();
        }
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("user {id}"))
    };
    let mut users: Vec<CostRow> = rows
        .into_iter()
        .map(|(key, totals)| {
            let label = key.parse().map(name_of).unwrap_or_else(|_| key.clone());
            CostRow { key, label, totals }
        })
        .collect();
    users.sort_by(|a, b| {
        b.totals
            .total_cost
            .cmp(&a.totals.total_cost)
            .then(a.key.cmp(&b.key))
    });
    let total: Usd = users.iter().map(|u| u.totals.total_cost).sum();
    let average_per_member = if members > 0 {
        Usd((total.units() + members / 2) / members)
    } else {
        Usd::ZERO
    };
    Ok(PerUserCosts {
        users,
        members,
        average_per_member,
    })
}

/// Display names of Telegram users and the organization's member count, read
/// fresh (names and members change without usage).
async fn people(
    store: &Store,
    org: &str,
    ids: &[UserId],
) -> Result<(std::collections::HashMap<UserId, String>, i64), AppError> {
    let members: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM organization_members WHERE org_id = $1")
            .bind(org)
            .fetch_one(store.pool())
            .await
            .map_err(internal("counting members"))?;
    let mut names = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        // Placeholders only: the SQL text holds no input.
        let sql = format!(
            "SELECT user_id, first_name, last_name, username FROM telegram_users WHERE user_id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        let rows = query
            .fetch_all(store.pool())
            .await
            .map_err(internal("reading user names"))?;
        for r in rows {
            let id: UserId = r.try_get(0).map_err(internal("decoding a user name"))?;
            let first: Option<String> = r.try_get(1).ok().flatten();
            let last: Option<String> = r.try_get(2).ok().flatten();
            let username: Option<String> = r.try_get(3).ok().flatten();
            names.insert(
                id,
                display_name(first.as_deref(), last.as_deref(), username.as_deref(), id),
            );
        }
    }
    Ok((names, members))
}

/// A user's own spend today and this ISO week (for /stats and /myinfo), in any organization.
pub async fn own_totals(store: &Store, user_id: UserId, today: Day) -> Result<OwnTotals, AppError> {
    let sum = |from: Day| async move {
        let sql = format!(
            "SELECT {TOTALS} FROM usage_daily_user WHERE user_id = $1 AND day BETWEEN $2 AND $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(from.0)
            .bind(today.0)
            .fetch_one(store.pool())
            .await
            .map_err(internal("reading own totals"))?;
        totals_at(&row, 0).map_err(internal("decoding own totals"))
    };
    Ok(OwnTotals {
        today: sum(today).await?,
        this_week: sum(today.week_start()).await?,
    })
}
