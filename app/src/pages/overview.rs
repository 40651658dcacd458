use crate::api::org::overview;
use crate::components::loaded::{date, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use models::org::OrgOverview;

/// The organization's cards; this month's spend and budget for owners.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| overview());
    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <Loaded resource=data ok={|o: OrgOverview| view! { <Cards o /> }} />
    }
}

#[component]
fn Cards(o: OrgOverview) -> impl IntoView {
    if o.operator {
        return view! { <Operator /> }.into_any();
    }
    let title = o
        .organization
        .as_ref()
        .map_or_else(|| "Your own databases".to_owned(), |org| org.name.clone());
    let created = o.organization.as_ref().map(|org| date(org.created_at));
    let spend = o.month_spend.map(|spent| {
        let budget = o.budget;
        let share = budget.and_then(|b| spent.percent_of(b));
        view! {
            <div class="stat" data-testid="month-spend">
                <span class="stat-label">"Spent this month"</span>
                <span class="stat-value">{format!("${}", spent.to_decimal_string())}</span>
                <span class="muted">
                    {match (budget, share) {
                        (Some(b), Some(p)) => format!("{p:.0}% of ${} budget", b.to_decimal_string()),
                        _ => "No monthly budget set".to_owned(),
                    }}
                </span>
            </div>
        }
    });
    view! {
        <p class="lead" data-testid="org-title">{title}</p>
        <div class="stats">
            {o.organization.is_some().then(|| view! {
                <div class="stat" data-testid="member-count">
                    <span class="stat-label">"Members"</span>
                    <span class="stat-value">{o.member_count}</span>
                </div>
            })}
            <div class="stat" data-testid="database-count">
                <span class="stat-label">"Databases"</span>
                <span class="stat-value">{o.database_count}</span>
            </div>
            {o.active_invitations.map(|n| view! {
                <div class="stat" data-testid="invitation-count">
                    <span class="stat-label">"Active invitations"</span>
                    <span class="stat-value">{n}</span>
                </div>
            })}
            {created.map(|c| view! {
                <div class="stat">
                    <span class="stat-label">"Created"</span>
                    <span class="stat-value small">{c}</span>
                </div>
            })}
            <div class="stat">
                <span class="stat-label">"You joined"</span>
                <span class="stat-value small">{date(o.joined_at)}</span>
            </div>
            {spend}
        </div>
    }
    .into_any()
}

/// What an operator account (made with `server create-user`) can do here.
#[component]
fn Operator() -> impl IntoView {
    view! {
        <section class="card" data-testid="operator-note">
            <h2>"Operator account"</h2>
            <p>
                "This account was made on the server with "<code>"server create-user"</code>
                " and is not linked to a Telegram user, so it has no organization and no databases."
            </p>
            <p>
                "Teams are created in Telegram: the person who sends the bot "<code>"/createorg"</code>
                " becomes the owner and receives their own dashboard sign-in. "
                "Here you can change this account's password under Settings."
            </p>
        </section>
    }
}
