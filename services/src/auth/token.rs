//! Session tokens: 32 random bytes, shown to the client once, stored as SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a token.
const TOKEN_BYTES: usize = 32;
/// Length of the URL-safe base64 text of a token.
const TOKEN_CHARS: usize = 43;

/// A session token. Its `Debug` never shows the value.
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

impl SessionToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<SessionToken, getrandom::Error> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(SessionToken(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts only text shaped like a token we issued (anything else cannot match).
    pub fn parse(text: &str) -> Option<SessionToken> {
        let text = text.trim();
        let shaped = text.len() == TOKEN_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then(|| SessionToken(text.to_owned()))
    }

    /// Hex SHA-256 of the token: what the store keeps.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_hashed() {
        let a = SessionToken::generate().expect("random");
        let b = SessionToken::generate().expect("random");
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 64);
        let text = a.into_string();
        assert_eq!(text.len(), TOKEN_CHARS);
        let parsed = SessionToken::parse(&text).expect("parses its own output");
        assert_ne!(parsed.hash(), text, "the stored form is not the token");
    }

    #[test]
    fn malformed_tokens_are_rejected_before_any_lookup() {
        assert!(SessionToken::parse("").is_none());
        assert!(SessionToken::parse("short").is_none());
        assert!(SessionToken::parse(&"a".repeat(TOKEN_CHARS + 1)).is_none());
        assert!(SessionToken::parse(&format!("{}'", "a".repeat(TOKEN_CHARS - 1))).is_none());
    }

    #[test]
    fn debug_hides_the_token() {
        let token = SessionToken::generate().expect("random");
        let shown = format!("{token:?}");
        assert!(!shown.contains(&token.into_string()));
    }
}
