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

/// A job whose steps wait for the test to let them finish.
struct Gated {
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl Worker for Gated {
    fn name(&self) -> &'static str {
        "gated"
    }

    fn every(&self) -> Duration {
        Duration::from_millis(10)
    }

    fn run_due<'a>(&'a self, _state: &'a AppState) -> Step<'a> {
        Box::pin(async move {
            self.started.fetch_add(1, Ordering::SeqCst);
            let permit = self.gate.acquire().await?;
            permit.forget();
            Ok(self.finished.fetch_add(1, Ordering::SeqCst) + 1)
        })
    }
}

/// Stopping waits for the step in hand (within the grace) and starts no
/// other; no timing assumption (the machine may be slow).
#[tokio::test]
async fn stop_lets_a_step_in_hand_finish_within_the_grace() {
    let db = TestDb::sqlite();
    let state = state_of(&db, &[]).await;
    let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let job = Gated {
        started: started.clone(),
        finished: finished.clone(),
        gate: gate.clone(),
    };
    let running = workers::start(state, vec![Arc::new(job)]);
    while started.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stopping = tokio::spawn(running.stop(Duration::from_secs(30)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!stopping.is_finished(), "stop waits for the step in hand");
    gate.add_permits(100);
    stopping.await.expect("stopped");
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "no step started after stop"
    );
}
