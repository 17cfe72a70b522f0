//! `frontier.svg`: where each estimator lands on the throughput–delay plane, one point per
//! trace, after the figures of Sprout (Winstein, Sivaraman, Balakrishnan, "Stochastic Forecasts
//! Achieve High Throughput and Low Delay over Cellular Networks", NSDI 2013).
//!
//! - x: **utilisation**, the run's goodput over the trace's capacity during the run, as a
//!   fraction (0 to 1), the unit of every other output and of the checks.
//!   Goodput in kbit/s would put a 0.4 Mbit/s EVDO downlink and an 11 Mbit/s LTE uplink on
//!   scales 25 times apart; as a share of its own link every trace reads on one axis.
//! - y: the run's **p95 queuing delay** in ms, on a log scale, going up with delay. On these
//!   links it runs from tens of ms to seconds, and a linear axis would crush everything below
//!   100 ms into its bottom row.
//! - **Better is toward the lower right**: more of the link, less queue. Sprout reverses its
//!   delay axis so that better is the upper right; we keep "up is more", as on every other plot
//!   here, and say which corner is better in the title and the legend.
//!
//! One colour and marker per estimator, each point labelled with its trace's short name. The
//! legend has a column of its own beside the data area, so it never hides a point (the
//! corner that matters here is exactly where a legend inside the data area would sit). Colours,
//! font and sizes are `plot.svg`'s: ours blue, rtc::Gcc red, and REMB green.

use plotters::backend::SVGBackend;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use crate::plot::{AXIS_SIZE, FONT, LABEL_SIZE, PALETTE, err, titled_page};

/// One run on the plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The point's label: the trace's short name.
    pub label: String,
    /// Index into the estimator names given to [`render`].
    pub estimator: usize,
    /// Goodput ÷ capacity over the run, as a fraction; `None` when not measured.
    pub utilisation: Option<f64>,
    /// The p95 queuing delay in ms; `None` when not measured.
    pub p95_ms: Option<f64>,
}

impl Point {
    /// Where it goes, `(utilisation fraction, p95 ms)`, or `None` when it cannot be drawn: a
    /// figure not measured, or a delay of 0 that a log axis has no place for.
    fn at(&self) -> Option<(f64, f64)> {
        let u = self.utilisation.filter(|u| u.is_finite())?;
        let d = self.p95_ms.filter(|d| d.is_finite() && *d > 0.0)?;
        Some((u, d))
    }
}

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 800;
/// The legend's column, right of the data area.
const LEGEND_WIDTH: u32 = 290;
/// A marker's radius in pixels.
const MARKER: i32 = 6;
/// The points' labels: smaller than the axes', dark grey so they do not read as a series.
const POINT_LABEL: RGBColor = RGBColor(64, 64, 64);
const POINT_LABEL_SIZE: u32 = 12;

/// The REMB estimator's colour, green, which no run of `plot.svg` takes.
const REMB: RGBColor = RGBColor(44, 160, 44);

/// The colour of the estimator at `index`: the order `frontier` runs them in (ours send side,
/// ours REMB, rtc::Gcc) gets `plot-compare.svg`'s blue for ours and red for rtc::Gcc, and green
/// for REMB.
fn colour(index: usize) -> RGBColor {
    const COLOURS: [RGBColor; 5] = [PALETTE[0], REMB, PALETTE[1], PALETTE[2], PALETTE[3]];
    COLOURS[index % COLOURS.len()]
}

/// The marker of the estimator at `index`: circle, triangle, square, then again.
fn draw_marker<CT>(
    area: &DrawingArea<SVGBackend<'_>, CT>,
    at: CT::From,
    index: usize,
) -> Result<(), String>
where
    CT: CoordTranslate,
    CT::From: Clone + 'static,
{
    let style = colour(index).filled();
    let r = MARKER;
    match index % 3 {
        0 => area.draw(&(EmptyElement::at(at) + Circle::new((0, 0), r, style))),
        1 => area.draw(&(EmptyElement::at(at) + TriangleMarker::new((0, 0), r + 2, style))),
        _ => area.draw(
            &(EmptyElement::at(at) + Rectangle::new([(1 - r, 1 - r), (r - 1, r - 1)], style)),
        ),
    }
    .map_err(err)
}

/// The log axis's range: whole decades around the delays, widened by a decade where a delay is
/// within a factor 1.5 of the edge, so that no point sits on the frame. Without any delay,
/// 1 to 1 000 ms.
fn decades(delays: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = delays
        .into_iter()
        .filter(|d| d.is_finite() && *d > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), d| {
            (lo.min(d), hi.max(d))
        });
    if hi <= 0.0 {
        return (1.0, 1000.0);
    }
    (
        10f64.powf((lo / 1.5).log10().floor()),
        10f64.powf((hi * 1.5).log10().ceil()),
    )
}

/// A box in pixels: left, top, right, bottom.
type PixelBox = (i32, i32, i32, i32);

fn overlaps(a: PixelBox, b: PixelBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// A label's size in pixels for `chars` characters: plotters' SVG writes a size-12 font as
/// `font-size` 9.7, whose characters average under 6 px in a sans-serif face.
fn label_size(chars: usize) -> (i32, i32) {
    (6 * i32::try_from(chars).unwrap_or(i32::MAX / 6), 11)
}

/// Where each label goes, as the offset of its top-left corner from its point's centre (both
/// in pixels): the first of right, left, above, below and the four diagonals where it overlaps
/// no label placed before it and no marker; right when every place does. Points of different
/// estimators on one trace often land close together, and labels drawn over each other name
/// neither.
fn place_labels(points: &[((i32, i32), usize)]) -> Vec<(i32, i32)> {
    let gap = MARKER + 3;
    let markers: Vec<PixelBox> = points
        .iter()
        .map(|&((x, y), _)| (x - MARKER, y - MARKER, x + MARKER, y + MARKER))
        .collect();
    let mut placed: Vec<PixelBox> = Vec::with_capacity(points.len());
    let mut out = Vec::with_capacity(points.len());
    for &((x, y), chars) in points {
        let (w, h) = label_size(chars);
        let candidates = [
            (gap, -h / 2),
            (-gap - w, -h / 2),
            (-w / 2, -gap - h),
            (-w / 2, gap),
            (MARKER, -MARKER - h),
            (MARKER, MARKER),
            (-MARKER - w, -MARKER - h),
            (-MARKER - w, MARKER),
        ];
        let at = |(dx, dy): (i32, i32)| (x + dx, y + dy, x + dx + w, y + dy + h);
        let free = |c: &(i32, i32)| {
            let b = at(*c);
            !placed.iter().chain(&markers).any(|&o| overlaps(b, o))
        };
        let offset = candidates
            .iter()
            .find(|c| free(c))
            .copied()
            .unwrap_or(candidates[0]);
        placed.push(at(offset));
        out.push(offset);
    }
    out
}

/// The x axis's end: 1 unless a run went above it (a queue emptying what it held before the
/// run's window), then the next tenth past it.
fn x_end(points: &[Point]) -> f64 {
    let top = points
        .iter()
        .filter_map(Point::at)
        .map(|(u, _)| u)
        .fold(1.0, f64::max);
    if top > 1.0 {
        ((top * 10.0).floor() + 1.0) / 10.0
    } else {
        1.0
    }
}

/// A tick label of the log axis: whole numbers from 1 ms, the value as it is below.
fn delay_label(ms: f64) -> String {
    if ms >= 1.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms}")
    }
}

/// Renders `points` of the estimators named `estimators` (in `frontier`'s order, which picks
/// the colours) as an SVG document titled `title`.
pub fn render(title: &str, estimators: &[&str], points: &[Point]) -> Result<String, String> {
    let (y_lo, y_hi) = decades(points.iter().filter_map(Point::at).map(|(_, d)| d));
    let x_hi = x_end(points);
    let mut svg = String::new();
    {
        let root = titled_page(&mut svg, (WIDTH, HEIGHT), title)?;
        let (data, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&data)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_hi, (y_lo..y_hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("utilisation: goodput ÷ the trace's capacity during the run (fraction)")
            .y_desc("p95 queuing delay (ms, log scale)")
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| delay_label(*y))
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, AXIS_SIZE))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        let drawn: Vec<(&Point, (f64, f64))> =
            points.iter().filter_map(|p| Some((p, p.at()?))).collect();
        let labels: Vec<((i32, i32), usize)> = drawn
            .iter()
            .map(|(p, at)| (chart.backend_coord(at), p.label.chars().count()))
            .collect();
        let offsets = place_labels(&labels);
        let area = chart.plotting_area();
        let label_style = TextStyle::from((FONT, POINT_LABEL_SIZE).into_font()).color(&POINT_LABEL);
        for ((p, at), offset) in drawn.iter().zip(offsets) {
            draw_marker(area, *at, p.estimator)?;
            area.draw(&(EmptyElement::at(*at) + Text::new(p.label.clone(), offset, &label_style)))
                .map_err(err)?;
        }
        draw_legend(&legend, estimators)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The legend column: one marker and name per estimator, what the labels are, and which
/// corner is better.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    estimators: &[&str],
) -> Result<(), String> {
    let font = (FONT, LABEL_SIZE).into_font();
    let text = |s: &str, y: i32| area.draw(&Text::new(s.to_owned(), (34, y), font.clone()));
    let mut y = 30;
    for (i, name) in estimators.iter().enumerate() {
        draw_marker(area, (18, y), i)?;
        text(name, y - 8).map_err(err)?;
        y += 26;
    }
    y += 14;
    for line in [
        "label: the trace",
        "",
        "better: toward the lower right",
        "(more of the link used,",
        "less queuing delay)",
    ] {
        if !line.is_empty() {
            area.draw(&Text::new(line.to_owned(), (10, y), font.clone()))
                .map_err(err)?;
        }
        y += 20;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// plotters' SVG backend writes each label on its own line inside `<text>`.
    fn text_count(svg: &str, text: &str) -> usize {
        svg.matches(&format!("\n{text}\n</text>")).count()
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// The value of `attr="…"` in one SVG element.
    fn attr(element: &str, attr: &str) -> Option<f64> {
        let start = element.find(&format!(" {attr}=\""))? + attr.len() + 3;
        let rest = &element[start..];
        rest[..rest.find('"')?].parse().ok()
    }

    /// The `<tag …>` elements filled in `colour`.
    fn filled<'a>(svg: &'a str, tag: &str, colour: RGBColor) -> Vec<&'a str> {
        let (tag, fill) = (format!("{tag} "), format!("fill=\"{}\"", hex(colour)));
        svg.split('<')
            .filter(|e| e.starts_with(&tag) && e.contains(&fill))
            .collect()
    }

    /// Centres `(cx, cy)` of the circles filled in `colour` inside the data area (left of
    /// the legend column), left to right.
    fn points_drawn(svg: &str, colour: RGBColor) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = filled(svg, "circle", colour)
            .into_iter()
            .filter_map(|e| Some((attr(e, "cx")?, attr(e, "cy")?)))
            .filter(|(x, _)| *x < f64::from(WIDTH - LEGEND_WIDTH))
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    fn point(label: &str, estimator: usize, u: f64, p95: f64) -> Point {
        Point {
            label: label.to_owned(),
            estimator,
            utilisation: Some(u),
            p95_ms: Some(p95),
        }
    }

    const ESTIMATORS: [&str; 3] = ["ours (send side)", "ours (REMB)", "rtc::Gcc"];

    /// Seven traces × three estimators, with figures of the size the runs give.
    fn frontier() -> Vec<Point> {
        let traces = ["lte-up", "umts-driving", "evdo-driving", "att-lte-down"];
        let mut out = Vec::new();
        for (e, _) in ESTIMATORS.iter().enumerate() {
            for (t, label) in traces.iter().enumerate() {
                let u = 0.3 + 0.1 * t as f64 + 0.05 * e as f64;
                let p95 = 20.0 * 3f64.powi(t as i32) * (1.0 + e as f64);
                out.push(point(label, e, u, p95));
            }
        }
        out
    }

    /// A log axis has equal steps for equal ratios: 2 → 20 ms is as tall as 20 → 200 ms, and
    /// more delay is higher on the page (a smaller y). Utilisation is linear: 0.2 → 0.5 is as
    /// wide as 0.5 → 0.8.
    #[test]
    fn the_delay_axis_is_logarithmic_going_up_and_utilisation_linear() {
        let svg = render(
            "t",
            &ESTIMATORS[..1],
            &[
                point("a", 0, 0.2, 2.0),
                point("b", 0, 0.5, 20.0),
                point("c", 0, 0.8, 200.0),
            ],
        )
        .expect("renders");
        let c = points_drawn(&svg, colour(0));
        assert_eq!(c.len(), 3, "{c:?}");
        let (step_x1, step_x2) = (c[1].0 - c[0].0, c[2].0 - c[1].0);
        let (rise1, rise2) = (c[0].1 - c[1].1, c[1].1 - c[2].1);
        assert!(rise1 > 50.0 && rise2 > 50.0, "up is more delay: {c:?}");
        assert!(
            (rise1 - rise2).abs() <= 1.0,
            "a decade each: {rise1} vs {rise2}"
        );
        assert!(step_x1 > 50.0, "right is more utilisation: {c:?}");
        assert!((step_x1 - step_x2).abs() <= 1.0, "{step_x1} vs {step_x2}");
        // 1 to 1 000 ms is three decades in the data area's height (800 px less title and
        // axis): each a quarter to a third of the page.
        assert!(
            (f64::from(HEIGHT) / 4.0..=f64::from(HEIGHT) / 3.0).contains(&rise1),
            "{rise1}"
        );
    }

    /// The axis spans whole decades with room around the data: 9.7 to 1 489 ms is 1 to
    /// 10 000 ms (the top within 1.5× of 1 000), 90 to 165 ms is 10 to 1 000 ms, and no data
    /// falls back to 1 to 1 000 ms.
    #[test]
    fn the_delay_axis_spans_whole_decades_around_the_data() {
        assert_eq!(decades([9.7, 1488.7]), (1.0, 10_000.0));
        assert_eq!(decades([90.3, 164.8]), (10.0, 1000.0));
        assert_eq!(decades([20.0, 40.0]), (10.0, 100.0));
        assert_eq!(decades([]), (1.0, 1000.0));
        assert_eq!(decades([0.0, f64::NAN]), (1.0, 1000.0));
    }

    /// Every (trace, estimator) is one marker in the estimator's colour (plus the legend's
    /// one) and one label, and each estimator has its own marker shape.
    #[test]
    fn each_trace_and_estimator_is_one_labelled_point() {
        let points = frontier();
        let svg = render("frontier", &ESTIMATORS, &points).expect("renders");
        for (e, _) in ESTIMATORS.iter().enumerate() {
            let shape = ["circle", "polygon", "rect"][e];
            let markers = filled(&svg, shape, colour(e)).len();
            assert_eq!(markers, 4 + 1, "estimator {e}: four traces and the legend");
        }
        for label in ["lte-up", "umts-driving", "evdo-driving", "att-lte-down"] {
            assert_eq!(text_count(&svg, label), 3, "{label}: one per estimator");
        }
        for name in ESTIMATORS {
            assert_eq!(text_count(&svg, name), 1, "{name} in the legend");
        }
        assert_eq!(text_count(&svg, "better: toward the lower right"), 1);
        assert_eq!(text_count(&svg, "p95 queuing delay (ms, log scale)"), 1);
    }

    /// A run without a figure (or with a delay of 0, which a log axis cannot place) is left
    /// out rather than drawn at an edge, and the rest still renders.
    #[test]
    fn a_point_without_figures_is_left_out() {
        let mut points = frontier();
        points[0].p95_ms = None;
        points[1].utilisation = None;
        points[2].p95_ms = Some(0.0);
        let svg = render("frontier", &ESTIMATORS, &points).expect("renders");
        let drawn = points_drawn(&svg, colour(0));
        assert_eq!(
            drawn.len(),
            1,
            "four traces, three without a point: {drawn:?}"
        );
    }

    /// Labels do not cover each other or a marker where there is room: two points at one
    /// place get their labels on two sides, and a spread-out frontier gets no overlap at all.
    #[test]
    fn labels_are_placed_clear_of_each_other_and_of_markers() {
        let boxes = |points: &[((i32, i32), usize)]| -> Vec<PixelBox> {
            points
                .iter()
                .zip(place_labels(points))
                .map(|(&((x, y), n), (dx, dy))| {
                    let (w, h) = label_size(n);
                    (x + dx, y + dy, x + dx + w, y + dy + h)
                })
                .collect()
        };
        let same_place = [((300, 300), 12), ((300, 300), 12), ((302, 301), 6)];
        let b = boxes(&same_place);
        for i in 0..b.len() {
            for j in 0..i {
                assert!(!overlaps(b[i], b[j]), "{i} and {j}: {b:?}");
            }
            let marker = (300 - MARKER, 300 - MARKER, 300 + MARKER, 300 + MARKER);
            assert!(!overlaps(b[i], marker), "{i} covers the marker: {b:?}");
        }
        assert_eq!(
            place_labels(&same_place)[0],
            (MARKER + 3, -5),
            "right first"
        );
        // Twelve points in a tight cluster: more than eight places around one point can
        // hold, so some overlap is allowed, but every label still gets a place.
        let crowd: Vec<_> = (0..12).map(|i| ((400 + i, 400 + i), 10)).collect();
        assert_eq!(place_labels(&crowd).len(), 12);
    }

    /// The figure is an artefact of seeded runs: the same figures give the same bytes.
    #[test]
    fn the_same_figures_render_byte_identical_svg() {
        let points = frontier();
        let a = render("frontier", &ESTIMATORS, &points).expect("renders");
        let b = render("frontier", &ESTIMATORS, &points).expect("renders");
        assert_eq!(a, b);
    }

    /// Utilisation reads against 1 unless a run went over it.
    #[test]
    fn the_utilisation_axis_ends_at_1_unless_a_run_went_over() {
        assert_eq!(x_end(&frontier()), 1.0);
        assert_eq!(x_end(&[point("a", 0, 1.03, 10.0)]), 1.1);
        assert_eq!(x_end(&[]), 1.0);
    }
}
