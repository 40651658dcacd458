//! Email configuration: `SMTP_URL`, `SMTP_FROM`, `TABLETALK_EMAILS_PER_DAY`.

use crate::config::ConfigError;
use secrecy::{ExposeSecret, SecretString};

/// What asking for an email says when none can be sent.
pub const NOT_CONFIGURED: &str =
    "Email is not set up on this Tabletalk: the operator sets SMTP_URL \
(for example smtp://user:password@mail.example.com:587?tls=required) and SMTP_FROM (for example \
Tabletalk <tabletalk@example.com>).";

/// How email results are sent.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `smtp://` (STARTTLS with `?tls=required`, plain otherwise: a local
    /// relay) or `smtps://` (TLS from the start); may hold a password.
    pub smtp_url: Option<SecretString>,
    /// The sender, `Name <address>` or `address`.
    pub from: Option<String>,
    /// Emails one person may send per day (UTC).
    pub per_day: i64,
}

impl EmailSettings {
    pub fn is_configured(&self) -> bool {
        self.smtp_url.is_some() && self.from.is_some()
    }

    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let smtp_url = get("SMTP_URL");
        let from = get("SMTP_FROM");
        match (&smtp_url, &from) {
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "SMTP_FROM",
                    "must be set when SMTP_URL is: the sender of email results, for example \
                     Tabletalk <tabletalk@example.com>",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "SMTP_URL",
                    "must be set when SMTP_FROM is: the mail server, for example \
                     smtp://user:password@mail.example.com:587?tls=required",
                ))
            }
            _ => {}
        }
        if let Some(url) = &smtp_url {
            super::transport(url).map_err(|problem| ConfigError::new("SMTP_URL", problem))?;
        }
        if let Some(from) = &from {
            from.parse::<lettre::message::Mailbox>().map_err(|_| {
                ConfigError::new(
                    "SMTP_FROM",
                    "is not an email address: write address@example.com or Name <address@example.com>",
                )
            })?;
        }
        let per_day = crate::config::whole_number(get, "TABLETALK_EMAILS_PER_DAY", 1, 10_000, 20)?;
        Ok(EmailSettings {
            smtp_url: smtp_url.map(SecretString::from),
            from,
            per_day: i64::try_from(per_day).unwrap_or(20),
        })
    }

    /// The URL with its password replaced, for `config check` and logs.
    pub fn redacted_url(&self) -> Option<String> {
        self.smtp_url
            .as_ref()
            .map(|url| redact(url.expose_secret()))
    }
}

/// `smtp://user:secret@host` -> `smtp://user:***@host`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<EmailSettings, ConfigError> {
        EmailSettings::from_lookup(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn both_or_neither_and_each_checked() {
        assert!(!read(&[]).expect("valid").is_configured());
        let both = read(&[
            (
                "SMTP_URL",
                "smtp://ada:s3cret@mail.example.com:587?tls=required",
            ),
            ("SMTP_FROM", "Tabletalk <tt@example.com>"),
        ])
        .expect("valid");
        assert!(both.is_configured());
        assert_eq!(both.per_day, 20);
        assert_eq!(
            both.redacted_url().as_deref(),
            Some("smtp://ada:***@mail.example.com:587?tls=required")
        );
        assert_eq!(
            read(&[("SMTP_URL", "smtp://localhost:25")])
                .map(|_| ())
                .map_err(|e| e.variable),
            Err("SMTP_FROM")
        );
        assert_eq!(
            read(&[("SMTP_FROM", "tt@example.com")])
                .map(|_| ())
                .map_err(|e| e.variable),
            Err("SMTP_URL")
        );
        let bad_url = read(&[("SMTP_URL", "http://mail"), ("SMTP_FROM", "tt@example.com")])
            .map(|_| ())
            .expect_err("not smtp");
        assert_eq!(bad_url.variable, "SMTP_URL");
        assert!(
            !bad_url.problem.contains("http://mail"),
            "{}",
            bad_url.problem
        );
        let bad_from = read(&[("SMTP_URL", "smtp://localhost:25"), ("SMTP_FROM", "nobody")])
            .map(|_| ())
            .expect_err("not an address");
        assert_eq!(bad_from.variable, "SMTP_FROM");
        let limit = read(&[("TABLETALK_EMAILS_PER_DAY", "0")])
            .map(|_| ())
            .expect_err("0");
        assert_eq!(limit.variable, "TABLETALK_EMAILS_PER_DAY");
    }
}
