//! Pools of users' databases not used for [`targets::registry::IDLE_POOL`] are closed.

use super::{Step, Worker};
use crate::AppState;
use std::time::Duration;

pub struct IdlePools;

impl Worker for IdlePools {
    fn name(&self) -> &'static str {
        "idle pools"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn run_due<'a>(&'a self, state: &'a AppState) -> Step<'a> {
        Box::pin(async move { Ok(state.targets.close_idle(targets::registry::IDLE_POOL).await) })
    }
}
