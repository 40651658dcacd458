//! The functions of a database's own that questions may use, by name: the
//! guard allows only functions without side effects or the engine's documented
//! built-ins (issue 29), so a team's own `fiscal_quarter()` waits for its owner.

use crate::api::databases::AllowDatabaseFunctions;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use models::targets::DatabaseInfo;

/// One form per database the caller manages.
#[component]
pub fn AllowedFunctions(
    list: Vec<DatabaseInfo>,
    action: ServerAction<AllowDatabaseFunctions>,
) -> impl IntoView {
    if list.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="card" data-testid="allowed-functions">
            <h2>"Your databases' own functions"</h2>
            <p class="muted">
                "Questions may use every built-in function of the database that has no side effects. "
                "Functions your team wrote run only when you name them here (comma-separated)."
            </p>
            {list.into_iter().map(|d| view! { <FunctionsForm d action /> }).collect_view()}
            {move || action.value().get().map(|outcome| match outcome {
                Ok(d) => view! { <p class="notice" role="status">{format!("Saved for {}.", d.name)}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}

#[component]
fn FunctionsForm(d: DatabaseInfo, action: ServerAction<AllowDatabaseFunctions>) -> impl IntoView {
    let id = d.connection_id.as_str().to_owned();
    let field = format!("functions-{id}");
    let names = RwSignal::new(d.allowed_functions.join(", "));
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let functions = names
            .get_untracked()
            .split([',', ' ', '\n'])
            .filter(|name| !name.trim().is_empty())
            .map(|name| name.trim().to_owned())
            .collect();
        action.dispatch(AllowDatabaseFunctions {
            connection_id: id.clone(),
            functions,
        });
    };
    view! {
        <form class="inline-form" on:submit=on_submit>
            <label for=field.clone()>{d.name.clone()}</label>
            <input id=field type="text" bind:value=names placeholder="e.g. fiscal_quarter, net_price" />
            <button type="submit" class="secondary" disabled=move || action.pending().get()>"Save"</button>
        </form>
    }
}
