use crate::api::account::{budget, ChangePassword, SetBudget};
use crate::components::layout::may;
use crate::components::loaded::Loaded;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use models::Action;

/// Change password; the monthly budget for owners.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <PasswordForm />
        {may(Action::ManageBudget).then(|| view! { <BudgetForm /> })}
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let pending = change.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let (n, a) = (new.get_untracked(), again.get_untracked());
        if n.chars().count() < 12 {
            problem.set(Some(
                "The new password needs at least 12 characters.".into(),
            ));
        } else if n != a {
            problem.set(Some("The two new passwords differ.".into()));
        } else {
            problem.set(None);
            change.dispatch(ChangePassword {
                current: current.get_untracked(),
                new: n,
            });
        }
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            current.set(String::new());
            new.set(String::new());
            again.set(String::new());
        }
    });
    view! {
        <form class="card" on:submit=on_submit>
            <h2>"Change password"</h2>
            <label for="current-password">"Current password"</label>
            <input id="current-password" type="password" autocomplete="current-password" bind:value=current required />
            <label for="new-password">"New password (at least 12 characters)"</label>
            <input id="new-password" type="password" autocomplete="new-password" minlength="12" bind:value=new required />
            <label for="new-password-again">"New password again"</label>
            <input id="new-password-again" type="password" autocomplete="new-password" bind:value=again required />
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { "Saving…" } else { "Change password" }}
            </button>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            {move || change.value().get().map(|answer| match answer {
                Ok(()) => view! { <p class="notice" role="status">"Password changed. Your other sessions were signed out."</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn BudgetForm() -> impl IntoView {
    let set = ServerAction::<SetBudget>::new();
    let current = Resource::new(move || set.version().get(), |_| budget());
    let amount = RwSignal::new(String::new());
    let pending = set.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let text = amount.get_untracked();
        set.dispatch(SetBudget { usd: Some(text) });
    };
    view! {
        <form class="card" on:submit=on_submit>
            <h2>"Monthly budget"</h2>
            <Loaded resource=current ok={|b: Option<String>| view! {
                <p class="muted" data-testid="budget-now">{match b {
                    Some(b) => {
                        let shown = models::Usd::parse(&b).map_or(b, models::format::money);
                        format!("Now: {shown} a month. Members are warned at 80% and questions stop at 100%.")
                    }
                    None => "No budget is set.".to_owned(),
                }}</p>
            }} />
            <label for="budget">"Budget in USD (empty to remove)"</label>
            <input id="budget" inputmode="decimal" placeholder="250.00" bind:value=amount />
            <button type="submit" disabled=move || pending.get()>"Save budget"</button>
            {move || set.value().get().map(|answer| match answer {
                Ok(()) => view! { <p class="notice" role="status">"Budget saved."</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> }.into_any(),
            })}
        </form>
    }
}
