//! DTOs of the authentication endpoints (seed §4) and their validation.

use crate::{AppError, Role};
use serde::{Deserialize, Serialize};

/// Longest username accepted anywhere; longer input is refused, not truncated.
pub const MAX_USERNAME_LEN: usize = 100;
/// Longest password accepted; bounds the hashing work one request can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Body of `POST /dashboard/login`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl LoginRequest {
    /// Checks the shape of the input before any lookup; returns the trimmed username.
    pub fn validate(&self) -> Result<&str, AppError> {
        let username = self.username.trim();
        if username.is_empty() {
            return Err(AppError::bad_request("Enter your username."));
        }
        if username.chars().count() > MAX_USERNAME_LEN {
            return Err(AppError::bad_request(format!(
                "The username is too long (at most {MAX_USERNAME_LEN} characters)."
            )));
        }
        if self.password.is_empty() {
            return Err(AppError::bad_request("Enter your password."));
        }
        if self.password.len() > MAX_PASSWORD_LEN {
            return Err(AppError::bad_request(format!(
                "The password is too long (at most {MAX_PASSWORD_LEN} bytes)."
            )));
        }
        Ok(username)
    }
}

/// Answer of `POST /dashboard/login`: the seed's fields.
///
/// `token` is the session token, shown once; the browser also receives it as an
/// HttpOnly cookie, scripts send it back as `Authorization: Bearer <token>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginResponse {
    pub token: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
}

/// Who is signed in: the answer of `GET /dashboard/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionInfo {
    pub username: String,
    /// The Telegram user behind the account; `None` for operator accounts.
    pub user_id: Option<i64>,
    pub role: Role,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    /// Unix seconds (UTC) when this session stops being valid.
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(username: &str, password: &str) -> LoginRequest {
        LoginRequest {
            username: username.into(),
            password: password.into(),
        }
    }

    #[test]
    fn validation_names_the_missing_field() {
        assert_eq!(
            req("", "x").validate().unwrap_err().message(),
            "Enter your username."
        );
        assert_eq!(
            req("   ", "x").validate().unwrap_err().message(),
            "Enter your username."
        );
        assert_eq!(
            req("alice", "").validate().unwrap_err().message(),
            "Enter your password."
        );
        assert_eq!(req(" alice ", "pw").validate(), Ok("alice"));
    }

    #[test]
    fn overlong_input_is_refused_with_the_limit() {
        let long = "a".repeat(MAX_USERNAME_LEN + 1);
        let err = req(&long, "pw").validate().unwrap_err();
        assert!(err.message().contains("at most 100"), "{err:?}");
        let long_pw = "p".repeat(MAX_PASSWORD_LEN + 1);
        assert!(req("alice", &long_pw).validate().is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let shown = format!("{:?}", req("alice", "hunter2-secret"));
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("alice"));
    }
}

/// Shortest password accepted for a new or changed password.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Shortest username accepted for a new account.
pub const MIN_USERNAME_LEN: usize = 3;

/// Usernames are case-insensitive: they are stored and looked up lower-case.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Checks a username for a new account; returns it normalised.
pub fn validate_new_username(username: &str) -> Result<String, AppError> {
    let name = normalize_username(username);
    let len = name.chars().count();
    if !(MIN_USERNAME_LEN..=MAX_USERNAME_LEN).contains(&len) {
        return Err(AppError::bad_request(format!(
            "A username must be {MIN_USERNAME_LEN} to {MAX_USERNAME_LEN} characters long."
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(AppError::bad_request(format!(
            "A username may hold only letters a-z, digits, '.', '_' and '-'; {bad:?} is not allowed."
        )));
    }
    Ok(name)
}

/// Checks a new password's length (in characters, as people count them).
pub fn validate_new_password(password: &str) -> Result<(), AppError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(AppError::bad_request(format!(
            "The password is too short: use at least {MIN_PASSWORD_LEN} characters."
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(AppError::bad_request(format!(
            "The password is too long (at most {MAX_PASSWORD_LEN} bytes)."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod new_account_tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            validate_new_username("  Alice.B ").as_deref(),
            Ok("alice.b")
        );
        assert!(validate_new_username("ab").is_err());
        let err = validate_new_username("al ice").unwrap_err();
        assert!(err.message().contains("' '"), "{err:?}");
        assert!(validate_new_username("<script>").is_err());
        assert!(validate_new_username(&"a".repeat(101)).is_err());
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(validate_new_password("short-pass1").is_err());
        assert!(validate_new_password("long-enough-1").is_ok());
        // Characters, not bytes: twelve accented letters are enough.
        assert!(validate_new_password(&"é".repeat(12)).is_ok());
    }
}
