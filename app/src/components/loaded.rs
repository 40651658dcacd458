use crate::components::error_box::ErrorBox;
use leptos::prelude::*;
use models::AppError;

/// Renders a resource: a loading line, then `ok` with the value, or the error with a retry.
#[component]
pub fn Loaded<T, V, F>(resource: Resource<Result<T, AppError>>, ok: F) -> impl IntoView
where
    T: Clone + Send + Sync + 'static + serde::Serialize + serde::de::DeserializeOwned,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + Clone + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let ok = ok.clone();
                resource
                    .get()
                    .map(move |answer| match answer {
                        Ok(value) => ok(value).into_any(),
                        Err(error) => {
                            view! { <ErrorBox error on_retry=move |_| resource.refetch() /> }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

/// "3 Jan 2026 14:05 UTC" for Unix seconds.
pub fn when(secs: i64) -> String {
    let day = models::Day::of_unix(secs);
    let s = secs.rem_euclid(86_400);
    format!("{day} {:02}:{:02} UTC", s / 3600, s / 60 % 60)
}

/// "2026-01-03" for Unix seconds.
pub fn date(secs: i64) -> String {
    models::Day::of_unix(secs).to_string()
}

/// Now, in Unix seconds: the browser's clock once hydrated, the server's
/// while rendering (for "today" and "5 min ago").
pub fn now_unix() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

/// Today (UTC), by [`now_unix`].
pub fn today() -> models::Day {
    models::Day::of_unix(now_unix())
}
