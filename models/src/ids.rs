//! Identifiers, each with its parser.

use crate::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A Telegram user id (also the key of `telegram_users`).
pub type UserId = i64;

/// An id made of a fixed prefix and 16 lower-case hex characters (8 random bytes).
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Builds an id from 8 random bytes.
            pub fn from_random(bytes: [u8; 8]) -> $name {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                $name(format!("{}{hex}", Self::PREFIX))
            }

            /// Accepts ids shaped like ours; anything else is a clear 400.
            pub fn parse(text: &str) -> Result<$name, AppError> {
                let text = text.trim();
                let ok = text.len() <= 50
                    && text.len() > Self::PREFIX.len()
                    && text.starts_with(Self::PREFIX)
                    && text[Self::PREFIX.len()..]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if ok {
                    Ok($name(text.to_owned()))
                } else {
                    Err(AppError::bad_request(format!(
                        "{text:?} is not {} (they look like {}0123456789abcdef).",
                        $what,
                        Self::PREFIX
                    )))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// An organization id: `org_` and 16 lower-case hex characters.
    OrgId,
    "org_",
    "an organization id"
);

prefixed_id!(
    /// A registered database connection: `db_` and 16 lower-case hex characters.
    ConnectionId,
    "db_",
    "a database id"
);

/// An invitation code: 16 URL-safe base64 characters (96 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InviteCode(String);

impl InviteCode {
    pub const LEN: usize = 16;

    /// Builds a code from 12 random bytes (96 bits, well over the 64 required).
    pub fn from_random(bytes: [u8; 12]) -> InviteCode {
        InviteCode(base64url(&bytes))
    }

    /// The deep-link payload's prefix: `https://t.me/<bot>?start=join_<code>`.
    pub const DEEP_LINK_PREFIX: &'static str = "join_";

    /// Whether a /start payload is an invitation (`join_<code>`).
    pub fn is_deep_link(payload: &str) -> bool {
        payload.starts_with(Self::DEEP_LINK_PREFIX)
    }

    /// The t.me link that opens `bot` and joins with `code`.
    pub fn deep_link(bot: &str, code: &str) -> String {
        format!("https://t.me/{bot}?start={}{code}", Self::DEEP_LINK_PREFIX)
    }

    /// Accepts a code as typed or pasted (surrounding spaces and a `join_` prefix
    /// from a deep link are ignored); wrong characters or length are a clear 400.
    pub fn parse(text: &str) -> Result<InviteCode, AppError> {
        let text = text.trim();
        let text = text.strip_prefix(Self::DEEP_LINK_PREFIX).unwrap_or(text);
        if text.is_empty() {
            return Err(AppError::bad_request(
                "Give the invitation code, e.g. /join AbCdEf012345-_xy.",
            ));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(AppError::bad_request(format!(
                "An invitation code has only letters, digits, '-' and '_'; {bad:?} is not one of them."
            )));
        }
        if text.len() != Self::LEN {
            return Err(AppError::bad_request(format!(
                "An invitation code is {} characters long; this one has {}.",
                Self::LEN,
                text.len()
            )));
        }
        Ok(InviteCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// URL-safe base64 without padding (no dependency needed for this one use).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_round_trip_and_reject_junk() {
        let id = OrgId::from_random([0, 1, 2, 3, 250, 251, 252, 253]);
        assert_eq!(id.as_str(), "org_00010203fafbfcfd");
        assert_eq!(OrgId::parse(id.as_str()), Ok(id));
        assert!(OrgId::parse("org_").is_err());
        assert!(OrgId::parse("1; DROP TABLE x").is_err());
        assert!(OrgId::parse(&format!("org_{}", "a".repeat(60))).is_err());
    }

    #[test]
    fn connection_ids_round_trip_and_reject_junk() {
        let id = ConnectionId::from_random([0, 1, 2, 3, 250, 251, 252, 253]);
        assert_eq!(id.as_str(), "db_00010203fafbfcfd");
        assert_eq!(ConnectionId::parse(id.as_str()), Ok(id));
        assert!(ConnectionId::parse("db_").is_err());
        assert!(ConnectionId::parse("org_0001020304050607").is_err());
        assert!(ConnectionId::parse("db_1'; DROP TABLE x").is_err());
    }

    #[test]
    fn invite_codes_are_16_url_safe_characters() {
        let code = InviteCode::from_random([255; 12]);
        assert_eq!(code.as_str(), "________________");
        let code = InviteCode::from_random([0, 16, 131, 16, 81, 135, 32, 146, 139, 48, 211, 143]);
        assert_eq!(code.as_str(), "ABCDEFGHIJKLMNOP");
        assert_eq!(
            InviteCode::parse("  join_ABCDEFGHIJKLMNOP ").map(|c| c.0),
            Ok("ABCDEFGHIJKLMNOP".into())
        );
        let err = InviteCode::parse("ABCDEFGH IJKLMNOP").unwrap_err();
        assert!(err.message().contains("' '"), "{err:?}");
        let err = InviteCode::parse("ABC").unwrap_err();
        assert!(err.message().contains("16 characters"), "{err:?}");
        assert!(InviteCode::parse("").is_err());
    }
}
