//! Backing up and restoring the embedded SQLite store (`server backup`,
//! `server restore`). A backup is a consistent copy made while the server
//! runs (`VACUUM INTO`: one read transaction, so it sees every committed
//! write up to its start and none after). A restore replaces the store file
//! and is refused while any process has the store open: every process that
//! opens a SQLite store holds a shared lock on `<store>.lock`
//! ([`hold_shared`]), and a restore needs the exclusive one. The replaced
//! store is kept beside it, so a restore loses nothing either.
//!
//! A PostgreSQL store is backed up with PostgreSQL's own tools (`pg_dump`);
//! see the README.

use anyhow::Context;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The file of a `sqlite:` store URL (`None` for another backend or a URL
/// without a path).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn lock_file(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// `<store>.lock` (created if missing) and its path.
fn open_lock(store: &Path) -> anyhow::Result<(File, PathBuf)> {
    let path = lock_file(store);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("could not open {}", path.display()))?;
    Ok((file, path))
}

/// Opens `<store>.lock` and takes a shared lock on it, held while the file
/// handle lives (the operating system drops it when the process ends, even
/// by kill -9).
pub fn hold_shared(store: &Path) -> anyhow::Result<File> {
    let (file, path) = open_lock(store)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the store is being restored (server restore holds {}); start again when it is done",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("could not lock {}", path.display()))
        }
    }
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Writes a consistent copy of the SQLite store to `to`, which must not
/// exist yet (nothing is ever overwritten).
pub async fn backup(store: &crate::Store, to: &Path) -> anyhow::Result<Copied> {
    if store.backend() != crate::store::Backend::Sqlite {
        anyhow::bail!(
            "the store is PostgreSQL: back it up with pg_dump (README, \"Deploying\"), \
             and keep TABLETALK_SECRET_KEY with it"
        );
    }
    if to.exists() {
        anyhow::bail!(
            "{} already exists; name a new file (a backup never overwrites anything)",
            to.display()
        );
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        anyhow::ensure!(dir.is_dir(), "the folder {} does not exist", dir.display());
    }
    let target = to
        .to_str()
        .context("the backup's path must be valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(store.pool())
        .await
        .with_context(|| format!("could not write the backup to {}", to.display()))?;
    let bytes = std::fs::metadata(to)
        .with_context(|| format!("the backup {} is missing", to.display()))?
        .len();
    Ok(Copied {
        path: to.to_owned(),
        bytes,
    })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Where the store that was replaced now is.
    pub previous: Option<PathBuf>,
}

/// Replaces the SQLite store at `store` with the backup `from`: checked
/// first (a SQLite file that passes `PRAGMA integrity_check` and holds a
/// Tabletalk store no newer than this program), refused while any process
/// has the store open. The replaced store is renamed to
/// `<store>.replaced-<unix time>`.
pub async fn restore(store: &Path, from: &Path) -> anyhow::Result<Restored> {
    check_backup(from).await?;
    let (lock, lock_path) = open_lock(store)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the store {} is open in a running Tabletalk process (the server, the bot or a \
             command); stop it first, nothing was changed",
            store.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("could not lock {}", lock_path.display()))
        }
    }
    let previous = if store.exists() {
        let mut name = store.as_os_str().to_owned();
        name.push(format!(".replaced-{}", crate::clock::now()));
        let previous = PathBuf::from(name);
        std::fs::rename(store, &previous).with_context(|| {
            format!(
                "could not move the current store aside to {}",
                previous.display()
            )
        })?;
        Some(previous)
    } else {
        None
    };
    // The replaced store's write-ahead log belongs to it, not to the backup.
    for suffix in ["-wal", "-shm"] {
        let mut name = store.as_os_str().to_owned();
        name.push(suffix);
        let side = PathBuf::from(name);
        if side.exists() {
            if let Some(previous) = &previous {
                let mut kept = previous.as_os_str().to_owned();
                kept.push(suffix);
                std::fs::rename(&side, PathBuf::from(kept))
                    .with_context(|| format!("could not move {} aside", side.display()))?;
            }
        }
    }
    let mut partial = store.as_os_str().to_owned();
    partial.push(".restoring");
    let partial = PathBuf::from(partial);
    std::fs::copy(from, &partial).with_context(|| format!("could not copy {}", from.display()))?;
    std::fs::rename(&partial, store)
        .with_context(|| format!("could not put the backup in place at {}", store.display()))?;
    drop(lock);
    Ok(Restored { previous })
}

/// A backup must be a whole SQLite file holding a Tabletalk store this
/// program can run.
async fn check_backup(from: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    anyhow::ensure!(from.is_file(), "there is no file {}", from.display());
    let url = format!("sqlite://{}?mode=ro", from.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .with_context(|| format!("{} is not a SQLite file", from.display()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a SQLite file", from.display()))?;
    anyhow::ensure!(
        integrity == "ok",
        "{} is damaged (integrity check: {integrity})",
        from.display()
    );
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a Tabletalk store", from.display()))?;
    let known = crate::store::newest_migration(crate::store::Backend::Sqlite);
    match newest {
        None => anyhow::bail!("{} is not a Tabletalk store", from.display()),
        Some(v) if v > known => anyhow::bail!(
            "{} comes from a newer Tabletalk (schema version {v}; this one knows up to {known}); \
             restore it with that version",
            from.display()
        ),
        Some(_) => {}
    }
    conn.close().await.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_file_comes_from_its_url() {
        assert_eq!(
            sqlite_path("sqlite://./data/tabletalk.db?mode=rwc"),
            Some(PathBuf::from("./data/tabletalk.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:/srv/tt.db"),
            Some(PathBuf::from("/srv/tt.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }
}
