//! Expired sessions and old login attempts deleted hourly
//! ([`crate::auth::purge_expired`]); the server runs it.

use super::{Step, Worker};
use crate::AppState;
use std::time::Duration;

pub struct Housekeeping;

impl Worker for Housekeeping {
    fn name(&self) -> &'static str {
        "sessions housekeeping"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(3_600)
    }

    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a> {
        Box::pin(async move {
            let rows = crate::auth::purge_expired(&state.store)
                .await
                .map_err(|e| anyhow::anyhow!("could not purge expired sessions: {e}"))?;
            Ok(usize::try_from(rows).unwrap_or(usize::MAX))
        })
    }
}
