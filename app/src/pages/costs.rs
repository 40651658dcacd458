use crate::api::costs::ChartData;
use crate::api::costs::{
    costs_by_model, costs_by_stage, costs_charts, costs_daily, costs_input_output, costs_overview,
    costs_per_user, CostCharts,
};
use crate::components::chart::Chart;
use crate::components::loaded::Loaded;
use leptos::prelude::*;
use leptos_meta::{Script, Title};
use models::costs::{CostRow, CostTotals, InputOutputSplit, PerUserCosts};

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
    let totals = Resource::new(move || range.get(), |(f, t)| costs_overview(f, t));
    let split = Resource::new(move || range.get(), |(f, t)| costs_input_output(f, t));
    let by_model = Resource::new(move || range.get(), |(f, t)| costs_by_model(f, t));
    let by_stage = Resource::new(move || range.get(), |(f, t)| costs_by_stage(f, t));
    let per_user = Resource::new(move || range.get(), |(f, t)| costs_per_user(f, t));
    let daily = Resource::new(move || range.get(), |(f, t)| costs_daily(f, t));
    let charts = Resource::new(move || range.get(), |(f, t)| costs_charts(f, t));
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
        <Loaded resource=totals ok={move |t: CostTotals| view! { <Totals t per_user /> }} />
        <div class="grid-2">
            <section class="card">
                <h2>"Input vs output"</h2>
                <ChartFrom id="chart-input-output" charts pick=|c| c.input_output.clone() />
                <Loaded resource=split ok={|s: InputOutputSplit| view! {
                    <table class="compact" data-testid="split-table">
                        <thead><tr><th></th><th class="num">"Tokens"</th><th class="num">"Cost"</th></tr></thead>
                        <tbody>
                            <tr><td>"Input"</td><td class="num">{s.input_tokens}</td><td class="num">{usd(s.input_cost)}</td></tr>
                            <tr><td>"Output"</td><td class="num">{s.output_tokens}</td><td class="num">{usd(s.output_cost)}</td></tr>
                        </tbody>
                    </table>
                }} />
            </section>
            <Breakdown title="By model" testid="by-model" chart_id="chart-by-model" resource=by_model charts pick=|c| c.by_model.clone() />
            <Breakdown title="By stage" testid="by-stage" chart_id="chart-by-stage" resource=by_stage charts pick=|c| c.by_stage.clone() />
            <section class="card">
                <h2>"Per user"</h2>
                <ChartFrom id="chart-per-user" charts pick=|c| c.per_user.clone() />
                <Loaded resource=per_user ok={|p: PerUserCosts| view! { <RowsTable rows=p.users testid="per-user" /> }} />
            </section>
        </div>
        <Breakdown title="Daily cost" testid="daily" chart_id="chart-daily" resource=daily charts pick=|c| c.daily.clone() />
    }
}

#[component]
fn Totals(
    t: CostTotals,
    per_user: Resource<Result<PerUserCosts, models::AppError>>,
) -> impl IntoView {
    view! {
        <div class="stats" data-testid="cost-cards">
            <div class="stat"><span class="stat-label">"Total cost"</span><span class="stat-value" data-testid="total-cost">{usd(t.total_cost)}</span></div>
            <div class="stat"><span class="stat-label">"Input tokens"</span><span class="stat-value">{t.input_tokens}</span></div>
            <div class="stat"><span class="stat-label">"Output tokens"</span><span class="stat-value">{t.output_tokens}</span></div>
            <div class="stat"><span class="stat-label">"Conversations"</span><span class="stat-value">{t.conversations}</span></div>
            <div class="stat"><span class="stat-label">"Average per member"</span><span class="stat-value">
                {move || per_user.get().and_then(Result::ok).map(|p| usd(p.average_per_member))}
            </span></div>
        </div>
    }
}

#[component]
fn Breakdown(
    title: &'static str,
    testid: &'static str,
    chart_id: &'static str,
    resource: Resource<Result<Vec<CostRow>, models::AppError>>,
    charts: Resource<Result<CostCharts, models::AppError>>,
    pick: fn(&CostCharts) -> Option<ChartData>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{title}</h2>
            <ChartFrom id=chart_id charts pick />
            <Loaded resource ok={move |rows: Vec<CostRow>| view! { <RowsTable rows testid /> }} />
        </section>
    }
}

/// One chart out of the charts resource (a placeholder of the chart's height while loading).
#[component]
fn ChartFrom(
    id: &'static str,
    charts: Resource<Result<CostCharts, models::AppError>>,
    pick: fn(&CostCharts) -> Option<ChartData>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <div class="chart-empty">"Loading…"</div> }>
            {move || charts.get().map(|answer| match answer {
                Ok(c) => view! { <Chart id data=pick(&c) /> }.into_any(),
                Err(e) => view! { <div class="chart-empty" role="alert">{e.message().to_owned()}</div> }.into_any(),
            })}
        </Transition>
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
