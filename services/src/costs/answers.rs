//! Analytics answers remembered per organization, query and range while the
//! organization's usage is unchanged.
//!
//! Every transaction that writes an organization's rollups also moves its
//! counter in `usage_versions` on (see `rollup`), whichever process writes
//! (the bot records conversations, the server reads them). A read asks the
//! counter first (one primary-key lookup), then takes the remembered answer
//! only if it was computed at that same counter; otherwise it runs the rollup
//! query and remembers the result. The counter is read before the query, so
//! an answer is never kept under a counter older than the data it saw, and a
//! write that lands meanwhile only makes the next read recompute. Answers are
//! therefore never stale: dashboards that ask the same question again (every
//! page load, every owner of the organization) pay one small lookup instead of
//! the aggregate.

use crate::Store;
use models::costs::CostTotals;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most answers kept; past this, answers computed at older counters go first,
/// then everything (answers are cheap to recompute, memory must stay bounded).
const CAPACITY: usize = 2_048;

/// Rows of one breakdown: group key and sums.
pub type Rows = Arc<Vec<(String, CostTotals)>>;

/// Which question, for which organization and range (day bounds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub org: String,
    pub query: &'static str,
    pub from: i64,
    pub to: i64,
}

/// The remembered answers of one process.
#[derive(Default)]
pub struct Answers {
    entries: Mutex<HashMap<Key, (i64, Rows)>>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("entries", &self.len())
            .finish()
    }
}

impl Answers {
    /// The answer remembered for `key`, if it was computed at `version`.
    pub fn get(&self, key: &Key, version: i64) -> Option<Rows> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| *at == version)
            .map(|(_, rows)| rows.clone())
    }

    /// Remembers `rows` as the answer to `key` at `version`.
    pub fn put(&self, key: Key, version: i64, rows: Rows) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            // Drop this organization's outdated answers first, then all of them.
            entries.retain(|k, (at, _)| k.org != key.org || *at == version);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (version, rows));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The organization's usage counter now (0 before its first recorded usage).
pub async fn version(store: &Store, org: &str) -> Result<i64, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT version FROM usage_versions WHERE org_id = $1")
            .bind(org)
            .fetch_optional(store.pool())
            .await?;
    Ok(found.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(org: &str, from: i64) -> Key {
        Key {
            org: org.to_owned(),
            query: "model",
            from,
            to: 10,
        }
    }

    fn rows(n: i64) -> Rows {
        Arc::new(vec![(
            "m".to_owned(),
            CostTotals {
                calls: n,
                ..CostTotals::default()
            },
        )])
    }

    #[test]
    fn an_answer_is_only_given_at_the_counter_it_was_computed_at() {
        let answers = Answers::default();
        assert!(answers.get(&key("a", 0), 1).is_none());
        answers.put(key("a", 0), 1, rows(5));
        assert_eq!(answers.get(&key("a", 0), 1).map(|r| r[0].1.calls), Some(5));
        assert!(answers.get(&key("a", 0), 2).is_none(), "counter moved on");
        assert!(answers.get(&key("b", 0), 1).is_none(), "other organization");
        assert!(answers.get(&key("a", 1), 1).is_none(), "other range");
        answers.put(key("a", 0), 2, rows(6));
        assert_eq!(answers.get(&key("a", 0), 2).map(|r| r[0].1.calls), Some(6));
    }

    #[test]
    fn memory_stays_bounded() {
        let answers = Answers::default();
        for i in 0..(CAPACITY as i64 * 3) {
            answers.put(key("a", i), i, rows(i));
            assert!(answers.len() <= CAPACITY);
        }
        let last = CAPACITY as i64 * 3 - 1;
        assert!(answers.get(&key("a", last), last).is_some());
    }
}
