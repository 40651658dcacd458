//! How the process reports and prices: `TABLETALK_LOG_FORMAT` and
//! `TABLETALK_PRICES_FILE`.

use super::ConfigError;
use crate::telemetry::LogFormat;
use std::path::PathBuf;

/// `TABLETALK_LOG_FORMAT`: `pretty` (the default) or `json`.
pub(crate) fn log_format(get: &dyn Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
    match get("TABLETALK_LOG_FORMAT").as_deref() {
        None | Some("pretty") => Ok(LogFormat::Pretty),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(ConfigError::new(
            "TABLETALK_LOG_FORMAT",
            format!("must be \"pretty\" or \"json\", not {other:?}"),
        )),
    }
}

/// `TABLETALK_PRICES_FILE`: model prices laid over the built-in ones.
pub(crate) fn prices_file(get: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    get("TABLETALK_PRICES_FILE").map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    #[test]
    fn the_log_format_is_pretty_or_json() {
        assert_eq!(log_format(&lookup(&[])), Ok(LogFormat::Pretty));
        let json = log_format(&lookup(&[("TABLETALK_LOG_FORMAT", "json")]));
        assert_eq!(json, Ok(LogFormat::Json));
        let err = log_format(&lookup(&[("TABLETALK_LOG_FORMAT", "xml")])).expect_err("xml");
        assert_eq!(err.variable, "TABLETALK_LOG_FORMAT");
    }
}
