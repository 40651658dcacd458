//! Timing for benchmarks: time spent outside Tabletalk's own code (in the
//! model calls and the target query) measured to the nanosecond by a tracing
//! layer, and percentiles. Benchmarks print numbers; nothing here asserts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::span;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The spans whose time is not Tabletalk's: the HTTP round trips to the
/// model (`llm_call`, retries included) and the query against the user's
/// database (`target_query`, with its guard and access check).
pub const OUTSIDE_SPANS: [&str; 2] = ["llm_call", "target_query"];

/// Nanoseconds spent inside [`OUTSIDE_SPANS`] since the last [`take_outside`].
static OUTSIDE_NS: AtomicU64 = AtomicU64::new(0);

/// Adds each closed outside span's lifetime to the running total (install it
/// with `tracing_subscriber::registry().with(Outside)`; measure one thing at
/// a time).
pub struct Outside;

impl<S> Layer<S> for Outside
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if OUTSIDE_SPANS.contains(&attrs.metadata().name()) {
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(Instant::now());
            }
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(opened) = span.extensions().get::<Instant>() {
                let ns = u64::try_from(opened.elapsed().as_nanos()).unwrap_or(u64::MAX);
                OUTSIDE_NS.fetch_add(ns, Ordering::Relaxed);
            }
        }
    }
}

/// The time spent outside since the last call, and starts counting again.
pub fn take_outside() -> Duration {
    Duration::from_nanos(OUTSIDE_NS.swap(0, Ordering::Relaxed))
}

/// The `q` quantile (0..=1) of `times` (sorted here), nearest rank.
pub fn quantile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    if times.is_empty() {
        return Duration::ZERO;
    }
    times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1]
}

/// Milliseconds with two decimals, as BENCHMARKS.md shows them.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
