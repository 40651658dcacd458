//! `TABLETALK_RETENTION_DAYS`: old questions' text removed hourly, numbers
//! kept ([`crate::retention::remove_old_text`]); nothing when unset.

use super::{Step, Worker};
use crate::AppState;
use std::time::Duration;

pub struct Retention;

impl Worker for Retention {
    fn name(&self) -> &'static str {
        "retention"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(3_600)
    }

    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a> {
        Box::pin(async move {
            let Some(days) = state.config.retention_days else {
                return Ok(0);
            };
            let removed =
                crate::retention::remove_old_text(&state.store, days, crate::clock::now())
                    .await
                    .map_err(|e| anyhow::anyhow!("the retention could not run: {}", e.message()))?;
            let total = removed.conversations + removed.stages + removed.emails;
            Ok(usize::try_from(total).unwrap_or(usize::MAX))
        })
    }
}
