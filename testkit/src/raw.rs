//! The same answers as `services::costs::analytics`, computed by GROUP BY over
//! the raw stage rows. Tests use it to prove the rollup exact; the cost
//! benchmark compares the two for speed. Never for the dashboard: it scans the
//! whole history.

use models::costs::CostTotals;
use models::org::Caller;
use models::DayRange;
use models::OrgId;
use services::costs::analytics::{totals_at, Grouping};
use services::AppState;
use services::Store;

const RAW_TOTALS: &str = "CAST(COALESCE(SUM(CASE WHEN s.stage_number = 1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COUNT(s.stage_id) AS BIGINT), CAST(COALESCE(SUM(s.input_tokens), 0) AS BIGINT), \
     CAST(COALESCE(SUM(s.cached_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(s.output_tokens), 0) AS BIGINT), \
     CAST(COALESCE(SUM(s.input_cost), 0) AS BIGINT), CAST(COALESCE(SUM(s.output_cost), 0) AS BIGINT), \
     CAST(COALESCE(SUM(s.total_cost), 0) AS BIGINT)";

fn column(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::Model => "s.model_name",
        Grouping::Stage => "s.stage_name",
        Grouping::User => "c.user_id",
        Grouping::Day => "c.day",
    }
}

/// Totals of an organization over a day range, from the raw rows.
pub async fn overview(
    store: &Store,
    org: &str,
    from: i64,
    to: i64,
) -> Result<CostTotals, sqlx::Error> {
    let sql = format!(
        "SELECT {RAW_TOTALS} FROM conversation_stages s JOIN conversations c ON c.conversation_id = s.conversation_id \
         WHERE c.org_id = $1 AND c.day BETWEEN $2 AND $3"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(from)
        .bind(to)
        .fetch_one(store.pool())
        .await?;
    totals_at(&row, 0)
}

/// A breakdown of an organization over a day range, from the raw rows.
pub async fn grouped(
    store: &Store,
    org: &str,
    from: i64,
    to: i64,
    grouping: Grouping,
) -> Result<Vec<(String, CostTotals)>, sqlx::Error> {
    let col = column(grouping);
    let sql = format!(
        "SELECT {col}, {RAW_TOTALS} FROM conversation_stages s JOIN conversations c ON c.conversation_id = s.conversation_id \
         WHERE c.org_id = $1 AND c.day BETWEEN $2 AND $3 GROUP BY {col}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(from)
        .bind(to)
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|row| Ok((grouping.key(row)?, totals_at(row, 1)?)))
        .collect()
}

/// The rollup and the raw rows give the same answer for every breakdown.
pub async fn assert_rollups_match(
    state: &AppState,
    caller: &Caller,
    org: &OrgId,
    range: DayRange,
    what: &str,
) {
    let (from, to) = range.bounds();
    let rolled = services::costs::analytics::overview(state, caller, &range)
        .await
        .expect("overview");
    let counted = overview(&state.store, org.as_str(), from, to)
        .await
        .expect("raw overview");
    assert_eq!(rolled, counted, "{what}: overview");
    // The full-grain rollup agrees too.
    let full: (i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(conversations), 0) AS BIGINT), CAST(COALESCE(SUM(calls), 0) AS BIGINT), \
         CAST(COALESCE(SUM(total_cost), 0) AS BIGINT) FROM usage_daily WHERE org_id = $1 AND day BETWEEN $2 AND $3",
    )
    .bind(org.as_str())
    .bind(from)
    .bind(to)
    .fetch_one(state.store.pool())
    .await
    .expect("full-grain sums");
    assert_eq!(
        full,
        (
            counted.conversations,
            counted.calls,
            counted.total_cost.units()
        ),
        "{what}: usage_daily"
    );
    for grouping in Grouping::ALL {
        let mut a = services::costs::analytics::grouped(state, caller, &range, grouping)
            .await
            .expect("rollup");
        let mut b = grouped(&state.store, org.as_str(), from, to, grouping)
            .await
            .expect("raw");
        a.sort_by(|x, y| x.0.cmp(&y.0));
        b.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(a, b, "{what}: {grouping:?}");
    }
}
