//! The overview's story of the month for owners (issue 16): this month
//! against last month and the budget, the last 30 days, who and which models
//! spent most, the last questions, and what needs the owner's attention.
//! Built from the same analytics the costs page reads (rollups), so the two
//! pages never disagree.

use super::{analytics, budget, export};
use crate::access::require;
use crate::AppState;
use models::costs::{Attention, BudgetState, CostRow, CostTotals, MonthStory};
use models::org::{Caller, InviteStatus};
use models::{Action, AppError, Day, DayRange};

/// An invitation expiring within this many days is worth a look.
pub const EXPIRING_DAYS: i64 = 3;

/// The story of the month of `today` for the caller's organization (owners).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn month(state: &AppState, caller: &Caller, today: Day) -> Result<MonthStory, AppError> {
    require(caller, Action::ViewCosts)?;
    let this_month = DayRange::between(today.month_start(), today);
    let last_month_end = Day(today.month_start().0 - 1);
    let last_month_start = last_month_end.month_start();
    let last_month = DayRange::between(last_month_start, last_month_end);
    // The same number of days into last month (the 31st of March compares
    // with the whole of February).
    let into = today.0 - today.month_start().0;
    let to_date = DayRange::between(
        last_month_start,
        Day((last_month_start.0 + into).min(last_month_end.0)),
    );
    let thirty = DayRange::between(Day(today.0 - 29), today);

    let this_totals = analytics::overview(state, caller, &this_month).await?;
    let last_totals = analytics::overview(state, caller, &last_month).await?;
    let last_to_date = analytics::overview(state, caller, &to_date)
        .await?
        .total_cost;
    let daily = analytics::daily(state, caller, &thirty).await?;
    let days = (thirty.from.unwrap_or(today).0..=today.0)
        .map(|d| {
            let key = Day(d).to_string();
            daily
                .iter()
                .find(|r| r.key == key)
                .cloned()
                .unwrap_or(CostRow {
                    label: key.clone(),
                    key,
                    totals: CostTotals::default(),
                })
        })
        .collect();
    let spent = |r: &CostRow| r.totals.total_cost.units() > 0;
    let top_people: Vec<CostRow> = analytics::per_user(state, caller, &this_month)
        .await?
        .users
        .into_iter()
        .filter(spent)
        .take(3)
        .collect();
    let top_models: Vec<CostRow> = analytics::by_model(state, caller, &this_month)
        .await?
        .into_iter()
        .filter(spent)
        .take(3)
        .collect();
    let recent = export::entries(
        &state.store,
        caller,
        &DayRange::all(),
        export::Filter::default(),
        true,
        5,
        None,
    )
    .await?;
    let budget = budget::get(&state.store, caller).await?;

    let mut attention = Vec::new();
    if let Some(b) = budget {
        let spent = this_totals.total_cost;
        let share = spent.percent_of(b).unwrap_or(100.0);
        match BudgetState::of(spent, b) {
            BudgetState::Exhausted => attention.push(Attention {
                text: format!(
                    "The monthly budget of {} is spent: new questions are refused until next month. Raise it under Settings.",
                    models::format::money(b)
                ),
                href: "/settings".into(),
            }),
            BudgetState::Warning => attention.push(Attention {
                text: format!(
                    "{share:.0}% of the monthly budget of {} is spent.",
                    models::format::money(b)
                ),
                href: "/settings".into(),
            }),
            BudgetState::Fine => {}
        }
    }
    if let Some(org) = &caller.org_id {
        for (name, error, at) in crate::databases::failing(state, org).await? {
            attention.push(Attention {
                text: format!(
                    "Database \u{201c}{name}\u{201d} could not be reached ({}): {error}",
                    models::format::relative(at, crate::clock::now())
                ),
                href: "/databases".into(),
            });
        }
    }
    if models::allowed(caller.role, Action::ViewInvites) {
        let now = crate::clock::now();
        let mut expiring: Vec<_> = crate::orgs::invitations::list(&state.store, caller)
            .await?
            .into_iter()
            .filter(|i| {
                i.status == InviteStatus::Active && i.expires_at - now <= EXPIRING_DAYS * 86_400
            })
            .collect();
        expiring.sort_by_key(|i| i.expires_at);
        for i in expiring {
            let left = i.expires_at - now;
            // Rounded to the nearest hour (a day less a second is "1 day").
            let hours = (left + 1_800) / 3_600;
            let when = if left < 3_600 {
                "within the hour".to_owned()
            } else if hours < 24 {
                format!("in {hours} h")
            } else {
                let days = (left + 43_200) / 86_400;
                format!("in {days} day{}", if days == 1 { "" } else { "s" })
            };
            attention.push(Attention {
                text: format!(
                    "Invitation {} expires {when} ({} of {} uses taken).",
                    i.code.as_str(),
                    i.current_uses,
                    i.max_uses
                ),
                href: "/invitations".into(),
            });
        }
    }
    Ok(MonthStory {
        this_month: this_totals,
        last_month: last_totals,
        last_month_to_date: last_to_date,
        budget,
        days,
        top_people,
        top_models,
        recent,
        attention,
    })
}
