mod functions;

use crate::api::databases::{
    databases, AllowDatabaseFunctions, CreateDatabase, RemoveDatabase, SelectDatabase, TestDatabase,
};
use crate::components::confirm::ConfirmRemove;
use crate::components::layout::may;
use crate::components::loaded::{date, Loaded};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use models::targets::{ConnectionTest, DatabaseInfo, DatabaseScope, NewDatabase, TargetKind};
use models::Action;

/// Databases with redacted connection details; add (after a test), remove, select.
#[component]
pub fn DatabasesPage() -> impl IntoView {
    let create = ServerAction::<CreateDatabase>::new();
    let remove = ServerAction::<RemoveDatabase>::new();
    let select = ServerAction::<SelectDatabase>::new();
    let allow = ServerAction::<AllowDatabaseFunctions>::new();
    let data = Resource::new(
        move || {
            (
                create.version().get(),
                remove.version().get(),
                select.version().get(),
                allow.version().get(),
            )
        },
        |_| databases(),
    );
    let manage = may(Action::AddDatabases);
    let can_remove = may(Action::RemoveDatabases);
    view! {
        <Title text="Databases" />
        <h1>"Databases"</h1>
        {manage.then(|| view! { <AddDatabaseForm create /> })}
        {move || {
            let failed = remove.value().get().and_then(Result::err).or_else(|| select.value().get().and_then(Result::err));
            failed.map(|e| view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> })
        }}
        <Loaded resource=data ok={move |list: Vec<DatabaseInfo>| view! { <DatabaseTable list remove select can_remove /> }} />
        {manage.then(|| view! {
            <Loaded resource=data ok={move |list: Vec<DatabaseInfo>| view! { <functions::AllowedFunctions list action=allow /> }} />
        })}
    }
}

/// A kind as the form's select offers it: its label, and where it lives when it is a file.
fn kind_option(kind: TargetKind) -> String {
    match kind.location_note() {
        Some(note) => format!("{} ({note})", kind.label()),
        None => kind.label().to_owned(),
    }
}

#[component]
fn AddDatabaseForm(create: ServerAction<CreateDatabase>) -> impl IntoView {
    let test = ServerAction::<TestDatabase>::new();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(TargetKind::Postgres.as_str().to_owned());
    let connection = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = move || test.pending().get() || create.pending().get();
    let placeholder =
        move || TargetKind::parse(&kind.get()).map_or("", TargetKind::example_connection_string);
    // A changed connection string must be tested again before it can be added.
    let tested_for = RwSignal::new(None::<String>);
    let tested_ok = move || {
        matches!(test.value().get(), Some(Ok(_)))
            && tested_for.get().as_deref() == Some(connection.get().as_str())
    };
    let check = move || -> Option<String> {
        if models::targets::validate_database_name(&name.get_untracked()).is_err() {
            return Some("Give the database a name (up to 100 characters).".into());
        }
        if connection.get_untracked().trim().is_empty() {
            return Some("Paste the connection string.".into());
        }
        None
    };
    let on_test = move |_| {
        if busy() {
            return;
        }
        if let Some(p) = check() {
            problem.set(Some(p));
            return;
        }
        problem.set(None);
        tested_for.set(Some(connection.get_untracked()));
        test.dispatch(TestDatabase {
            connection_string: connection.get_untracked(),
        });
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy() || !tested_ok() {
            return;
        }
        create.dispatch(CreateDatabase {
            database: NewDatabase {
                name: name.get_untracked(),
                connection_string: connection.get_untracked(),
                scope: None,
            },
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            connection.set(String::new());
            tested_for.set(None);
        }
    });
    view! {
        <form class="card" on:submit=on_submit data-testid="add-database">
            <h2>"Add a database"</h2>
            <label for="db-name">"Name"</label>
            <input id="db-name" maxlength="100" bind:value=name required placeholder="Sales" />
            <label for="db-kind">"Kind"</label>
            <select id="db-kind" bind:value=kind>
                {TargetKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{kind_option(k)}</option> }).collect_view()}
            </select>
            <label for="db-connection">"Connection string"</label>
            <input id="db-connection" type="password" autocomplete="off" spellcheck="false" bind:value=connection required placeholder=placeholder />
            <p class="muted small">"Stored encrypted and never shown again; use a login that can only read."</p>
            <div class="row">
                <button type="button" class="secondary" on:click=on_test disabled=busy>
                    {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                </button>
                <button type="submit" disabled=move || busy() || !tested_ok()>
                    {move || if create.pending().get() { "Adding…" } else { "Add database" }}
                </button>
            </div>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            {move || test.value().get().map(|answer| match answer {
                Ok(t) => view! { <TestSummary t /> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert" data-testid="test-error">{e.message().to_owned()}</p> }.into_any(),
            })}
            {move || create.value().get().map(|answer| match answer {
                Ok(added) => view! { <p class="notice" role="status">{format!("Added {}.", added.database.name)}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message().to_owned()}</p> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn TestSummary(t: ConnectionTest) -> impl IntoView {
    view! {
        <div class="notice" role="status" data-testid="test-summary">
            <p><strong>"Connected"</strong>{format!(" to {} ({})", t.summary, t.server_version)}</p>
            <p>{t.schema.to_string()}</p>
            {(!t.sample_tables.is_empty()).then(|| view! { <p class="muted">"Tables: " {t.sample_tables.join(", ")}</p> })}
        </div>
    }
}

#[component]
fn DatabaseTable(
    list: Vec<DatabaseInfo>,
    remove: ServerAction<RemoveDatabase>,
    select: ServerAction<SelectDatabase>,
    can_remove: bool,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No databases yet."</p> }.into_any();
    }
    let may_remove_org = may(Action::RemoveDatabases);
    view! {
        <div class="table-wrap">
            <table class="stack" data-testid="databases-table">
                <thead><tr><th>"Name"</th><th>"Connection"</th><th>"Whose"</th><th>"Added"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    {list.into_iter().map(|d| {
                        let id = d.connection_id.as_str().to_owned();
                        let id_for_select = id.clone();
                        let removable = can_remove && (d.scope == DatabaseScope::Personal || may_remove_org);
                        view! {
                            <tr class:selected=d.selected>
                                <td data-label="Name">{d.name.clone()}{d.selected.then(|| view! { <span class="badge active">"active"</span> })}</td>
                                <td data-label="Connection"><code>{d.summary.to_string()}</code></td>
                                <td data-label="Whose">{match d.scope { DatabaseScope::Organization => "organization", DatabaseScope::Personal => "personal" }}</td>
                                <td data-label="Added">{date(d.created_at)}</td>
                                <td class="actions">
                                    {(!d.selected).then(|| view! {
                                        <button type="button" class="secondary" on:click=move |_| { select.dispatch(SelectDatabase { connection_id: id_for_select.clone() }); }>"Use"</button>
                                    })}
                                    {removable.then(|| view! {
                                        <ConfirmRemove on_confirm=move |()| { remove.dispatch(RemoveDatabase { connection_id: id.clone() }); } />
                                    })}
                                </td>
                            </tr>
                        }
                        .into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
