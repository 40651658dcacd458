use leptos::prelude::*;

/// "Remove", then "Confirm removal" / "Cancel": nothing is removed by one stray click.
#[component]
pub fn ConfirmRemove(#[prop(into)] on_confirm: Callback<()>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    view! {
        <Show when=move || confirming.get() fallback=move || view! {
            <button type="button" class="secondary" on:click=move |_| confirming.set(true)>"Remove"</button>
        }>
            <button type="button" class="danger" on:click=move |_| on_confirm.run(())>"Confirm removal"</button>
            <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
        </Show>
    }
}
