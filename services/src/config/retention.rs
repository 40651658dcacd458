//! How long things are kept: `TABLETALK_RETENTION_DAYS` (the text of
//! questions) and `TABLETALK_SHUTDOWN_GRACE_SECS` (how long a stopping
//! process lets its questions finish).

use super::{whole_number, ConfigError};
use std::time::Duration;

/// `TABLETALK_RETENTION_DAYS`: `None` keeps everything.
pub(crate) fn retention_days(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<u32>, ConfigError> {
    match get("TABLETALK_RETENTION_DAYS") {
        None => Ok(None),
        Some(_) => Ok(Some(
            whole_number(get, "TABLETALK_RETENTION_DAYS", 1, 36_500, 0)? as u32,
        )),
    }
}

/// `TABLETALK_SHUTDOWN_GRACE_SECS`, 20 s unless told.
pub(crate) fn shutdown_grace(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Duration, ConfigError> {
    Ok(Duration::from_secs(whole_number(
        get,
        "TABLETALK_SHUTDOWN_GRACE_SECS",
        0,
        3_600,
        20,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    #[test]
    fn retention_is_off_unless_days_are_given() {
        assert_eq!(retention_days(&lookup(&[])), Ok(None));
        let kept = retention_days(&lookup(&[("TABLETALK_RETENTION_DAYS", "90")]));
        assert_eq!(kept, Ok(Some(90)));
        let err = retention_days(&lookup(&[("TABLETALK_RETENTION_DAYS", "0")])).expect_err("zero");
        assert_eq!(err.variable, "TABLETALK_RETENTION_DAYS");
    }

    #[test]
    fn the_shutdown_grace_defaults_to_twenty_seconds() {
        assert_eq!(shutdown_grace(&lookup(&[])), Ok(Duration::from_secs(20)));
        let err = shutdown_grace(&lookup(&[("TABLETALK_SHUTDOWN_GRACE_SECS", "a minute")]))
            .expect_err("words");
        assert_eq!(err.variable, "TABLETALK_SHUTDOWN_GRACE_SECS");
    }
}
