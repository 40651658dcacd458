//! Money and counts as people read them (`models::format`), the exact value
//! in the title (hover, screen readers' description).

use leptos::prelude::*;
use models::Usd;

/// `$8.45`, titled with every decimal (`$8.44869104`).
#[component]
pub fn Money(amount: Usd) -> impl IntoView {
    view! { <span title=amount.to_string()>{models::format::money(amount)}</span> }
}

/// `12,737,946`.
#[component]
pub fn Count(n: i64) -> impl IntoView {
    view! { <span>{models::format::integer(n)}</span> }
}
