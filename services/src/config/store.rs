//! Where Tabletalk keeps its own data: `TABLETALK_DATA_DIR`, `DATABASE_URL`,
//! `TABLETALK_SECRET_KEY` (the key of stored connection strings) and
//! `TABLETALK_DEMO` (seed the demo organization on a first run).

use super::ConfigError;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;

/// The store's part of the configuration.
pub(crate) struct StoreSettings {
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    pub database_url_is_default: bool,
    pub secret_key: Option<SecretString>,
    pub demo: bool,
}

impl StoreSettings {
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(get("TABLETALK_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let (database_url, database_url_is_default) = match get("DATABASE_URL") {
            Some(url) => {
                check_database_url(&url)?;
                (url, false)
            }
            None => (default_sqlite_url(&data_dir), true),
        };
        let secret_key = secret_key(get, &database_url)?;
        let demo = demo(get)?;
        Ok(StoreSettings {
            data_dir,
            database_url: SecretString::from(database_url),
            database_url_is_default,
            secret_key,
            demo,
        })
    }
}

/// `TABLETALK_SECRET_KEY`: 32 bytes in base64, required with a PostgreSQL store.
fn secret_key(
    get: &dyn Fn(&str) -> Option<String>,
    database_url: &str,
) -> Result<Option<SecretString>, ConfigError> {
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
    Ok(secret_key)
}

/// `TABLETALK_DEMO`: seed the demo organization (on unless told 0).
fn demo(get: &dyn Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    match get("TABLETALK_DEMO")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::new(
            "TABLETALK_DEMO",
            format!("must be 1 or 0, not {other:?}"),
        )),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    fn load(pairs: &[(&str, &str)]) -> Result<StoreSettings, ConfigError> {
        StoreSettings::from_lookup(&lookup(pairs))
    }

    #[test]
    fn defaults_to_embedded_sqlite_under_data() {
        let store = load(&[]).expect("defaults are valid");
        assert_eq!(
            store.database_url.expose_secret(),
            "sqlite://./data/tabletalk.db"
        );
        assert!(store.database_url_is_default);
        assert!(store.demo);
    }

    #[test]
    fn a_postgresql_store_needs_a_valid_shared_secret_key() {
        let pg = ("DATABASE_URL", "postgres://tt@db.local/tt");
        let err = load(&[pg]).err().expect("no key");
        assert_eq!(err.variable, "TABLETALK_SECRET_KEY");
        assert!(err.problem.contains("PostgreSQL"), "{}", err.problem);
        let err = load(&[pg, ("TABLETALK_SECRET_KEY", "c2hvcnQ=")])
            .err()
            .expect("short key");
        assert_eq!(err.variable, "TABLETALK_SECRET_KEY");
        assert!(err.problem.contains("32 bytes"), "{}", err.problem);
        let key = "dGFibGV0YWxrLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmM=";
        assert!(load(&[pg, ("TABLETALK_SECRET_KEY", key)]).is_ok());
        // The embedded default keeps its key in a file: none needed.
        assert!(load(&[]).is_ok());
    }

    #[test]
    fn data_dir_moves_the_default_store() {
        let store = load(&[("TABLETALK_DATA_DIR", "/var/lib/tt")]).expect("valid");
        assert_eq!(
            store.database_url.expose_secret(),
            "sqlite:///var/lib/tt/tabletalk.db"
        );
    }

    #[test]
    fn a_store_url_must_be_sqlite_or_postgres() {
        let err = load(&[("DATABASE_URL", "mysql://x")]).err().expect("mysql");
        assert_eq!(err.variable, "DATABASE_URL");
        let err = load(&[("TABLETALK_DEMO", "maybe")]).err().expect("maybe");
        assert_eq!(err.variable, "TABLETALK_DEMO");
        assert!(!load(&[("TABLETALK_DEMO", "off")]).expect("valid").demo);
    }
}
