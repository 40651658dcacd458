use crate::api::costs::conversations;
use crate::components::loaded::{when, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use models::costs::LedgerEntry;

/// Conversations, newest first, filterable by user id.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let user = RwSignal::new(String::new());
    let filter = RwSignal::new(None::<i64>);
    let data = Resource::new(
        move || filter.get(),
        |user_id| conversations(None, None, user_id),
    );
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filter.set(user.get_untracked().trim().parse::<i64>().ok());
    };
    view! {
        <Title text="Conversations" />
        <h1>"Conversations"</h1>
        <form class="row filter" on:submit=apply>
            <label for="user-filter">"Telegram user id"</label>
            <input id="user-filter" inputmode="numeric" placeholder="all users" bind:value=user />
            <button type="submit" class="secondary">"Filter"</button>
        </form>
        <Loaded resource=data ok={|list: Vec<LedgerEntry>| {
            if list.is_empty() {
                return view! { <p class="empty">"No conversations yet."</p> }.into_any();
            }
            view! {
                <div class="table-wrap">
                    <table data-testid="conversations-table">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"Question"</th><th>"Status"</th><th class="num">"Steps"</th><th class="num">"Tokens in / out"</th><th class="num">"Cost"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|c| view! {
                                <tr>
                                    <td>{when(c.timestamp)}</td>
                                    <td>{c.username.clone().map_or_else(|| c.user_id.to_string(), |u| format!("@{u}"))}</td>
                                    <td class="question">{c.question.clone()}</td>
                                    <td>{c.status.clone()}</td>
                                    <td class="num">{c.stages}</td>
                                    <td class="num">{format!("{} / {}", c.input_tokens, c.output_tokens)}</td>
                                    <td class="num">{format!("${}", c.total_cost.to_decimal_string())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }} />
    }
}
