//! Recording conversations: the conversation, one row per LLM call, and the
//! daily rollup, in one transaction. A failure leaves nothing half-written, so
//! a cost is never counted twice or lost.

use super::PriceTable;
use crate::error::internal;
use crate::store::Tx;
use crate::Store;
use models::costs::{Channel, ConversationStatus, Stage, Usage};
use models::{AppError, Day, OrgId, Usd, UserId};
use sqlx::Row;
use std::collections::BTreeMap;

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
    /// When it was asked, Unix seconds.
    pub at: i64,
    pub stages: Vec<NewStage>,
}

/// A priced stage, ready to write.
struct Priced<'a> {
    number: i64,
    stage: &'a NewStage,
    input_cost: Usd,
    output_cost: Usd,
}

/// The rollup key of a stage, and what it adds.
#[derive(Default)]
struct RollupDelta {
    conversations: i64,
    calls: i64,
    input_tokens: i64,
    cached_tokens: i64,
    output_tokens: i64,
    input_cost: Usd,
    output_cost: Usd,
}

/// Records a conversation and returns its id.
pub async fn record(
    store: &Store,
    prices: &PriceTable,
    conversation: &NewConversation,
) -> Result<i64, AppError> {
    validate(conversation)?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let id = record_in(&mut tx, prices, conversation).await?;
    tx.commit()
        .await
        .map_err(internal("committing a conversation"))?;
    Ok(id)
}

fn validate(conversation: &NewConversation) -> Result<(), AppError> {
    if conversation.stages.is_empty() {
        return Err(AppError::bad_request(
            "A conversation without LLM calls has no cost to record.",
        ));
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

/// Writes everything inside `tx` (also used by the benchmark).
pub async fn record_in(
    tx: &mut Tx,
    prices: &PriceTable,
    c: &NewConversation,
) -> Result<i64, AppError> {
    let day = Day::of_unix(c.at).0;
    let org = c.org_id.as_ref().map_or("", OrgId::as_str);
    let question = clip(&c.question);
    let id: i64 = sqlx::query(
        "INSERT INTO conversations (chat_id, user_id, username, user_question, org_id, database_id, \
         channel, status, error, day, timestamp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING conversation_id",
    )
    .bind(c.chat_id)
    .bind(c.user_id)
    .bind(c.username.as_deref())
    .bind(question.as_ref())
    .bind(org)
    .bind(c.database_id.as_deref())
    .bind(match c.channel {
        Channel::Telegram => "telegram",
        Channel::Web => "web",
    })
    .bind(c.status.as_str())
    .bind(c.error.as_deref())
    .bind(day)
    .bind(c.at)
    .fetch_one(&mut **tx)
    .await
    .map_err(internal("recording a conversation"))?
    .try_get(0)
    .map_err(internal("decoding a conversation id"))?;

    let priced: Vec<Priced<'_>> = c
        .stages
        .iter()
        .zip(1..)
        .map(|(stage, number)| {
            let cost = prices.cost(&stage.model, &stage.usage);
            Priced {
                number,
                stage,
                input_cost: cost.input_cost,
                output_cost: cost.output_cost,
            }
        })
        .collect();
    insert_stages(tx, id, c.chat_id, &priced).await?;

    // One upsert per distinct (model, stage) of this conversation.
    let mut deltas: BTreeMap<(&str, &str), RollupDelta> = BTreeMap::new();
    for p in &priced {
        let delta = deltas
            .entry((p.stage.model.as_str(), p.stage.stage.as_str()))
            .or_default();
        delta.conversations += i64::from(p.number == 1);
        delta.calls += 1;
        delta.input_tokens += p.stage.usage.prompt_tokens;
        delta.cached_tokens += p.stage.usage.cached_tokens;
        delta.output_tokens += p.stage.usage.billable_output();
        delta.input_cost += p.input_cost;
        delta.output_cost += p.output_cost;
    }
    for ((model, stage), d) in deltas {
        sqlx::query(
            "INSERT INTO usage_daily (org_id, day, user_id, model_name, stage_name, conversations, calls, \
             input_tokens, cached_tokens, output_tokens, input_cost, output_cost, total_cost) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (org_id, day, user_id, model_name, stage_name) DO UPDATE SET \
             conversations = usage_daily.conversations + excluded.conversations, \
             calls = usage_daily.calls + excluded.calls, \
             input_tokens = usage_daily.input_tokens + excluded.input_tokens, \
             cached_tokens = usage_daily.cached_tokens + excluded.cached_tokens, \
             output_tokens = usage_daily.output_tokens + excluded.output_tokens, \
             input_cost = usage_daily.input_cost + excluded.input_cost, \
             output_cost = usage_daily.output_cost + excluded.output_cost, \
             total_cost = usage_daily.total_cost + excluded.total_cost",
        )
        .bind(org)
        .bind(day)
        .bind(c.user_id)
        .bind(model)
        .bind(stage)
        .bind(d.conversations)
        .bind(d.calls)
        .bind(d.input_tokens)
        .bind(d.cached_tokens)
        .bind(d.output_tokens)
        .bind(d.input_cost.units())
        .bind(d.output_cost.units())
        .bind((d.input_cost + d.output_cost).units())
        .execute(&mut **tx)
        .await
        .map_err(internal("updating the usage rollup"))?;
    }
    Ok(id)
}

/// All stage rows of one conversation in one statement.
async fn insert_stages(
    tx: &mut Tx,
    id: i64,
    chat_id: i64,
    priced: &[Priced<'_>],
) -> Result<(), AppError> {
    const COLUMNS: usize = 15;
    let rows: Vec<String> = (0..priced.len())
        .map(|r| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("${}", r * COLUMNS + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO conversation_stages (conversation_id, chat_id, stage_number, stage_name, model_name, \
         input_tokens, cached_tokens, output_tokens, total_tokens, input_cost, output_cost, total_cost, \
         latency_ms, generated_sql, error) VALUES {}",
        rows.join(", ")
    );
    // Placeholders only: the SQL text holds no input.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for p in priced {
        let usage = &p.stage.usage;
        let output = usage.billable_output();
        query = query
            .bind(id)
            .bind(chat_id)
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
        .map(drop)
        .map_err(internal("recording conversation stages"))
}

fn clip(question: &str) -> std::borrow::Cow<'_, str> {
    if question.chars().count() <= MAX_QUESTION_CHARS {
        return question.into();
    }
    let mut clipped: String = question.chars().take(MAX_QUESTION_CHARS).collect();
    clipped.push_str(" […]");
    clipped.into()
}
