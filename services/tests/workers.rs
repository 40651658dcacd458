//! The worker registry: each job's `run_due` step, called directly, and the
//! registry's start and stop.

use services::workers::{self, Step, Worker};
use services::AppState;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::db::TestDb;

async fn state_of(db: &TestDb, env: &[(&str, String)]) -> AppState {
    testkit::app::state(db, env).await
}

#[tokio::test]
async fn the_heartbeat_notes_this_process_alive() {
    let db = TestDb::sqlite();
    let state = state_of(&db, &[]).await;
    assert_eq!(workers::Heartbeat.run_due(&state).await.expect("beats"), 0);
    let seen: Option<i64> =
        sqlx::query_scalar("SELECT seen_at FROM process_heartbeats WHERE process_id = $1")
            .bind(state.shutdown.process_id())
            .fetch_optional(state.store.pool())
            .await
            .expect("reads");
    assert!(seen.is_some_and(|at| at >= services::clock::now() - 5));
}

#[tokio::test]
async fn housekeeping_purges_expired_sessions() {
    let db = TestDb::sqlite();
    let state = state_of(&db, &[]).await;
    let done = workers::Housekeeping.run_due(&state).await.expect("purges");
    assert_eq!(done, 0, "nothing expired in a fresh store");
}

#[tokio::test]
async fn retention_removes_nothing_unless_configured_and_the_queue_nothing_without_a_mailer() {
    let db = TestDb::sqlite();
    let state = state_of(&db, &[]).await;
    assert_eq!(workers::Retention.run_due(&state).await.expect("runs"), 0);
    assert_eq!(workers::EmailQueue.run_due(&state).await.expect("runs"), 0);
    assert_eq!(workers::IdlePools.run_due(&state).await.expect("runs"), 0);
    let kept = state_of(&db, &[("TABLETALK_RETENTION_DAYS", "30".into())]).await;
    assert_eq!(workers::Retention.run_due(&kept).await.expect("runs"), 0);
}

/// A job that counts its steps, each taking `step`.
struct Counting {
    steps: Arc<AtomicUsize>,
    step: Duration,
}

impl Worker for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn every(&self) -> Duration {
        Duration::from_millis(10)
    }

    fn run_due<'a>(&'a self, _state: &'a AppState) -> Step<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.step).await;
            Ok(self.steps.fetch_add(1, Ordering::SeqCst) + 1)
        })
    }
}

#[tokio::test]
async fn stop_lets_a_step_in_hand_finish_within_the_grace() {
    let db = TestDb::sqlite();
    let state = state_of(&db, &[]).await;
    let steps = Arc::new(AtomicUsize::new(0));
    let job = Counting {
        steps: steps.clone(),
        step: Duration::from_millis(300),
    };
    let running = workers::start(state, vec![Arc::new(job)]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The first step is in hand: stop waits for it, and starts no other.
    running.stop(Duration::from_secs(5)).await;
    assert_eq!(steps.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(steps.load(Ordering::SeqCst), 1);
}
