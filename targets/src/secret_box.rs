//! Encryption at rest for users' connection strings: AES-256-GCM.
//!
//! The key comes from `TABLETALK_SECRET_KEY` (base64 of 32 bytes). With a
//! SQLite store (the embedded default included) a key is otherwise generated
//! into `secret.key` beside the store file on first run, readable only by its
//! owner, and the log says so: every process using that store finds the same
//! key. With PostgreSQL, processes may run on different machines, so the key
//! must be configured.
//!
//! Sealed text: `v1:` + base64(12-byte random nonce || ciphertext with tag).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;
const KEY_FILE: &str = "secret.key";

/// Seals and opens secrets with one key. `Debug` shows nothing of the key.
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([key hidden])")
    }
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        }
    }

    /// The key from configuration, or (SQLite store only) from the key file
    /// beside the store, created on first run.
    /// `store_url` is the store's own URL (the key file lives beside a SQLite store).
    pub fn load_or_create(
        key: Option<&SecretString>,
        store_url: &str,
    ) -> anyhow::Result<SecretBox> {
        if let Some(key) = key {
            return Ok(SecretBox::from_key(
                &decode_key(key.expose_secret()).context("TABLETALK_SECRET_KEY")?,
            ));
        }
        let Some(store_dir) = sqlite_store_dir(store_url) else {
            anyhow::bail!(
                "TABLETALK_SECRET_KEY is not set: with a PostgreSQL store every process needs the \
                 same key. Generate one with `head -c 32 /dev/urandom | base64` and set it everywhere."
            );
        };
        load_or_create_file(&store_dir.join(KEY_FILE))
    }

    /// Encrypts a secret; every call uses a fresh random nonce.
    pub fn seal(&self, plaintext: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| anyhow::anyhow!("no randomness for a nonce: {e}"))?;
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Decrypts what `seal` made; a wrong key or altered text is an error.
    pub fn open(&self, sealed: &str) -> anyhow::Result<SecretString> {
        let body = sealed
            .strip_prefix(PREFIX)
            .context("not a sealed secret (unknown format)")?;
        let bytes = STANDARD
            .decode(body)
            .context("a sealed secret is not valid base64")?;
        anyhow::ensure!(bytes.len() > NONCE_LEN, "a sealed secret is too short");
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| {
                anyhow::anyhow!("a sealed secret could not be opened (wrong key, or altered)")
            })?;
        Ok(SecretString::from(
            String::from_utf8(plain).context("a sealed secret is not text")?,
        ))
    }
}

/// The directory holding a SQLite store's file, or `None` for other stores.
fn sqlite_store_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = Path::new(path.split('?').next().unwrap_or(path));
    Some(match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    })
}

/// The 32-byte key in `text` (base64), or why it is not one.
pub fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(text.trim())
        .context("the key is not valid base64")?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("the key must be 32 bytes, this one has {}", b.len()))
}

fn load_or_create_file(path: &Path) -> anyhow::Result<SecretBox> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?;
        let key = decode_key(&text)
            .with_context(|| format!("the key file {} is damaged", path.display()))?;
        return Ok(SecretBox::from_key(&key));
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    write_private(path, &STANDARD.encode(key))
        .with_context(|| format!("could not write {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "generated a new encryption key for stored connection strings; back it up: without it they cannot be read"
    );
    Ok(SecretBox::from_key(&key))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_detects_tampering() {
        let sealed_box = SecretBox::from_key(&[7; 32]);
        let a = sealed_box.seal("postgres://u:pw@h/db").expect("seals");
        let b = sealed_box.seal("postgres://u:pw@h/db").expect("seals");
        assert_ne!(a, b, "fresh nonce each time");
        assert!(!a.contains("pw@h"));
        assert_eq!(
            sealed_box.open(&a).expect("opens").expose_secret(),
            "postgres://u:pw@h/db"
        );
        let other = SecretBox::from_key(&[8; 32]);
        assert!(other.open(&a).is_err(), "wrong key");
        let mut tampered = a.clone();
        let last = tampered
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        tampered.push(last);
        assert!(sealed_box.open(&tampered).is_err(), "altered text");
        assert!(sealed_box.open("plain text").is_err());
    }

    #[test]
    fn the_embedded_default_creates_a_private_key_file_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = format!("sqlite://{}/tabletalk.db?mode=rwc", dir.path().display());
        let first = SecretBox::load_or_create(None, &store).expect("creates");
        let sealed = first.seal("secret").expect("seals");
        let key_file = dir.path().join(KEY_FILE);
        assert!(key_file.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = SecretBox::load_or_create(None, &store).expect("loads");
        assert_eq!(
            second.open(&sealed).expect("same key").expose_secret(),
            "secret"
        );
    }

    #[test]
    fn a_sqlite_store_keeps_its_key_beside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = format!("sqlite://{}/store.db", dir.path().display());
        SecretBox::load_or_create(None, &store).expect("a SQLite store keeps its key beside it");
        assert!(dir.path().join(KEY_FILE).exists());
        // A PostgreSQL store without the key is refused by the configuration
        // itself (config::tests::a_postgresql_store_needs_a_valid_shared_secret_key).
        let key = SecretString::from(STANDARD.encode([1u8; 32]));
        assert!(SecretBox::load_or_create(Some(&key), "postgres://u@h/db").is_ok());
        assert!(SecretBox::load_or_create(None, "postgres://u@h/db").is_err());
        let err = decode_key(&STANDARD.encode([1u8; 16])).expect_err("refused");
        assert!(format!("{err:#}").contains("32 bytes"), "{err:#}");
    }
}
