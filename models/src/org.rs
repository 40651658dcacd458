//! Organizations, members, invitations and credentials (seed §5), and the
//! rules on their input.

use crate::ids::{InviteCode, OrgId, UserId};
use crate::{AppError, Role};
use serde::{Deserialize, Serialize};

/// Longest organization or person name accepted; longer input is refused.
pub const MAX_NAME_LEN: usize = 100;
/// Most uses one invitation may allow.
pub const MAX_INVITE_USES: i64 = 1_000;
/// Longest validity of an invitation, in days.
pub const MAX_INVITE_DAYS: i64 = 365;
/// Most audit-log entries one read returns (the newest first).
pub const MAX_AUDIT_ENTRIES: i64 = 200;

/// Who is acting, as services see it: resolved fresh from the store for each call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The Telegram user, or `None` for the operator's command line.
    pub user_id: Option<UserId>,
    pub role: Role,
    pub org_id: Option<OrgId>,
}

/// A Telegram user as the bot sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramProfile {
    pub user_id: UserId,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
}

impl TelegramProfile {
    /// The name to show: first and last name, else the username, else the id.
    pub fn display_name(&self) -> String {
        display_name(
            Some(&self.first_name),
            self.last_name.as_deref(),
            self.username.as_deref(),
            self.user_id,
        )
    }
}

/// The name to show for a person, from whatever is known.
pub fn display_name(
    first: Option<&str>,
    last: Option<&str>,
    username: Option<&str>,
    id: UserId,
) -> String {
    let full = [first.unwrap_or(""), last.unwrap_or("")]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !full.is_empty() {
        full
    } else if let Some(u) = username.filter(|u| !u.trim().is_empty()) {
        format!("@{}", u.trim())
    } else {
        format!("user {id}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub org_id: OrgId,
    pub name: String,
    pub owner_id: UserId,
    pub description: Option<String>,
    /// Unix seconds, UTC.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub username: Option<String>,
    pub role: Role,
    pub joined_at: i64,
}

/// Where an invitation stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    Active,
    Expired,
    UsedUp,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub code: InviteCode,
    pub org_id: OrgId,
    pub created_by: UserId,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: i64,
    pub current_uses: i64,
    pub status: InviteStatus,
}

/// Dashboard credentials, shown once. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// What the dashboard says once a member is added.
pub const MEMBER_ADDED_NOTICE: &str = "Added. They will get their sign-in from the bot.";

/// The answer of `POST /dashboard/members/add`. The seed's `username` and
/// `password` fields are kept for compatibility but are always `null`: an
/// owner never receives a member's credentials. The member is told in
/// Telegram and gets their sign-in by sending `/dashboard` to the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAdded {
    pub user_id: UserId,
    pub username: Option<String>,
    pub password: Option<String>,
    /// [`MEMBER_ADDED_NOTICE`].
    pub message: String,
}

/// The overview page (seed's /dashboard/overview): the organization's cards,
/// plus this month's spend and budget for owners and the join date for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOverview {
    /// `None` for someone without an organization (their counts are their own).
    pub organization: Option<Organization>,
    pub role: Role,
    pub member_count: i64,
    pub database_count: i64,
    /// Invitations still usable (owners only; `None` for members).
    pub active_invitations: Option<i64>,
    /// When the caller joined (Unix seconds).
    pub joined_at: i64,
    /// This calendar month's spend (owners only).
    pub month_spend: Option<crate::Usd>,
    /// The monthly budget, if one is set (owners only).
    pub budget: Option<crate::Usd>,
    /// An operator account (made with `server create-user`), not linked to a
    /// Telegram user: no organization or databases of its own.
    pub operator: bool,
    /// The month's story (owners).
    #[serde(default)]
    pub story: Option<crate::costs::MonthStory>,
    /// The caller's own usage (those who do not see the organization's costs).
    #[serde(default)]
    pub own: Option<crate::costs::OwnTotals>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub created_at: i64,
    pub actor_id: Option<UserId>,
    pub org_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
}

/// Checks a name (organization or person): trimmed, not empty, at most
/// [`MAX_NAME_LEN`] characters, no control characters. Markup is allowed and
/// stored as given; every renderer escapes it.
pub fn validate_name(what: &str, name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_request(format!(
            "The {what} cannot be empty."
        )));
    }
    let len = name.chars().count();
    if len > MAX_NAME_LEN {
        return Err(AppError::bad_request(format!(
            "The {what} is too long: {len} characters, at most {MAX_NAME_LEN}."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_request(format!(
            "The {what} contains control characters (such as line breaks or tabs); remove them."
        )));
    }
    Ok(name.to_owned())
}

/// Checks an invitation's limits: uses in 1..=1000, days in 1..=365.
pub fn validate_invite_limits(max_uses: i64, days: i64) -> Result<(), AppError> {
    if !(1..=MAX_INVITE_USES).contains(&max_uses) {
        return Err(AppError::bad_request(format!(
            "An invitation allows 1 to {MAX_INVITE_USES} uses; {max_uses} is not possible."
        )));
    }
    if !(1..=MAX_INVITE_DAYS).contains(&days) {
        return Err(AppError::bad_request(format!(
            "An invitation is valid for 1 to {MAX_INVITE_DAYS} days; {days} is not possible."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            validate_name("organization name", "  Acme  ").as_deref(),
            Ok("Acme")
        );
        assert_eq!(
            validate_name("organization name", "<script>alert(1)</script>").as_deref(),
            Ok("<script>alert(1)</script>")
        );
        let empty = validate_name("organization name", "   ").unwrap_err();
        assert_eq!(empty.message(), "The organization name cannot be empty.");
        let long = validate_name("organization name", &"é".repeat(101)).unwrap_err();
        assert!(
            long.message().contains("101 characters, at most 100"),
            "{long:?}"
        );
        assert!(validate_name("organization name", &"é".repeat(100)).is_ok());
        assert!(validate_name("name", "a\nb").is_err());
        assert!(validate_name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn invitation_limits() {
        assert!(validate_invite_limits(1, 1).is_ok());
        assert!(validate_invite_limits(1000, 365).is_ok());
        assert!(validate_invite_limits(0, 7)
            .unwrap_err()
            .message()
            .contains("uses"));
        assert!(validate_invite_limits(-3, 7).is_err());
        assert!(validate_invite_limits(5, 0)
            .unwrap_err()
            .message()
            .contains("days"));
        assert!(validate_invite_limits(5, 366).is_err());
    }

    #[test]
    fn display_names_fall_back_sensibly() {
        assert_eq!(
            display_name(Some("Ada"), Some("Lovelace"), None, 1),
            "Ada Lovelace"
        );
        assert_eq!(display_name(Some(" "), None, Some("ada"), 1), "@ada");
        assert_eq!(display_name(None, None, None, 7), "user 7");
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials {
            username: "ada".into(),
            password: "s3cret-value".into(),
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
