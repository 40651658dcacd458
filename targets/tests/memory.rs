//! Memory is bounded per value (issue 29, finding 7): a question whose one
//! value is enormous (`zeroblob(1000000000)`, `repeat('x', 1000000000)`) is
//! refused before the value is held whole in this process. Four at once keep
//! the process's resident memory within the byte cap plus 64 MB.
//!
//! Its own test binary: resident memory is per process, and other tests in
//! the same process would blur it.

use models::targets::TargetKind;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use targets::engine::{ConnectContext, Engine};
use targets::hosts::HostPolicy;
use targets::{conn, QueryLimits, TargetErrorKind, MB};

const CAP: usize = 16 * MB;

fn limits() -> QueryLimits {
    QueryLimits {
        timeout: Duration::from_secs(60),
        row_limit: 100,
        max_bytes: CAP,
    }
}

/// This process's resident memory, in bytes (Linux).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Runs `statements` four at a time on `engine` and returns the peak growth
/// of resident memory meanwhile; every statement must be refused as too large
/// (or, SQLite's printf, answered with NULL).
async fn peak_growth(engine: Arc<Engine>, statements: &[&str]) -> u64 {
    let before = rss();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    for chunk in statements.chunks(4) {
        let runs = chunk.iter().map(|sql| {
            let engine = engine.clone();
            let sql = (*sql).to_owned();
            tokio::spawn(async move { (engine.run(&sql, limits()).await, sql) })
        });
        for run in runs.collect::<Vec<_>>() {
            let (outcome, sql) = run.await.expect("the query task");
            match outcome {
                Err(err) => {
                    assert_eq!(err.kind, TargetErrorKind::TooLarge, "{sql}: {err:?}");
                    assert!(err.message.contains("larger than 16 MB"), "{sql}: {err}");
                }
                // SQLite's printf answers NULL for a string past the length limit.
                Ok(result) => assert!(
                    result
                        .rows
                        .iter()
                        .flatten()
                        .all(|v| *v == models::targets::Value::Null),
                    "{sql}: answered {result:?}"
                ),
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    peak.load(Ordering::Relaxed).saturating_sub(before)
}

fn bound() -> u64 {
    (CAP + 64 * MB) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_values_are_capped_by_the_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("owner")).expect("folder");
    let file = dir.path().join("owner").join("big.db");
    std::fs::write(&file, b"").expect("file");
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("sqlite");
        sqlx::raw_sql("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .execute(&mut c)
            .await
            .expect("table");
    }
    let ctx = ConnectContext {
        limits: limits(),
        sqlite_dir: dir.path().to_path_buf(),
        store_file: None,
        sqlite_owner: Some("owner".into()),
        sqlite_legacy: false,
        hosts: HostPolicy::default(),
    };
    let spec = conn::parse("sqlite://big.db").expect("spec");
    let engine = Arc::new(Engine::connect(&spec, &ctx).await.expect("connects"));
    assert_eq!(engine.kind(), TargetKind::Sqlite);
    let growth = peak_growth(
        engine,
        &[
            "SELECT zeroblob(1000000000)",
            "SELECT randomblob(400000000)",
            "SELECT printf('%.*c', 1000000000, 'x')",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 4000000) \
             SELECT group_concat('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') FROM c",
        ],
    )
    .await;
    println!("sqlite: peak growth {} MB", growth / MB as u64);
    assert!(growth < bound(), "grew {} MB", growth / MB as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rows_past_the_cap_are_refused_before_they_are_sent() {
    let Ok(url) = std::env::var("TABLETALK_TEST_POSTGRES_URL") else {
        eprintln!("skipped: TABLETALK_TEST_POSTGRES_URL is not set");
        return;
    };
    let ctx = ConnectContext {
        limits: limits(),
        sqlite_dir: std::env::temp_dir(),
        store_file: None,
        sqlite_owner: None,
        sqlite_legacy: false,
        hosts: HostPolicy::default(),
    };
    let spec = conn::parse(&url).expect("spec");
    let engine = Arc::new(Engine::connect(&spec, &ctx).await.expect("connects"));
    let growth = peak_growth(
        engine.clone(),
        &[
            "SELECT repeat('x', 200000000)",
            "SELECT repeat('y', 100000000) AS a, 1 AS b",
            "SELECT n, repeat('z', 20000000) FROM generate_series(1, 3) AS n",
            "SELECT string_agg(repeat('w', 1000), '') FROM generate_series(1, 200000)",
        ],
    )
    .await;
    println!("postgres: peak growth {} MB", growth / MB as u64);
    assert!(growth < bound(), "grew {} MB", growth / MB as u64);
    // Results under the cap come back unchanged, in order, with their columns.
    let ok = engine
        .run(
            "SELECT n, n * 2 AS twice, 'a' AS a, 'a' AS a FROM generate_series(1, 3) AS n ORDER BY n DESC",
            limits(),
        )
        .await
        .expect("small result");
    let names: Vec<&str> = ok.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["n", "twice", "a", "a"]);
    assert_eq!(ok.rows.len(), 3);
    assert_eq!(ok.rows[0][0].render(), "3");
}
