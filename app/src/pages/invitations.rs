use crate::api::org::{bot_username, invitations, CreateInvitation, RevokeInvitation};
use crate::components::layout::may;
use crate::components::loaded::{date, Loaded};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use models::org::{Invitation, InviteStatus};
use models::Action;

/// Invitations with their status; owners create (uses, days) and revoke.
#[component]
pub fn InvitationsPage() -> impl IntoView {
    let create = ServerAction::<CreateInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let data = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| invitations(),
    );
    let bot = Resource::new(|| (), |_| bot_username());
    let manage = may(Action::CreateInvites);
    view! {
        <Title text="Invitations" />
        <h1>"Invitations"</h1>
        {manage.then(|| view! { <CreateForm create bot /> })}
        {move || revoke.value().get().and_then(Result::err).map(|e| view! {
            <p class="form-error" role="alert">{e.message().to_owned()}</p>
        })}
        <Loaded resource=data ok={move |list: Vec<Invitation>| view! { <InvitationTable list revoke manage /> }} />
    }
}

/// The deep link that opens the bot with the code, when the bot's name is configured.
fn deep_link(bot: Option<&str>, code: &str) -> Option<String> {
    bot.map(|b| models::InviteCode::deep_link(b, code))
}

#[component]
fn CreateForm(
    create: ServerAction<CreateInvitation>,
    bot: Resource<Result<Option<String>, models::AppError>>,
) -> impl IntoView {
    let uses = RwSignal::new("5".to_owned());
    let days = RwSignal::new("7".to_owned());
    let problem = RwSignal::new(None::<String>);
    let pending = create.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let max_uses = uses.get_untracked().trim().parse::<i64>();
        let valid_days = days.get_untracked().trim().parse::<i64>();
        match (max_uses, valid_days) {
            (Ok(u), Ok(d))
                if (1..=models::org::MAX_INVITE_USES).contains(&u)
                    && (1..=models::org::MAX_INVITE_DAYS).contains(&d) =>
            {
                problem.set(None);
                create.dispatch(CreateInvitation {
                    max_uses: u,
                    days: d,
                });
            }
            _ => problem.set(Some(format!(
                "Uses must be 1 to {} and days 1 to {}.",
                models::org::MAX_INVITE_USES,
                models::org::MAX_INVITE_DAYS
            ))),
        }
    };
    view! {
        <form class="card inline-form" on:submit=on_submit>
            <div class="row">
                <label>"Uses" <input type="number" min="1" max=models::org::MAX_INVITE_USES.to_string() bind:value=uses required /></label>
                <label>"Valid for (days)" <input type="number" min="1" max=models::org::MAX_INVITE_DAYS.to_string() bind:value=days required /></label>
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create invitation" }}
                </button>
            </div>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            {move || create.value().get().map(|answer| match answer {
                Ok(inv) => {
                    let code = inv.code.as_str().to_owned();
                    let name = bot.get().and_then(Result::ok).flatten();
                    let link = deep_link(name.as_deref(), &code);
                    view! {
                        <div class="notice" role="status" data-testid="new-invitation">
                            <p>"Invitation code: " <code data-testid="invite-code">{code.clone()}</code></p>
                            {match link {
                                Some(link) => view! {
                                    <p>"Share this link: " <a href=link.clone() data-testid="invite-link">{link.clone()}</a></p>
                                    <div class="row">
                                        <input class="copy-field" readonly value=link.clone() aria-label="Invitation link to copy" on:focus=|ev| select_all(&ev) />
                                        <CopyButton text=link />
                                    </div>
                                }.into_any(),
                                None => view! {
                                    <p class="muted">"They send " <code>{format!("/join {code}")}</code> " to the bot."</p>
                                }.into_any(),
                            }}
                        </div>
                    }.into_any()
                }
                Err(e) => view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> }.into_any(),
            })}
        </form>
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
fn CopyButton(text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        copy_to_clipboard(&text);
        copied.set(true);
    };
    view! {
        <button type="button" class="secondary" on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy link" }}
        </button>
    }
}

/// `navigator.clipboard.writeText(text)`, where the browser offers it.
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use js_sys::{Function, Reflect};
        use leptos::wasm_bindgen::JsCast;
        let navigator = Reflect::get(&window(), &"navigator".into()).ok();
        let clipboard = navigator.and_then(|n| Reflect::get(&n, &"clipboard".into()).ok());
        let write = clipboard.as_ref().and_then(|c| {
            Reflect::get(c, &"writeText".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
        });
        if let (Some(clipboard), Some(write)) = (clipboard, write) {
            drop(write.call1(&clipboard, &text.into()));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// Selects a read-only field's text so it can be copied in one gesture.
fn select_all(ev: &leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
        {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

fn status_text(status: InviteStatus) -> &'static str {
    match status {
        InviteStatus::Active => "active",
        InviteStatus::Expired => "expired",
        InviteStatus::UsedUp => "used up",
        InviteStatus::Revoked => "revoked",
    }
}

#[component]
fn InvitationTable(
    list: Vec<Invitation>,
    revoke: ServerAction<RevokeInvitation>,
    manage: bool,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No invitations yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="stack" data-testid="invitations-table">
                <thead><tr><th>"Code"</th><th>"Status"</th><th>"Uses"</th><th>"Expires"</th><th>"Created"</th>{manage.then(|| view! { <th><span class="sr-only">"Actions"</span></th> })}</tr></thead>
                <tbody>
                    {list.into_iter().map(|inv| {
                        let code = inv.code.as_str().to_owned();
                        let active = inv.status == InviteStatus::Active;
                        view! {
                            <tr>
                                <td data-label="Code"><code>{code.clone()}</code></td>
                                <td data-label="Status"><span class=format!("badge {}", status_text(inv.status).replace(' ', "-"))>{status_text(inv.status)}</span></td>
                                <td data-label="Uses">{format!("{} of {}", inv.current_uses, inv.max_uses)}</td>
                                <td data-label="Expires">{date(inv.expires_at)}</td>
                                <td data-label="Created">{date(inv.created_at)}</td>
                                {manage.then(|| view! {
                                    <td class="actions">
                                        {active.then(|| {
                                            let code = code.clone();
                                            view! {
                                                <button type="button" class="secondary" on:click=move |_| { revoke.dispatch(RevokeInvitation { code: code.clone() }); }>"Revoke"</button>
                                            }
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
