//! Synthetic usage for benchmarks and demos: organizations, users and N
//! conversations spread over the last `days` days, priced like real ones.
//!
//! Written in large batches (literal multi-row INSERTs, one transaction per
//! batch) with the rollup accumulated in memory and written once, so ten
//! million stage rows take minutes, not hours. Every value in the generated
//! SQL is a number or one of the fixed strings below: no input reaches it.

use super::rollup::{Delta, Rollups};
use super::PriceTable;
use crate::store::Backend;
use crate::Store;
use anyhow::Context;
use models::costs::{Stage, Usage};
use models::{Day, OrgId, Usd};

#[derive(Debug, Clone)]
pub struct Options {
    pub conversations: u64,
    pub orgs: u32,
    pub users_per_org: u32,
    /// Spread over this many days, ending with `last_day`.
    pub days: u32,
    pub last_day: Day,
    pub seed: u64,
    /// Telegram ids start here (so synthetic users never collide with real ones).
    pub first_user_id: i64,
    /// Write usage for an existing organization and its members instead of
    /// creating synthetic ones (the demo organization).
    pub into: Option<(OrgId, Vec<i64>)>,
}

impl Options {
    pub fn new(conversations: u64, last_day: Day) -> Options {
        Options {
            conversations,
            orgs: 5,
            users_per_org: 20,
            days: 365,
            last_day,
            seed: 42,
            first_user_id: 9_000_000_000,
            into: None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Summary {
    pub org_ids: Vec<OrgId>,
    pub conversations: u64,
    pub stages: u64,
    pub rollup_rows: u64,
    pub total_cost: Usd,
}

/// Average LLM calls per synthetic conversation (see `plan`).
const STAGES_PER_CONVERSATION: f64 = 2.425;

/// How many conversations make about `stage_rows` stage rows.
pub fn conversations_for_stages(stage_rows: u64) -> u64 {
    (stage_rows as f64 / STAGES_PER_CONVERSATION).ceil() as u64
}

/// Questions and the SQL the analysis stage wrote for each (on the demo's sales schema).
const QUESTIONS: [(&str, &str); 6] = [
    (
        "What were total sales last month by region?",
        "SELECT r.name AS region, SUM(l.quantity * l.unit_price) AS sales FROM orders o \
         JOIN customers c ON c.id = o.customer_id JOIN regions r ON r.id = c.region_id \
         JOIN order_lines l ON l.order_id = o.id \
         WHERE o.ordered_on >= date('now', 'start of month', '-1 month') \
         AND o.ordered_on < date('now', 'start of month') GROUP BY r.name ORDER BY sales DESC",
    ),
    (
        "Top 10 customers by revenue this year",
        "SELECT c.name, SUM(l.quantity * l.unit_price) AS revenue FROM customers c \
         JOIN orders o ON o.customer_id = c.id JOIN order_lines l ON l.order_id = o.id \
         WHERE o.ordered_on >= date('now', 'start of year') GROUP BY c.id, c.name \
         ORDER BY revenue DESC LIMIT 10",
    ),
    (
        "How many orders were shipped late in March?",
        "SELECT COUNT(*) AS late_orders FROM orders WHERE strftime('%m', ordered_on) = '03' \
         AND julianday(shipped_on) - julianday(ordered_on) > 3",
    ),
    (
        "Average basket size per store, last 90 days",
        "SELECT r.name AS store, AVG(t.items) AS average_items FROM (SELECT o.id, o.customer_id, \
         SUM(l.quantity) AS items FROM orders o JOIN order_lines l ON l.order_id = o.id \
         WHERE o.ordered_on >= date('now', '-90 days') GROUP BY o.id, o.customer_id) t \
         JOIN customers c ON c.id = t.customer_id JOIN regions r ON r.id = c.region_id GROUP BY r.name",
    ),
    (
        "Which products are low on stock?",
        "SELECT name, category, stock FROM products WHERE stock < 20 ORDER BY stock",
    ),
    (
        "Revenue per month for 2025 compared with 2024",
        "SELECT month, revenue FROM monthly_revenue WHERE month BETWEEN '2024-01' AND '2025-12' \
         ORDER BY month",
    ),
];

/// A small, fast, deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

/// Conversations per transaction.
const BATCH: u64 = 5_000;
/// Rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 1_000;

pub async fn generate(
    store: &Store,
    prices: &PriceTable,
    options: &Options,
) -> anyhow::Result<Summary> {
    let mut rng = Rng(options.seed);
    let now = options.last_day.start_unix();
    let mut org_ids = Vec::new();
    let mut users: Vec<(i64, usize)> = Vec::new();
    if let Some((org, members)) = &options.into {
        anyhow::ensure!(!members.is_empty(), "the organization needs members");
        users.extend(members.iter().map(|id| (*id, 0)));
        org_ids.push(org.clone());
    } else {
        let mut tx = store.begin_write().await?;
        for o in 0..options.orgs {
            let org = OrgId::from_random(rng.next().to_le_bytes());
            let owner = options.first_user_id + i64::from(o) * 1_000;
            for u in 0..options.users_per_org {
                let id = owner + i64::from(u);
                sqlx::query(
                    "INSERT INTO telegram_users (user_id, username, first_name, created_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id) DO NOTHING",
                )
                .bind(id)
                .bind(format!("synthetic{id}"))
                .bind(format!("Synthetic {}", u + 1))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                users.push((id, org_ids.len()));
            }
            sqlx::query("INSERT INTO organizations (org_id, name, owner_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(org.as_str())
                .bind(format!("Synthetic org {}", o + 1))
                .bind(owner)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for u in 0..options.users_per_org {
                sqlx::query("INSERT INTO organization_members (org_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
                    .bind(org.as_str())
                    .bind(owner + i64::from(u))
                    .bind(if u == 0 { "owner" } else { "member" })
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            org_ids.push(org);
        }
        tx.commit().await?;
    }

    let first_id: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(conversation_id), 0) AS BIGINT) FROM conversations",
    )
    .fetch_one(store.pool())
    .await?;
    let mut rollups = Rollups::default();
    let mut stages_written = 0u64;
    let mut total = 0i64;
    let mut next_id = first_id + 1;
    let mut done = 0u64;
    while done < options.conversations {
        let n = BATCH.min(options.conversations - done);
        let mut conv_rows = Vec::with_capacity(n as usize);
        let mut stage_rows = Vec::with_capacity(n as usize * 3);
        for _ in 0..n {
            let id = next_id;
            next_id += 1;
            let (user, org_index) = users[rng.below(users.len() as u64) as usize];
            let day = options.last_day.0 - rng.below(u64::from(options.days.max(1))) as i64;
            let at = day * 86_400 + rng.between(0, 86_399);
            let status = match rng.below(20) {
                0 => "failed",
                1 => "refused",
                _ => "answered",
            };
            let (question, sql) = QUESTIONS[rng.below(QUESTIONS.len() as u64) as usize];
            let rows = if status == "answered" {
                rng.between(1, 240).to_string()
            } else {
                "NULL".to_owned()
            };
            // Constants only, without quotes: safe as SQL literals.
            let (answer, error) = match status {
                "answered" => (
                    format!("'{rows} rows answered this (synthetic data: the demo keeps no real answers).'"),
                    "NULL".to_owned(),
                ),
                "failed" => (
                    "NULL".to_owned(),
                    "'The query ran longer than 30 s and was stopped (synthetic).'".to_owned(),
                ),
                _ => (
                    "NULL".to_owned(),
                    "'Refused: only a single read-only SELECT may run (synthetic).'".to_owned(),
                ),
            };
            conv_rows.push(format!(
                "({id}, {user}, {user}, 'synthetic{user}', '{question}', '{}', 'telegram', '{status}', {day}, {at}, {rows}, {answer}, {error})",
                org_ids[org_index].as_str(),
            ));
            // Constants only; their quotes doubled for the SQL literal.
            let sql_literal = format!("'{}'", sql.replace('\'', "''"));
            for (number, (stage, model)) in plan(&mut rng).into_iter().enumerate() {
                let generated = match stage {
                    Stage::Analysis | Stage::SqlRepair => sql_literal.as_str(),
                    _ => "NULL",
                };
                let prompt = rng.between(800, 6_000);
                let usage = Usage {
                    prompt_tokens: prompt,
                    cached_tokens: if rng.below(4) == 0 { prompt / 2 } else { 0 },
                    candidates_tokens: rng.between(40, 600),
                    thoughts_tokens: if stage == Stage::Analysis {
                        rng.between(0, 1_500)
                    } else {
                        0
                    },
                };
                let cost = prices.cost(model, &usage);
                let (input_cost, output_cost) = (cost.input_cost.units(), cost.output_cost.units());
                let output = usage.billable_output();
                stage_rows.push(format!(
                    "({id}, {user}, {}, '{}', '{model}', {prompt}, {}, {output}, {}, {input_cost}, {output_cost}, {}, {}, {generated})",
                    number + 1,
                    stage.as_str(),
                    usage.cached_tokens,
                    prompt + output,
                    input_cost + output_cost,
                    rng.between(300, 4_000),
                ));
                rollups.add(
                    org_ids[org_index].as_str(),
                    day,
                    user,
                    model,
                    stage.as_str(),
                    Delta {
                        conversations: i64::from(number == 0),
                        calls: 1,
                        input_tokens: prompt,
                        cached_tokens: usage.cached_tokens,
                        output_tokens: output,
                        input_cost,
                        output_cost,
                    },
                );
                total += input_cost + output_cost;
            }
        }
        stages_written += stage_rows.len() as u64;
        let mut tx = store.begin_write().await?;
        for chunk in conv_rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO conversations (conversation_id, chat_id, user_id, username, user_question, org_id, \
                 channel, status, day, timestamp, row_count, answer, error) VALUES {}",
                chunk.join(", ")
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .context("writing conversations")?;
        }
        for chunk in stage_rows.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO conversation_stages (conversation_id, chat_id, stage_number, stage_name, model_name, \
                 input_tokens, cached_tokens, output_tokens, total_tokens, input_cost, output_cost, total_cost, \
                 latency_ms, generated_sql) VALUES {}",
                chunk.join(", ")
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .context("writing stages")?;
        }
        tx.commit().await?;
        done += n;
    }

    let rollup_rows = rollups.len() as u64;
    let mut tx = store.begin_write().await?;
    rollups
        .write(&mut tx, store.backend())
        .await
        .context("writing the rollups")?;
    if store.backend() == Backend::Postgres {
        // Explicit ids do not advance identity sequences: move them past what was written.
        for (table, column) in [
            ("conversations", "conversation_id"),
            ("conversation_stages", "stage_id"),
        ] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 (SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}), false)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Summary {
        org_ids,
        conversations: options.conversations,
        stages: stages_written,
        rollup_rows,
        total_cost: Usd(total),
    })
}

/// Which calls a conversation makes: Analysis, sometimes one or two repairs,
/// a response, and now and then an email.
fn plan(rng: &mut Rng) -> Vec<(Stage, &'static str)> {
    let analysis_model = if rng.below(10) == 0 {
        "gemini-2.5-pro"
    } else {
        "gemini-2.5-flash"
    };
    let mut calls = vec![(Stage::Analysis, analysis_model)];
    match rng.below(10) {
        0 => calls.push((Stage::SqlRepair, "gemini-2.5-flash")),
        1 => calls.extend([(Stage::SqlRepair, "gemini-2.5-flash"); 2]),
        _ => {}
    }
    calls.push((Stage::SqlResponse, "gemini-2.5-flash-lite"));
    if rng.below(8) == 0 {
        calls.push((Stage::EmailGeneration, "gemini-2.5-flash-lite"));
    }
    calls
}
