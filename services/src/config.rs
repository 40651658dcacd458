//! One typed configuration, loaded once and validated at start (DESIGN.md §8).
//!
//! Server and bot share this loader. Every error names the variable it is
//! about. Secrets are `secrecy` types so they cannot be logged by accident.

use crate::telemetry::LogFormat;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

/// The real Telegram Bot API.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

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
    pub target_hosts: targets::hosts::HostPolicy,
    /// How often a person may test, add or re-read databases (`TABLETALK_DATABASE_PROBES_PER_MINUTE`).
    pub database_probes: crate::rate::Limit,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TABLETALK_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::proxies::TrustedProxies,
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

/// How long a query against a user's database may run and how many rows it returns.
pub use targets::{QueryLimits, MB};

#[derive(Debug)]
pub struct TelegramConfig {
    /// `None` when `TELEGRAM_BOT_TOKEN` is not set; the bot refuses to start then.
    pub token: Option<SecretString>,
    /// Base URL of the Bot API (tests point it at testkit's fake server).
    pub api_url: String,
    /// The bot's @username (without @), for `t.me` invitation links.
    pub bot_username: Option<String>,
    /// Webhook mode: the public https address Telegram posts updates to
    /// (`TELEGRAM_WEBHOOK_URL`); `None` is long polling.
    pub webhook_url: Option<String>,
    /// Where the bot listens for those posts (`TELEGRAM_WEBHOOK_LISTEN`).
    pub webhook_listen: std::net::SocketAddr,
    /// The secret Telegram sends with each post (`TELEGRAM_WEBHOOK_SECRET`);
    /// unset: a fresh random one at each start.
    pub webhook_secret: Option<SecretString>,
    /// Where the bot serves Prometheus `/metrics`
    /// (`TABLETALK_BOT_METRICS_LISTEN`); `None`: not served.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// Where the bot listens in webhook mode unless told otherwise (one of the
/// ports Telegram posts to).
pub const DEFAULT_WEBHOOK_LISTEN: &str = "0.0.0.0:8443";

/// `TELEGRAM_WEBHOOK_URL`: Telegram posts only to https; plain http is
/// accepted for this machine alone (a local test, or a proxy on the host).
fn webhook_url(url: &str) -> Result<String, ConfigError> {
    let problem = |p: &str| ConfigError::new("TELEGRAM_WEBHOOK_URL", p);
    let parsed = url::Url::parse(url)
        .map_err(|_| problem("must be a full address, e.g. https://bot.example.com/telegram"))?;
    let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if local => {}
        _ => {
            return Err(problem(
                "must be an https:// address (Telegram posts only to https)",
            ))
        }
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(problem(
            "must not have a ?query or #fragment; put the secret in TELEGRAM_WEBHOOK_SECRET",
        ));
    }
    Ok(url.to_owned())
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
    pub fn targets_settings(&self) -> targets::Settings {
        targets::Settings {
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
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let data_dir = PathBuf::from(get("TABLETALK_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let (database_url, database_url_is_default) = match get("DATABASE_URL") {
            Some(url) => {
                check_database_url(&url)?;
                (url, false)
            }
            None => (default_sqlite_url(&data_dir), true),
        };

        let public_url = get("TABLETALK_PUBLIC_URL")
            .map(|url| {
                if url.starts_with("http://") || url.starts_with("https://") {
                    Ok(url.trim_end_matches('/').to_owned())
                } else {
                    Err(ConfigError::new(
                        "TABLETALK_PUBLIC_URL",
                        "must start with http:// or https:// (for example https://tabletalk.example.com)",
                    ))
                }
            })
            .transpose()?;

        let log_format = match get("TABLETALK_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "TABLETALK_LOG_FORMAT",
                    format!("must be \"pretty\" or \"json\", not {other:?}"),
                ))
            }
        };

        let api_url = get("TELEGRAM_API_URL").unwrap_or_else(|| DEFAULT_TELEGRAM_API_URL.into());
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(ConfigError::new(
                "TELEGRAM_API_URL",
                "must be an http:// or https:// URL",
            ));
        }
        let telegram = TelegramConfig {
            token: get("TELEGRAM_BOT_TOKEN").map(SecretString::from),
            api_url: api_url.trim_end_matches('/').to_owned(),
            bot_username: get("TELEGRAM_BOT_USERNAME")
                .map(|name| {
                    let name = name.trim_start_matches('@').to_owned();
                    if !name.is_empty()
                        && name.len() <= 64
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        Ok(name)
                    } else {
                        Err(ConfigError::new(
                            "TELEGRAM_BOT_USERNAME",
                            "must be the bot's username: letters, digits and underscores",
                        ))
                    }
                })
                .transpose()?,
            webhook_url: get("TELEGRAM_WEBHOOK_URL")
                .map(|url| webhook_url(&url))
                .transpose()?,
            webhook_listen: get("TELEGRAM_WEBHOOK_LISTEN")
                .unwrap_or_else(|| DEFAULT_WEBHOOK_LISTEN.to_owned())
                .parse()
                .map_err(|_| {
                    ConfigError::new(
                        "TELEGRAM_WEBHOOK_LISTEN",
                        "must be an address and port to listen on, e.g. 0.0.0.0:8443",
                    )
                })?,
            metrics_listen: get("TABLETALK_BOT_METRICS_LISTEN")
                .map(|addr| {
                    addr.parse().map_err(|_| {
                        ConfigError::new(
                            "TABLETALK_BOT_METRICS_LISTEN",
                            "must be an address and port to serve /metrics on, e.g. 127.0.0.1:9464",
                        )
                    })
                })
                .transpose()?,
            webhook_secret: get("TELEGRAM_WEBHOOK_SECRET")
                .map(|secret| {
                    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
                    if (1..=256).contains(&secret.len()) && secret.chars().all(allowed) {
                        Ok(SecretString::from(secret))
                    } else {
                        Err(ConfigError::new(
                            "TELEGRAM_WEBHOOK_SECRET",
                            "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)",
                        ))
                    }
                })
                .transpose()?,
        };

        let admin_ids = match get("TABLETALK_ADMIN_IDS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|id| {
                    id.parse::<i64>().map_err(|_| {
                        ConfigError::new(
                            "TABLETALK_ADMIN_IDS",
                            format!("{id:?} is not a Telegram user id (a whole number)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let prices_file = get("TABLETALK_PRICES_FILE").map(PathBuf::from);

        let secret_key = get("TABLETALK_SECRET_KEY").map(SecretString::from);
        match &secret_key {
            Some(key) => {
                if let Err(err) = targets::secret_box::decode_key(key.expose_secret()) {
                    return Err(ConfigError::new(
                        "TABLETALK_SECRET_KEY",
                        format!(
                            "must be 32 random bytes in base64 ({err}); generate one with \
                             `head -c 32 /dev/urandom | base64`"
                        ),
                    ));
                }
            }
            // The embedded default keeps its key in a file beside the store;
            // processes sharing PostgreSQL must share the key instead.
            None if database_url.starts_with("postgres") => {
                return Err(ConfigError::new(
                    "TABLETALK_SECRET_KEY",
                    "must be set with a PostgreSQL store (every process sharing it needs the same \
                     key to read stored connection strings); generate one with \
                     `head -c 32 /dev/urandom | base64` and set it for every process",
                ))
            }
            None => {}
        }

        let number = |name, min, max, default| whole_number(&get, name, min, max, default);
        let query_limits = QueryLimits {
            timeout: std::time::Duration::from_secs(number(
                "TABLETALK_QUERY_TIMEOUT_SECS",
                1,
                600,
                30,
            )?),
            row_limit: usize::try_from(number("TABLETALK_QUERY_ROW_LIMIT", 1, 100_000, 1_000)?)
                .unwrap_or(1_000),
            max_bytes: usize::try_from(number("TABLETALK_QUERY_MAX_MB", 1, 1_024, 16)?)
                .unwrap_or(16)
                * MB,
        };
        let database_probes = crate::rate::Limit {
            allowed: i64::try_from(number(
                "TABLETALK_DATABASE_PROBES_PER_MINUTE",
                1,
                10_000,
                crate::rate::DATABASE_PROBES.allowed.unsigned_abs(),
            )?)
            .unwrap_or(crate::rate::DATABASE_PROBES.allowed),
            window_secs: 60,
        };
        let target_hosts =
            targets::hosts::HostPolicy::parse(get("TABLETALK_TARGET_HOSTS").as_deref())
                .map_err(|problem| ConfigError::new("TABLETALK_TARGET_HOSTS", problem))?;
        // sqlx's PostgreSQL client starts from these variables and cannot be
        // told to forget them: they would be sent to any host a user names.
        for name in ["PGSSLCERT", "PGSSLKEY", "PGOPTIONS"] {
            if lookup(name).is_some_and(|v| !v.trim().is_empty()) {
                return Err(ConfigError::new(
                    name,
                    "is set in Tabletalk's environment, where the PostgreSQL client would present it \
                     to users' databases too; unset it (for Tabletalk's own store put sslcert, \
                     sslkey or options in DATABASE_URL instead)",
                ));
            }
        }
        let sqlite_targets_dir = get("TABLETALK_SQLITE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("databases"));

        let demo = match get("TABLETALK_DEMO")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("1" | "true" | "yes" | "on") => true,
            Some("0" | "false" | "no" | "off") => false,
            Some(other) => {
                return Err(ConfigError::new(
                    "TABLETALK_DEMO",
                    format!("must be 1 or 0, not {other:?}"),
                ))
            }
        };

        let trusted_proxies = get("TABLETALK_TRUSTED_PROXIES")
            .map(|list| crate::proxies::TrustedProxies::parse(&list))
            .transpose()
            .map_err(|problem| ConfigError::new("TABLETALK_TRUSTED_PROXIES", problem))?
            .unwrap_or_default();

        let llm = crate::llm::settings::LlmSettings::from_lookup(&get)?;
        let question_rate = QuestionRate {
            interval_ms: i64::try_from(number(
                "TABLETALK_QUESTION_INTERVAL_MS",
                100,
                600_000,
                1_000,
            )?)
            .unwrap_or(1_000),
            burst: i64::try_from(number("TABLETALK_QUESTION_BURST", 1, 1_000, 3)?).unwrap_or(3),
        };

        let email = crate::email::settings::EmailSettings::from_lookup(&get)?;

        let retention_days = match get("TABLETALK_RETENTION_DAYS") {
            None => None,
            Some(_) => Some(number("TABLETALK_RETENTION_DAYS", 1, 36_500, 0)? as u32),
        };
        let shutdown_grace =
            std::time::Duration::from_secs(number("TABLETALK_SHUTDOWN_GRACE_SECS", 0, 3_600, 20)?);
        Ok(Config {
            shutdown_grace,
            retention_days,
            email,
            llm,
            question_rate,
            database_probes,
            target_hosts,
            trusted_proxies,
            secret_key,
            query_limits,
            sqlite_targets_dir,
            demo,
            prices_file,
            database_url: SecretString::from(database_url),
            database_url_is_default,
            data_dir,
            public_url,
            log_format,
            telegram,
            admin_ids,
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

fn default_sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}/tabletalk.db", data_dir.display())
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" | "postgres" | "postgresql" => Ok(()),
        _ => Err(ConfigError::new(
            "DATABASE_URL",
            "must be a sqlite:// or postgres:// URL (for example sqlite://./data/tabletalk.db \
             or postgres://user@localhost/tabletalk)",
        )),
    }
}

/// Query parameters whose values are hidden by [`redact_url`] (compared
/// without regard to case).
const SECRET_PARAMETERS: [&str; 5] = ["password", "passwd", "pwd", "pass", "sslpassword"];

/// Removes the password from `scheme://user:password@host/...` and the values
/// of `?password=`-like query parameters, fit for a log line.
///
/// Passwords are often pasted without percent-encoding, so the user
/// information ends at the *last* `@` whose remainder starts with something
/// shaped like a host: a password holding `/`, `?`, `:` or `@` is hidden
/// whole. When in doubt more is hidden, never less.
pub fn redact_url(url: &str) -> String {
    let url = redact_query_secrets(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let Some(at) = rest.rfind('@') else {
        return url;
    };
    let (userinfo, host_and_path) = (&rest[..at], &rest[at + 1..]);
    let host_end = host_and_path
        .find(['/', '?', '#'])
        .unwrap_or(host_and_path.len());
    let host = &host_and_path[..host_end];
    let host_like = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:[]%".contains(c));
    if !host_like {
        return format!("{scheme}://***");
    }
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    format!("{scheme}://{user}:***@{host_and_path}")
}

/// Replaces the value of every `password=`-like parameter (after `?`, `&` or
/// `;`) with `***`, up to the next `&` or `;`.
fn redact_query_secrets(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(i) = rest.find(['?', '&', ';']) {
        let (before, after) = rest.split_at(i + 1);
        out.push_str(before);
        rest = after;
        let Some(eq) = rest.find('=') else { continue };
        let key = &rest[..eq];
        let secret = SECRET_PARAMETERS
            .iter()
            .any(|name| key.trim().eq_ignore_ascii_case(name));
        if secret {
            let end = rest[eq + 1..]
                .find(['&', ';'])
                .map_or(rest.len(), |j| eq + 1 + j);
            out.push_str(&rest[..=eq]);
            out.push_str("***");
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
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
    }

    #[test]
    fn a_postgresql_store_needs_a_valid_shared_secret_key() {
        let pg = ("DATABASE_URL", "postgres://tt@db.local/tt");
        let err = load(&[pg]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_SECRET_KEY");
        assert!(err.problem.contains("PostgreSQL"), "{}", err.problem);
        let err = load(&[pg, ("TABLETALK_SECRET_KEY", "c2hvcnQ=")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_SECRET_KEY");
        assert!(err.problem.contains("32 bytes"), "{}", err.problem);
        let key = "dGFibGV0YWxrLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmM=";
        assert!(load(&[pg, ("TABLETALK_SECRET_KEY", key)]).is_ok());
        // The embedded default keeps its key in a file: none needed.
        assert!(load(&[]).is_ok());
    }

    #[test]
    fn data_dir_moves_the_default_store() {
        let config = load(&[("TABLETALK_DATA_DIR", "/var/lib/tt")]).expect("valid");
        assert_eq!(
            config.database_url.expose_secret(),
            "sqlite:///var/lib/tt/tabletalk.db"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = load(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
        let err = load(&[("TABLETALK_LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_LOG_FORMAT");
        let err = load(&[("TABLETALK_ADMIN_IDS", "12, abc")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_ADMIN_IDS");
        assert!(err.problem.contains("\"abc\""));
        let err = load(&[("TELEGRAM_API_URL", "api.telegram.org")]).unwrap_err();
        assert_eq!(err.variable, "TELEGRAM_API_URL");
        let err = load(&[("TABLETALK_PUBLIC_URL", "example.com")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_PUBLIC_URL");
        let err = load(&[("TABLETALK_QUERY_TIMEOUT_SECS", "0")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_QUERY_TIMEOUT_SECS");
        let err = load(&[("TABLETALK_QUERY_ROW_LIMIT", "lots")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_QUERY_ROW_LIMIT");
        let err = load(&[("TABLETALK_TRUSTED_PROXIES", "10.0.0.0/8, my-proxy")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_TRUSTED_PROXIES");
        assert!(err.problem.contains("\"my-proxy\""), "{}", err.problem);
        let config = load(&[("TABLETALK_TRUSTED_PROXIES", "10.0.0.0/8,::1")]).expect("valid");
        assert!(config.trusted_proxies.contains("::1".parse().expect("ip")));
        assert!(load(&[]).expect("valid").trusted_proxies.is_empty());
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
    fn webhook_mode_is_checked_as_telegram_would() {
        let config = load(&[]).expect("valid");
        assert_eq!(config.telegram.webhook_url, None);
        assert_eq!(config.telegram.webhook_listen.port(), 8443);
        let config = load(&[
            ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram"),
            ("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1:9000"),
            ("TELEGRAM_WEBHOOK_SECRET", "s3cret_-token"),
        ])
        .expect("valid");
        assert_eq!(
            config.telegram.webhook_url.as_deref(),
            Some("https://bot.example.com/telegram")
        );
        assert_eq!(config.telegram.webhook_listen.port(), 9000);
        assert!(load(&[("TELEGRAM_WEBHOOK_URL", "http://127.0.0.1:8443/hook")]).is_ok());
        for (variable, value, says) in [
            (
                "TELEGRAM_WEBHOOK_URL",
                "http://bot.example.com/telegram",
                "https",
            ),
            ("TELEGRAM_WEBHOOK_URL", "bot.example.com", "full address"),
            (
                "TELEGRAM_WEBHOOK_URL",
                "https://bot.example.com/t?key=1",
                "query",
            ),
            ("TELEGRAM_WEBHOOK_LISTEN", "8443", "address and port"),
            ("TELEGRAM_WEBHOOK_SECRET", "has spaces in it", "A-Z"),
        ] {
            let err = load(&[(variable, value)]).expect_err(value);
            assert_eq!(err.variable, variable);
            assert!(err.problem.contains(says), "{}", err.problem);
        }
    }

    #[test]
    fn query_limits_default_and_can_be_set() {
        let config = load(&[]).expect("valid");
        assert_eq!(config.query_limits, QueryLimits::default());
        assert_eq!(config.sqlite_targets_dir, PathBuf::from("./data/databases"));
        let config = load(&[
            ("TABLETALK_QUERY_TIMEOUT_SECS", "5"),
            ("TABLETALK_QUERY_ROW_LIMIT", "50"),
            ("TABLETALK_SQLITE_DIR", "/srv/dbs"),
        ])
        .expect("valid");
        assert_eq!(config.query_limits.timeout.as_secs(), 5);
        assert_eq!(config.query_limits.row_limit, 50);
        assert_eq!(config.sqlite_targets_dir, PathBuf::from("/srv/dbs"));
        assert_eq!(load(&[]).expect("valid").retention_days, None);
        let kept = load(&[("TABLETALK_RETENTION_DAYS", "90")]).expect("valid");
        assert_eq!(kept.retention_days, Some(90));
        assert_eq!(load(&[]).expect("valid").shutdown_grace.as_secs(), 20);
        let err = load(&[("TABLETALK_SHUTDOWN_GRACE_SECS", "a minute")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_SHUTDOWN_GRACE_SECS");
        let err = load(&[("TABLETALK_RETENTION_DAYS", "0")]).expect_err("zero days");
        assert_eq!(err.variable, "TABLETALK_RETENTION_DAYS");
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let config = load(&[("TABLETALK_PUBLIC_URL", "https://tt.example.com/")]).expect("valid");
        assert!(config.cookies_secure());
        assert_eq!(config.public_url.as_deref(), Some("https://tt.example.com"));
    }

    #[test]
    fn redaction_hides_query_passwords_and_unencoded_ones() {
        let cases = [
            (
                "postgres://bob@db.local/tt?password=s3cret",
                "postgres://bob:***@db.local/tt?password=***",
            ),
            (
                "postgres://db.local/tt?sslmode=require&PASSWORD=s3cret&user=bob",
                "postgres://db.local/tt?sslmode=require&PASSWORD=***&user=bob",
            ),
            (
                "postgres://bob:s3/cret@db.local:5432/tt",
                "postgres://bob:***@db.local:5432/tt",
            ),
            (
                "postgres://bob:s3@cret@db.local/tt",
                "postgres://bob:***@db.local/tt",
            ),
            (
                "postgres://bob:a/b@c?d@db.local/tt?sslmode=require",
                "postgres://bob:***@db.local/tt?sslmode=require",
            ),
        ];
        for (url, shown) in cases {
            let redacted = redact_url(url);
            assert_eq!(redacted, shown, "{url}");
            assert!(!redacted.contains("s3"), "{redacted}");
        }
        // Nothing host-shaped after the last `@`: everything is hidden.
        assert_eq!(
            redact_url("postgres://bob:pw@db/tt?user=x@y z"),
            "postgres://***"
        );
    }

    #[test]
    fn admin_ids_are_parsed() {
        let config = load(&[("TABLETALK_ADMIN_IDS", "1, 22,333")]).expect("valid");
        assert_eq!(config.admin_ids, vec![1, 22, 333]);
    }

    #[test]
    fn postgres_client_settings_in_the_environment_are_refused() {
        for name in ["PGSSLCERT", "PGSSLKEY", "PGOPTIONS"] {
            let err = load(&[(name, "/home/op/.postgresql/client.crt")]).unwrap_err();
            assert_eq!(err.variable, name);
        }
        assert!(
            load(&[("PGPASSWORD", "op-secret")]).is_ok(),
            "overridden per target instead"
        );
    }

    #[test]
    fn target_hosts_and_result_bytes_are_read() {
        let err = load(&[("TABLETALK_TARGET_HOSTS", "10.0.0.0/40")]).unwrap_err();
        assert_eq!(err.variable, "TABLETALK_TARGET_HOSTS");
        let config = load(&[("TABLETALK_QUERY_MAX_MB", "2")]).expect("valid");
        assert_eq!(config.query_limits.max_bytes, 2 * MB);
        assert_eq!(load(&[]).expect("valid").query_limits.max_bytes, 16 * MB);
    }

    #[test]
    fn redaction_hides_passwords_only() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db.local:5432/tt?sslmode=require"),
            "postgres://bob:***@db.local:5432/tt?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://bob@db.local/tt"),
            "postgres://bob:***@db.local/tt"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        assert_eq!(
            redact_url("postgres://bob:s3cret@db.local/tt?sslmode=require&password=s3cret2"),
            "postgres://bob:***@db.local/tt?sslmode=require&password=***"
        );
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
