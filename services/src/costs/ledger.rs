//! Recording conversations: the conversation, one row per LLM call, and the
//! daily rollup, in one transaction. A failure leaves nothing half-written, so
//! a cost is never counted twice or lost.
//!
//! [`write_batch`] writes any number of conversations in one transaction with
//! a handful of statements (ids reserved up front, multi-row inserts, one
//! aggregated rollup upsert); [`super::recorder::Recorder`] feeds it batches
//! from concurrent callers (group commit), [`record`] a single conversation.

use super::rollup::{Delta, Rollups};
use super::PriceTable;
use crate::error::internal;
use crate::store::{placeholders, Backend, Tx};
use crate::Store;
use models::costs::{Channel, ConversationStatus, Stage, Usage};
use models::{AppError, Day, OrgId, Usd, UserId};

/// Longest question kept in the ledger; longer ones are cut with a marker.
pub const MAX_QUESTION_CHARS: usize = 20_000;

/// One LLM call of a conversation.
#[derive(Debug, Clone)]
pub struct NewStage {
    pub stage: Stage,
    pub model: String,
    pub usage: Usage,
    pub latency_ms: i64,
    pub generated_sql: Option<String>,
    pub error: Option<String>,
}

/// A conversation to record, with every LLM call it made (failed and refused
/// conversations too: their calls cost money).
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub chat_id: i64,
    pub user_id: UserId,
    pub username: Option<String>,
    pub question: String,
    pub org_id: Option<OrgId>,
    pub database_id: Option<String>,
    pub channel: Channel,
    pub status: ConversationStatus,
    pub error: Option<String>,
    /// Rows the final query returned (`None` when no query ran).
    pub row_count: Option<i64>,
    /// The answer given (`None` when it failed or was refused: `error` says why).
    pub answer: Option<String>,
    /// When it was asked, Unix seconds.
    pub at: i64,
    pub stages: Vec<NewStage>,
}

/// Records one conversation in its own transaction and returns its id.
pub async fn record(
    store: &Store,
    prices: &PriceTable,
    conversation: &NewConversation,
) -> Result<i64, AppError> {
    validate(conversation)?;
    let ids = write_batch(store, prices, std::slice::from_ref(conversation)).await?;
    ids.into_iter().next().ok_or_else(AppError::internal)
}

/// [`record`] inside the caller's transaction (the question pipeline writes
/// the conversation, its memory and the end of the question in one).
pub async fn record_in(
    tx: &mut Tx,
    backend: Backend,
    prices: &PriceTable,
    conversation: &NewConversation,
) -> Result<i64, AppError> {
    validate(conversation)?;
    let (ids, rollups) =
        insert_rows(tx, backend, prices, std::slice::from_ref(conversation)).await?;
    rollups
        .write(tx, backend)
        .await
        .map_err(internal("updating the usage rollups"))?;
    ids.into_iter().next().ok_or_else(AppError::internal)
}

/// Checks a conversation before it is queued or written.
pub fn validate(conversation: &NewConversation) -> Result<(), AppError> {
    if conversation.stages.is_empty() {
        return Err(AppError::bad_request(
            "A conversation without LLM calls has no cost to record.",
        ));
    }
    if conversation.row_count.is_some_and(|n| n < 0) {
        return Err(AppError::bad_request("A row count cannot be negative."));
    }
    for stage in &conversation.stages {
        stage.usage.validate()?;
        if stage.model.trim().is_empty() || stage.model.len() > 100 {
            return Err(AppError::bad_request(
                "A model name must be 1 to 100 characters.",
            ));
        }
        if stage.latency_ms < 0 {
            return Err(AppError::bad_request("A latency cannot be negative."));
        }
    }
    Ok(())
}

/// The organization a conversation is recorded under. The pipeline leaves it
/// out for a question to a person's own database (their organization's
/// owner must not see it; issue 29), from the row it already read.
fn org_of(c: &NewConversation) -> &str {
    c.org_id.as_ref().map_or("", OrgId::as_str)
}

/// Rows per multi-row INSERT (keeps every statement under SQLite's 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 1_000;
const CONVERSATION_COLUMNS: usize = 14;
const STAGE_COLUMNS: usize = 15;

/// Writes already-validated conversations and their rollups in one
/// transaction; returns their ids in order. All or nothing: on any error none
/// of them is written.
pub async fn write_batch(
    store: &Store,
    prices: &PriceTable,
    batch: &[NewConversation],
) -> Result<Vec<i64>, AppError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (ids, rollups) = insert_rows(&mut tx, store.backend(), prices, batch).await?;
    rollups
        .write(&mut tx, store.backend())
        .await
        .map_err(internal("updating the usage rollups"))?;
    tx.commit()
        .await
        .map_err(internal("committing conversations"))?;
    Ok(ids)
}

/// The first half of [`write_batch`]: reserves ids and inserts the
/// conversations and their priced stage rows inside `tx`, and returns the ids
/// with the rollup changes those rows make (which the caller must write in the
/// same transaction, or the dashboards disagree with the ledger).
pub async fn insert_rows(
    tx: &mut Tx,
    backend: Backend,
    prices: &PriceTable,
    batch: &[NewConversation],
) -> Result<(Vec<i64>, Rollups), AppError> {
    let ids = reserve_ids(tx, backend, batch.len()).await?;

    for (chunk, chunk_ids) in batch
        .chunks(ROWS_PER_STATEMENT)
        .zip(ids.chunks(ROWS_PER_STATEMENT))
    {
        let sql = format!(
            "INSERT INTO conversations (conversation_id, chat_id, user_id, username, user_question, org_id, \
             database_id, channel, status, error, day, timestamp, row_count, answer) VALUES {}",
            placeholders(backend, chunk.len(), CONVERSATION_COLUMNS)
        );
        // Placeholders only: the SQL text holds no input.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (c, id) in chunk.iter().zip(chunk_ids) {
            query = query
                .bind(*id)
                .bind(c.chat_id)
                .bind(c.user_id)
                .bind(c.username.as_deref())
                .bind(clip(&c.question).into_owned())
                .bind(org_of(c))
                .bind(c.database_id.as_deref())
                .bind(c.channel.as_str())
                .bind(c.status.as_str())
                .bind(c.error.as_deref())
                .bind(Day::of_unix(c.at).0)
                .bind(c.at)
                .bind(c.row_count)
                .bind(c.answer.as_deref().map(|a| clip_answer(a).into_owned()));
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(internal("recording conversations"))?;
    }

    // Price every call once; the stage rows and the rollup use the same figures.
    struct Priced<'a> {
        id: i64,
        conversation: &'a NewConversation,
        number: i64,
        stage: &'a NewStage,
        input_cost: Usd,
        output_cost: Usd,
    }
    let priced: Vec<Priced<'_>> = batch
        .iter()
        .zip(&ids)
        .flat_map(|(c, id)| {
            c.stages.iter().zip(1..).map(move |(stage, number)| {
                let cost = prices.cost(&stage.model, &stage.usage);
                Priced {
                    id: *id,
                    conversation: c,
                    number,
                    stage,
                    input_cost: cost.input_cost,
                    output_cost: cost.output_cost,
                }
            })
        })
        .collect();
    for chunk in priced.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO conversation_stages (conversation_id, chat_id, stage_number, stage_name, model_name, \
             input_tokens, cached_tokens, output_tokens, total_tokens, input_cost, output_cost, total_cost, \
             latency_ms, generated_sql, error) VALUES {}",
            placeholders(backend, chunk.len(), STAGE_COLUMNS)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            let usage = &p.stage.usage;
            let output = usage.billable_output();
            query = query
                .bind(p.id)
                .bind(p.conversation.chat_id)
                .bind(p.number)
                .bind(p.stage.stage.as_str())
                .bind(p.stage.model.as_str())
                .bind(usage.prompt_tokens)
                .bind(usage.cached_tokens)
                .bind(output)
                .bind(usage.prompt_tokens + output)
                .bind(p.input_cost.units())
                .bind(p.output_cost.units())
                .bind((p.input_cost + p.output_cost).units())
                .bind(p.stage.latency_ms)
                .bind(p.stage.generated_sql.as_deref())
                .bind(p.stage.error.as_deref());
        }
        query
            .execute(&mut **tx)
            .await
            .map_err(internal("recording conversation stages"))?;
    }

    let mut rollups = Rollups::default();
    for p in &priced {
        let c = p.conversation;
        rollups.add(
            org_of(c),
            Day::of_unix(c.at).0,
            c.user_id,
            &p.stage.model,
            p.stage.stage.as_str(),
            Delta {
                conversations: i64::from(p.number == 1),
                calls: 1,
                input_tokens: p.stage.usage.prompt_tokens,
                cached_tokens: p.stage.usage.cached_tokens,
                output_tokens: p.stage.usage.billable_output(),
                input_cost: p.input_cost.units(),
                output_cost: p.output_cost.units(),
            },
        );
    }
    Ok((ids, rollups))
}

/// Reserves `n` new conversation ids inside `tx`.
///
/// SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so the
/// highest id ever used (`sqlite_sequence`, never reused) cannot move under us.
/// PostgreSQL: the identity's own sequence hands out `n` values.
async fn reserve_ids(tx: &mut Tx, backend: Backend, n: usize) -> Result<Vec<i64>, AppError> {
    let n = i64::try_from(n).map_err(|_| AppError::internal())?;
    match backend {
        Backend::Sqlite => {
            let last: i64 = sqlx::query_scalar(
                "SELECT CAST(MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'conversations'), 0), \
                 COALESCE((SELECT MAX(conversation_id) FROM conversations), 0)) AS BIGINT)",
            )
            .fetch_one(&mut **tx)
            .await
            .map_err(internal("reserving conversation ids"))?;
            Ok((last + 1..=last + n).collect())
        }
        Backend::Postgres => sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('conversations', 'conversation_id')) FROM generate_series(1, $1)",
        )
        .bind(n)
        .fetch_all(&mut **tx)
        .await
        .map_err(internal("reserving conversation ids")),
    }
}

/// An answer is kept up to this many characters (a long one is cut, marked).
pub const MAX_ANSWER_CHARS: usize = 8_000;

fn clip_answer(answer: &str) -> std::borrow::Cow<'_, str> {
    if answer.chars().count() <= MAX_ANSWER_CHARS {
        return answer.into();
    }
    let mut clipped: String = answer.chars().take(MAX_ANSWER_CHARS).collect();
    clipped.push_str(" […]");
    clipped.into()
}

fn clip(question: &str) -> std::borrow::Cow<'_, str> {
    if question.chars().count() <= MAX_QUESTION_CHARS {
        return question.into();
    }
    let mut clipped: String = question.chars().take(MAX_QUESTION_CHARS).collect();
    clipped.push_str(" […]");
    clipped.into()
}
