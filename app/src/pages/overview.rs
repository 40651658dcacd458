use crate::api::databases::databases;
use crate::api::org::overview;
use crate::components::loaded::{date, now_unix, when, Loaded};
use crate::components::money::Money;
use leptos::prelude::*;
use leptos_meta::Title;
use models::costs::{BudgetState, CostRow, MonthStory, OwnTotals};
use models::format::{integer, money, percent, share};
use models::org::OrgOverview;
use models::targets::DatabaseInfo;
use models::Usd;

/// The page an owner sees first: the organization's cards and the month's
/// story (spend against last month and the budget, the last 30 days, who and
/// which models spent most, the last questions, what needs attention).
/// Members see their own usage and the organization's databases instead.
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
    let month = o.story.clone().map(|story| view! { <Month story /> });
    let story = o.story.map(|story| view! { <Story story /> });
    let own = o.own.map(|own| view! { <Own own /> });
    view! {
        <p class="lead" data-testid="org-title">{title}</p>
        {month}
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
        </div>
        {story}
        {own}
    }
    .into_any()
}

/// This month against last month and the budget, with the 30-day sparkline.
#[component]
fn Month(story: MonthStory) -> impl IntoView {
    let spent = story.this_month.total_cost;
    let before = story.last_month_to_date;
    let change = if before.units() == 0 {
        "Nothing was spent by this day last month.".to_owned()
    } else {
        let diff = spent.units() - before.units();
        let share = percent(diff.unsigned_abs() as f64, before.units() as f64);
        let direction = if diff >= 0 { "more" } else { "less" };
        format!(
            "{share} {direction} than by this day last month ({}).",
            money(before)
        )
    };
    let budget = story.budget.map(|b| {
        let state = BudgetState::of(spent, b);
        let share = spent.percent_of(b).unwrap_or(100.0);
        let width = format!("{:.1}", share.clamp(0.0, 100.0));
        let said = match state {
            BudgetState::Fine => format!("{share:.0}% of the {} monthly budget", money(b)),
            BudgetState::Warning => format!(
                "{share:.0}% of the {} monthly budget: close to the limit",
                money(b)
            ),
            BudgetState::Exhausted => format!(
                "Budget of {} reached: new questions are refused until next month",
                money(b)
            ),
        };
        let valuenow = width.clone();
        view! {
            <div class=format!("budget {}", state.as_str()) data-testid="budget" data-state=state.as_str()>
                <div class="budget-bar" role="progressbar" aria-label="Monthly budget used"
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow=valuenow>
                    <svg viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
                        <rect class="budget-fill" x="0" y="0" height="1" width=width />
                    </svg>
                </div>
                <span class="budget-said">{said}</span>
            </div>
        }
        .into_any()
    });
    view! {
        <section class="card month" data-testid="month-spend">
            <div class="month-head">
                <div>
                    <span class="stat-label">"Spent this month"</span>
                    <span class="stat-value big" title=spent.to_string() data-testid="month-total">{money(spent)}</span>
                    <span class="muted small" data-testid="month-change">{change}</span>
                    <span class="muted small">{format!("Last month in all: {}.", money(story.last_month.total_cost))}</span>
                </div>
                <Sparkline days=story.days.clone() />
            </div>
            {budget.unwrap_or_else(|| view! {
                <div class="budget none" data-testid="budget" data-state="none">
                    <span class="budget-said">"No monthly budget set. "<a href="/settings">"Set one"</a>" to be warned at 80% and to stop questions at 100%."</span>
                </div>
            }.into_any())}
        </section>
    }
    .into_any()
}

/// The last 30 days' spend as small bars (inline SVG: no chart library on
/// the page); each bar's date and amount in its title.
#[component]
fn Sparkline(days: Vec<CostRow>) -> impl IntoView {
    let max = days
        .iter()
        .map(|d| d.totals.total_cost.units())
        .max()
        .unwrap_or(0)
        .max(1);
    let total: Usd = days.iter().map(|d| d.totals.total_cost).sum();
    let n = days.len().max(1);
    let label = format!(
        "Spend per day over the last {n} days, {} in all",
        money(total)
    );
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let units = d.totals.total_cost.units();
            // At least a hairline, so a day with usage is never invisible.
            let h = if units > 0 {
                (units as f64 * 28.0 / max as f64).max(1.0)
            } else {
                0.0
            };
            view! {
                <rect x=format!("{}", i * 4) y=format!("{:.2}", 30.0 - h) width="3" height=format!("{h:.2}")>
                    <title>{format!("{}: {}", d.label, money(d.totals.total_cost))}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <figure class="sparkline" data-testid="sparkline">
            <svg viewBox=format!("0 0 {} 30", n * 4) preserveAspectRatio="none" role="img" aria-label=label.clone()>
                {bars}
            </svg>
            <figcaption class="muted small">"Last 30 days"</figcaption>
        </figure>
    }
    .into_any()
}

/// What needs attention, the top spenders and the last questions.
#[component]
fn Story(story: MonthStory) -> impl IntoView {
    let whole = story.this_month.total_cost;
    let attention = (!story.attention.is_empty()).then(|| {
        view! {
            <section class="card attention" data-testid="attention">
                <h2>"Needs your attention"</h2>
                <ul>
                    {story.attention.into_iter().map(|a| view! {
                        <li><a href=a.href>{a.text}</a></li>
                    }).collect_view()}
                </ul>
            </section>
        }
    });
    let now = now_unix();
    view! {
        {attention}
        <div class="grid-2">
            <Top title="Top people this month" testid="top-people" rows=story.top_people whole />
            <Top title="Top models this month" testid="top-models" rows=story.top_models whole />
        </div>
        <section class="card" data-testid="recent">
            <div class="row card-head">
                <h2>"Last questions"</h2>
                <a href="/conversations">"All conversations"</a>
            </div>
            {if story.recent.is_empty() {
                view! { <p class="empty">"No questions yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="recent">
                        {story.recent.into_iter().map(|c| view! {
                            <li>
                                <a class="recent-question" href="/conversations">{c.question.clone()}</a>
                                <span class="recent-meta muted small">
                                    {c.username.clone().map_or_else(|| c.user_id.to_string(), |u| format!("@{u}"))}
                                    " · "
                                    <time title=when(c.timestamp)>{models::format::relative(c.timestamp, now)}</time>
                                </span>
                                <span class=format!("badge status-{}", c.status)>{c.status.clone()}</span>
                                <span class="num"><Money amount=c.total_cost /></span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// Three rows with their cost and share of the month.
#[component]
fn Top(title: &'static str, testid: &'static str, rows: Vec<CostRow>, whole: Usd) -> impl IntoView {
    view! {
        <section class="card" data-testid=testid>
            <h2>{title}</h2>
            {if rows.is_empty() {
                view! { <p class="empty">"No spend this month yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="top">
                        {rows.into_iter().map(|r| {
                            let bar = r.totals.total_cost.percent_of(whole).unwrap_or(0.0);
                            view! {
                                <li>
                                    <span class="top-label">{r.label.clone()}</span>
                                    <span class="num"><Money amount=r.totals.total_cost /></span>
                                    <span class="num muted small">{share(r.totals.total_cost, whole)}</span>
                                    <svg class="share" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
                                        <rect x="0" y="0" height="1" width=format!("{:.1}", bar.clamp(0.0, 100.0)) />
                                    </svg>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// A member's own usage, and the databases they can ask.
#[component]
fn Own(own: OwnTotals) -> impl IntoView {
    let dbs = Resource::new(|| (), |_| databases());
    let card = |label: &'static str, t: models::costs::CostTotals| {
        view! {
            <div class="stat">
                <span class="stat-label">{label}</span>
                <span class="stat-value">{format!("{} question{}", integer(t.conversations), if t.conversations == 1 { "" } else { "s" })}</span>
                <span class="muted small" title=t.total_cost.to_string()>{format!("{} in model calls", money(t.total_cost))}</span>
            </div>
        }
    };
    view! {
        <h2 class="section-title">"Your usage"</h2>
        <div class="stats" data-testid="own-usage">
            {card("Today", own.today)}
            {card("This week", own.this_week)}
        </div>
        <section class="card" data-testid="own-databases">
            <div class="row card-head">
                <h2>"Databases you can ask"</h2>
                <a href="/ask">"Ask a question"</a>
            </div>
            <Loaded resource=dbs ok={|list: Vec<DatabaseInfo>| {
                if list.is_empty() {
                    return view! { <p class="empty">"No databases yet. The owner adds them under Databases, or you add your own in Telegram with /adddb."</p> }.into_any();
                }
                view! {
                    <ul class="plain">
                        {list.into_iter().map(|d| view! {
                            <li>
                                <strong>{d.name.clone()}</strong>
                                {d.selected.then(|| view! { <span class="badge active">"active"</span> })}
                                <span class="muted small">{format!(" · {}", d.summary.kind)}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }} />
        </section>
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
