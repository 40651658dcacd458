//! The three daily rollups, kept equal to the stage rows by construction: the
//! sums of a batch are computed once and added to each table, in the caller's
//! transaction.
//!
//! - `usage_daily`      (org, day, user, model, stage): the full grain (DESIGN.md §2).
//! - `usage_daily_org`  (org, day, model, stage): overview, by model, by stage, by day.
//! - `usage_daily_user` (org, day, user): per user, a user's own totals.

use crate::store::{placeholders, Backend, Tx};
use std::collections::BTreeMap;
use std::ops::AddAssign;

/// What one or more calls add to a rollup row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// 1 for a conversation's first call, so each conversation is counted once.
    pub conversations: i64,
    pub calls: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub input_cost: i64,
    pub output_cost: i64,
}

impl AddAssign for Delta {
    fn add_assign(&mut self, o: Delta) {
        self.conversations += o.conversations;
        self.calls += o.calls;
        self.input_tokens += o.input_tokens;
        self.cached_tokens += o.cached_tokens;
        self.output_tokens += o.output_tokens;
        self.input_cost += o.input_cost;
        self.output_cost += o.output_cost;
    }
}

/// A key column's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Text(String),
    Int(i64),
}

/// Sums of a batch at the full grain, ready to be written to all three tables.
#[derive(Debug, Default)]
pub struct Rollups {
    full: BTreeMap<(String, i64, i64, String, String), Delta>,
}

/// Rows per upsert statement (13 parameters a row stays under SQLite's limit).
const ROWS_PER_STATEMENT: usize = 1_000;

const SUMS: [&str; 8] = [
    "conversations",
    "calls",
    "input_tokens",
    "cached_tokens",
    "output_tokens",
    "input_cost",
    "output_cost",
    "total_cost",
];

impl Rollups {
    pub fn add(&mut self, org: &str, day: i64, user: i64, model: &str, stage: &str, delta: Delta) {
        *self
            .full
            .entry((
                org.to_owned(),
                day,
                user,
                model.to_owned(),
                stage.to_owned(),
            ))
            .or_default() += delta;
    }

    pub fn len(&self) -> usize {
        self.full.len()
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }

    /// Adds the sums to the three tables inside `tx`.
    pub async fn write(&self, tx: &mut Tx, backend: Backend) -> Result<(), sqlx::Error> {
        let full: Vec<(Vec<Key>, Delta)> = self
            .full
            .iter()
            .map(|((org, day, user, model, stage), d)| {
                let key = vec![
                    Key::Text(org.clone()),
                    Key::Int(*day),
                    Key::Int(*user),
                    Key::Text(model.clone()),
                    Key::Text(stage.clone()),
                ];
                (key, *d)
            })
            .collect();
        upsert(
            tx,
            backend,
            "usage_daily",
            &["org_id", "day", "user_id", "model_name", "stage_name"],
            &full,
        )
        .await?;
        let by_org = project(&full, &[0, 1, 3, 4]);
        upsert(
            tx,
            backend,
            "usage_daily_org",
            &["org_id", "day", "model_name", "stage_name"],
            &by_org,
        )
        .await?;
        let by_user = project(&full, &[0, 1, 2]);
        upsert(
            tx,
            backend,
            "usage_daily_user",
            &["org_id", "day", "user_id"],
            &by_user,
        )
        .await?;
        bump_versions(tx, self.full.keys().map(|k| k.0.as_str())).await
    }
}

/// Moves each organization's usage counter on, in the transaction that changes
/// its rollups, so remembered answers (see `answers`) are dropped exactly when
/// they would be out of date, whichever process wrote.
pub(crate) async fn bump_versions<'a>(
    tx: &mut Tx,
    orgs: impl Iterator<Item = &'a str>,
) -> Result<(), sqlx::Error> {
    let orgs: std::collections::BTreeSet<&str> = orgs.collect();
    for org in orgs {
        sqlx::query(
            "INSERT INTO usage_versions (org_id, version) VALUES ($1, 1) \
             ON CONFLICT (org_id) DO UPDATE SET version = usage_versions.version + 1",
        )
        .bind(org)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Re-aggregates rows onto a subset of their key columns.
fn project(rows: &[(Vec<Key>, Delta)], keep: &[usize]) -> Vec<(Vec<Key>, Delta)> {
    let mut out: BTreeMap<Vec<Key>, Delta> = BTreeMap::new();
    for (key, d) in rows {
        *out.entry(keep.iter().map(|&i| key[i].clone()).collect())
            .or_default() += *d;
    }
    out.into_iter().collect()
}

async fn upsert(
    tx: &mut Tx,
    backend: Backend,
    table: &str,
    keys: &[&str],
    rows: &[(Vec<Key>, Delta)],
) -> Result<(), sqlx::Error> {
    let columns = keys.len() + SUMS.len();
    let updates: Vec<String> = SUMS
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        // Table and column names are the constants above; every value is a parameter.
        let sql = format!(
            "INSERT INTO {table} ({}, {}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            keys.join(", "),
            SUMS.join(", "),
            placeholders(backend, chunk.len(), columns),
            keys.join(", "),
            updates.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, d) in chunk {
            for k in key {
                query = match k {
                    Key::Text(t) => query.bind(t.clone()),
                    Key::Int(i) => query.bind(*i),
                };
            }
            query = query
                .bind(d.conversations)
                .bind(d.calls)
                .bind(d.input_tokens)
                .bind(d.cached_tokens)
                .bind(d.output_tokens)
                .bind(d.input_cost)
                .bind(d.output_cost)
                .bind(d.input_cost + d.output_cost);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_sums_what_it_merges() {
        let d = |c: i64| Delta {
            calls: c,
            input_cost: c * 10,
            ..Delta::default()
        };
        let rows = vec![
            (vec![Key::Text("o".into()), Key::Int(1), Key::Int(7)], d(1)),
            (vec![Key::Text("o".into()), Key::Int(1), Key::Int(8)], d(2)),
            (vec![Key::Text("o".into()), Key::Int(2), Key::Int(7)], d(4)),
        ];
        let by_day = project(&rows, &[0, 1]);
        assert_eq!(by_day.len(), 2);
        assert_eq!(by_day[0].1, d(3));
        assert_eq!(by_day[1].1, d(4));
    }
}
