use crate::api::auth::{verify, Logout};
use crate::components::error_box::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;
use models::auth::SessionInfo;
use models::AppError;

/// The signed-in page: who is signed in. Sends anyone else to /login.
#[component]
pub fn HomePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| verify());
    view! {
        <Title text="Dashboard" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                me.get()
                    .map(|answer| match answer {
                        Ok(info) => view! { <SignedIn info /> }.into_any(),
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
fn SignedIn(info: SessionInfo) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            navigate("/login", Default::default());
        }
    });
    let organization = info
        .org_name
        .clone()
        .unwrap_or_else(|| "no organization".to_owned());
    view! {
        <section class="card">
            <h1>"Welcome to Tabletalk"</h1>
            <p class="signed-in">
                "Signed in as " <strong data-testid="username">{info.username.clone()}</strong>
                " (" <span data-testid="role">{info.role.as_str()}</span> ", " {organization} ")."
            </p>
            <button type="button" on:click=move |_| { logout.dispatch(Logout {}); }>
                "Sign out"
            </button>
        </section>
    }
}
