use crate::api::org::{members, AddMember, RemoveMember};
use crate::components::confirm::ConfirmRemove;
use crate::components::layout::may;
use crate::components::loaded::{date, Loaded};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use models::org::Member;
use models::{Action, Role};

/// Members; owners add by Telegram user id and remove with a confirmation.
#[component]
pub fn MembersPage() -> impl IntoView {
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let data = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| members(),
    );
    let manage = may(Action::AddMembers);
    view! {
        <Title text="Members" />
        <h1>"Members"</h1>
        {manage.then(|| view! { <AddMemberForm add /> })}
        {move || remove.value().get().and_then(Result::err).map(|e| view! {
            <p class="form-error" role="alert">{e.message().to_owned()}</p>
        })}
        <Loaded resource=data ok={move |list: Vec<Member>| view! { <MemberTable list remove manage /> }} />
    }
}

#[component]
fn AddMemberForm(add: ServerAction<AddMember>) -> impl IntoView {
    let user_id = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let pending = add.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        match user_id.get_untracked().trim().parse::<i64>() {
            Ok(id) if id > 0 => {
                problem.set(None);
                add.dispatch(AddMember { user_id: id });
            }
            _ => problem.set(Some(
                "A Telegram user id is a whole number, like 123456789.".into(),
            )),
        }
    };
    view! {
        <form class="card inline-form" on:submit=on_submit>
            <label for="new-member">"Add a member by Telegram user id"</label>
            <div class="row">
                <input id="new-member" inputmode="numeric" placeholder="123456789" bind:value=user_id required />
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Adding…" } else { "Add member" }}
                </button>
            </div>
            <p class="muted small">"They must have sent /start to the bot first."</p>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            {move || add.value().get().map(|answer| match answer {
                Ok(added) => view! {
                    <p class="notice" role="status" data-testid="member-added">{added.message}</p>
                }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn MemberTable(
    list: Vec<Member>,
    remove: ServerAction<RemoveMember>,
    manage: bool,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No members yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="stack" data-testid="members-table">
                <thead><tr><th>"Name"</th><th>"Telegram id"</th><th>"Role"</th><th>"Joined"</th>{manage.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}</tr></thead>
                <tbody>
                    {list.into_iter().map(|m| {
                        let removable = manage && m.role != Role::Owner;
                        let id = m.user_id;
                        view! {
                            <tr>
                                <td data-label="Name">{m.name.clone()}{m.username.clone().map(|u| view! { <span class="muted">" @"{u}</span> })}</td>
                                <td data-label="Telegram id">{m.user_id}</td>
                                <td data-label="Role">{m.role.as_str()}</td>
                                <td data-label="Joined">{date(m.joined_at)}</td>
                                {manage.then(|| view! {
                                    <td class="actions">
                                        {removable.then(|| view! {
                                            <ConfirmRemove on_confirm=move |()| { remove.dispatch(RemoveMember { user_id: id }); } />
                                        })}
                                    </td>
                                })}
                            </tr>
                        }
                        .into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
