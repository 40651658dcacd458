//! What questions cost: /stats, /myinfo, /history, /costs, /admin stats.

fn usage_line(label: &str, t: &models::costs::CostTotals) -> String {
    format!(
        "{label}: {} question{}, {}",
        models::format::integer(t.conversations),
        if t.conversations == 1 { "" } else { "s" },
        models::format::money(t.total_cost)
    )
}

/// /stats.
pub fn stats(own: &models::costs::OwnTotals) -> String {
    format!(
        "Your usage\n{}\n{}",
        usage_line("Today", &own.today),
        usage_line("This week", &own.this_week)
    )
}

/// /myinfo.
pub fn my_info(
    caller: &models::org::Caller,
    org: Option<&str>,
    active: Option<&str>,
    own: &models::costs::OwnTotals,
    email: Option<&str>,
) -> String {
    format!(
        "Role: {}\nOrganization: {}\nActive database: {}\nEmail results to: {}\n{}\n{}",
        caller.role.as_str(),
        org.unwrap_or("none (your own databases)"),
        active.unwrap_or("none — choose one with /selectdb"),
        email.unwrap_or("not set — /email <address>"),
        usage_line("Today", &own.today),
        usage_line("This week", &own.this_week)
    )
}

/// /history: newest first.
pub fn history(list: &[models::costs::LedgerEntry], now: i64) -> String {
    if list.is_empty() {
        return "You have not asked anything yet. Write a question, like: how many orders did we ship last week?".into();
    }
    let mut out = format!(
        "Your last {} question{}:\n",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    for e in list {
        let question: String = e.question.chars().take(120).collect();
        out.push_str(&format!(
            "\n• {question}\n  {} · {} · {}",
            models::format::relative(e.timestamp, now),
            e.status,
            models::format::money(e.total_cost)
        ));
    }
    out
}

/// /costs: this month.
pub fn costs(
    totals: &models::costs::CostTotals,
    by_model: &[models::costs::CostRow],
    by_stage: &[models::costs::CostRow],
    budget: Option<models::Usd>,
) -> String {
    use models::format::{integer, money, share};
    let mut out = format!(
        "This month: {} for {} question{} ({} model calls)",
        money(totals.total_cost),
        integer(totals.conversations),
        if totals.conversations == 1 { "" } else { "s" },
        integer(totals.calls)
    );
    match budget {
        Some(b) => out.push_str(&format!(
            "\nBudget: {} ({} used)",
            money(b),
            share(totals.total_cost, b)
        )),
        None => out.push_str("\nNo monthly budget set (the dashboard's Settings page sets one)."),
    }
    for (title, rows) in [("By model", by_model), ("By stage", by_stage)] {
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!("\n\n{title}:"));
        for r in rows {
            out.push_str(&format!(
                "\n• {}: {} ({}, {} calls)",
                r.label,
                money(r.totals.total_cost),
                share(r.totals.total_cost, totals.total_cost),
                integer(r.totals.calls)
            ));
        }
    }
    out
}

/// /admin stats.
pub fn admin_stats(s: &models::costs::AdminStats) -> String {
    format!(
        "Tabletalk today\nOrganizations: {}\nPeople: {}\nQuestions today: {}\nCost today: {}",
        models::format::integer(s.organizations),
        models::format::integer(s.users),
        models::format::integer(s.questions_today),
        models::format::money(s.cost_today)
    )
}
