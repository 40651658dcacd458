//! Stopping gracefully (issue 15). On SIGTERM (or Ctrl-C) a process stops
//! taking new work, lets the questions it is answering finish for up to the
//! grace period (`TABLETALK_SHUTDOWN_GRACE_SECS`), then interrupts the rest:
//! each is recorded as `interrupted` with the calls it made (the one waiting
//! on the model with its usage unknown), in the same single transaction as
//! any other question, so nothing is half-written.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a question is told when the grace period ends before its answer.
pub const INTERRUPTED: &str = "Tabletalk was stopping (a restart or an upgrade) and could not \
     finish this question. Nothing was lost: ask it again in a moment.";

/// The process's stopping state, shared by every clone of the `AppState`.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// This process's random id (questions in flight are marked with it).
    process_id: String,
    interrupt: CancellationToken,
    questions: AtomicUsize,
    idle: Notify,
}

impl Default for Inner {
    fn default() -> Inner {
        let process_id = crate::random::bytes::<8>()
            .map(hex::encode)
            .unwrap_or_else(|_| format!("{}-{}", std::process::id(), crate::clock::now_ms()));
        Inner {
            process_id,
            interrupt: CancellationToken::new(),
            questions: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }
}

impl Shutdown {
    /// This process's id, as its questions in flight and its heartbeat carry it.
    pub fn process_id(&self) -> &str {
        &self.inner.process_id
    }

    /// The grace period is over: every question still running is interrupted.
    pub fn interrupt(&self) {
        self.inner.interrupt.cancel();
    }

    /// Resolves once [`Shutdown::interrupt`] was called.
    pub async fn interrupted(&self) {
        self.inner.interrupt.cancelled().await;
    }

    /// Marks a question as running until the guard is dropped.
    pub fn question(&self) -> QuestionGuard {
        self.inner.questions.fetch_add(1, Ordering::SeqCst);
        QuestionGuard {
            inner: self.inner.clone(),
        }
    }

    /// Questions running now in this process.
    pub fn questions(&self) -> usize {
        self.inner.questions.load(Ordering::SeqCst)
    }

    /// Resolves when no question is running in this process.
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            if self.questions() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// After a stop signal: waits for the running questions, interrupting
    /// them once `grace` has passed; returns when none is left (or, should
    /// one not end even then, `grace` + 10 s after the signal).
    pub async fn drain(&self, grace: Duration) {
        let running = self.questions();
        if running > 0 {
            tracing::info!(
                running,
                grace_secs = grace.as_secs(),
                "stopping: waiting for the questions being answered"
            );
        }
        if tokio::time::timeout(grace, self.idle()).await.is_ok() {
            return;
        }
        tracing::warn!(
            running = self.questions(),
            "the grace period is over: interrupting the questions still running"
        );
        self.interrupt();
        if tokio::time::timeout(Duration::from_secs(10), self.idle())
            .await
            .is_err()
        {
            tracing::error!(
                running = self.questions(),
                "questions did not end after being interrupted; stopping anyway"
            );
        }
    }
}

/// One running question (see [`Shutdown::question`]).
#[derive(Debug)]
pub struct QuestionGuard {
    inner: Arc<Inner>,
}

impl Drop for QuestionGuard {
    fn drop(&mut self) {
        self.inner.questions.fetch_sub(1, Ordering::SeqCst);
        self.inner.idle.notify_waiters();
    }
}

/// Resolves on Ctrl-C or SIGTERM (what systemd, Docker and Kubernetes send).
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drain_waits_for_questions_and_interrupts_them_after_the_grace() {
        let shutdown = Shutdown::default();
        // A question that ends by itself within the grace period.
        let quick = shutdown.question();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(quick);
        });
        shutdown.drain(Duration::from_secs(5)).await;
        assert_eq!(shutdown.questions(), 0);

        // One that only ends when interrupted.
        let stuck = shutdown.question();
        let watcher = shutdown.clone();
        let ended = tokio::spawn(async move {
            watcher.interrupted().await;
            drop(stuck);
        });
        let started = std::time::Instant::now();
        shutdown.drain(Duration::from_millis(100)).await;
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(shutdown.questions(), 0);
        ended.await.expect("ended");
    }
}
