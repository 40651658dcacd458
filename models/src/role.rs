//! Roles of the seed's access model (DESIGN.md §3).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Who a caller is, as far as permissions go.
///
/// `Admin` comes from configuration (Telegram ids), never from the store.
/// `Owner` and `Member` come from organization membership; a user without an
/// organization is an `Individual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Owner,
    Member,
    Individual,
}

impl Role {
    /// The name stored in `organization_members.role` and sent over the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Owner => "owner",
            Role::Member => "member",
            Role::Individual => "individual",
        }
    }

    /// Parses a stored role name; `None` for anything unknown.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            "individual" => Some(Role::Individual),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in [Role::Admin, Role::Owner, Role::Member, Role::Individual] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).expect("serializes");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("Owner"), None);
        assert_eq!(Role::parse(""), None);
    }
}
