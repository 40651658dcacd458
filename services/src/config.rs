//! One typed configuration, loaded once and validated at start (DESIGN.md §8).
//!
//! Server and bot share this loader. Every error names the variable it is
//! about. Secrets are `secrecy` types so they cannot be logged by accident.
//! Each area reads its own variables in its own module ([`store`], [`http`],
//! [`telegram`], [`targets`], [`limits`], [`retention`], [`process`]; the LLM
//! and email settings live with their services); [`Config::from_lookup`]
//! puts them together.

mod http;
mod limits;
mod process;
mod redact;
mod retention;
mod store;
mod targets;
mod telegram;

use crate::telemetry::LogFormat;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

/// How long a query against a user's database may run and how many rows it returns.
pub use ::targets::{QueryLimits, MB};
pub use limits::QuestionRate;
pub use redact::{hide_url_users, redact_url};
pub use telegram::{TelegramConfig, DEFAULT_TELEGRAM_API_URL, DEFAULT_WEBHOOK_LISTEN};

#[derive(Debug)]
pub struct Config {
    /// Where Tabletalk keeps its own data: `sqlite://...` or `postgres://...`.
    pub database_url: SecretString,
    /// Whether `database_url` was given (false: the embedded default is in use).
    pub database_url_is_default: bool,
    /// Directory for the embedded store and generated files.
    pub data_dir: PathBuf,
    /// The address people use to reach the dashboard, if known (e.g. behind a proxy).
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    pub telegram: TelegramConfig,
    /// Telegram user ids with the admin role.
    pub admin_ids: Vec<i64>,
    /// A JSON file of model prices laid over the built-in ones.
    pub prices_file: Option<PathBuf>,
    /// Base64 of the 32-byte key that encrypts stored connection strings.
    pub secret_key: Option<SecretString>,
    /// Limits on queries against users' databases.
    pub query_limits: QueryLimits,
    /// Where users' SQLite databases must live; files elsewhere are refused.
    pub sqlite_targets_dir: PathBuf,
    /// Seed the demo organization on a first run of the embedded default (`TABLETALK_DEMO`).
    pub demo: bool,
    /// Which hosts users' databases may be on (`TABLETALK_TARGET_HOSTS`).
    pub target_hosts: ::targets::hosts::HostPolicy,
    /// How often a person may test, add or re-read databases (`TABLETALK_DATABASE_PROBES_PER_MINUTE`).
    pub database_probes: crate::rate::Limit,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TABLETALK_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// Lets a scraper elsewhere read `/metrics` with `Authorization: Bearer`
    /// (`TABLETALK_METRICS_TOKEN`); unset: only this machine may.
    pub metrics_token: Option<SecretString>,
    /// The language-model provider, models per stage, timeouts and retries.
    pub llm: crate::llm::settings::LlmSettings,
    /// How often one person may ask (`TABLETALK_QUESTION_INTERVAL_MS`, `TABLETALK_QUESTION_BURST`).
    pub question_rate: QuestionRate,
    /// Email results: the mail server, the sender, the daily limit.
    pub email: crate::email::settings::EmailSettings,
    /// Days the text of questions is kept (`TABLETALK_RETENTION_DAYS`); `None` keeps it.
    pub retention_days: Option<u32>,
    /// How long a stopping process lets its questions finish before it
    /// interrupts them (`TABLETALK_SHUTDOWN_GRACE_SECS`).
    pub shutdown_grace: std::time::Duration,
}

/// The configuration checked as a whole: every bad variable, and the
/// `TABLETALK_*` variables nothing reads.
#[derive(Debug)]
pub struct Checked {
    /// The configuration, when every variable is good.
    pub config: Option<Config>,
    pub errors: Vec<ConfigError>,
    /// Set `TABLETALK_*` names no setting reads (`TABLETALK_TEST_*` aside:
    /// those are the tests'). Empty when a problem stopped the check early.
    pub unknown: Vec<String>,
}

/// The warning for a variable nothing reads.
pub fn unknown_variable(name: &str) -> String {
    format!("{name} is set but is not a Tabletalk setting (a typo? see the configuration table in README.md)")
}

/// Checks `vars` (name, value) as the binaries would read them. The loader
/// stops at the first bad variable, so the check runs it again with each
/// bad one hidden until it passes: every independent problem is found. The
/// names the loader asks for are the known settings.
pub fn check(vars: &[(String, String)]) -> Checked {
    let asked = std::cell::RefCell::new(std::collections::BTreeSet::<String>::new());
    let mut errors: Vec<ConfigError> = Vec::new();
    let mut config = None;
    let mut complete = false;
    for _ in 0..64 {
        let hidden: Vec<&str> = errors.iter().map(|e| e.variable).collect();
        let result = Config::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            if hidden.contains(&name) {
                return None;
            }
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        });
        match result {
            Ok(loaded) => {
                complete = true;
                if errors.is_empty() {
                    config = Some(loaded);
                }
                break;
            }
            // Hiding it did not help (it is required and missing): stop here.
            Err(err) if hidden.contains(&err.variable) => break,
            Err(err) => errors.push(err),
        }
    }
    let asked = asked.into_inner();
    let unknown = if complete {
        vars.iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("TABLETALK_") && !k.starts_with("TABLETALK_TEST_"))
            .filter(|k| !asked.contains(k.as_str()))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    Checked {
        config,
        errors,
        unknown,
    }
}

/// A configuration value that cannot be used, with the variable it came from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            variable,
            problem: problem.into(),
        }
    }
}

impl Config {
    /// What the engine layer needs of the configuration.
    pub fn targets_settings(&self) -> ::targets::Settings {
        ::targets::Settings {
            limits: self.query_limits,
            sqlite_dir: self.sqlite_targets_dir.clone(),
            hosts: self.target_hosts.clone(),
            store_url: self.database_url.clone(),
            secret_key: self.secret_key.clone(),
        }
    }

    /// What binaries call: reads a `.env` file in the working directory if there
    /// is one (a malformed one is an error, not ignored), then the environment.
    ///
    /// Every bad variable is named (not only the first), and a `TABLETALK_*`
    /// variable that nothing reads is warned about on standard error (a typo
    /// would otherwise be silently ignored). `server config check` shows the same.
    pub fn load() -> anyhow::Result<Config> {
        let checked = Config::check_environment()?;
        for name in &checked.unknown {
            eprintln!("warning: {}", unknown_variable(name));
        }
        match checked.config {
            Some(config) if checked.errors.is_empty() => Ok(config),
            _ => Err(anyhow::anyhow!(
                "the configuration has {} problem{}:\n{}",
                checked.errors.len(),
                if checked.errors.len() == 1 { "" } else { "s" },
                checked
                    .errors
                    .iter()
                    .map(|e| format!("  {e}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )),
        }
    }

    /// `.env` (if present) and then the environment, checked as a whole ([`check`]).
    pub fn check_environment() -> anyhow::Result<Checked> {
        use anyhow::Context;
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(err) if err.not_found() => {}
            Err(err) => return Err(err).context("could not read .env"),
        }
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Ok(check(&vars))
    }

    /// Reads the process environment only.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the environment.
    /// Blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let store = store::StoreSettings::from_lookup(&get)?;
        let http = http::HttpSettings::from_lookup(&get)?;
        let telegram = TelegramConfig::from_lookup(&get)?;
        let targets = targets::TargetSettings::from_lookup(&get, &store.data_dir)?;
        Ok(Config {
            log_format: process::log_format(&get)?,
            admin_ids: telegram::admin_ids(&get)?,
            prices_file: process::prices_file(&get),
            database_probes: limits::database_probes(&get)?,
            llm: crate::llm::settings::LlmSettings::from_lookup(&get)?,
            question_rate: QuestionRate::from_lookup(&get)?,
            email: crate::email::settings::EmailSettings::from_lookup(&get)?,
            retention_days: retention::retention_days(&get)?,
            shutdown_grace: retention::shutdown_grace(&get)?,
            telegram,
            query_limits: targets.query_limits,
            target_hosts: targets.target_hosts,
            sqlite_targets_dir: targets.sqlite_targets_dir,
            public_url: http.public_url,
            trusted_proxies: http.trusted_proxies,
            metrics_token: http.metrics_token,
            database_url: store.database_url,
            database_url_is_default: store.database_url_is_default,
            secret_key: store.secret_key,
            demo: store.demo,
            data_dir: store.data_dir,
        })
    }

    /// Whether session cookies must carry `Secure` (the dashboard is served over HTTPS).
    pub fn cookies_secure(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }

    /// The store URL with any password removed, fit for a log line.
    pub fn database_url_redacted(&self) -> String {
        redact_url(self.database_url.expose_secret())
    }
}

/// The whole number in `name`, from `min` to `max`; `default` when unset.
pub(crate) fn whole_number(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    min: u64,
    max: u64,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ConfigError::new(name, format!("must be a whole number from {min} to {max}"))
            }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A lookup over `pairs`, blank values unset, as [`Config::from_lookup`] gives the areas.
    pub(crate) fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.trim().to_owned()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(lookup(pairs))
    }

    #[test]
    fn defaults_to_embedded_sqlite_under_data() {
        let config = load(&[]).expect("defaults are valid");
        assert_eq!(
            config.database_url.expose_secret(),
            "sqlite://./data/tabletalk.db"
        );
        assert!(config.database_url_is_default);
        assert_eq!(config.telegram.api_url, DEFAULT_TELEGRAM_API_URL);
        assert!(config.telegram.token.is_none());
        assert!(!config.cookies_secure());
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.sqlite_targets_dir, PathBuf::from("./data/databases"));
        assert_eq!(config.retention_days, None);
        assert_eq!(config.shutdown_grace.as_secs(), 20);
    }

    #[test]
    fn bad_values_name_their_variable_whatever_their_area() {
        for (variable, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("TABLETALK_LOG_FORMAT", "xml"),
            ("TABLETALK_ADMIN_IDS", "12, abc"),
            ("TELEGRAM_API_URL", "api.telegram.org"),
            ("TABLETALK_PUBLIC_URL", "example.com"),
            ("TABLETALK_QUERY_TIMEOUT_SECS", "0"),
            ("TABLETALK_QUERY_ROW_LIMIT", "lots"),
            ("TABLETALK_TRUSTED_PROXIES", "10.0.0.0/8, my-proxy"),
            ("TABLETALK_QUESTION_BURST", "0"),
            ("TABLETALK_RETENTION_DAYS", "0"),
            ("TABLETALK_SHUTDOWN_GRACE_SECS", "a minute"),
            ("PGSSLKEY", "/home/op/key"),
        ] {
            let err = load(&[(variable, value)]).expect_err(variable);
            assert_eq!(err.variable, variable);
        }
        // The data directory moves the SQLite targets' directory too.
        let config = load(&[("TABLETALK_DATA_DIR", "/var/lib/tt")]).expect("valid");
        assert_eq!(
            config.sqlite_targets_dir,
            PathBuf::from("/var/lib/tt/databases")
        );
    }

    #[test]
    fn a_check_names_every_bad_variable_and_every_unknown_one() {
        let vars = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        let checked = check(&vars(&[
            ("TELEGRAM_WEBHOOK_LISTEN", "nowhere"),
            ("TABLETALK_QUERY_TIMEOUT_SECS", "forever"),
            ("TABLETALK_LOG_FORMAT", "xml"),
            ("TABLETALK_QUERY_ROW_LIMT", "50"),
        ]));
        let named: Vec<&str> = checked.errors.iter().map(|e| e.variable).collect();
        for variable in [
            "TELEGRAM_WEBHOOK_LISTEN",
            "TABLETALK_QUERY_TIMEOUT_SECS",
            "TABLETALK_LOG_FORMAT",
        ] {
            assert!(named.contains(&variable), "{variable} in {named:?}");
        }
        assert!(checked.config.is_none());
        assert_eq!(checked.unknown, ["TABLETALK_QUERY_ROW_LIMT"]);

        let checked = check(&vars(&[
            ("TABLETALK_QUERY_ROW_LIMIT", "50"),
            ("TABLETALK_TEST_POSTGRES_URL", "postgres://x"),
            ("PATH", "/bin"),
        ]));
        assert!(checked.errors.is_empty());
        assert!(checked.unknown.is_empty(), "{:?}", checked.unknown);
        assert_eq!(checked.config.expect("valid").query_limits.row_limit, 50);
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let config = load(&[("TABLETALK_PUBLIC_URL", "https://tt.example.com/")]).expect("valid");
        assert!(config.cookies_secure());
        assert_eq!(config.public_url.as_deref(), Some("https://tt.example.com"));
    }

    #[test]
    fn the_store_url_is_shown_without_its_password() {
        let config = load(&[
            ("DATABASE_URL", "postgres://u:pw@h/db"),
            (
                "TABLETALK_SECRET_KEY",
                "dGFibGV0YWxrLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmM=",
            ),
        ])
        .expect("valid");
        assert!(!config.database_url_redacted().contains("pw"));
        assert!(!format!("{config:?}").contains("pw@"));
    }
}
