//! Charts drawn in the browser by ECharts through `charming`. The server
//! renders an empty, fixed-height box (no layout jump); once hydrated, the
//! chart is drawn into it as soon as ECharts (public/echarts.min.js) is loaded.

use leptos::prelude::*;

/// What to draw, independent of the charting library (so the server needs none).
#[derive(Debug, Clone, PartialEq)]
pub enum ChartSpec {
    /// One value per label, as bars (a line when `line` and there are 2+ points).
    Series {
        labels: Vec<String>,
        values: Vec<f64>,
        name: String,
        line: bool,
    },
    /// Shares of a whole.
    Pie {
        items: Vec<(String, f64)>,
        name: String,
    },
}

impl ChartSpec {
    fn is_empty(&self) -> bool {
        match self {
            ChartSpec::Series { values, .. } => values.is_empty(),
            ChartSpec::Pie { items, .. } => items.iter().all(|(_, v)| *v == 0.0),
        }
    }

    /// The labels, for a screen reader's description and the legend test.
    fn describe(&self) -> String {
        match self {
            ChartSpec::Series { labels, name, .. } => format!("{name}: {}", labels.join(", ")),
            ChartSpec::Pie { items, name } => format!(
                "{name}: {}",
                items
                    .iter()
                    .map(|(l, _)| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A chart box with an id unique on the page.
#[component]
pub fn Chart(id: &'static str, spec: ChartSpec) -> impl IntoView {
    if spec.is_empty() {
        return view! { <div class="chart-empty" data-testid=id>"No usage in this range."</div> }
            .into_any();
    }
    let label = spec.describe();
    #[cfg(feature = "hydrate")]
    {
        let spec = spec.clone();
        Effect::new(move |_| draw_when_ready(id, spec.clone(), 0));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = &spec;
    view! { <div id=id class="chart" role="img" aria-label=label data-testid=id></div> }.into_any()
}

#[cfg(feature = "hydrate")]
fn draw_when_ready(id: &'static str, spec: ChartSpec, attempt: u32) {
    let loaded = js_sys::Reflect::has(&window(), &"echarts".into()).unwrap_or(false);
    if !loaded {
        if attempt < 100 {
            set_timeout(
                move || draw_when_ready(id, spec, attempt + 1),
                std::time::Duration::from_millis(100),
            );
        } else {
            leptos::logging::warn!("ECharts did not load; the chart {id} is not drawn");
        }
        return;
    }
    if document().get_element_by_id(id).is_none() {
        return; // The page moved on.
    }
    let chart = build(&spec);
    match charming::WasmRenderer::new_opt(None, Some(300)).render(id, &chart) {
        Ok(echarts) => follow_window_size(id, echarts),
        Err(e) => leptos::logging::warn!("could not draw the chart {id}: {e:?}"),
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// One window-resize listener per chart box, replaced when the chart is redrawn.
    static RESIZERS: std::cell::RefCell<std::collections::HashMap<&'static str, WindowListenerHandle>> =
        Default::default();
}

/// Redraws the chart at its box's new width when the window changes size.
#[cfg(feature = "hydrate")]
fn follow_window_size(id: &'static str, echarts: charming::Echarts) {
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        if document().get_element_by_id(id).is_some() {
            echarts.resize(leptos::wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    RESIZERS.with(|map| {
        if let Some(old) = map.borrow_mut().insert(id, handle) {
            old.remove();
        }
    });
}

#[cfg(feature = "hydrate")]
fn build(spec: &ChartSpec) -> charming::Chart {
    use charming::component::{Aria, Axis, Grid, Legend};
    use charming::element::{AxisType, Tooltip, Trigger};
    use charming::series::{Bar, Line, Pie};
    match spec {
        ChartSpec::Series {
            labels,
            values,
            name,
            line,
        } => {
            let chart = charming::Chart::new()
                .aria(Aria::new().enabled(true))
                .tooltip(Tooltip::new().trigger(Trigger::Axis))
                .legend(Legend::new().data(vec![name.clone()]))
                .grid(
                    Grid::new()
                        .left("3%")
                        .right("4%")
                        .bottom("3%")
                        .contain_label(true),
                )
                .x_axis(Axis::new().type_(AxisType::Category).data(labels.clone()))
                .y_axis(Axis::new().type_(AxisType::Value));
            if *line && values.len() > 1 {
                chart.series(Line::new().name(name.clone()).data(values.clone()))
            } else {
                chart.series(Bar::new().name(name.clone()).data(values.clone()))
            }
        }
        ChartSpec::Pie { items, name } => charming::Chart::new()
            .aria(Aria::new().enabled(true))
            .tooltip(Tooltip::new().trigger(Trigger::Item))
            .legend(Legend::new().data(items.iter().map(|(l, _)| l.clone()).collect()))
            .series(
                Pie::new()
                    .name(name.clone())
                    .radius(vec!["40%", "70%"])
                    .data(items.iter().map(|(l, v)| (*v, l.clone())).collect()),
            ),
    }
}
