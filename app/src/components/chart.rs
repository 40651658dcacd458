//! Charts: built with `charming` on the server (see [`crate::charts`]), sent
//! to the browser as ECharts option JSON, and drawn there by ECharts
//! (public/echarts.min.js). The server renders an empty, fixed-height box (no
//! layout jump); once hydrated, the chart is drawn into it as soon as ECharts
//! is loaded, and redrawn at the new width when the window changes size.
//! Keeping charming on the server keeps its serializers out of the WASM.

use leptos::prelude::*;

/// A chart box with an id unique on the page; `data` holds the ECharts option
/// JSON and its description, or is `None` when there is nothing to draw.
#[component]
pub fn Chart(
    #[prop(into)] id: String,
    data: Option<crate::api::costs::ChartData>,
) -> impl IntoView {
    let Some(crate::api::costs::ChartData {
        option,
        description,
    }) = data
    else {
        return view! { <div class="chart-empty" data-testid=id>"No usage in this range."</div> }
            .into_any();
    };
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        Effect::new(move |_| draw_when_ready(id.clone(), option.clone(), 0));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = option;
    view! { <div id=id.clone() class="chart" role="img" aria-label=description data-testid=id></div> }
        .into_any()
}

#[cfg(feature = "hydrate")]
fn draw_when_ready(id: String, option: String, attempt: u32) {
    use js_sys::{Function, Reflect, JSON};
    use leptos::wasm_bindgen::{JsCast, JsValue};
    let echarts = Reflect::get(&window(), &"echarts".into()).unwrap_or(JsValue::UNDEFINED);
    if echarts.is_undefined() {
        if attempt < 100 {
            set_timeout(
                move || draw_when_ready(id, option, attempt + 1),
                std::time::Duration::from_millis(100),
            );
        } else {
            leptos::logging::warn!("ECharts did not load; the chart {id} is not drawn");
        }
        return;
    }
    let Some(element) = document().get_element_by_id(&id) else {
        return; // The page moved on.
    };
    let method = |target: &JsValue, name: &str| {
        Reflect::get(target, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
    };
    let drawn = (|| {
        let init = method(&echarts, "init")?;
        let chart = init.call1(&echarts, &element).ok()?;
        let parsed = JSON::parse(&option).ok()?;
        method(&chart, "setOption")?.call1(&chart, &parsed).ok()?;
        Some(chart)
    })();
    match drawn {
        Some(chart) => follow_window_size(id, chart),
        None => leptos::logging::warn!("could not draw the chart {id}"),
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// One window-resize listener per chart box, replaced when the chart is redrawn.
    static RESIZERS: std::cell::RefCell<std::collections::HashMap<String, WindowListenerHandle>> =
        Default::default();
}

#[cfg(feature = "hydrate")]
fn follow_window_size(id: String, chart: leptos::wasm_bindgen::JsValue) {
    use leptos::wasm_bindgen::JsCast;
    let watched = id.clone();
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        if document().get_element_by_id(&watched).is_none() {
            return;
        }
        if let Some(resize) = js_sys::Reflect::get(&chart, &"resize".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        {
            drop(resize.call0(&chart));
        }
    });
    RESIZERS.with(|map| {
        if let Some(old) = map.borrow_mut().insert(id, handle) {
            old.remove();
        }
    });
}
