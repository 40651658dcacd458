//! The pools of users' databases: one per registered connection, built on
//! first use from the decrypted connection string, closed after 30 idle
//! minutes or when the connection is removed, rebuilt on the next use after a
//! connection-level failure. The schema is cached beside each pool.

use super::conn::{self, ConnectionSpec};
use super::engine::{ConnectContext, Engine};
use super::hosts::HostPolicy;
use super::secret_box::SecretBox;
use super::QueryLimits;
use super::{TargetError, TargetErrorKind};
use models::targets::{Schema, TargetKind};
use models::ConnectionId;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A pool unused for this long is closed.
pub const IDLE_POOL: Duration = Duration::from_secs(30 * 60);
/// A cached schema is read again after this long (or on a manual refresh).
pub const SCHEMA_TTL: Duration = Duration::from_secs(10 * 60);

/// One open pool and its cached schema.
pub struct Entry {
    pub engine: Engine,
    last_used: Mutex<Instant>,
    schema: Mutex<Option<(Arc<Schema>, Instant)>>,
}

impl Entry {
    fn touch(&self) {
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
    }

    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// What the targets need to know of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: QueryLimits,
    /// Where users' SQLite databases must live; files elsewhere are refused.
    pub sqlite_dir: PathBuf,
    /// Which hosts users' databases may be on.
    pub hosts: HostPolicy,
    /// The store's own URL: its server or file can never be a target, and a
    /// SQLite store keeps the generated key beside it.
    pub store_url: SecretString,
    /// `TABLETALK_SECRET_KEY`, when set.
    pub secret_key: Option<SecretString>,
}

/// Every open pool, the cipher for stored connection strings, and the limits.
pub struct Targets {
    secret_box: SecretBox,
    ctx: ConnectContext,
    entries: tokio::sync::Mutex<HashMap<ConnectionId, Arc<Entry>>>,
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Targets")
    }
}

impl Targets {
    /// Loads (or, on the embedded default, creates) the encryption key.
    pub fn new(settings: Settings) -> anyhow::Result<Targets> {
        let secret_box = SecretBox::load_or_create(
            settings.secret_key.as_ref(),
            settings.store_url.expose_secret(),
        )?;
        Ok(Targets::with_box(secret_box, settings))
    }

    pub fn with_box(secret_box: SecretBox, settings: Settings) -> Targets {
        let store_url = settings.store_url.expose_secret();
        Targets {
            secret_box,
            ctx: ConnectContext {
                limits: settings.limits,
                store_file: store_file(store_url),
                sqlite_owner: None,
                sqlite_legacy: false,
                hosts: settings.hosts.with_store(store_host(store_url)),
                sqlite_dir: settings.sqlite_dir,
            },
            entries: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> QueryLimits {
        self.ctx.limits
    }

    pub fn context(&self) -> &ConnectContext {
        &self.ctx
    }

    pub fn secret_box(&self) -> &SecretBox {
        &self.secret_box
    }

    /// Opens a sealed connection string into its parsed form.
    pub fn unseal(&self, sealed: &str) -> Result<ConnectionSpec, TargetError> {
        let text = self.secret_box.open(sealed).map_err(|e| {
            tracing::error!(error = %e, "a stored connection string could not be decrypted");
            TargetError::new(
                TargetErrorKind::Invalid,
                "The stored connection could not be decrypted. Was TABLETALK_SECRET_KEY changed? \
                 Remove the database and add it again.",
            )
        })?;
        conn::parse(text.expose_secret()).map_err(|problem| {
            TargetError::new(
                TargetErrorKind::Invalid,
                format!("The stored connection string is not usable: {problem}."),
            )
        })
    }

    /// The pool for `id`, connecting (from `sealed`, as a database of `owner`:
    /// an organization id or a person's id) if none is open.
    pub async fn entry(
        &self,
        id: &ConnectionId,
        sealed: &str,
        owner: &str,
    ) -> Result<Arc<Entry>, TargetError> {
        if let Some(entry) = self.entries.lock().await.get(id) {
            entry.touch();
            return Ok(entry.clone());
        }
        let spec = self.unseal(sealed)?;
        // Connect without holding the map: other databases stay usable meanwhile.
        let engine = Engine::connect(&spec, &self.ctx.for_owner(owner, true)).await?;
        let mut entries = self.entries.lock().await;
        if let Some(existing) = entries.get(id) {
            // Someone else connected first: keep theirs.
            let existing = existing.clone();
            drop(entries);
            engine.close().await;
            existing.touch();
            return Ok(existing);
        }
        let entry = Arc::new(Entry {
            engine,
            last_used: Mutex::new(Instant::now()),
            schema: Mutex::new(None),
        });
        entries.insert(id.clone(), entry.clone());
        tracing::info!(connection = %id, "opened a pool to a user's database");
        Ok(entry)
    }

    /// Keeps a pool opened while adding a database, with the schema it read.
    pub async fn adopt(&self, id: &ConnectionId, engine: Engine, schema: Arc<Schema>) {
        let entry = Arc::new(Entry {
            engine,
            last_used: Mutex::new(Instant::now()),
            schema: Mutex::new(Some((schema, Instant::now()))),
        });
        if let Some(old) = self.entries.lock().await.insert(id.clone(), entry) {
            old.engine.close().await;
        }
    }

    /// Closes and forgets the pool for `id` (after removal, or a broken connection).
    pub async fn forget(&self, id: &ConnectionId) {
        let entry = self.entries.lock().await.remove(id);
        if let Some(entry) = entry {
            entry.engine.close().await;
            tracing::info!(connection = %id, "closed a pool to a user's database");
        }
    }

    /// Closes pools unused for `idle` or longer; returns how many.
    pub async fn close_idle(&self, idle: Duration) -> usize {
        let closing: Vec<(ConnectionId, Arc<Entry>)> = {
            let mut entries = self.entries.lock().await;
            let ids: Vec<ConnectionId> = entries
                .iter()
                .filter(|(_, e)| e.idle_for() >= idle)
                .map(|(id, _)| id.clone())
                .collect();
            ids.into_iter()
                .filter_map(|id| entries.remove(&id).map(|e| (id, e)))
                .collect()
        };
        for (id, entry) in &closing {
            entry.engine.close().await;
            tracing::info!(connection = %id, "closed an idle pool to a user's database");
        }
        closing.len()
    }

    /// How many pools are open.
    pub async fn open_pools(&self) -> usize {
        self.entries.lock().await.len()
    }

    /// The schema of `entry`, from the cache unless stale or `refresh`.
    pub async fn schema(&self, entry: &Entry, refresh: bool) -> Result<Arc<Schema>, TargetError> {
        if !refresh {
            if let Ok(cached) = entry.schema.lock() {
                if let Some((schema, at)) = cached.as_ref() {
                    if at.elapsed() < SCHEMA_TTL {
                        return Ok(schema.clone());
                    }
                }
            }
        }
        let schema = Arc::new(entry.engine.introspect().await?);
        if let Ok(mut cached) = entry.schema.lock() {
            *cached = Some((schema.clone(), Instant::now()));
        }
        Ok(schema)
    }
}

/// The store's file when the store is SQLite, so it can never be a target.
/// Tabletalk's own store when it is a PostgreSQL server: (host, port).
fn store_host(url: &str) -> Option<(String, u16)> {
    let store = TargetKind::Postgres;
    let rest = store.url_schemes().iter().find_map(|scheme| {
        url.strip_prefix(scheme)
            .and_then(|rest| rest.strip_prefix("://"))
    })?;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (host_port, store.default_port()?),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((
        if host.is_empty() { "localhost" } else { host }.to_owned(),
        port,
    ))
}

fn store_file(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    Some(PathBuf::from(path))
}
