use crate::api::org::audit_log;
use crate::components::loaded::{when, Loaded};
use leptos::prelude::*;
use leptos_meta::Title;
use models::org::AuditEntry;

/// The organization's audit log (owners), newest first.
#[component]
pub fn AuditPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| audit_log());
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <p class="muted">{format!("The newest {} entries, newest first.", models::org::MAX_AUDIT_ENTRIES)}</p>
        <Loaded resource=data ok={|list: Vec<AuditEntry>| {
            if list.is_empty() {
                return view! { <p class="empty">"Nothing has happened yet."</p> }.into_any();
            }
            view! {
                <div class="table-wrap">
                    <table class="stack" data-testid="audit-table">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| view! {
                                <tr>
                                    <td data-label="When">{when(e.created_at)}</td>
                                    <td data-label="Who">{e.actor_id.map_or_else(|| "operator".to_owned(), |id| id.to_string())}</td>
                                    <td data-label="What">{e.action.replace('_', " ")}</td>
                                    <td data-label="Detail">{e.target.unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }} />
    }
}
