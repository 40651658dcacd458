//! The dashboard's address, who stands in front of it and who may scrape
//! `/metrics`: `TABLETALK_PUBLIC_URL`, `TABLETALK_TRUSTED_PROXIES`,
//! `TABLETALK_METRICS_TOKEN`.

use super::ConfigError;
use crate::proxies::TrustedProxies;
use secrecy::SecretString;

/// The shortest metrics token accepted.
const MIN_TOKEN_CHARS: usize = 16;

/// The HTTP part of the configuration.
pub(crate) struct HttpSettings {
    pub public_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
    pub metrics_token: Option<SecretString>,
}

impl HttpSettings {
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
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
        let trusted_proxies = get("TABLETALK_TRUSTED_PROXIES")
            .map(|list| TrustedProxies::parse(&list))
            .transpose()
            .map_err(|problem| ConfigError::new("TABLETALK_TRUSTED_PROXIES", problem))?
            .unwrap_or_default();
        let metrics_token = get("TABLETALK_METRICS_TOKEN")
            .map(|token| {
                if token.chars().count() >= MIN_TOKEN_CHARS && !token.contains(char::is_whitespace)
                {
                    Ok(SecretString::from(token))
                } else {
                    Err(ConfigError::new(
                        "TABLETALK_METRICS_TOKEN",
                        format!(
                            "must be at least {MIN_TOKEN_CHARS} characters without spaces; \
                             generate one with `head -c 24 /dev/urandom | base64`"
                        ),
                    ))
                }
            })
            .transpose()?;
        Ok(HttpSettings {
            public_url,
            trusted_proxies,
            metrics_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    fn load(pairs: &[(&str, &str)]) -> Result<HttpSettings, ConfigError> {
        HttpSettings::from_lookup(&lookup(pairs))
    }

    #[test]
    fn a_public_url_is_http_or_https_without_its_last_slash() {
        let err = load(&[("TABLETALK_PUBLIC_URL", "example.com")])
            .err()
            .expect("bare");
        assert_eq!(err.variable, "TABLETALK_PUBLIC_URL");
        let http = load(&[("TABLETALK_PUBLIC_URL", "https://tt.example.com/")]).expect("valid");
        assert_eq!(http.public_url.as_deref(), Some("https://tt.example.com"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let err = load(&[("TABLETALK_TRUSTED_PROXIES", "10.0.0.0/8, my-proxy")])
            .err()
            .expect("a name");
        assert_eq!(err.variable, "TABLETALK_TRUSTED_PROXIES");
        assert!(err.problem.contains("\"my-proxy\""), "{}", err.problem);
        let http = load(&[("TABLETALK_TRUSTED_PROXIES", "10.0.0.0/8,::1")]).expect("valid");
        assert!(http.trusted_proxies.contains("::1".parse().expect("ip")));
        assert!(load(&[]).expect("valid").trusted_proxies.is_empty());
    }

    #[test]
    fn a_metrics_token_is_long_enough() {
        assert!(load(&[]).expect("valid").metrics_token.is_none());
        let err = load(&[("TABLETALK_METRICS_TOKEN", "short")])
            .err()
            .expect("short");
        assert_eq!(err.variable, "TABLETALK_METRICS_TOKEN");
        let http = load(&[("TABLETALK_METRICS_TOKEN", "0123456789abcdef")]).expect("valid");
        assert!(http.metrics_token.is_some());
    }
}
