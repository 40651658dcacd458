//! A question's chart as a PNG, drawn in Rust (plotters into a pixel
//! buffer, encoded with `png`) with a font compiled into the binary: the bot
//! needs no system fonts and no browser. Labels in the first column become
//! bars (names) or a line (dates); up to [`models::ask::MAX_CHART_SERIES`]
//! number columns are drawn side by side, with a legend when there are several.

use models::ask::{ChartSeries, LabelKind};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::sync::Once;

/// The image's size in pixels: wide enough for a phone to show it sharply
/// when tapped, small enough to be a few tens of kilobytes.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 700;

/// DejaVu Sans (Bitstream Vera licence, `bot/assets/DejaVuSans.LICENSE`):
/// Latin, Greek and Cyrillic, so names from most databases draw as written.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "tabletalk-sans";

/// Series colours: distinct for the colour-blind (Okabe-Ito).
const COLOURS: [RGBColor; 4] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];

/// Most characters of a label under the axis.
const LABEL_CHARS: usize = 14;

fn font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            tracing::error!("the embedded chart font could not be read");
        }
    });
}

/// The chart of `series` as PNG bytes, titled `title`.
pub fn png(series: &ChartSeries, title: &str) -> anyhow::Result<Vec<u8>> {
    font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(series, title, &mut pixels)?;
    let mut out = Vec::with_capacity(64 * 1024);
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

fn draw(series: &ChartSeries, title: &str, pixels: &mut [u8]) -> anyhow::Result<()> {
    // plotters' errors borrow the backend; they are turned into text here.
    let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("the chart could not be drawn: {e}");
    let root = BitMapBackend::with_buffer(pixels, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let points = series.labels.len();
    let (low, high) = value_range(series);
    let title: String = title.chars().take(80).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 30).into_font().color(&BLACK))
        .margin(24)
        .x_label_area_size(if points > 8 { 130 } else { 60 })
        .y_label_area_size(110)
        .build_cartesian_2d(-0.5f64..points as f64 - 0.5, low..high)
        .map_err(|e| failed(&e))?;
    let labels = &series.labels;
    let step = label_step(points);
    let turned = points > 8;
    let y_label = |y: &f64| number(*y);
    let label_font = (FAMILY, 18).into_font().color(&BLACK.mix(0.8));
    chart
        .configure_mesh()
        .disable_x_mesh()
        // The labels under the axis are drawn below, one per bar or point.
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&y_label)
        .y_label_style(label_font.clone())
        .x_desc(series.label_column.as_str())
        .axis_desc_style((FAMILY, 20))
        .light_line_style(BLACK.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(|e| failed(&e))?;
    for (i, label) in labels.iter().enumerate().step_by(step) {
        let (x, y) = chart.backend_coord(&(i as f64, low));
        let text = if turned {
            Text::new(
                short(label),
                (x, y + 10),
                label_font
                    .clone()
                    .transform(FontTransform::Rotate90)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )
        } else {
            Text::new(
                short(label),
                (x, y + 10),
                label_font.clone().pos(Pos::new(HPos::Center, VPos::Top)),
            )
        };
        root.draw(&text).map_err(|e| failed(&e))?;
    }
    let count = series.series.len();
    for (k, (name, values)) in series.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let drawn = match series.kind {
            LabelKind::Category => {
                // Bars side by side within 80% of each label's slot.
                let width = 0.8 / count as f64;
                let bars = values.iter().enumerate().filter_map(|(i, v)| {
                    let v = (*v)?;
                    let left = i as f64 - 0.4 + width * k as f64;
                    Some(Rectangle::new(
                        [(left, 0.0f64.clamp(low, high)), (left + width * 0.92, v)],
                        colour.filled(),
                    ))
                });
                chart.draw_series(bars).map_err(|e| failed(&e))?
            }
            LabelKind::Date => {
                // A line with a gap where a value is NULL.
                let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
                for (i, v) in values.iter().enumerate() {
                    match v {
                        Some(v) => runs
                            .last_mut()
                            .map(|r| r.push((i as f64, *v)))
                            .unwrap_or(()),
                        None => runs.push(Vec::new()),
                    }
                }
                let style = colour.stroke_width(3);
                let mut drawn = None;
                for run in runs.into_iter().filter(|r| !r.is_empty()) {
                    if run.len() == 1 {
                        drawn = Some(
                            chart
                                .draw_series(
                                    run.into_iter().map(|p| Circle::new(p, 4, colour.filled())),
                                )
                                .map_err(|e| failed(&e))?,
                        );
                    } else {
                        drawn = Some(
                            chart
                                .draw_series(LineSeries::new(run, style))
                                .map_err(|e| failed(&e))?,
                        );
                    }
                }
                match drawn {
                    Some(drawn) => drawn,
                    None => continue,
                }
            }
        };
        if count > 1 {
            drawn.label(short(name)).legend(move |(x, y)| {
                Rectangle::new([(x, y - 7), (x + 18, y + 7)], colour.filled())
            });
        }
    }
    if count > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FAMILY, 18))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| failed(&e))?;
    }
    root.present().map_err(|e| failed(&e))?;
    Ok(())
}

/// The value axis: always including zero (bars grow from it), with a little
/// room above the highest and below the lowest value.
fn value_range(series: &ChartSeries) -> (f64, f64) {
    let values = series
        .series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .filter(|v| v.is_finite());
    let (mut low, mut high) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if series.kind == LabelKind::Date && low > 0.0 {
        low = 0.0;
    }
    if high == low {
        high = low + 1.0;
    }
    let pad = (high - low) * 0.08;
    if high > 0.0 {
        high += pad;
    }
    if low < 0.0 {
        low -= pad;
    }
    (low, high)
}

/// Every label when they fit, otherwise every n-th (at most 20 under the axis).
fn label_step(points: usize) -> usize {
    points.div_ceil(20).max(1)
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let mut cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// Axis numbers: grouped, compact from ten thousand, at most two decimals.
fn number(value: f64) -> String {
    if value.abs() >= 10_000.0 {
        let sign = if value < 0.0 { "-" } else { "" };
        return format!(
            "{sign}{}",
            models::format::compact(value.abs().round() as i64)
        );
    }
    if value.fract().abs() < 1e-9 {
        return models::format::integer(value as i64);
    }
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kind: LabelKind, labels: &[&str], values: &[&[Option<f64>]]) -> ChartSeries {
        ChartSeries {
            label_column: "label".into(),
            kind,
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            series: values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("value {i}"), v.to_vec()))
                .collect(),
        }
    }

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(bytes).read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).expect("a frame");
        (info, pixels)
    }

    /// How many pixels have the colour of the first series.
    fn painted(pixels: &[u8], colour: RGBColor) -> usize {
        pixels
            .chunks_exact(3)
            .filter(|p| p[0] == colour.0 && p[1] == colour.1 && p[2] == colour.2)
            .count()
    }

    #[test]
    fn bars_lines_and_gaps_draw_into_a_png_of_the_promised_size() {
        let bars = series(
            LabelKind::Category,
            &["North", "South", "Ünïcödé Éast", "West"],
            &[&[Some(12.5), Some(-3.0), Some(40.0), None]],
        );
        let (info, pixels) = decode(&png(&bars, "Sales by region").expect("drawn"));
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let blue = painted(&pixels, COLOURS[0]);
        assert!(blue > 10_000, "the bars are drawn: {blue} pixels");

        // A taller bar paints more: the drawing follows the data.
        let taller = series(
            LabelKind::Category,
            &["North", "South", "Ünïcödé Éast", "West"],
            &[&[Some(12.5), Some(-3.0), Some(40.0), Some(40.0)]],
        );
        let (_, more) = decode(&png(&taller, "Sales by region").expect("drawn"));
        assert!(painted(&more, COLOURS[0]) > blue);

        let dates: Vec<String> = (1..=90)
            .map(|d| format!("2026-{:02}-{:02}", 1 + d / 31, 1 + d % 28))
            .collect();
        let labels: Vec<&str> = dates.iter().map(String::as_str).collect();
        let first: Vec<Option<f64>> = (0..90)
            .map(|i| (i != 40).then_some(i as f64 * 1.5))
            .collect();
        let second: Vec<Option<f64>> = (0..90).map(|i| Some(100.0 - i as f64)).collect();
        let line = series(LabelKind::Date, &labels, &[&first, &second]);
        let (info, pixels) = decode(&png(&line, "Orders per day").expect("drawn"));
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert!(painted(&pixels, COLOURS[0]) > 500);
        assert!(
            painted(&pixels, COLOURS[1]) > 500,
            "the second series and its legend"
        );
    }

    #[test]
    fn axis_numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2500.0), "2,500");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(0.126), "0.13");
        assert_eq!(number(1_250_000.0), models::format::compact(1_250_000));
        assert!(number(-25_000.0).starts_with('-'));
        assert_eq!(short("a very long product name indeed"), "a very long p…");
        assert_eq!(label_step(10), 1);
        assert_eq!(label_step(20), 1);
        assert_eq!(label_step(90), 5);
    }
}
