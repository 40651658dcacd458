//! PBKDF2-HMAC-SHA256 password hashes in PHC strings (`pbkdf2` + `password-hash`).
//!
//! New hashes use 600,000 iterations (OWASP's current figure). Hashes with
//! fewer (the seed's 100,000) still verify and are flagged for re-hashing. All
//! hashing runs on a blocking thread so it never stalls the async runtime, and
//! at most one hashing job per core runs at a time (a semaphore), so a burst
//! of sign-ins queues instead of filling the runtime's blocking pool.
//!
//! Timing: every check spends at least [`ITERATIONS`] PBKDF2 iterations. An
//! unknown username spends them on a fixed salt; a hash with fewer
//! iterations (the seed's 100,000) is verified and then the missing
//! iterations are spent the same way. So neither an unknown account nor an
//! old hash answers faster than a current one. (Upgrading every stored hash
//! at migration is not possible without the passwords; wrapping the old hash
//! in a second PBKDF2 would need a new hash format for little gain.)

use pbkdf2::password_hash::phc::PasswordHash;
use pbkdf2::password_hash::{PasswordHasher, PasswordVerifier};
use pbkdf2::{Params, Pbkdf2};
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

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
    /// PBKDF2 iterations spent on the check (at least [`ITERATIONS`]).
    pub work: u32,
}

/// How many hashing jobs may run at once: one per core.
pub fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Runs `job` on a blocking thread once a hashing slot is free; the slot is
/// held until the job ends, even if the caller stops waiting.
async fn on_hashing_thread<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| Arc::new(Semaphore::new(hashing_slots())));
    let permit = Arc::clone(slots)
        .acquire_owned()
        .await
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(tokio::task::spawn_blocking(move || {
        let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(running, Ordering::SeqCst);
        let result = job();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        result
    })
    .await?)
}

/// Hashing jobs running now, and the most that ever ran at once.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most hashing jobs that ran at the same time in this process.
pub fn peak_concurrent_hashing() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// Hashes with today's parameters, on a blocking thread.
pub async fn hash(password: SecretString) -> Result<String, PasswordError> {
    on_hashing_thread(move || hash_with(ITERATIONS, password.expose_secret())).await?
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
    on_hashing_thread(move || verify_blocking(password.expose_secret(), &stored)).await?
}

fn verify_blocking(password: &str, stored: &str) -> Result<Verdict, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::MalformedHash)?;
    let rounds = Params::try_from(&parsed)
        .map_err(|_| PasswordError::MalformedHash)?
        .rounds();
    let matches = Pbkdf2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    // An old hash costs less to check: spend the rest, so it answers as slowly.
    let padding = ITERATIONS.saturating_sub(rounds);
    spend(password, padding);
    Ok(Verdict {
        matches,
        needs_rehash: matches && rounds < ITERATIONS,
        work: rounds.saturating_add(padding),
    })
}

/// `iterations` of PBKDF2-HMAC-SHA256 (one output block, as a check costs)
/// on a fixed salt, whose result is thrown away.
fn spend(password: &str, iterations: u32) {
    if iterations == 0 {
        return;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(
        password.as_bytes(),
        b"tabletalk-timing-equaliser",
        iterations,
        &mut out,
    );
    std::hint::black_box(out);
}

/// Spends the work of one verification with today's parameters, so an
/// unknown username answers as slowly as a wrong password. Returns the
/// iterations spent.
pub async fn burn_equivalent_work(password: SecretString) -> u32 {
    let spent = on_hashing_thread(move || {
        spend(password.expose_secret(), ITERATIONS);
        ITERATIONS
    })
    .await;
    spent.unwrap_or(0)
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
                needs_rehash: false,
                work: ITERATIONS,
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
                needs_rehash: true,
                work: ITERATIONS,
            }
        );
        let wrong = verify(SecretString::from("nope"), stored)
            .await
            .expect("verifies");
        assert_eq!(
            wrong,
            Verdict {
                matches: false,
                needs_rehash: false,
                work: ITERATIONS,
            }
        );
    }

    /// Timing is equalised by work, counted rather than timed: an old
    /// (100,000) hash and an unknown username each cost as many iterations
    /// as a current hash. (Before, an old hash cost 100,000.)
    #[tokio::test]
    async fn old_hashes_and_unknown_users_cost_a_current_check() {
        let old = hash_with(100_000, "old password here").expect("hashes");
        let current = hash_with(ITERATIONS, "new password here").expect("hashes");
        for (stored, password) in [
            (&old, "wrong"),
            (&old, "old password here"),
            (&current, "wrong"),
        ] {
            let verdict = verify(SecretString::from(password), stored.clone())
                .await
                .expect("verifies");
            assert_eq!(verdict.work, ITERATIONS, "{password}");
        }
        assert_eq!(
            burn_equivalent_work(SecretString::from("x")).await,
            ITERATIONS
        );
        // A stronger hash than today's is never cut short.
        let strong = hash_with(ITERATIONS + 1, "p").expect("hashes");
        let verdict = verify(SecretString::from("p"), strong)
            .await
            .expect("verifies");
        assert_eq!(verdict.work, ITERATIONS + 1);
        assert!(verdict.matches && !verdict.needs_rehash);
    }

    /// A burst of checks queues for the hashing slots instead of filling
    /// the blocking pool: never more run at once than there are cores.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_checks_runs_at_most_one_per_core() {
        let stored = hash_with(1_000, "p").expect("hashes");
        let checks: Vec<_> = (0..(hashing_slots() * 4))
            .map(|_| tokio::spawn(verify(SecretString::from("q"), stored.clone())))
            .collect();
        for check in checks {
            let verdict = check.await.expect("joins").expect("verifies");
            assert!(!verdict.matches);
        }
        let peak = peak_concurrent_hashing();
        assert!(peak >= 1 && peak <= hashing_slots(), "peak {peak}");
    }

    #[tokio::test]
    async fn malformed_stored_hashes_are_an_error_not_a_match() {
        let err = verify(SecretString::from("x"), "plaintext".into()).await;
        assert!(matches!(err, Err(PasswordError::MalformedHash)));
    }
}
