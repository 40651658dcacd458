//! This process is alive: its questions in flight are not taken over
//! ([`crate::ask::limits::beat`]).

use super::{Step, Worker};
use crate::AppState;
use std::time::Duration;

pub struct Heartbeat;

impl Worker for Heartbeat {
    fn name(&self) -> &'static str {
        "heartbeat"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(crate::ask::limits::HEARTBEAT_SECS)
    }

    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a> {
        Box::pin(async move {
            crate::ask::limits::beat(
                &state.store,
                state.shutdown.process_id(),
                crate::clock::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("could not note this process alive: {e}"))?;
            // A beat is routine: nothing to report.
            Ok(0)
        })
    }
}
