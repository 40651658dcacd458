use crate::api::auth::{verify, Logout};
use crate::components::error_box::ErrorBox;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_navigate;
use models::auth::SessionInfo;
use models::{allowed, Action, AppError};

/// The signed-in frame: who is signed in, the navigation their role allows,
/// and the page. Anyone not signed in is sent to /login.
#[component]
pub fn Layout() -> impl IntoView {
    let me = Resource::new(|| (), |_| verify());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                me.get()
                    .map(|answer| match answer {
                        Ok(info) => view! { <Frame info /> }.into_any(),
                        Err(AppError::Unauthorized { .. }) => {
                            view! { <Redirect path="/login" /> }.into_any()
                        }
                        Err(error) => {
                            view! { <ErrorBox error on_retry=move |_| me.refetch() /> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Frame(info: SessionInfo) -> impl IntoView {
    provide_context(info.clone());
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            navigate("/login", Default::default());
        }
    });
    let role = info.role;
    let links: Vec<(&'static str, &'static str)> = [
        ("/", "Overview", Action::ViewOverview),
        ("/ask", "Ask", Action::AskQuestions),
        ("/members", "Members", Action::ViewMembers),
        ("/databases", "Databases", Action::ViewDatabases),
        ("/invitations", "Invitations", Action::ViewInvites),
        ("/costs", "Costs", Action::ViewCosts),
        ("/conversations", "Conversations", Action::ViewCosts),
        ("/audit", "Audit log", Action::ViewAuditLog),
        ("/settings", "Settings", Action::ManageOwnCredentials),
    ]
    .into_iter()
    .filter(|(_, _, action)| allowed(role, *action))
    .map(|(href, label, _)| (href, label))
    .collect();
    let organization = info
        .org_name
        .clone()
        .unwrap_or_else(|| "No organization".into());
    // On a phone the pages fold into a menu button; following a link closes it.
    let menu = RwSignal::new(false);
    view! {
        <header class="topbar">
            <div class="brand">
                <strong>"Tabletalk"</strong>
                <span class="muted org-name" data-testid="org-name">{organization}</span>
            </div>
            <button type="button" class="secondary menu-button" data-testid="menu-button"
                aria-expanded=move || menu.get().to_string() aria-controls="dashboard-pages"
                on:click=move |_| menu.update(|open| *open = !*open)>
                <span aria-hidden="true">"☰ "</span>"Pages"
            </button>
            <nav aria-label="Dashboard" class="pages" class:open=move || menu.get()>
                <ul class="nav" id="dashboard-pages">
                    {links
                        .into_iter()
                        .map(|(href, label)| view! {
                            <li on:click=move |_| menu.set(false)><A href=href exact=true>{label}</A></li>
                        })
                        .collect_view()}
                </ul>
            </nav>
            <div class="who">
                <span data-testid="username">{info.username.clone()}</span>
                " · "
                <span data-testid="role">{info.role.as_str()}</span>
                <button type="button" class="secondary" on:click=move |_| { logout.dispatch(Logout {}); }>
                    "Sign out"
                </button>
            </div>
        </header>
        <section class="content">
            <Outlet />
        </section>
    }
}

/// The signed-in person, provided by [`Layout`].
pub fn session() -> Option<SessionInfo> {
    use_context::<SessionInfo>()
}

/// Whether the signed-in person may do `action`.
pub fn may(action: Action) -> bool {
    session().is_some_and(|s| allowed(s.role, action))
}
