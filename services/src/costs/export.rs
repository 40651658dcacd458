//! The per-conversation ledger as CSV (owners), for a date range.

use crate::access::require;
use crate::error::internal;
use crate::Store;
use models::costs::{ConversationPage, ConversationStatus, LedgerEntry};
use models::org::Caller;
use models::{Action, AppError, Day, DayRange, Usd, UserId};
use sqlx::Row;

/// Most conversations one export holds; narrow the range for more.
pub const MAX_ROWS: i64 = 200_000;

/// Conversations per page of the conversations list.
pub const PAGE_SIZE: i64 = 100;

/// A page of the conversations list, newest first: [`PAGE_SIZE`] conversations
/// older than `before` (time and id of the last one of the previous page).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn page(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
    filter: Filter,
    before: Option<(i64, i64)>,
) -> Result<ConversationPage, AppError> {
    require(caller, Action::ViewCosts)?;
    let mut entries = entries(store, caller, range, filter, true, PAGE_SIZE + 1, before).await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    Ok(ConversationPage { entries, more })
}

/// Which conversations a list shows: one person's, of one status, or all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub user: Option<UserId>,
    pub status: Option<ConversationStatus>,
}

/// Conversations of the caller's organization in `range` (owners), optionally
/// of one user or one status, oldest first for the export or newest first for the list;
/// newest first, `before` continues after a (timestamp, id).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn entries(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
    filter: Filter,
    newest_first: bool,
    limit: i64,
    before: Option<(i64, i64)>,
) -> Result<Vec<LedgerEntry>, AppError> {
    let org = require(caller, Action::ViewCosts)?;
    range.validate()?;
    let (from, to) = range.bounds();
    let order = if newest_first { "DESC" } else { "ASC" };
    let sql = format!(
        "{ENTRY_COLUMNS} \
         WHERE c.org_id = $1 AND c.day BETWEEN $2 AND $3 AND ($4 = 0 OR c.user_id = $5) AND ($10 = '' OR c.status = $10) \
         AND ($7 = 0 OR c.timestamp < $8 OR (c.timestamp = $8 AND c.conversation_id < $9)) \
         {ENTRY_GROUPING} \
         ORDER BY c.timestamp {order}, c.conversation_id {order} LIMIT $6"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_str())
        .bind(from)
        .bind(to)
        .bind(i64::from(filter.user.is_some()))
        .bind(filter.user.unwrap_or(0))
        .bind(limit)
        .bind(i64::from(before.is_some()))
        .bind(before.map_or(0, |b| b.0))
        .bind(before.map_or(0, |b| b.1))
        .bind(filter.status.map_or("", ConversationStatus::as_str))
        .fetch_all(store.pool())
        .await
        .map_err(internal("reading the ledger"))?;
    rows.iter()
        .map(entry)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding the ledger"))
}

/// What a ledger entry reads: the conversation, its stages' sums, the last
/// SQL written for it, its answer or error. Followed by a WHERE, then
/// [`ENTRY_GROUPING`]; decoded by [`entry`].
const ENTRY_COLUMNS: &str = "SELECT c.conversation_id, c.timestamp, c.user_id, c.username, c.user_question, c.status, \
     CAST(COUNT(s.stage_id) AS BIGINT), CAST(COALESCE(SUM(s.input_tokens), 0) AS BIGINT), \
     CAST(COALESCE(SUM(s.output_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(s.total_cost), 0) AS BIGINT), \
     c.row_count, (SELECT q.generated_sql FROM conversation_stages q \
       WHERE q.conversation_id = c.conversation_id AND q.generated_sql IS NOT NULL \
       ORDER BY q.stage_number DESC LIMIT 1), c.answer, c.error \
     FROM conversations c LEFT JOIN conversation_stages s ON s.conversation_id = c.conversation_id";

const ENTRY_GROUPING: &str = "GROUP BY c.conversation_id, c.timestamp, c.user_id, c.username, \
     c.user_question, c.status, c.row_count, c.answer, c.error";

fn entry(row: &sqlx::any::AnyRow) -> Result<LedgerEntry, sqlx::Error> {
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
        answer: row.try_get(12)?,
        error: row.try_get(13)?,
        stages: row.try_get(6)?,
        input_tokens: row.try_get(7)?,
        output_tokens: row.try_get(8)?,
        total_cost: Usd(row.try_get(9)?),
    })
}

/// The caller's own last questions, newest first, in any organization (the
/// bot's /history): question, status, rows and cost.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?caller.user_id))]
pub async fn own_history(
    store: &Store,
    caller: &Caller,
    limit: i64,
) -> Result<Vec<LedgerEntry>, AppError> {
    let user_id = caller
        .user_id
        .ok_or_else(|| AppError::forbidden("Only Telegram users ask questions."))?;
    let sql = format!(
        "{ENTRY_COLUMNS} WHERE c.user_id = $1 {ENTRY_GROUPING} \
         ORDER BY c.timestamp DESC, c.conversation_id DESC LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(limit.clamp(1, 100))
        .fetch_all(store.pool())
        .await
        .map_err(internal("reading one's history"))?;
    rows.iter()
        .map(entry)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(internal("decoding one's history"))
}

/// `conversation_id,date,time_utc,user_id,username,question,status,stages,input_tokens,output_tokens,total_cost_usd,rows,sql`
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn ledger_csv(
    store: &Store,
    caller: &Caller,
    range: &DayRange,
) -> Result<String, AppError> {
    require(caller, Action::ViewCosts)?;
    let rows = entries(
        store,
        caller,
        range,
        Filter::default(),
        false,
        MAX_ROWS + 1,
        None,
    )
    .await?;
    if rows.len() as i64 > MAX_ROWS {
        return Err(AppError::bad_request(format!(
            "The range holds more than {MAX_ROWS} conversations; export a shorter range."
        )));
    }
    write_csv(&rows).map_err(internal("writing the ledger as CSV"))
}

/// The CSV header of the ledger export.
const HEADER: [&str; 13] = [
    "conversation_id",
    "date",
    "time_utc",
    "user_id",
    "username",
    "question",
    "status",
    "stages",
    "input_tokens",
    "output_tokens",
    "total_cost_usd",
    "rows",
    "sql",
];

/// The ledger rows as CSV (RFC 4180 quoting by the `csv` crate); text that
/// people or the LLM wrote is neutralised against spreadsheet formulas.
fn write_csv(rows: &[LedgerEntry]) -> Result<String, csv::Error> {
    use crate::csv::neutralised;
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    out.write_record(HEADER)?;
    for e in rows {
        let secs = e.timestamp.rem_euclid(86_400);
        out.write_record([
            e.conversation_id.to_string(),
            e.day.to_string(),
            format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
            e.user_id.to_string(),
            neutralised(e.username.as_deref().unwrap_or("")),
            neutralised(&e.question),
            neutralised(&e.status),
            e.stages.to_string(),
            e.input_tokens.to_string(),
            e.output_tokens.to_string(),
            e.total_cost.to_decimal_string(),
            e.rows.map(|n| n.to_string()).unwrap_or_default(),
            neutralised(e.sql.as_deref().unwrap_or("")),
        ])?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    // Every field went in as a `String`, so the output is UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(question: &str) -> LedgerEntry {
        LedgerEntry {
            conversation_id: 7,
            timestamp: 86_400 + 3_661,
            day: Day::of_unix(86_400 + 3_661),
            user_id: 42,
            username: Some("ada".into()),
            question: question.into(),
            status: "answered".into(),
            sql: None,
            rows: Some(3),
            answer: None,
            error: None,
            stages: 2,
            input_tokens: 10,
            output_tokens: 5,
            total_cost: Usd(123),
        }
    }

    /// The question field of a one-row export.
    fn question_field(question: &str) -> String {
        let csv = write_csv(&[entry(question)]).expect("writes");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let record = reader.records().next().expect("a row").expect("parses");
        record.get(5).expect("question column").to_owned()
    }

    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(question_field("plain"), "plain");
        assert_eq!(question_field("a,b"), "a,b");
        assert_eq!(question_field("say \"hi\""), "say \"hi\"");
        assert_eq!(question_field("two\nlines"), "two\nlines");
        for formula in ["=SUM(A1)", "+1", "-1+2", "@cmd", "\t=1+2", "\r=1+2"] {
            assert_eq!(
                question_field(formula),
                format!("'{formula}"),
                "{formula:?}"
            );
        }
        let csv = write_csv(&[entry("a,b")]).expect("writes");
        assert!(csv.starts_with("conversation_id,date,"), "{csv}");
        assert!(csv.contains(",\"a,b\","), "{csv}");
        assert!(csv.ends_with('\n') && !csv.contains('\r'), "{csv}");
    }
}
