//! Users' databases: query limits (`TABLETALK_QUERY_*`), where SQLite files
//! may live (`TABLETALK_SQLITE_DIR`), which hosts may be reached
//! (`TABLETALK_TARGET_HOSTS`), and the PostgreSQL client variables that must
//! not be set.

use super::{whole_number, ConfigError, QueryLimits, MB};
use std::path::{Path, PathBuf};
use targets::hosts::HostPolicy;

/// The engine layer's part of the configuration.
pub(crate) struct TargetSettings {
    pub query_limits: QueryLimits,
    pub target_hosts: HostPolicy,
    pub sqlite_targets_dir: PathBuf,
}

impl TargetSettings {
    pub(crate) fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        data_dir: &Path,
    ) -> Result<Self, ConfigError> {
        let number = |name, min, max, default| whole_number(get, name, min, max, default);
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
        let target_hosts = HostPolicy::parse(get("TABLETALK_TARGET_HOSTS").as_deref())
            .map_err(|problem| ConfigError::new("TABLETALK_TARGET_HOSTS", problem))?;
        // sqlx's PostgreSQL client starts from these variables and cannot be
        // told to forget them: they would be sent to any host a user names.
        for name in ["PGSSLCERT", "PGSSLKEY", "PGOPTIONS"] {
            if get(name).is_some() {
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
        Ok(TargetSettings {
            query_limits,
            target_hosts,
            sqlite_targets_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    fn load(pairs: &[(&str, &str)]) -> Result<TargetSettings, ConfigError> {
        TargetSettings::from_lookup(&lookup(pairs), Path::new("./data"))
    }

    #[test]
    fn query_limits_default_and_can_be_set() {
        let targets = load(&[]).expect("valid");
        assert_eq!(targets.query_limits, QueryLimits::default());
        assert_eq!(
            targets.sqlite_targets_dir,
            PathBuf::from("./data/databases")
        );
        let targets = load(&[
            ("TABLETALK_QUERY_TIMEOUT_SECS", "5"),
            ("TABLETALK_QUERY_ROW_LIMIT", "50"),
            ("TABLETALK_SQLITE_DIR", "/srv/dbs"),
        ])
        .expect("valid");
        assert_eq!(targets.query_limits.timeout.as_secs(), 5);
        assert_eq!(targets.query_limits.row_limit, 50);
        assert_eq!(targets.sqlite_targets_dir, PathBuf::from("/srv/dbs"));
        for (variable, value) in [
            ("TABLETALK_QUERY_TIMEOUT_SECS", "0"),
            ("TABLETALK_QUERY_ROW_LIMIT", "lots"),
        ] {
            let err = load(&[(variable, value)]).err().expect(value);
            assert_eq!(err.variable, variable);
        }
    }

    #[test]
    fn postgres_client_settings_in_the_environment_are_refused() {
        for name in ["PGSSLCERT", "PGSSLKEY", "PGOPTIONS"] {
            let err = load(&[(name, "/home/op/.postgresql/client.crt")])
                .err()
                .expect(name);
            assert_eq!(err.variable, name);
        }
        assert!(
            load(&[("PGPASSWORD", "op-secret")]).is_ok(),
            "overridden per target instead"
        );
    }

    #[test]
    fn target_hosts_and_result_bytes_are_read() {
        let err = load(&[("TABLETALK_TARGET_HOSTS", "10.0.0.0/40")])
            .err()
            .expect("bad network");
        assert_eq!(err.variable, "TABLETALK_TARGET_HOSTS");
        let targets = load(&[("TABLETALK_QUERY_MAX_MB", "2")]).expect("valid");
        assert_eq!(targets.query_limits.max_bytes, 2 * MB);
        assert_eq!(load(&[]).expect("valid").query_limits.max_bytes, 16 * MB);
    }
}
