use crate::api::costs::{costs_page, ChartData, CostsPageData};
use crate::components::chart::Chart;
use crate::components::loaded::Loaded;
use leptos::prelude::*;
use leptos_meta::{Script, Title};
use models::costs::{CostRow, CostTotals};

type Range = (Option<String>, Option<String>);

fn usd(u: models::Usd) -> String {
    format!("${}", u.to_decimal_string())
}

/// Costs for owners: cards, breakdowns by model, stage, user and day, a date
/// range filter and the CSV download.
#[component]
pub fn CostsPage() -> impl IntoView {
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let range = RwSignal::new((None, None) as Range);
    let problem = RwSignal::new(None::<String>);
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let clean = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (f, t) = (clean(from.get_untracked()), clean(to.get_untracked()));
        match models::DayRange::parse(f.as_deref(), t.as_deref()) {
            Ok(_) => {
                problem.set(None);
                range.set((f, t));
            }
            Err(e) => problem.set(Some(e.message().to_owned())),
        }
    };
    let data = Resource::new(move || range.get(), |(f, t)| costs_page(f, t));
    let csv_href = move || {
        let (f, t) = range.get();
        let mut query = Vec::new();
        if let Some(f) = f {
            query.push(format!("from={f}"));
        }
        if let Some(t) = t {
            query.push(format!("to={t}"));
        }
        if query.is_empty() {
            "/dashboard/costs/export.csv".to_owned()
        } else {
            format!("/dashboard/costs/export.csv?{}", query.join("&"))
        }
    };
    view! {
        <Title text="Costs" />
        <Script src="/echarts.min.js" defer="true" />
        <h1>"Costs"</h1>
        <form class="row filter" on:submit=apply data-testid="range-form">
            <label>"From" <input type="date" bind:value=from data-testid="range-from" /></label>
            <label>"To" <input type="date" bind:value=to data-testid="range-to" /></label>
            <button type="submit" class="secondary">"Apply"</button>
            <a class="button-link" href=csv_href download="" data-testid="csv-link">"Download CSV"</a>
        </form>
        {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
        <Loaded resource=data ok={|d: CostsPageData| view! { <Costs d /> }} />
    }
}

#[component]
fn Costs(d: CostsPageData) -> impl IntoView {
    let t = d.totals;
    view! {
        <Totals t average=d.per_user.average_per_member />
        <div class="grid-2">
            <section class="card">
                <h2>"Input vs output"</h2>
                <Chart id="chart-input-output" data=d.input_output_chart />
                <table class="compact" data-testid="split-table">
                    <thead><tr><th></th><th class="num">"Tokens"</th><th class="num">"Cost"</th></tr></thead>
                    <tbody>
                        <tr><td>"Input"</td><td class="num">{t.input_tokens}</td><td class="num">{usd(t.input_cost)}</td></tr>
                        <tr><td>"Output"</td><td class="num">{t.output_tokens}</td><td class="num">{usd(t.output_cost)}</td></tr>
                    </tbody>
                </table>
            </section>
            <Breakdown title="By model" testid="by-model" chart_id="chart-by-model" rows=d.by_model chart=d.by_model_chart />
            <Breakdown title="By stage" testid="by-stage" chart_id="chart-by-stage" rows=d.by_stage chart=d.by_stage_chart />
            <Breakdown title="Per user" testid="per-user" chart_id="chart-per-user" rows=d.per_user.users chart=d.per_user_chart />
        </div>
        <Breakdown title="Daily cost" testid="daily" chart_id="chart-daily" rows=d.daily chart=d.daily_chart />
    }
}

#[component]
fn Totals(t: CostTotals, average: models::Usd) -> impl IntoView {
    view! {
        <div class="stats" data-testid="cost-cards">
            <div class="stat"><span class="stat-label">"Total cost"</span><span class="stat-value" data-testid="total-cost">{usd(t.total_cost)}</span></div>
            <div class="stat"><span class="stat-label">"Input tokens"</span><span class="stat-value">{t.input_tokens}</span></div>
            <div class="stat"><span class="stat-label">"Output tokens"</span><span class="stat-value">{t.output_tokens}</span></div>
            <div class="stat"><span class="stat-label">"Conversations"</span><span class="stat-value">{t.conversations}</span></div>
            <div class="stat"><span class="stat-label">"Average per member"</span><span class="stat-value">{usd(average)}</span></div>
        </div>
    }
}

#[component]
fn Breakdown(
    title: &'static str,
    testid: &'static str,
    chart_id: &'static str,
    rows: Vec<CostRow>,
    chart: Option<ChartData>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{title}</h2>
            <Chart id=chart_id data=chart />
            <RowsTable rows testid />
        </section>
    }
}

#[component]
fn RowsTable(rows: Vec<CostRow>, testid: &'static str) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No usage in this range."</p> }.into_any();
    }
    let long = rows.len() > 15;
    let table = view! {
        <div class="table-wrap">
            <table class="compact" data-testid=testid>
                <thead><tr><th></th><th class="num">"Conversations"</th><th class="num">"Tokens in / out"</th><th class="num">"Cost"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td>{r.label.clone()}</td>
                            <td class="num">{r.totals.conversations}</td>
                            <td class="num">{format!("{} / {}", r.totals.input_tokens, r.totals.output_tokens)}</td>
                            <td class="num">{usd(r.totals.total_cost)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    };
    if long {
        view! {
            <details>
                <summary>"Show the table"</summary>
                {table}
            </details>
        }
        .into_any()
    } else {
        table.into_any()
    }
}
