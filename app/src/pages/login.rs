use crate::api::auth::Login;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// The sign-in form. It submits JSON through the `login` server function, so
/// it is enabled only once the page is hydrated (the password never goes into
/// a URL or a plain form post).
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let pending = login.pending();
    let result = login.value();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = result.get() {
            navigate("/", Default::default());
        }
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        login.dispatch(Login {
            username: username.get_untracked(),
            password: password.get_untracked(),
        });
    };
    let error = move || {
        result.get().and_then(Result::err).map(|e| {
            view! {
                <p class="form-error" role="alert">
                    {e.message().to_owned()}
                </p>
            }
        })
    };

    view! {
        <Title text="Sign in" />
        <section class="card auth-card">
            <h1>"Sign in to Tabletalk"</h1>
            <p class="muted">"Use the dashboard credentials the bot gave you."</p>
            <form on:submit=on_submit method="post">
                <label for="username">"Username"</label>
                <input
                    id="username"
                    name="username"
                    autocomplete="username"
                    required
                    maxlength="100"
                    bind:value=username
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    bind:value=password
                />
                <button type="submit" disabled=move || !hydrated.get() || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
                {error}
            </form>
        </section>
    }
}
