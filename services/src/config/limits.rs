//! How often a person may act: questions (`TABLETALK_QUESTION_INTERVAL_MS`,
//! `TABLETALK_QUESTION_BURST`) and database probes
//! (`TABLETALK_DATABASE_PROBES_PER_MINUTE`).

use super::{whole_number, ConfigError};
use crate::rate::{Limit, DATABASE_PROBES};

/// One question per `interval_ms` on average, `burst` in a row at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionRate {
    pub interval_ms: i64,
    pub burst: i64,
}

impl Default for QuestionRate {
    /// The seed's original: one question a second, three in a row.
    fn default() -> Self {
        QuestionRate {
            interval_ms: 1_000,
            burst: 3,
        }
    }
}

impl QuestionRate {
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name, min, max, default| whole_number(get, name, min, max, default);
        Ok(QuestionRate {
            interval_ms: i64::try_from(number(
                "TABLETALK_QUESTION_INTERVAL_MS",
                100,
                600_000,
                1_000,
            )?)
            .unwrap_or(1_000),
            burst: i64::try_from(number("TABLETALK_QUESTION_BURST", 1, 1_000, 3)?).unwrap_or(3),
        })
    }
}

/// `TABLETALK_DATABASE_PROBES_PER_MINUTE`: tests, adds and re-reads of databases.
pub(crate) fn database_probes(get: &dyn Fn(&str) -> Option<String>) -> Result<Limit, ConfigError> {
    Ok(Limit {
        allowed: i64::try_from(whole_number(
            get,
            "TABLETALK_DATABASE_PROBES_PER_MINUTE",
            1,
            10_000,
            DATABASE_PROBES.allowed.unsigned_abs(),
        )?)
        .unwrap_or(DATABASE_PROBES.allowed),
        window_secs: 60,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    #[test]
    fn the_question_rate_defaults_to_the_seeds_and_can_be_set() {
        let rate = QuestionRate::from_lookup(&lookup(&[])).expect("valid");
        assert_eq!(rate, QuestionRate::default());
        let rate = QuestionRate::from_lookup(&lookup(&[
            ("TABLETALK_QUESTION_INTERVAL_MS", "500"),
            ("TABLETALK_QUESTION_BURST", "1"),
        ]))
        .expect("valid");
        assert_eq!((rate.interval_ms, rate.burst), (500, 1));
        let err = QuestionRate::from_lookup(&lookup(&[("TABLETALK_QUESTION_BURST", "0")]))
            .expect_err("zero");
        assert_eq!(err.variable, "TABLETALK_QUESTION_BURST");
    }

    #[test]
    fn database_probes_default_and_can_be_set() {
        assert_eq!(
            database_probes(&lookup(&[])).expect("valid").allowed,
            DATABASE_PROBES.allowed
        );
        let probes = database_probes(&lookup(&[("TABLETALK_DATABASE_PROBES_PER_MINUTE", "7")]))
            .expect("valid");
        assert_eq!((probes.allowed, probes.window_secs), (7, 60));
    }
}
