//! The cost charts, built with `charming` on the server and sent to the
//! browser as ECharts option JSON (see `components::chart`).

use crate::api::costs::ChartData;
use charming::component::{Axis, Grid, Legend};
use charming::element::{AxisLabel, AxisType, Tooltip, Trigger};
use charming::series::{Bar, Pie};
use charming::Chart;
use models::costs::{CostRow, CostTotals};
use models::{Day, Usd};

const COST: &str = "Cost (USD)";

fn dollars(u: Usd) -> f64 {
    u.units() as f64 / 100_000_000.0
}

/// The plot area: small margins, the axis labels inside it.
fn grid() -> Grid {
    Grid::new()
        .left("3%")
        .right("4%")
        .bottom("3%")
        .contain_label(true)
}

fn json(chart: &Chart, what: &str, points: &[(String, f64)]) -> Option<ChartData> {
    let shown: Vec<String> = points
        .iter()
        .take(12)
        .map(|(label, value)| {
            let money = models::format::money(Usd((value * 100_000_000.0).round() as i64));
            format!("{label} {money}")
        })
        .collect();
    let more = points.len().saturating_sub(shown.len());
    let mut description = format!("{COST} {what}: {}", shown.join(", "));
    if more > 0 {
        description.push_str(&format!(" and {more} more"));
    }
    Some(ChartData {
        option: serde_json::to_string(chart).ok()?,
        description,
    })
}

/// Cost per day as bars, every day from the first to the last with usage
/// (days without usage drawn as zero, so the axis is time, not a list);
/// `None` without rows. Bars rather than a line: one day stays readable, and
/// the page needs no line-chart code (ECharts ships only bar and pie).
pub fn daily(rows: &[CostRow]) -> Option<ChartData> {
    let days: std::collections::BTreeMap<i64, &CostRow> = rows
        .iter()
        .filter_map(|r| Day::parse(&r.key).ok().map(|d| (d.0, r)))
        .collect();
    let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
        return series(rows, "per day");
    };
    let filled: Vec<CostRow> = (*first..=*last)
        .map(|d| {
            days.get(&d).map_or_else(
                || {
                    let key = Day(d).to_string();
                    CostRow {
                        label: key.clone(),
                        key,
                        totals: CostTotals::default(),
                    }
                },
                |r| (*r).clone(),
            )
        })
        .collect();
    let every = filled.len() <= 14;
    bars(&filled, "per day", every)
}

/// The x axis of a bar chart. Categories (stages, people) are every one
/// labelled (ECharts would otherwise skip labels it thinks crowded), slanted
/// when they would not fit side by side; a long run of days keeps ECharts'
/// even spacing, as a time axis does.
fn category_axis(labels: Vec<String>, every: bool) -> Axis {
    let chars: usize = labels.iter().map(|l| l.chars().count()).sum();
    let mut label = AxisLabel::new();
    if every {
        label = label.interval(0);
        if chars > 36 {
            label = label.rotate(30);
        }
    }
    Axis::new()
        .type_(AxisType::Category)
        .data(labels)
        .axis_label(label)
}

/// Cost per row as bars; `None` without rows.
pub fn series(rows: &[CostRow], what: &str) -> Option<ChartData> {
    bars(rows, what, rows.len() <= 40)
}

fn bars(rows: &[CostRow], what: &str, every_label: bool) -> Option<ChartData> {
    if rows.is_empty() {
        return None;
    }
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let values: Vec<f64> = rows.iter().map(|r| dollars(r.totals.total_cost)).collect();
    let chart = Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().data(vec![COST]))
        .grid(grid())
        .x_axis(category_axis(labels, every_label))
        .y_axis(Axis::new().type_(AxisType::Value));
    let points: Vec<(String, f64)> = rows
        .iter()
        .map(|r| r.label.clone())
        .zip(values.iter().copied())
        .collect();
    json(
        &chart.series(Bar::new().name(COST).data(values)),
        what,
        &points,
    )
}

/// Shares of the cost; `None` when everything is zero.
pub fn pie(items: Vec<(String, f64)>, what: &str) -> Option<ChartData> {
    if items.iter().all(|(_, v)| *v == 0.0) {
        return None;
    }
    let points = items.clone();
    let chart = Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Item))
        .legend(Legend::new().data(items.iter().map(|(l, _)| l.clone()).collect()))
        .series(
            Pie::new()
                .name(COST)
                .radius(vec!["40%", "70%"])
                .data(items.into_iter().map(|(l, v)| (v, l)).collect()),
        );
    json(&chart, what, &points)
}

pub fn rows_pie(rows: &[CostRow], what: &str) -> Option<ChartData> {
    pie(
        rows.iter()
            .map(|r| (r.label.clone(), dollars(r.totals.total_cost)))
            .collect(),
        what,
    )
}

pub fn split_pie(totals: &CostTotals) -> Option<ChartData> {
    pie(
        vec![
            ("Input".to_owned(), dollars(totals.input_cost)),
            ("Output".to_owned(), dollars(totals.output_cost)),
        ],
        "input vs output",
    )
}

/// A question's result as bars: one bar per label (dates in their order,
/// which the query chose), one colour per number column; `None` when the
/// result is not a label/number series ([`models::ask::chart_series`]).
pub fn result(result: &models::targets::QueryResult) -> Option<ChartData> {
    let chart_series = models::ask::chart_series(result)?;
    let names: Vec<String> = chart_series.series.iter().map(|(n, _)| n.clone()).collect();
    let mut chart = Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().data(names.clone()))
        .grid(grid())
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(chart_series.labels.clone()),
        )
        .y_axis(Axis::new().type_(AxisType::Value));
    for (name, values) in &chart_series.series {
        // A NULL is `null`: ECharts leaves that bar out.
        let data: Vec<charming::datatype::DataPoint> = values.iter().map(|v| (*v).into()).collect();
        chart = chart.series(Bar::new().name(name.clone()).data(data));
    }
    let (_, values) = chart_series.series.first()?;
    let shown: Vec<String> = chart_series
        .labels
        .iter()
        .zip(values)
        .take(12)
        .map(|(label, v)| match v {
            Some(x) => format!("{label} {x}"),
            None => format!("{label} no value"),
        })
        .collect();
    let more = chart_series.labels.len().saturating_sub(shown.len());
    let mut description = format!(
        "{} by {}: {}",
        names.join(", "),
        chart_series.label_column,
        shown.join(", ")
    );
    if more > 0 {
        description.push_str(&format!(" and {more} more"));
    }
    Some(ChartData {
        option: serde_json::to_string(&chart).ok()?,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_number_result_is_a_bar_chart_with_a_description() {
        use models::targets::{QueryResult, ResultColumn, Value};
        let column = |n: &str| ResultColumn {
            name: n.into(),
            type_name: String::new(),
        };
        let mut r = QueryResult {
            columns: vec![column("product"), column("revenue")],
            rows: vec![
                vec![Value::text("Tea"), Value::Decimal("12.50".into())],
                vec![Value::text("Cake"), Value::Null],
            ],
            truncated: false,
            row_limit: 1000,
            elapsed_ms: 1,
        };
        let chart = result(&r).expect("a chart");
        assert_eq!(
            chart.description,
            "revenue by product: Tea 12.5, Cake no value"
        );
        let value: serde_json::Value = serde_json::from_str(&chart.option).expect("json");
        assert_eq!(value["series"][0]["type"], "bar");
        assert_eq!(value["series"][0]["data"], serde_json::json!([12.5, null]));
        assert_eq!(value["xAxis"]["data"], serde_json::json!(["Tea", "Cake"]));
        r.rows.truncate(1);
        assert_eq!(result(&r), None, "one row is not a chart");
    }
    use models::costs::CostTotals;

    fn row(label: &str, cost: i64) -> CostRow {
        CostRow {
            key: label.into(),
            label: label.into(),
            totals: CostTotals {
                total_cost: Usd(cost),
                ..CostTotals::default()
            },
        }
    }

    #[test]
    fn charts_are_echarts_options_and_empty_data_draws_nothing() {
        assert_eq!(daily(&[]), None);
        assert_eq!(series(&[], "by stage"), None);
        assert_eq!(pie(vec![("a".into(), 0.0)], "x"), None);
        let one_day = daily(&[row("2026-11-26", 150_000_000)]).expect("a chart");
        assert_eq!(one_day.description, "Cost (USD) per day: 2026-11-26 $1.50");
        let value: serde_json::Value = serde_json::from_str(&one_day.option).expect("json");
        assert_eq!(
            value["series"][0]["type"], "bar",
            "one point is a bar, readable"
        );
        assert_eq!(value["series"][0]["data"][0], 1.5);
        assert_eq!(value["xAxis"]["data"][0], "2026-11-26", "{value}");
        // A gap of two days is drawn as two zero days.
        let gap = daily(&[
            row("2026-11-26", 100_000_000),
            row("2026-11-23", 200_000_000),
        ])
        .expect("a chart");
        let value: serde_json::Value = serde_json::from_str(&gap.option).expect("json");
        assert_eq!(
            value["xAxis"]["data"],
            serde_json::json!(["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"])
        );
        assert_eq!(
            value["series"][0]["data"],
            serde_json::json!([2.0, 0.0, 0.0, 1.0])
        );
        let models =
            rows_pie(&[row("gemini-2.5-flash", 100_000_000)], "by model").expect("a chart");
        assert!(models.option.contains("gemini-2.5-flash") && models.option.contains("\"pie\""));
        assert!(models.description.contains("gemini-2.5-flash $1.00"));
        let tiny = series(&[row("Analysis", 281_600)], "by stage").expect("a chart");
        assert_eq!(tiny.description, "Cost (USD) by stage: Analysis $0.002816");
    }

    #[test]
    fn every_category_is_labelled() {
        let stages: Vec<CostRow> = ["Analysis", "SQL Repair", "SQL Response", "Email Generation"]
            .iter()
            .map(|s| row(s, 1))
            .collect();
        let value: serde_json::Value =
            serde_json::from_str(&series(&stages, "by stage").expect("a chart").option)
                .expect("json");
        assert_eq!(
            value["xAxis"]["axisLabel"]["interval"].as_f64(),
            Some(0.0),
            "{value}"
        );
        assert_eq!(
            value["xAxis"]["axisLabel"]["rotate"].as_f64(),
            Some(30.0),
            "46 characters slant"
        );
        let short: Vec<CostRow> = ["Ann", "Bo"].iter().map(|s| row(s, 1)).collect();
        let value: serde_json::Value =
            serde_json::from_str(&series(&short, "per user").expect("a chart").option)
                .expect("json");
        assert_eq!(value["xAxis"]["axisLabel"]["interval"].as_f64(), Some(0.0));
        assert!(value["xAxis"]["axisLabel"]["rotate"].is_null());
        // Two months of days: ECharts spaces the dates.
        let days: Vec<CostRow> = (1..=28)
            .flat_map(|d| [format!("2026-01-{d:02}"), format!("2026-02-{d:02}")])
            .map(|d| row(&d, 1))
            .collect();
        let value: serde_json::Value =
            serde_json::from_str(&daily(&days).expect("a chart").option).expect("json");
        assert!(value["xAxis"]["axisLabel"]["interval"].is_null());
    }
}
