//! The dashboard's address and who stands in front of it:
//! `TABLETALK_PUBLIC_URL`, `TABLETALK_TRUSTED_PROXIES`.

use super::ConfigError;
use crate::proxies::TrustedProxies;

/// The HTTP part of the configuration.
pub(crate) struct HttpSettings {
    pub public_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
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
        Ok(HttpSettings {
            public_url,
            trusted_proxies,
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
}
