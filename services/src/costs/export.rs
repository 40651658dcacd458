//! The per-conversation ledger as CSV (owners), for a date range.

use crate::error::internal;
use crate::orgs::require;
use crate::Store;
use models::org::Caller;
use models::{Action, AppError, Day, DayRange, Usd};
use sqlx::Row;

/// Most conversations one export holds; narrow the range for more.
pub const MAX_ROWS: i64 = 200_000;

/// `conversation_id,date,time_utc,user_id,username,question,status,stages,input_tokens,output_tokens,total_cost_usd`
pub async fn ledger_csv(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
) -> Result<String, AppError> {
    let org = require(caller, Action::ViewCosts)?;
    range.validate()?;
    let (from, to) = range.bounds();
    let rows = sqlx::query(
        "SELECT c.conversation_id, c.timestamp, c.user_id, c.username, c.user_question, c.status, \
         CAST(COUNT(s.stage_id) AS BIGINT), CAST(COALESCE(SUM(s.input_tokens), 0) AS BIGINT), \
         CAST(COALESCE(SUM(s.output_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(s.total_cost), 0) AS BIGINT) \
         FROM conversations c LEFT JOIN conversation_stages s ON s.conversation_id = c.conversation_id \
         WHERE c.org_id = $1 AND c.day BETWEEN $2 AND $3 \
         GROUP BY c.conversation_id, c.timestamp, c.user_id, c.username, c.user_question, c.status \
         ORDER BY c.timestamp, c.conversation_id LIMIT $4",
    )
    .bind(org.as_str())
    .bind(from)
    .bind(to)
    .bind(MAX_ROWS + 1)
    .fetch_all(store.pool())
    .await
    .map_err(internal("reading the ledger"))?;
    if rows.len() as i64 > MAX_ROWS {
        return Err(AppError::bad_request(format!(
            "The range holds more than {MAX_ROWS} conversations; export a shorter range."
        )));
    }
    let mut out = String::from(
        "conversation_id,date,time_utc,user_id,username,question,status,stages,input_tokens,output_tokens,total_cost_usd\n",
    );
    for row in &rows {
        let decode = |row: &sqlx::any::AnyRow| -> Result<String, sqlx::Error> {
            let ts: i64 = row.try_get(1)?;
            let secs = ts.rem_euclid(86_400);
            let username: Option<String> = row.try_get(3)?;
            let fields = [
                row.try_get::<i64, _>(0)?.to_string(),
                Day::of_unix(ts).to_string(),
                format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
                row.try_get::<i64, _>(2)?.to_string(),
                csv_field(username.as_deref().unwrap_or("")),
                csv_field(&row.try_get::<String, _>(4)?),
                row.try_get::<String, _>(5)?,
                row.try_get::<i64, _>(6)?.to_string(),
                row.try_get::<i64, _>(7)?.to_string(),
                row.try_get::<i64, _>(8)?.to_string(),
                Usd(row.try_get(9)?).to_decimal_string(),
            ];
            Ok(fields.join(","))
        };
        out.push_str(&decode(row).map_err(internal("decoding the ledger"))?);
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
