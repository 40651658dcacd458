//! Group commit for the ledger: concurrent callers' conversations are written
//! together, in one transaction per batch, by one background task.
//!
//! SQLite serializes writers, and each statement costs a round trip to its
//! worker thread, so one transaction per conversation caps the rate. Here,
//! whatever is queued while a batch is being written forms the next batch
//! (no waiting: a lone conversation is written at once). A batch is all or
//! nothing; its callers all get the same error if it fails.

use super::ledger::{self, NewConversation};
use super::PriceTable;
use crate::Store;
use models::AppError;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most conversations per batch.
pub const MAX_BATCH: usize = 256;
/// Queued conversations before `record` waits for room.
const QUEUE: usize = 4_096;

struct Job {
    conversation: NewConversation,
    reply: oneshot::Sender<Result<i64, AppError>>,
}

/// A handle on the background writer; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the writer on the current runtime.
    pub fn start(store: Store, prices: Arc<PriceTable>) -> Recorder {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, prices, jobs));
        Recorder { queue }
    }

    /// Records a conversation (validated first) and returns its id once committed.
    pub async fn record(&self, conversation: NewConversation) -> Result<i64, AppError> {
        ledger::validate(&conversation)?;
        let (reply, answer) = oneshot::channel();
        let stopped = || {
            tracing::error!("the ledger writer has stopped");
            AppError::internal()
        };
        self.queue
            .send(Job {
                conversation,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_batches(store: Store, prices: Arc<PriceTable>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let conversations: Vec<NewConversation> =
            batch.iter().map(|j| j.conversation.clone()).collect();
        let outcome = ledger::write_batch(&store, &prices, &conversations).await;
        match outcome {
            Ok(ids) => {
                for (job, id) in batch.drain(..).zip(ids) {
                    drop(job.reply.send(Ok(id)));
                }
            }
            Err(err) => {
                for job in batch.drain(..) {
                    drop(job.reply.send(Err(err.clone())));
                }
            }
        }
    }
}
