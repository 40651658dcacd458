use crate::api::costs::conversations;
use crate::api::org::members;
use crate::components::loaded::{when, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use models::costs::ConversationPage;

/// Conversations, newest first, a page at a time: question, SQL, status, rows
/// and cost; filterable by member.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let filter = RwSignal::new(None::<i64>);
    // Where each page shown so far began (`None`: the newest); the last is shown.
    let pages = RwSignal::new(vec![None::<(i64, i64)>]);
    let data = Resource::new(
        move || (filter.get(), pages.with(|p| p.last().copied().flatten())),
        |(user_id, before)| {
            conversations(
                None,
                None,
                user_id,
                before.map(|b| b.0),
                before.map(|b| b.1),
            )
        },
    );
    let page_number = move || pages.with(Vec::len);
    // The filter lists the current members; an error there only leaves "All".
    let people = Resource::new(|| (), |_| members());
    let choose = move |ev: leptos::ev::Event| {
        filter.set(event_target_value(&ev).parse::<i64>().ok());
        pages.set(vec![None]);
    };
    view! {
        <Title text="Conversations" />
        <h1>"Conversations"</h1>
        <div class="row filter">
            <label for="user-filter">"Asked by"</label>
            <select id="user-filter" data-testid="user-filter" on:change=choose>
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
        </div>
        <Loaded resource=data ok={move |page: ConversationPage| {
            if page.entries.is_empty() {
                return view! { <p class="empty">"No conversations yet."</p> }.into_any();
            }
            let next = page.more.then(|| {
                page.entries.last().map(|c| (c.timestamp, c.conversation_id))
            }).flatten();
            let list = page.entries;
            view! {
                <div class="table-wrap">
                    <table data-testid="conversations-table">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"Question and SQL"</th><th>"Status"</th><th class="num">"Rows"</th><th class="num">"Tokens in / out"</th><th class="num">"Cost"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|c| view! {
                                <tr>
                                    <td>{when(c.timestamp)}</td>
                                    <td>{c.username.clone().map_or_else(|| c.user_id.to_string(), |u| format!("@{u}"))}</td>
                                    <td class="question">
                                        {c.question.clone()}
                                        {c.sql.clone().map(|sql| view! {
                                            <details class="sql">
                                                <summary>"SQL"</summary>
                                                <pre><code>{sql}</code></pre>
                                            </details>
                                        })}
                                    </td>
                                    <td>{c.status.clone()}</td>
                                    <td class="num">{c.rows.map_or_else(|| "–".to_owned(), |n| n.to_string())}</td>
                                    <td class="num">{format!("{} / {}", c.input_tokens, c.output_tokens)}</td>
                                    <td class="num">{format!("${}", c.total_cost.to_decimal_string())}</td>
                                </tr>
                            }.into_any()).collect_view()}
                        </tbody>
                    </table>
                </div>
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
