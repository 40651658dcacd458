//! Email results the mail server did not take at once, retried
//! ([`crate::email::deliver_due`]). Two processes sending is safe: each
//! email is claimed before it is sent.

use super::{Step, Worker};
use crate::AppState;
use std::time::Duration;

pub struct EmailQueue;

impl Worker for EmailQueue {
    fn name(&self) -> &'static str {
        "email queue"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(15)
    }

    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a> {
        Box::pin(async move {
            crate::email::deliver_due(state)
                .await
                .map_err(|e| anyhow::anyhow!("could not send queued emails: {}", e.message()))
        })
    }
}
