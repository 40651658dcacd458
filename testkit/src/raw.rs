//! The same answers as `services::costs::analytics`, computed by GROUP BY over
//! the raw stage rows. Tests use it to prove the rollup exact; the cost
//! benchmark compares the two for speed. Never for the dashboard: it scans the
//! whole history.

use models::costs::CostTotals;
use services::costs::analytics::{totals_at, Grouping};
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
