//! PBKDF2-HMAC-SHA256 password hashes in PHC strings (`pbkdf2` + `password-hash`).
//!
//! New hashes use 600,000 iterations (OWASP's current figure). Hashes with
//! fewer (the seed's 100,000) still verify and are flagged for re-hashing. All
//! hashing runs on a blocking thread so it never stalls the async runtime.

use pbkdf2::password_hash::phc::PasswordHash;
use pbkdf2::password_hash::{PasswordHasher, PasswordVerifier};
use pbkdf2::{Params, Pbkdf2};
use secrecy::{ExposeSecret, SecretString};
use std::sync::OnceLock;

/// Iterations for new hashes.
pub const ITERATIONS: u32 = Params::RECOMMENDED_ROUNDS;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the stored password hash is not a valid PBKDF2 PHC string")]
    MalformedHash,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the hashing thread stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub matches: bool,
    /// The hash uses weaker parameters than today's; store a new one.
    pub needs_rehash: bool,
}

/// Hashes with today's parameters, on a blocking thread.
pub async fn hash(password: SecretString) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_with(ITERATIONS, password.expose_secret())).await?
}

/// Hashes with a given iteration count (tests make seed-era hashes with this).
pub fn hash_with(iterations: u32, password: &str) -> Result<String, PasswordError> {
    let params = Params::new(iterations).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let hasher = Pbkdf2::new(pbkdf2::Algorithm::Pbkdf2Sha256, params);
    hasher
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Checks `password` against a stored PHC string, on a blocking thread.
pub async fn verify(password: SecretString, stored: String) -> Result<Verdict, PasswordError> {
    tokio::task::spawn_blocking(move || verify_blocking(password.expose_secret(), &stored)).await?
}

fn verify_blocking(password: &str, stored: &str) -> Result<Verdict, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::MalformedHash)?;
    let rounds = Params::try_from(&parsed)
        .map_err(|_| PasswordError::MalformedHash)?
        .rounds();
    let matches = Pbkdf2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    Ok(Verdict {
        matches,
        needs_rehash: matches && rounds < ITERATIONS,
    })
}

/// Spends the work of one verification against a fixed hash, so an unknown
/// username answers as slowly as a wrong password.
pub async fn burn_equivalent_work(password: SecretString) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let result = tokio::task::spawn_blocking(move || {
        let dummy = DUMMY.get_or_init(|| {
            hash_with(ITERATIONS, "tabletalk-timing-equaliser").unwrap_or_default()
        });
        drop(verify_blocking(password.expose_secret(), dummy));
    })
    .await;
    drop(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn new_hashes_use_600k_iterations_and_verify() {
        let stored = hash(SecretString::from("correct horse battery"))
            .await
            .expect("hashes");
        assert!(stored.starts_with("$pbkdf2-sha256$i=600000"), "{stored}");
        let ok = verify(SecretString::from("correct horse battery"), stored.clone())
            .await
            .expect("verifies");
        assert_eq!(
            ok,
            Verdict {
                matches: true,
                needs_rehash: false
            }
        );
        let bad = verify(SecretString::from("wrong horse"), stored)
            .await
            .expect("verifies");
        assert!(!bad.matches);
    }

    #[tokio::test]
    async fn seed_era_hashes_verify_and_ask_for_rehash() {
        let stored = hash_with(100_000, "old password here").expect("hashes");
        assert!(stored.contains("i=100000"), "{stored}");
        let verdict = verify(SecretString::from("old password here"), stored.clone())
            .await
            .expect("verifies");
        assert_eq!(
            verdict,
            Verdict {
                matches: true,
                needs_rehash: true
            }
        );
        let wrong = verify(SecretString::from("nope"), stored)
            .await
            .expect("verifies");
        assert_eq!(
            wrong,
            Verdict {
                matches: false,
                needs_rehash: false
            }
        );
    }

    #[tokio::test]
    async fn malformed_stored_hashes_are_an_error_not_a_match() {
        let err = verify(SecretString::from("x"), "plaintext".into()).await;
        assert!(matches!(err, Err(PasswordError::MalformedHash)));
    }
}
