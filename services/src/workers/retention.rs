//! `TABLETALK_RETENTION_DAYS`: old questions' text removed hourly, numbers
//! kept ([`crate::retention::remove_old_text`]); when unset, only the
//! conversation memory past its five minutes.

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
                let removed =
                    crate::retention::forget_expired_memory(&state.store, crate::clock::now())
                        .await
                        .map_err(|e| {
                            anyhow::anyhow!("old turns could not be forgotten: {}", e.message())
                        })?;
                return Ok(usize::try_from(removed).unwrap_or(usize::MAX));
            };
            let removed =
                crate::retention::remove_old_text(&state.store, days, crate::clock::now())
                    .await
                    .map_err(|e| anyhow::anyhow!("the retention could not run: {}", e.message()))?;
            let total =
                removed.conversations + removed.stages + removed.emails + removed.notifications;
            Ok(usize::try_from(total).unwrap_or(usize::MAX))
        })
    }
}
