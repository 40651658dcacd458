use crate::api::costs::conversations;
use crate::api::org::members;
use crate::components::loaded::{now_unix, today, when, Loaded};
use crate::components::money::Money;
use leptos::prelude::*;
use leptos_meta::Title;
use models::costs::{ConversationPage, ConversationStatus, LedgerEntry};
use models::Preset;

/// What the list shows: one member's, one status, one range (all by default).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Filter {
    user: Option<i64>,
    status: Option<ConversationStatus>,
    /// `None`: all time.
    range: Option<Preset>,
}

/// Conversations, newest first, a page at a time: the question (its SQL and
/// answer expand in place), who asked, when, the status and the cost;
/// filterable by member, status and range.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let filter = RwSignal::new(Filter::default());
    // Where each page shown so far began (`None`: the newest); the last is shown.
    let pages = RwSignal::new(vec![None::<(i64, i64)>]);
    let data = Resource::new(
        move || (filter.get(), pages.with(|p| p.last().copied().flatten())),
        |(f, before)| {
            let range = f.range.map(|p| p.range(today())).unwrap_or_default();
            conversations(
                range.from.map(|d| d.to_string()),
                range.to.map(|d| d.to_string()),
                f.user,
                f.status.map(|s| s.as_str().to_owned()),
                before.map(|b| b.0),
                before.map(|b| b.1),
            )
        },
    );
    let page_number = move || pages.with(Vec::len);
    // The filter lists the current members; an error there only leaves "All".
    let people = Resource::new(|| (), |_| members());
    let refilter = move |change: &dyn Fn(&mut Filter)| {
        filter.update(|f| change(f));
        pages.set(vec![None]);
    };
    let choose_user = move |ev: leptos::ev::Event| {
        let user = event_target_value(&ev).parse::<i64>().ok();
        refilter(&|f| f.user = user);
    };
    let choose_status = move |ev: leptos::ev::Event| {
        let status = ConversationStatus::parse(&event_target_value(&ev));
        refilter(&|f| f.status = status);
    };
    let choose_range = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let range = Preset::ALL
            .into_iter()
            .find(|p| *p != Preset::All && p.label() == value);
        refilter(&|f| f.range = range);
    };
    view! {
        <Title text="Conversations" />
        <h1>"Conversations"</h1>
        <div class="row filter conversation-filters">
            <label>"Asked by"
                <select data-testid="user-filter" on:change=choose_user>
                    <option value="">"All members"</option>
                    <Suspense fallback=|| ()>
                        {move || {
                            people
                                .get()
                                .and_then(Result::ok)
                                .map(|list| {
                                    list.into_iter()
                                        .map(|m| {
                                            view! {
                                                <option value=m.user_id.to_string()>{m.name.clone()}</option>
                                            }
                                        })
                                        .collect_view()
                                })
                        }}
                    </Suspense>
                </select>
            </label>
            <label>"Status"
                <select data-testid="status-filter" on:change=choose_status>
                    <option value="">"Any status"</option>
                    {ConversationStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str()>{status_text(s.as_str())}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"When"
                <select data-testid="range-filter" on:change=choose_range>
                    <option value="">"All time"</option>
                    {Preset::ALL.into_iter().filter(|p| *p != Preset::All).map(|p| view! {
                        <option value=p.label()>{p.label()}</option>
                    }).collect_view()}
                </select>
            </label>
        </div>
        <Loaded resource=data ok={move |page: ConversationPage| {
            if page.entries.is_empty() {
                let empty = if filter.get_untracked() == Filter::default() {
                    "No conversations yet."
                } else {
                    "No conversations match these filters."
                };
                return view! { <p class="empty" data-testid="no-conversations">{empty}</p> }.into_any();
            }
            let next = page.more.then(|| {
                page.entries.last().map(|c| (c.timestamp, c.conversation_id))
            }).flatten();
            let now = now_unix();
            let table = view! {
                <div class="table-wrap">
                    <table class="stack conversations" data-testid="conversations-table">
                        <thead><tr><th>"Question"</th><th>"Who"</th><th>"When"</th><th>"Status"</th><th class="num">"Rows"</th><th class="num">"Cost"</th></tr></thead>
                        <tbody>
                            {page.entries.into_iter().map(|c| view! { <Row c now /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any();
            view! {
                {table}
                <nav class="row pager" aria-label="Pages of conversations">
                    <button type="button" class="secondary" data-testid="newer"
                        disabled=move || page_number() == 1
                        on:click=move |_| pages.update(|p| { if p.len() > 1 { p.pop(); } })>
                        "Newer"
                    </button>
                    <span class="muted" data-testid="page-number">{move || format!("Page {}", page_number())}</span>
                    <button type="button" class="secondary" data-testid="older"
                        disabled=next.is_none()
                        on:click=move |_| if let Some(n) = next { pages.update(|p| p.push(Some(n))) }>
                        "Older"
                    </button>
                </nav>
            }.into_any()
        }} />
    }
}

fn status_text(status: &str) -> &'static str {
    match status {
        "answered" => "Answered",
        "failed" => "Failed",
        "refused" => "Refused",
        _ => "Other",
    }
}

#[component]
fn Row(c: LedgerEntry, now: i64) -> impl IntoView {
    let who = c
        .username
        .clone()
        .map_or_else(|| c.user_id.to_string(), |u| format!("@{u}"));
    let badge = format!("badge status-{}", c.status);
    let has_detail = c.sql.is_some() || c.answer.is_some() || c.error.is_some();
    let detail = has_detail.then(|| {
        let summary = match (&c.sql, &c.answer) {
            (Some(_), Some(_)) => "SQL and answer",
            (Some(_), None) => "SQL",
            (None, Some(_)) => "Answer",
            (None, None) => "Why",
        };
        view! {
            <details class="sql">
                <summary>{summary}</summary>
                {c.sql.clone().map(|sql| view! { <pre><code>{sql}</code></pre> })}
                {c.answer.clone().map(|a| view! { <p class="kept-answer">{a}</p> })}
                {c.error.clone().map(|e| view! { <p class="kept-error">{e}</p> })}
            </details>
        }
    });
    view! {
        <tr data-conversation=c.conversation_id.to_string()>
            <td class="question">{c.question.clone()}{detail}</td>
            <td data-label="Who" class="who-asked">{who}</td>
            <td data-label="When"><time title=when(c.timestamp)>{models::format::relative(c.timestamp, now)}</time></td>
            <td data-label="Status"><span class=badge>{status_text(&c.status)}</span></td>
            <td data-label="Rows" class="num rows">{c.rows.map_or_else(|| "–".to_owned(), models::format::integer)}</td>
            <td data-label="Cost" class="num"><Money amount=c.total_cost /></td>
        </tr>
    }
    .into_any()
}
