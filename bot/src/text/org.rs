//! Organizations: founding, joining, /org, /members, /invite.

use models::org::Credentials;

/// After joining an organization: the dashboard credentials, shown once.
pub fn joined(org_name: &str, creds: &Credentials) -> String {
    format!(
        "Welcome to {org_name}! You are now a member.\n\nYour dashboard sign-in (shown once, keep \
         it private):\nusername: {}\npassword: {}",
        creds.username, creds.password
    )
}

/// /createorg's answer: the organization and the owner's sign-in.
pub fn org_created(org_name: &str, creds: &Credentials) -> String {
    format!(
        "{org_name} is founded and you are its owner.\n\nYour dashboard sign-in (shown once, keep \
         it private):\nusername: {}\npassword: {}\n\nNext: /invite to bring your team, and add a \
         database on the dashboard.",
        creds.username, creds.password
    )
}

/// For commands about an organization, to someone without one.
pub fn no_org() -> &'static str {
    "You are not in an organization. Found one with /createorg <name>, or join one with /join <code>."
}

/// /org.
pub fn org_info(o: &models::org::OrgOverview) -> String {
    use models::format::money;
    let Some(org) = &o.organization else {
        return no_org().to_owned();
    };
    let mut out = format!(
        "{}\nYour role: {}\nMembers: {}\nDatabases: {}\nFounded: {}",
        org.name,
        o.role.as_str(),
        o.member_count,
        o.database_count,
        models::Day::of_unix(org.created_at)
    );
    if let Some(n) = o.active_invitations {
        out.push_str(&format!("\nActive invitations: {n}"));
    }
    if let Some(spent) = o.month_spend {
        out.push_str(&format!("\nSpent this month: {}", money(spent)));
        match o.budget {
            Some(b) => out.push_str(&format!(
                " of a {} budget ({})",
                money(b),
                models::format::share(spent, b)
            )),
            None => out.push_str(" (no monthly budget set)"),
        }
    }
    out
}

/// /members.
pub fn members(list: &[models::org::Member]) -> String {
    let mut out = format!(
        "{} member{}:\n",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    for m in list {
        out.push_str(&format!(
            "\n• {}{} — {} (id {}, since {})",
            m.name,
            m.username
                .as_deref()
                .map(|u| format!(" @{u}"))
                .unwrap_or_default(),
            m.role.as_str(),
            m.user_id,
            models::Day::of_unix(m.joined_at)
        ));
    }
    out
}

/// /invite's answer: the code, its limits and the link that joins.
pub fn invitation(i: &models::org::Invitation, bot_username: Option<&str>) -> String {
    let code = i.code.as_str();
    let mut out = format!(
        "Invitation code: {code}\nUses: {}\nValid until: {} UTC",
        i.max_uses,
        models::Day::of_unix(i.expires_at)
    );
    match bot_username {
        Some(bot) => out.push_str(&format!(
            "\n\nShare this link; opening it joins:\n{}",
            models::InviteCode::deep_link(bot, code)
        )),
        None => out.push_str(&format!("\n\nThey send me: /join {code}")),
    }
    out
}
