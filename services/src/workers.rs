//! Every background loop of the server and the bot, registered once
//! (issue 27): each job is a [`Worker`] with a `run_due` step that tests call
//! directly, and [`start`] runs a list of them, each every [`Worker::every`],
//! until [`Running::stop`] (which lets a step in progress finish, within the
//! shutdown grace). Both binaries start [`standard`] plus their own: the
//! server its session housekeeping, the bot its outbox drain.

mod email_queue;
mod heartbeat;
mod housekeeping;
mod idle_pools;
mod retention;

pub use email_queue::EmailQueue;
pub use heartbeat::Heartbeat;
pub use housekeeping::Housekeeping;
pub use idle_pools::IdlePools;
pub use retention::Retention;

use crate::AppState;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a step returns: how many things it did (0: nothing was due).
pub type Step<'a> = BoxFuture<'a, anyhow::Result<usize>>;

/// One background job.
pub trait Worker: Send + Sync + 'static {
    /// For logs.
    fn name(&self) -> &'static str;
    /// How often [`Worker::run_due`] runs (the first time at once).
    fn every(&self) -> Duration;
    /// Does what is due now; how many things it did (0: nothing was due).
    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a>;
}

/// The jobs every process runs: the email queue, retention, this process's
/// heartbeat and closing idle pools of users' databases.
pub fn standard() -> Vec<Arc<dyn Worker>> {
    vec![
        Arc::new(EmailQueue),
        Arc::new(Retention),
        Arc::new(Heartbeat),
        Arc::new(IdlePools),
        // The scheduler (scheduled questions and alerts) registers here.
    ]
}

/// Workers that are running; [`Running::stop`] ends them.
pub struct Running {
    stop: CancellationToken,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
}

/// Starts each of `workers` in its own task.
pub fn start(state: AppState, workers: Vec<Arc<dyn Worker>>) -> Running {
    let stop = CancellationToken::new();
    let tasks = workers
        .into_iter()
        .map(|worker| {
            let name = worker.name();
            (name, tokio::spawn(run(worker, state.clone(), stop.clone())))
        })
        .collect();
    Running { stop, tasks }
}

/// Runs `worker` every [`Worker::every`] until `stop`; a step is never cut short by it.
async fn run(worker: Arc<dyn Worker>, state: AppState, stop: CancellationToken) {
    let mut tick = tokio::time::interval(worker.every());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Biased: when a step ran past its tick, both are ready, and a stop
        // must win (an unbiased select started another step half the time).
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match worker.run_due(&state).await {
            Ok(0) => {}
            Ok(done) => tracing::info!(worker = worker.name(), done, "background work done"),
            Err(err) => tracing::warn!(
                worker = worker.name(),
                error = %format!("{err:#}"),
                "background work failed; trying again later"
            ),
        }
    }
}

impl Running {
    /// No new steps; waits up to `grace` for the steps in progress, then
    /// interrupts what is left.
    pub async fn stop(self, grace: Duration) {
        self.stop.cancel();
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!(worker = name, "interrupted at the end of the grace period");
                task.abort();
            }
        }
    }
}
