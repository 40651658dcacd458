use leptos::prelude::*;
use models::AppError;

/// A failed load: the message for a person and a way to try again.
#[component]
pub fn ErrorBox(error: AppError, #[prop(into)] on_retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="error-box" role="alert">
            <p>{error.message().to_owned()}</p>
            <button type="button" on:click=move |_| on_retry.run(())>
                "Try again"
            </button>
        </div>
    }
}
