//! The bot's settings: `TELEGRAM_BOT_TOKEN`, `TELEGRAM_API_URL`,
//! `TELEGRAM_BOT_USERNAME`, webhook mode (`TELEGRAM_WEBHOOK_*`), the bot's
//! `/metrics` listener and `TABLETALK_ADMIN_IDS`.

use super::ConfigError;
use secrecy::SecretString;

/// The real Telegram Bot API.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

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

impl TelegramConfig {
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let api_url = get("TELEGRAM_API_URL").unwrap_or_else(|| DEFAULT_TELEGRAM_API_URL.into());
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(ConfigError::new(
                "TELEGRAM_API_URL",
                "must be an http:// or https:// URL",
            ));
        }
        Ok(TelegramConfig {
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
        })
    }
}

/// `TABLETALK_ADMIN_IDS`: Telegram user ids with the admin role, comma-separated.
pub(crate) fn admin_ids(get: &dyn Fn(&str) -> Option<String>) -> Result<Vec<i64>, ConfigError> {
    match get("TABLETALK_ADMIN_IDS") {
        None => Ok(Vec::new()),
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
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    fn load(pairs: &[(&str, &str)]) -> Result<TelegramConfig, ConfigError> {
        TelegramConfig::from_lookup(&lookup(pairs))
    }

    #[test]
    fn defaults_to_the_real_bot_api_and_no_token() {
        let telegram = load(&[]).expect("valid");
        assert_eq!(telegram.api_url, DEFAULT_TELEGRAM_API_URL);
        assert!(telegram.token.is_none());
        let err = load(&[("TELEGRAM_API_URL", "api.telegram.org")]).expect_err("no scheme");
        assert_eq!(err.variable, "TELEGRAM_API_URL");
    }

    #[test]
    fn webhook_mode_is_checked_as_telegram_would() {
        let telegram = load(&[]).expect("valid");
        assert_eq!(telegram.webhook_url, None);
        assert_eq!(telegram.webhook_listen.port(), 8443);
        let telegram = load(&[
            ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram"),
            ("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1:9000"),
            ("TELEGRAM_WEBHOOK_SECRET", "s3cret_-token"),
        ])
        .expect("valid");
        assert_eq!(
            telegram.webhook_url.as_deref(),
            Some("https://bot.example.com/telegram")
        );
        assert_eq!(telegram.webhook_listen.port(), 9000);
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
    fn admin_ids_are_parsed() {
        let ids = admin_ids(&lookup(&[("TABLETALK_ADMIN_IDS", "1, 22,333")])).expect("valid");
        assert_eq!(ids, vec![1, 22, 333]);
        let err = admin_ids(&lookup(&[("TABLETALK_ADMIN_IDS", "12, abc")])).expect_err("abc");
        assert_eq!(err.variable, "TABLETALK_ADMIN_IDS");
        assert!(err.problem.contains("\"abc\""));
    }
}
