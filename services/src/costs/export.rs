//! The per-conversation ledger as CSV (owners), for a date range.

use crate::error::internal;
use crate::orgs::require;
use crate::Store;
use models::costs::{ConversationPage, LedgerEntry};
use models::org::Caller;
use models::{Action, AppError, Day, DayRange, Usd, UserId};
use sqlx::Row;

/// Most conversations one export holds; narrow the range for more.
pub const MAX_ROWS: i64 = 200_000;

/// Conversations per page of the conversations list.
pub const PAGE_SIZE: i64 = 100;

/// A page of the conversations list, newest first: [`PAGE_SIZE`] conversations
/// older than `before` (time and id of the last one of the previous page).
pub async fn page(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
    user: Option<UserId>,
    before: Option<(i64, i64)>,
) -> Result<ConversationPage, AppError> {
    let mut entries = entries(store, caller, range, user, true, PAGE_SIZE + 1, before).await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    Ok(ConversationPage { entries, more })
}

/// Conversations of the caller's organization in `range` (owners), optionally
/// of one user, oldest first for the export or newest first for the list;
/// newest first, `before` continues after a (timestamp, id).
pub async fn entries(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
    user: Option<UserId>,
    newest_first: bool,
    limit: i64,
    before: Option<(i64, i64)>,
) -> Result<Vec<LedgerEntry>, AppError> {
    let org = require(caller, Action::ViewCosts)?;
    range.validate()?;
    let (from, to) = range.bounds();
    let order = if newest_first { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT c.conversation_id, c.timestamp, c.user_id, c.username, c.user_question, c.status, \
         CAST(COUNT(s.stage_id) AS BIGINT), CAST(COALESCE(SUM(s.input_tokens), 0) AS BIGINT), \
         CAST(COALESCE(SUM(s.output_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(s.total_cost), 0) AS BIGINT), \
         c.row_count, (SELECT q.generated_sql FROM conversation_stages q \
           WHERE q.conversation_id = c.conversation_id AND q.generated_sql IS NOT NULL \
           ORDER BY q.stage_number DESC LIMIT 1) \
         FROM conversations c LEFT JOIN conversation_stages s ON s.conversation_id = c.conversation_id \
         WHERE c.org_id = $1 AND c.day BETWEEN $2 AND $3 AND ($4 = 0 OR c.user_id = $5) \
         AND ($7 = 0 OR c.timestamp < $8 OR (c.timestamp = $8 AND c.conversation_id < $9)) \
         GROUP BY c.conversation_id, c.timestamp, c.user_id, c.username, c.user_question, c.status, c.row_count \
         ORDER BY c.timestamp {order}, c.conversation_id {order} LIMIT $6"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_str())
        .bind(from)
        .bind(to)
        .bind(i64::from(user.is_some()))
        .bind(user.unwrap_or(0))
        .bind(limit)
        .bind(i64::from(before.is_some()))
        .bind(before.map_or(0, |b| b.0))
        .bind(before.map_or(0, |b| b.1))
        .fetch_all(store.pool())
        .await
        .map_err(internal("reading the ledger"))?;
    rows.iter()
        .map(|row| {
            let timestamp: i64 = row.try_get(1)?;
            Ok(LedgerEntry {
                conversation_id: row.try_get(0)?,
                timestamp,
                day: Day::of_unix(timestamp),
                user_id: row.try_get(2)?,
                username: row.try_get(3)?,
                question: row.try_get(4)?,
                status: row.try_get(5)?,
                sql: row.try_get(11)?,
                rows: row.try_get(10)?,
                stages: row.try_get(6)?,
                input_tokens: row.try_get(7)?,
                output_tokens: row.try_get(8)?,
                total_cost: Usd(row.try_get(9)?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding the ledger"))
}

/// `conversation_id,date,time_utc,user_id,username,question,status,stages,input_tokens,output_tokens,total_cost_usd,rows,sql`
pub async fn ledger_csv(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
) -> Result<String, AppError> {
    let rows = entries(store, caller, range, None, false, MAX_ROWS + 1, None).await?;
    if rows.len() as i64 > MAX_ROWS {
        return Err(AppError::bad_request(format!(
            "The range holds more than {MAX_ROWS} conversations; export a shorter range."
        )));
    }
    let mut out = String::from(
        "conversation_id,date,time_utc,user_id,username,question,status,stages,input_tokens,output_tokens,total_cost_usd,rows,sql\n",
    );
    for e in &rows {
        let secs = e.timestamp.rem_euclid(86_400);
        let fields = [
            e.conversation_id.to_string(),
            e.day.to_string(),
            format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
            e.user_id.to_string(),
            csv_field(e.username.as_deref().unwrap_or("")),
            csv_field(&e.question),
            csv_field(&e.status),
            e.stages.to_string(),
            e.input_tokens.to_string(),
            e.output_tokens.to_string(),
            e.total_cost.to_decimal_string(),
            e.rows.map(|n| n.to_string()).unwrap_or_default(),
            csv_field(e.sql.as_deref().unwrap_or("")),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// Quotes a field when it holds a comma, quote or line break; neutralises
/// spreadsheet formulas (a leading `=`, `+`, `-`, `@`) with a leading quote.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
