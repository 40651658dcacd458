//! Ask: a question to one of the person's databases, its stages arriving as
//! they happen (server-sent events, `api::ask`), then the answer, the SQL,
//! the rows, a chart when the rows make one, and what each stage cost.
//! Follow-up questions use the conversation's memory (the server keeps the
//! last turns for five minutes).

#[cfg(feature = "hydrate")]
use crate::api::ask::AskEvent;
use crate::api::costs::ChartData;
use crate::api::databases::databases;
use crate::components::chart::Chart;
use crate::components::layout::may;
use crate::components::loaded::Loaded;
use crate::components::money::Money;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::{Script, Title};
use models::ask::{Answer, Progress, MAX_QUESTION_CHARS};
use models::costs::{ConversationStatus, Stage};
use models::targets::DatabaseInfo;
use models::{Action, AppError};

/// Most rows the page shows in its table (the rest are counted).
const ROWS_SHOWN: usize = 100;

/// One question on the page and what has arrived for it so far.
#[derive(Debug, Clone, PartialEq)]
struct Exchange {
    number: usize,
    question: String,
    database: String,
    steps: Vec<String>,
    outcome: Option<Result<(Answer, Option<ChartData>), AppError>>,
}

#[component]
pub fn AskPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| databases());
    view! {
        <Title text="Ask" />
        // Answers that make a chart are drawn by ECharts (cached for a day).
        <Script src="/echarts.min.js" defer="true" />
        <h1>"Ask"</h1>
        <Loaded resource=list ok={move |list: Vec<DatabaseInfo>| view! { <Asker list /> }} />
    }
}

#[component]
fn Asker(list: Vec<DatabaseInfo>) -> impl IntoView {
    if list.is_empty() {
        let hint = if may(Action::AddDatabases) {
            "Add a database on the Databases page first, then ask it anything."
        } else {
            "Your organization has no database yet: ask an owner to add one."
        };
        return view! { <p class="empty" data-testid="ask-no-database">{hint}</p> }.into_any();
    }
    let first = list
        .iter()
        .find(|d| d.selected)
        .unwrap_or(&list[0])
        .connection_id
        .as_str()
        .to_owned();
    let database = RwSignal::new(first);
    let question = RwSignal::new(String::new());
    let exchanges = RwSignal::new(Vec::<Exchange>::new());
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let names: Vec<(String, String)> = list
        .iter()
        .map(|d| (d.connection_id.as_str().to_owned(), d.name.clone()))
        .collect();
    let name_of = move |id: &str| {
        names
            .iter()
            .find(|(i, _)| i == id)
            .map_or_else(String::new, |(_, n)| n.clone())
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let text = question.get_untracked().trim().to_owned();
        if text.is_empty() {
            problem.set(Some("Type a question first.".into()));
            return;
        }
        let chars = text.chars().count();
        if chars > MAX_QUESTION_CHARS {
            problem.set(Some(format!(
                "A question is at most {MAX_QUESTION_CHARS} characters; this one has {chars}."
            )));
            return;
        }
        problem.set(None);
        let db = database.get_untracked();
        let number = exchanges.with_untracked(Vec::len) + 1;
        exchanges.update(|list| {
            list.push(Exchange {
                number,
                question: text.clone(),
                database: name_of(&db),
                steps: Vec::new(),
                outcome: None,
            })
        });
        busy.set(true);
        question.set(String::new());
        // The question goes in a POST body; the stream is opened with its ticket.
        leptos::task::spawn_local(async move {
            match crate::api::ask::start_ask(text, Some(db)).await {
                Ok(ticket) => listen(
                    crate::api::ask::stream_url(&ticket),
                    number,
                    exchanges,
                    busy,
                ),
                Err(error) => {
                    exchanges.update(|list| {
                        if let Some(e) = list.iter_mut().find(|e| e.number == number) {
                            e.outcome = Some(Err(error.clone()));
                        }
                    });
                    busy.set(false);
                }
            }
        });
    };
    let options = list
        .into_iter()
        .map(|d| {
            let id = d.connection_id.as_str().to_owned();
            view! { <option value=id>{d.name.clone()}</option> }
        })
        .collect_view();
    view! {
        <form class="card ask-form" on:submit=on_submit data-testid="ask-form">
            <label for="ask-question">"Your question"</label>
            <textarea id="ask-question" rows="3" maxlength=MAX_QUESTION_CHARS.to_string()
                placeholder="What were our top 5 products by revenue last month?"
                prop:value=move || question.get()
                on:input=move |ev| question.set(event_target_value(&ev))></textarea>
            <div class="row">
                <label for="ask-database">"Database"</label>
                <select id="ask-database" prop:value=move || database.get()
                    on:change=move |ev| database.set(event_target_value(&ev))>
                    {options}
                </select>
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Asking…" } else { "Ask" }}
                </button>
            </div>
            <p class="muted small">"Follow-up questions remember the last few turns for five minutes."</p>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
        </form>
        <div class="exchanges" data-testid="exchanges">
            <For
                each=move || exchanges.get().into_iter().rev()
                key=|e| (e.number, e.steps.len(), e.outcome.is_some())
                children=|e| view! { <ExchangeView e /> }
            />
        </div>
    }
    .into_any()
}

/// Reads the question's events into its exchange (in the browser only).
#[cfg(feature = "hydrate")]
fn listen(url: String, number: usize, exchanges: RwSignal<Vec<Exchange>>, busy: RwSignal<bool>) {
    use futures_util::StreamExt;
    use gloo_net::eventsource::futures::EventSource;
    let update = move |f: &dyn Fn(&mut Exchange)| {
        exchanges.update(|list| {
            if let Some(e) = list.iter_mut().find(|e| e.number == number) {
                f(e);
            }
        })
    };
    let lost = || AppError::Unavailable {
        message: "The connection to Tabletalk was lost. If the question was being answered, \
                      it still is: its answer will be on the Conversations page."
            .into(),
    };
    let mut source = match EventSource::new(&url) {
        Ok(source) => source,
        Err(_) => {
            update(&|e| e.outcome = Some(Err(lost())));
            busy.set(false);
            return;
        }
    };
    let Ok(mut messages) = source.subscribe("message") else {
        update(&|e| e.outcome = Some(Err(lost())));
        busy.set(false);
        return;
    };
    leptos::task::spawn_local(async move {
        let mut ended = false;
        while let Some(item) = messages.next().await {
            let Ok((_, message)) = item else {
                break; // The connection failed or closed before the last event.
            };
            let Some(text) = message.data().as_string() else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<AskEvent>(&text) else {
                continue;
            };
            match event {
                AskEvent::Progress(step) => {
                    let line = step_text(&step);
                    update(&|e| e.steps.push(line.clone()));
                }
                AskEvent::Answer { answer, chart } => {
                    let outcome = Ok((*answer, chart));
                    update(&|e| e.outcome = Some(outcome.clone()));
                    ended = true;
                    break;
                }
                AskEvent::Failed(error) => {
                    update(&|e| e.outcome = Some(Err(error.clone())));
                    ended = true;
                    break;
                }
            }
        }
        // Closed now, or the browser would reconnect (the server would answer 204).
        source.close();
        if !ended {
            update(&|e| e.outcome = Some(Err(lost())));
        }
        busy.set(false);
    });
}

#[cfg(not(feature = "hydrate"))]
fn listen(_: String, _: usize, _: RwSignal<Vec<Exchange>>, busy: RwSignal<bool>) {
    busy.set(false);
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn step_text(step: &Progress) -> String {
    match step {
        Progress::Started {
            stage: Stage::Analysis,
        } => "Reading the question and the schema…".into(),
        Progress::Started {
            stage: Stage::SqlRepair,
        } => "The database refused the SQL; repairing it…".into(),
        Progress::Started {
            stage: Stage::SqlResponse,
        } => "Writing the answer…".into(),
        Progress::Started {
            stage: Stage::EmailGeneration,
        } => "Writing the email…".into(),
        Progress::SqlReady { .. } => "Running the SQL…".into(),
        Progress::RowsReady { rows, truncated } => {
            let more = if *truncated { " (more exist)" } else { "" };
            format!("{rows} row{}{more}", if *rows == 1 { "" } else { "s" })
        }
    }
}

#[component]
fn ExchangeView(e: Exchange) -> impl IntoView {
    let Exchange {
        number,
        question,
        database,
        steps,
        outcome,
    } = e;
    let pending = outcome.is_none();
    let body = match outcome {
        None => ().into_any(),
        Some(Err(error)) => view! {
            <p class="form-error" role="alert" data-testid="ask-error">{error.message().to_owned()}</p>
        }
        .into_any(),
        Some(Ok((answer, chart))) => view! { <AnswerView number answer chart /> }.into_any(),
    };
    let last = steps.len().saturating_sub(1);
    view! {
        <article class="card exchange" data-testid="exchange">
            <header class="exchange-head">
                <p class="question" data-testid="exchange-question">{question}</p>
                <span class="muted small">{database}</span>
            </header>
            <ol class="steps" aria-live="polite" data-testid="ask-steps">
                {steps.into_iter().enumerate().map(|(i, s)| view! {
                    <li class:current=pending && i == last>{s}</li>
                }).collect_view()}
            </ol>
            {pending.then(|| view! { <p class="loading" role="status">"Working…"</p> })}
            {body}
        </article>
    }
}

#[component]
fn AnswerView(number: usize, answer: Answer, chart: Option<ChartData>) -> impl IntoView {
    let (status, class) = match answer.status {
        ConversationStatus::Answered => ("answered", "badge ok"),
        ConversationStatus::Failed => ("failed", "badge bad"),
        ConversationStatus::Refused => ("refused", "badge bad"),
        ConversationStatus::Interrupted => ("interrupted", "badge bad"),
    };
    let text_class = if answer.status == ConversationStatus::Answered {
        "answer"
    } else {
        "answer form-error"
    };
    let sql = answer.sql.clone();
    let result = answer.result.clone();
    let email = answer.email.clone();
    let link = may(Action::ViewCosts).then(|| {
        view! { <a href="/conversations" class="small">"On the Conversations page"</a> }
    });
    view! {
        <div class="answer-block" data-testid="ask-answer">
            <p><span class=class data-testid="ask-status">{status}</span></p>
            <p class=text_class data-testid="ask-text">{answer.text.clone()}</p>
            {email.map(|preview| view! { <EmailView preview /> })}
            {sql.map(|sql| view! { <SqlBlock sql /> })}
            {chart.map(|data| view! { <Chart id=format!("ask-chart-{number}") data=Some(data) /> })}
            {result.map(|r| view! { <Rows result=r /> })}
            <StageCosts answer />
            {link}
        </div>
    }
}

/// A drafted email: who it goes to and what it says, with Send and Cancel.
#[component]
fn EmailView(preview: models::ask::EmailPreview) -> impl IntoView {
    use crate::api::ask::{CancelEmail, SendEmail};
    use models::ask::EmailOutcome;
    let send = ServerAction::<SendEmail>::new();
    let cancel = ServerAction::<CancelEmail>::new();
    let id = preview.email_id;
    let busy = move || send.pending().get() || cancel.pending().get();
    // Done once sent or cancelled; a queued one may be sent again (a retry).
    let done = move || {
        matches!(send.value().get(), Some(Ok(EmailOutcome::Sent { .. })))
            || matches!(cancel.value().get(), Some(Ok(_)))
    };
    let attached = preview.attached_rows.map(|n| {
        format!(
            "Attached: result.csv ({n} row{})",
            if n == 1 { "" } else { "s" }
        )
    });
    view! {
        <section class="email-preview notice" data-testid="email-preview" aria-label="Email preview">
            <p><strong>"To: "</strong><span data-testid="email-to">{preview.recipients.join(", ")}</span></p>
            <p><strong>"Subject: "</strong><span data-testid="email-subject">{preview.subject.clone()}</span></p>
            <pre class="email-body" data-testid="email-body">{preview.body.clone()}</pre>
            {attached.map(|a| view! { <p class="muted small">{a}</p> })}
            <div class="row">
                <button type="button" disabled=move || busy() || done()
                    on:click=move |_| { send.dispatch(SendEmail { email_id: id }); }>
                    {move || if send.pending().get() { "Sending…" } else { "Send email" }}
                </button>
                <button type="button" class="secondary" disabled=move || busy() || done()
                    on:click=move |_| { cancel.dispatch(CancelEmail { email_id: id }); }>
                    "Cancel"
                </button>
            </div>
            {move || {
                let answer = send.value().get().or_else(|| cancel.value().get());
                answer.map(|answer| match answer {
                    Ok(EmailOutcome::Sent { recipients }) => view! {
                        <p class="notice" role="status" data-testid="email-result">{format!("Sent to {}.", recipients.join(", "))}</p>
                    }.into_any(),
                    Ok(EmailOutcome::Queued { reason }) => view! {
                        <p class="form-error" role="status" data-testid="email-result">{reason}</p>
                    }.into_any(),
                    Ok(EmailOutcome::Cancelled) => view! {
                        <p class="muted" role="status" data-testid="email-result">"Cancelled: nothing was sent."</p>
                    }.into_any(),
                    Err(e) => view! {
                        <p class="form-error" role="alert" data-testid="email-result">{e.message().to_owned()}</p>
                    }.into_any(),
                })
            }}
        </section>
    }
}

#[component]
fn SqlBlock(sql: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = sql.clone();
    let copy = move |_| {
        copy_text(&text);
        copied.set(true);
    };
    view! {
        <div class="sql-block">
            <div class="row">
                <strong>"SQL"</strong>
                <button type="button" class="secondary small" on:click=copy data-testid="copy-sql">
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <pre><code data-testid="ask-sql">{sql}</code></pre>
        </div>
    }
}

/// Puts `text` on the clipboard (the browser's asynchronous clipboard API).
fn copy_text(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use js_sys::{Function, Reflect};
        use leptos::wasm_bindgen::{JsCast, JsValue};
        let clipboard = Reflect::get(&window(), &"navigator".into())
            .and_then(|n| Reflect::get(&n, &"clipboard".into()))
            .unwrap_or(JsValue::UNDEFINED);
        if let Some(write) = Reflect::get(&clipboard, &"writeText".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            drop(write.call1(&clipboard, &JsValue::from_str(text)));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

#[component]
fn Rows(result: models::targets::QueryResult) -> impl IntoView {
    let total = result.rows.len();
    if result.columns.is_empty() {
        return ().into_any();
    }
    if total == 0 {
        return view! { <p class="muted" data-testid="ask-rows-empty">"The query returned no rows."</p> }
            .into_any();
    }
    let mut note = Vec::new();
    if total > ROWS_SHOWN {
        note.push(format!("The first {ROWS_SHOWN} of {total} rows."));
    }
    if result.truncated {
        note.push(format!(
            "The query returned more than {} rows; only those were read.",
            result.row_limit
        ));
    }
    view! {
        <div class="table-wrap scrolls">
            <table class="result" data-testid="ask-rows">
                <thead><tr>{result.columns.iter().map(|c| view! { <th>{c.name.clone()}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {result.rows.iter().take(ROWS_SHOWN).map(|row| view! {
                        <tr>{row.iter().map(|v| {
                            let numeric = matches!(v, models::targets::Value::Int(_) | models::targets::Value::Float(_) | models::targets::Value::Decimal(_) | models::targets::Value::BigInt(_));
                            view! { <td class:num=numeric>{v.render()}</td> }
                        }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(!note.is_empty()).then(|| view! { <p class="muted small">{note.join(" ")}</p> })}
    }
    .into_any()
}

#[component]
fn StageCosts(answer: Answer) -> impl IntoView {
    if answer.stages.is_empty() {
        return ().into_any();
    }
    view! {
        <details class="stage-costs" data-testid="ask-costs">
            <summary title=answer.total_cost.to_string()>{format!("Cost {} · {} calls to the model", models::format::money(answer.total_cost), answer.stages.len())}</summary>
            <div class="table-wrap">
                <table class="compact">
                    <thead><tr><th>"Stage"</th><th>"Model"</th><th class="num col-tokens">"Tokens in / out"</th><th class="num col-time">"Time"</th><th class="num">"Cost"</th></tr></thead>
                    <tbody>
                        {answer.stages.into_iter().map(|s| view! {
                            <tr>
                                <td>{s.stage.as_str()}{s.error.map(|e| view! { <span class="muted small">{format!(" ({e})")}</span> })}</td>
                                <td><code>{s.model}</code></td>
                                <td class="num col-tokens">{format!("{} / {}", models::format::integer(s.usage.prompt_tokens), models::format::integer(s.usage.candidates_tokens + s.usage.thoughts_tokens))}</td>
                                <td class="num col-time">{format!("{:.1} s", s.latency_ms as f64 / 1000.0)}</td>
                                <td class="num"><Money amount=s.cost /></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
    .into_any()
}
