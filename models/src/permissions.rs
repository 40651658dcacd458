//! The access matrix (seed §3, DESIGN.md §3): one function, used by every
//! server function, every bot command and the UI.

use crate::Role;
use serde::{Deserialize, Serialize};

/// Something a caller may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // The seed's matrix.
    ViewMembers,
    AddMembers,
    RemoveMembers,
    ViewDatabases,
    AddDatabases,
    RemoveDatabases,
    CreateInvites,
    ViewCosts,
    ViewOverview,
    // Added by the domain core.
    /// See the organization's invitations (active and expired).
    ViewInvites,
    RevokeInvites,
    /// Found a new organization (only without one).
    CreateOrg,
    /// Join an organization with an invitation code (only without one).
    JoinOrg,
    /// Leave one's organization (owners delete it instead).
    LeaveOrg,
    DeleteOrg,
    /// Read the organization's audit log.
    ViewAuditLog,
    /// Reset one's own dashboard credentials / change one's password.
    ManageOwnCredentials,
    /// Pick the database one's questions go to.
    SelectDatabase,
    /// Set or clear the organization's monthly budget.
    ManageBudget,
    // Added by the question pipeline.
    /// Ask questions of a database one may use (the bot, the Ask page, `server ask`).
    AskQuestions,
}

impl Action {
    /// Every action, for tests and documentation.
    pub const ALL: [Action; 20] = [
        Action::ViewMembers,
        Action::AddMembers,
        Action::RemoveMembers,
        Action::ViewDatabases,
        Action::AddDatabases,
        Action::RemoveDatabases,
        Action::CreateInvites,
        Action::ViewCosts,
        Action::ViewOverview,
        Action::ViewInvites,
        Action::RevokeInvites,
        Action::CreateOrg,
        Action::JoinOrg,
        Action::LeaveOrg,
        Action::DeleteOrg,
        Action::ViewAuditLog,
        Action::ManageOwnCredentials,
        Action::SelectDatabase,
        Action::ManageBudget,
        Action::AskQuestions,
    ];

    /// A phrase for "you may not ..." messages.
    pub fn describe(self) -> &'static str {
        match self {
            Action::ViewMembers => "see the members",
            Action::AddMembers => "add members",
            Action::RemoveMembers => "remove members",
            Action::ViewDatabases => "see the databases",
            Action::AddDatabases => "add databases",
            Action::RemoveDatabases => "remove databases",
            Action::CreateInvites => "create invitations",
            Action::ViewCosts => "see costs",
            Action::ViewOverview => "see the overview",
            Action::ViewInvites => "see invitations",
            Action::RevokeInvites => "revoke invitations",
            Action::CreateOrg => "create an organization while you belong to one",
            Action::JoinOrg => "join an organization while you belong to one",
            Action::LeaveOrg => "leave an organization",
            Action::DeleteOrg => "delete the organization",
            Action::ViewAuditLog => "see the audit log",
            Action::ManageOwnCredentials => "manage dashboard credentials",
            Action::SelectDatabase => "select a database",
            Action::ManageBudget => "set the budget",
            Action::AskQuestions => "ask questions",
        }
    }
}

/// Whether `role` may do `action`.
///
/// Owners manage their organization; members use it read-only; individuals
/// (no organization) manage only their personal databases and may found or
/// join an organization. Admins (configured Telegram ids, for system tasks)
/// have an owner's rights over their own organization, never over others':
/// tenant scoping is separate from this matrix and applies to everyone.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin | Role::Owner => !matches!(action, CreateOrg | JoinOrg | LeaveOrg),
        Role::Member => matches!(
            action,
            ViewMembers
                | ViewDatabases
                | ViewOverview
                | LeaveOrg
                | ManageOwnCredentials
                | SelectDatabase
                | AskQuestions
        ),
        Role::Individual => matches!(
            action,
            ViewDatabases
                | AddDatabases
                | RemoveDatabases
                | ViewOverview
                | CreateOrg
                | JoinOrg
                | ManageOwnCredentials
                | SelectDatabase
                | AskQuestions
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    /// The whole matrix, cell by cell: (action, owner, member, individual).
    /// The first nine rows are the seed's table; RemoveDatabases for an
    /// individual is added (their own personal databases).
    const MATRIX: [(Action, bool, bool, bool); 20] = [
        (ViewMembers, true, true, false),
        (AddMembers, true, false, false),
        (RemoveMembers, true, false, false),
        (ViewDatabases, true, true, true),
        (AddDatabases, true, false, true),
        (RemoveDatabases, true, false, true),
        (CreateInvites, true, false, false),
        (ViewCosts, true, false, false),
        (ViewOverview, true, true, true),
        (ViewInvites, true, false, false),
        (RevokeInvites, true, false, false),
        (CreateOrg, false, false, true),
        (JoinOrg, false, false, true),
        (LeaveOrg, false, true, false),
        (DeleteOrg, true, false, false),
        (ViewAuditLog, true, false, false),
        (ManageOwnCredentials, true, true, true),
        (SelectDatabase, true, true, true),
        (ManageBudget, true, false, false),
        (AskQuestions, true, true, true),
    ];

    #[test]
    fn every_cell_of_the_matrix() {
        assert_eq!(MATRIX.len(), Action::ALL.len());
        for (action, owner, member, individual) in MATRIX {
            assert_eq!(allowed(Role::Owner, action), owner, "owner / {action:?}");
            assert_eq!(allowed(Role::Member, action), member, "member / {action:?}");
            assert_eq!(
                allowed(Role::Individual, action),
                individual,
                "individual / {action:?}"
            );
            assert_eq!(allowed(Role::Admin, action), owner, "admin / {action:?}");
        }
        for action in Action::ALL {
            assert!(
                MATRIX.iter().any(|(a, ..)| *a == action),
                "{action:?} is in the matrix"
            );
        }
    }
}
