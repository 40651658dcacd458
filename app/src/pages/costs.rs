use crate::api::costs::{costs_page, ChartData, CostsPageData};
use crate::components::chart::Chart;
use crate::components::loaded::{today, Loaded};
use crate::components::money::{Count, Money};
use leptos::prelude::*;
use leptos_meta::{Script, Title};
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use models::costs::{CostRow, CostTotals};
use models::{DayRange, Preset};

type Range = (Option<String>, Option<String>);

/// `from=2026-11-01&to=2026-11-28`: the ends a range has (empty for all time).
fn ends(range: &Range) -> String {
    [("from", &range.0), ("to", &range.1)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join("&")
}

/// The page's address for a range: `?range=all` for all time, otherwise the
/// ends given (`?from=2026-11-01&to=2026-11-28`).
fn href(range: &Range) -> String {
    match ends(range).as_str() {
        "" => "/costs?range=all".to_owned(),
        query => format!("/costs?{query}"),
    }
}

fn of(range: DayRange) -> Range {
    (
        range.from.map(|d| d.to_string()),
        range.to.map(|d| d.to_string()),
    )
}

/// Costs for owners: cards, breakdowns by model, stage, user and day, a range
/// kept in the address (this month unless it says otherwise; presets one
/// click away; Back and Forward move between ranges) and the CSV download.
#[component]
pub fn CostsPage() -> impl IntoView {
    let query = use_query_map();
    let range = Memo::new(move |_| {
        query.with(|q| {
            let from = q.get("from").filter(|s| !s.trim().is_empty());
            let to = q.get("to").filter(|s| !s.trim().is_empty());
            if from.is_none() && to.is_none() {
                if q.get("range").as_deref() == Some("all") {
                    return (None, None);
                }
                return of(Preset::ThisMonth.range(today()));
            }
            (from, to)
        })
    });
    let (start, end) = range.get_untracked();
    let from = RwSignal::new(start.unwrap_or_default());
    let to = RwSignal::new(end.unwrap_or_default());
    // Back/Forward or a preset: the inputs show the range the page shows.
    Effect::new(move |_| {
        let (f, t) = range.get();
        from.set(f.unwrap_or_default());
        to.set(t.unwrap_or_default());
    });
    let problem = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let clean = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (f, t) = (clean(from.get_untracked()), clean(to.get_untracked()));
        match DayRange::parse(f.as_deref(), t.as_deref()) {
            Ok(_) => {
                problem.set(None);
                navigate(&href(&(f, t)), NavigateOptions::default());
            }
            Err(e) => problem.set(Some(e.message().to_owned())),
        }
    };
    let data = Resource::new(move || range.get(), |(f, t)| costs_page(f, t));
    let csv_href = move || match ends(&range.get()).as_str() {
        "" => "/dashboard/costs/export.csv".to_owned(),
        query => format!("/dashboard/costs/export.csv?{query}"),
    };
    let current = move || {
        let (f, t) = range.get();
        let parsed = DayRange::parse(f.as_deref(), t.as_deref()).ok()?;
        Preset::matching(parsed, today())
    };
    view! {
        <Title text="Costs" />
        <Script src="/echarts.min.js" defer="true" />
        <h1>"Costs"</h1>
        <nav class="presets" aria-label="Ranges" data-testid="presets">
            {Preset::ALL.into_iter().map(|p| {
                let link = href(&of(p.range(today())));
                view! {
                    <a href=link class="preset"
                        aria-current=move || (current() == Some(p)).then_some("true")>
                        {p.label()}
                    </a>
                }
            }).collect_view()}
        </nav>
        <form class="row filter" on:submit=apply data-testid="range-form">
            <label>"From" <input type="date" bind:value=from data-testid="range-from" /></label>
            <label>"To" <input type="date" bind:value=to data-testid="range-to" /></label>
            <button type="submit" class="secondary">"Apply"</button>
            <a class="button-link" href=csv_href download="" data-testid="csv-link">"Download CSV"</a>
        </form>
        {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
        <p class="muted range-said" data-testid="range-said">{move || {
            match range.get() {
                (None, None) => "All time".to_owned(),
                (Some(f), Some(t)) if f == t => f,
                (f, t) => format!(
                    "{} to {}",
                    f.unwrap_or_else(|| "the beginning".into()),
                    t.unwrap_or_else(|| "today".into())
                ),
            }
        }}</p>
        <Loaded resource=data ok={|d: CostsPageData| view! { <Costs d /> }} />
    }
}

#[component]
fn Costs(d: CostsPageData) -> impl IntoView {
    let t = d.totals;
    let whole = t.total_cost;
    view! {
        <Totals t average=d.per_user.average_per_member />
        <div class="grid-2">
            <InputOutput t chart=d.input_output_chart whole />
            <Breakdown title="By model" testid="by-model" chart_id="chart-by-model" counts=Counts::Calls rows=d.by_model chart=d.by_model_chart whole />
            <Breakdown title="By stage" testid="by-stage" chart_id="chart-by-stage" counts=Counts::Calls rows=d.by_stage chart=d.by_stage_chart whole />
            <Breakdown title="Per user" testid="per-user" chart_id="chart-per-user" counts=Counts::Questions rows=d.per_user.users chart=d.per_user_chart whole />
        </div>
        <Breakdown title="Daily cost" testid="daily" chart_id="chart-daily" counts=Counts::Questions rows=d.daily chart=d.daily_chart whole />
    }
}

/// Input against output: the pie and, one click away, its table.
#[component]
fn InputOutput(t: CostTotals, chart: Option<ChartData>, whole: models::Usd) -> impl IntoView {
    view! {
            <section class="card">
                <h2>"Input vs output"</h2>
                <Chart id="chart-input-output" data=chart />
                <details class="chart-table">
                    <summary>"Show the table"</summary>
                    <table class="compact" data-testid="split-table">
                        <thead><tr><th></th><th class="num">"Tokens"</th><th class="num">"Cost"</th><th class="num">"Share"</th></tr></thead>
                        <tbody>
                            <tr><td>"Input"</td><td class="num"><Count n=t.input_tokens /></td><td class="num"><Money amount=t.input_cost /></td><td class="num">{models::format::share(t.input_cost, whole)}</td></tr>
                            <tr><td>"Output"</td><td class="num"><Count n=t.output_tokens /></td><td class="num"><Money amount=t.output_cost /></td><td class="num">{models::format::share(t.output_cost, whole)}</td></tr>
                        </tbody>
                    </table>
                </details>
            </section>
    }
    .into_any()
}

#[component]
fn Totals(t: CostTotals, average: models::Usd) -> impl IntoView {
    let compact = |n: i64| {
        view! { <span title=models::format::integer(n)>{models::format::compact(n)}</span> }
    };
    view! {
        <div class="stats" data-testid="cost-cards">
            <div class="stat"><span class="stat-label">"Total cost"</span><span class="stat-value" data-testid="total-cost"><Money amount=t.total_cost /></span></div>
            <div class="stat"><span class="stat-label">"Questions"</span><span class="stat-value" data-testid="total-questions">{compact(t.conversations)}</span></div>
            <div class="stat"><span class="stat-label">"Model calls"</span><span class="stat-value">{compact(t.calls)}</span></div>
            <div class="stat"><span class="stat-label">"Input tokens"</span><span class="stat-value">{compact(t.input_tokens)}</span></div>
            <div class="stat"><span class="stat-label">"Output tokens"</span><span class="stat-value">{compact(t.output_tokens)}</span></div>
            <div class="stat"><span class="stat-label">"Average per member"</span><span class="stat-value"><Money amount=average /></span></div>
        </div>
    }
    .into_any()
}

/// What a breakdown's count column counts: model calls (by model, by stage)
/// or questions (per user, per day).
#[derive(Clone, Copy)]
enum Counts {
    Calls,
    Questions,
}

#[component]
fn Breakdown(
    title: &'static str,
    testid: &'static str,
    chart_id: &'static str,
    counts: Counts,
    rows: Vec<CostRow>,
    chart: Option<ChartData>,
    whole: models::Usd,
) -> impl IntoView {
    let table = (!rows.is_empty()).then(|| {
        view! {
            <details class="chart-table">
                <summary>"Show the table"</summary>
                <RowsTable rows testid counts whole />
            </details>
        }
    });
    // Type-erased: four breakdowns on one page nest deeper than rustc's query limit otherwise.
    view! {
        <section class="card">
            <h2>{title}</h2>
            <Chart id=chart_id data=chart />
            {table}
        </section>
    }
    .into_any()
}

/// A breakdown's rows. Every column fits its card from 390 px up: the token
/// and count columns give way first on narrow cards (CSS container queries).
#[component]
fn RowsTable(
    rows: Vec<CostRow>,
    testid: &'static str,
    counts: Counts,
    whole: models::Usd,
) -> impl IntoView {
    let count_name = match counts {
        Counts::Calls => "Calls",
        Counts::Questions => "Questions",
    };
    view! {
        <table class="compact breakdown" data-testid=testid>
            <thead><tr>
                <th></th>
                <th class="num col-count">{count_name}</th>
                <th class="num col-tokens">"Tokens"</th>
                <th class="num">"Cost"</th>
                <th class="num">"Share"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let n = match counts {
                        Counts::Calls => r.totals.calls,
                        Counts::Questions => r.totals.conversations,
                    };
                    let tokens = r.totals.input_tokens + r.totals.output_tokens;
                    let split = format!(
                        "{} in, {} out",
                        models::format::integer(r.totals.input_tokens),
                        models::format::integer(r.totals.output_tokens)
                    );
                    view! {
                        <tr>
                            <td class="label">{r.label.clone()}</td>
                            <td class="num col-count"><Count n /></td>
                            <td class="num col-tokens" title=split>{models::format::integer(tokens)}</td>
                            <td class="num"><Money amount=r.totals.total_cost /></td>
                            <td class="num">{models::format::share(r.totals.total_cost, whole)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
