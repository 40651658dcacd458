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
//! the aggregate. Callers asking the same question at the same moment share
//! one query (the first computes, the others wait for its answer). The names
//! and member count beside the per-user answer change without usage; they are
//! reused for at most [`PEOPLE_TTL`] (two seconds).

use crate::Store;
use models::costs::CostTotals;
use models::AppError;
use moka::future::Cache;
use moka::ops::compute::Op;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Most questions remembered at once (least valuable forgotten first).
const CAPACITY: u64 = 2_048;

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

/// Display names by user id, and the organization's member count: what the
/// per-user answer shows beside its numbers.
pub type People = Arc<(HashMap<i64, String>, i64)>;

/// How long names and the member count are reused. They change without usage
/// (a rename, a member joining or leaving), so the usage counter cannot vouch
/// for them; reading them costs as much as the rest of a per-user request.
pub const PEOPLE_TTL: Duration = Duration::from_secs(2);

/// An organization and the users of one per-user answer.
type PeopleKey = (String, Vec<i64>);

/// The remembered answers of one process (held by `AppState`), bounded moka
/// caches: each answer with the counter it was computed at, and names.
#[derive(Clone)]
pub struct Answers {
    /// `None`: remember nothing (see [`Answers::none`]).
    rows: Option<Cache<Key, (i64, Rows)>>,
    people: Option<Cache<PeopleKey, People>>,
}

impl Default for Answers {
    fn default() -> Self {
        Answers::new(PEOPLE_TTL)
    }
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("questions", &self.rows.as_ref().map(Cache::entry_count))
            .finish()
    }
}

impl Answers {
    /// Empty caches; names are kept for `people_ttl`.
    pub fn new(people_ttl: Duration) -> Self {
        Answers {
            rows: Some(Cache::new(CAPACITY)),
            people: Some(
                Cache::builder()
                    .max_capacity(CAPACITY)
                    .time_to_live(people_ttl)
                    .build(),
            ),
        }
    }

    /// Remembers nothing: every read runs its query. The benchmarks time the
    /// rollup queries themselves with this, beside the remembered answers.
    pub fn none() -> Self {
        Answers {
            rows: None,
            people: None,
        }
    }

    /// The answer to `key` at `version`: remembered, or computed by `compute`
    /// and remembered. Callers asking for the same key at once are served one
    /// after the other (moka's compute runs one closure per key at a time), so
    /// the first computes and the others find its answer. An error is
    /// returned to the caller that ran the query and remembers nothing.
    pub async fn get_or_compute<F, Fut>(
        &self,
        key: Key,
        version: i64,
        compute: F,
    ) -> Result<Rows, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(String, CostTotals)>, AppError>>,
    {
        let Some(cache) = &self.rows else {
            return compute().await.map(Rows::new);
        };
        if let Some((at, rows)) = cache.get(&key).await {
            if at == version {
                return Ok(rows);
            }
        }
        let mut fresh = None;
        let result = cache
            .entry(key)
            .and_try_compute_with(|entry| async {
                if let Some(entry) = entry {
                    if entry.value().0 == version {
                        return Ok(Op::Nop);
                    }
                }
                let rows = Rows::new(compute().await?);
                fresh = Some(rows.clone());
                Ok::<_, AppError>(Op::Put((version, rows)))
            })
            .await?;
        if let Some(rows) = fresh {
            return Ok(rows);
        }
        match result.into_entry() {
            Some(entry) => Ok(entry.into_value().1),
            None => Err(AppError::internal()),
        }
    }

    /// Names and member count for `ids` of `org`: reused if read less than
    /// [`PEOPLE_TTL`] ago, else read by `read` (once, however many ask at the
    /// same time) and kept.
    pub async fn people_or_read<F, Fut>(
        &self,
        org: &str,
        ids: &[i64],
        read: F,
    ) -> Result<People, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(HashMap<i64, String>, i64), AppError>>,
    {
        let Some(cache) = &self.people else {
            return read().await.map(People::new);
        };
        cache
            .try_get_with((org.to_owned(), ids.to_vec()), async {
                read().await.map(People::new)
            })
            .await
            .map_err(Arc::unwrap_or_clone)
    }

    /// How many questions are remembered (moka counts lazily: run pending
    /// maintenance first for an exact number).
    pub async fn remembered(&self) -> u64 {
        match &self.rows {
            Some(cache) => {
                cache.run_pending_tasks().await;
                cache.entry_count()
            }
            None => 0,
        }
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(org: &str, from: i64) -> Key {
        Key {
            org: org.to_owned(),
            query: "model",
            from,
            to: 10,
        }
    }

    fn rows(n: i64) -> Vec<(String, CostTotals)> {
        vec![(
            "m".to_owned(),
            CostTotals {
                calls: n,
                ..CostTotals::default()
            },
        )]
    }

    async fn ask(answers: &Answers, key: Key, version: i64, n: i64, runs: &AtomicUsize) -> i64 {
        let got = answers
            .get_or_compute(key, version, || async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(rows(n))
            })
            .await
            .expect("computed");
        got[0].1.calls
    }

    #[tokio::test]
    async fn an_answer_is_only_given_at_the_counter_it_was_computed_at() {
        let answers = Answers::default();
        let runs = AtomicUsize::new(0);
        assert_eq!(ask(&answers, key("a", 0), 1, 5, &runs).await, 5);
        assert_eq!(
            ask(&answers, key("a", 0), 1, 99, &runs).await,
            5,
            "remembered"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(
            ask(&answers, key("a", 0), 2, 6, &runs).await,
            6,
            "counter moved on"
        );
        assert_eq!(
            ask(&answers, key("b", 0), 2, 7, &runs).await,
            7,
            "other organization"
        );
        assert_eq!(
            ask(&answers, key("a", 1), 2, 8, &runs).await,
            8,
            "other range"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        let down = AppError::bad_request("down");
        let failed = answers
            .get_or_compute(key("c", 0), 1, || async { Err(down.clone()) })
            .await;
        assert_eq!(failed.err(), Some(down));
        assert_eq!(
            ask(&answers, key("c", 0), 1, 9, &runs).await,
            9,
            "errors are not kept"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_asking_at_once_share_one_query() {
        let answers = Answers::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (answers, runs) = (answers.clone(), runs.clone());
                tokio::spawn(async move {
                    answers
                        .get_or_compute(key("a", 0), 1, || async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(rows(1))
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.expect("joined").is_ok());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn names_are_reused_only_briefly() {
        let ttl = Duration::from_millis(300);
        let answers = Answers::new(ttl);
        let reads = AtomicUsize::new(0);
        let people = |org: &'static str, ids: &'static [i64]| {
            let (answers, reads) = (&answers, &reads);
            async move {
                answers
                    .people_or_read(org, ids, || async {
                        let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
                        Ok((HashMap::new(), n as i64))
                    })
                    .await
                    .expect("read")
                    .1
            }
        };
        assert_eq!(people("a", &[1, 2]).await, 1);
        assert_eq!(people("a", &[1, 2]).await, 1, "reused");
        assert_eq!(people("a", &[1]).await, 2, "other users");
        assert_eq!(people("b", &[1, 2]).await, 3, "other organization");
        tokio::time::sleep(ttl + Duration::from_millis(100)).await;
        assert_eq!(people("a", &[1, 2]).await, 4, "too old: read again");
    }

    #[tokio::test]
    async fn memory_stays_bounded() {
        let answers = Answers::default();
        let runs = AtomicUsize::new(0);
        for i in 0..(CAPACITY as i64 * 3) {
            ask(&answers, key("a", i), 1, i, &runs).await;
        }
        assert!(answers.remembered().await <= CAPACITY);
        assert_eq!(runs.load(Ordering::SeqCst), CAPACITY as usize * 3);
    }

    #[tokio::test]
    async fn none_remembers_nothing() {
        let answers = Answers::none();
        let runs = AtomicUsize::new(0);
        assert_eq!(ask(&answers, key("a", 0), 1, 5, &runs).await, 5);
        assert_eq!(ask(&answers, key("a", 0), 1, 6, &runs).await, 6);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(answers.remembered().await, 0);
    }
}
