//! `plot.svg`: a run's trace as a three-panel figure, the thing a person looks at first.
//!
//! - top: capacity (a step line, as the link schedule is), the sender's target, goodput and,
//!   when the sender reads REMB, the REMB (dashed, over the target it mostly equals), in kbit/s;
//! - middle: queuing delay in ms, the p50 (solid) and p95 (dashed) of the packets sent in each
//!   interval, computed from the trace's per-packet record; a trace without packets falls back to
//!   the per-interval mean;
//! - bottom: loss per interval as a fraction of the packets sent (0 to 1, the unit of the
//!   checks and of every other output).
//!
//! Several runs of one scenario (`scenario compare`) or the flows of a multi-flow one share the
//! figure: one capacity line, and **one colour per run or flow in every panel** (its target,
//! delay and loss lines; its goodput and REMB in a lighter tint of the same colour), so a flow is
//! followed from panel to panel by its colour alone. Series of one flow differ by stroke: solid
//! or dashed, thick or tinted. The alternative we had, a pair of colours per flow (target and
//! delay in one, goodput and loss in another), made flow 1's loss the colour of flow 2's target.
//!
//! **Legends sit beside the panels**, in a column of their own to the right of each panel, so
//! they never cover a curve (a corner legend inside the data area hid the end of the run, where
//! the settled state is). Each entry's swatch is drawn with the stroke of its line: a dashed
//! line has a dashed swatch.
//!
//! SVG rather than PNG: it needs no fonts or system libraries at build time (plotters' SVG
//! backend writes labels as `<text>` and leaves the font to the viewer), it diffs as text, and the
//! same trace gives byte-identical output, as the seeded runs it draws do.

use bwe_core::Bitrate;
use bwe_e2e::Trace;
use bwe_e2e::metrics::nearest_rank;
use plotters::backend::SVGBackend;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use vnet_sim::SimDuration;

/// One run to draw.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Legend prefix when there are several runs (the estimator's name, or `flow N`).
    pub label: &'a str,
    /// What it recorded.
    pub trace: &'a Trace,
}

const WIDTH: u32 = 1300;
/// The page's height when the legends fit; more when a panel has more legend entries.
const HEIGHT: u32 = 900;
/// The legend column, right of the panels.
const LEGEND_WIDTH: u32 = 230;
/// A legend entry's height, its swatch's length, and the first entry's distance from the top
/// of its panel.
const LEGEND_ROW: u32 = 20;
const SWATCH: i32 = 34;
const LEGEND_TOP: u32 = 16;
/// The panels' shares of the page under the title, top to bottom (the bottom takes the rest).
const TOP_SHARE: u32 = 45;
const MIDDLE_SHARE: u32 = 30;
/// A dashed line's dash and gap, in pixels: long enough to read as dashes on a noisy series.
const DASH: i32 = 8;
const GAP: i32 = 5;
const CAPACITY: RGBColor = RGBColor(0, 0, 0);
/// One colour per run or flow, in order (then again); ours blue and rtc::Gcc red in a
/// comparison, as on the frontier.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The font family of every label; SVG leaves the face to the viewer.
pub(crate) const FONT: &str = "sans-serif";
/// Font sizes: the title, tick labels and legends, axis names.
pub(crate) const TITLE_SIZE: u32 = 26;
pub(crate) const LABEL_SIZE: u32 = 14;
pub(crate) const AXIS_SIZE: u32 = 15;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Segments = Vec<Vec<(f64, f64)>>;

fn secs(d: SimDuration) -> f64 {
    d.as_secs_f64()
}

fn kbps(r: Bitrate) -> f64 {
    r.as_kbps_f64()
}

fn ms(d: SimDuration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `c` halfway to white: the same hue, for a flow's second series in one panel (goodput).
fn tint(c: RGBColor) -> RGBColor {
    let half = |v: u8| v + (255 - v) / 2;
    RGBColor(half(c.0), half(c.1), half(c.2))
}

/// Splits a series with gaps into the unbroken stretches a line can join.
fn segments(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Segments {
    let mut out: Segments = Vec::new();
    let mut open = false;
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() => {
                if !open {
                    out.push(Vec::new());
                    open = true;
                }
                if let Some(last) = out.last_mut() {
                    last.push((x, y));
                }
            }
            _ => open = false,
        }
    }
    out
}

/// Capacity as a step line: each interval's rate held from its start to the next one's.
fn capacity_steps(trace: &Trace) -> Segments {
    let iv = secs(trace.interval);
    let mut out: Segments = Vec::new();
    let mut open = false;
    for (i, r) in trace.rows.iter().enumerate() {
        let t = secs(r.t);
        match r.capacity {
            Some(c) => {
                if !open {
                    out.push(Vec::new());
                    open = true;
                }
                if let Some(last) = out.last_mut() {
                    last.push((t, kbps(c)));
                    let end = trace.rows.get(i + 1).map_or(t + iv, |n| secs(n.t));
                    last.push((end, kbps(c)));
                }
            }
            None => open = false,
        }
    }
    out
}

/// Queuing delay per interval, at its midpoint: `(p50, p95)` of the delivered packets sent in
/// it, or the row's mean twice when the trace has no packets.
fn queue_delay(trace: &Trace) -> (Segments, Option<Segments>) {
    let iv = trace.interval.as_nanos().max(1);
    let half = secs(trace.interval) / 2.0;
    if trace.packets.is_empty() {
        let mean = segments(
            trace
                .rows
                .iter()
                .map(|r| (secs(r.t) + half, r.queue_delay.map(ms))),
        );
        return (mean, None);
    }
    let mut per_row: Vec<Vec<f64>> = vec![Vec::new(); trace.rows.len()];
    for p in &trace.packets {
        let Some(d) = p.queue_delay else { continue };
        if let Some(bucket) = per_row.get_mut((p.sent.as_nanos() / iv) as usize) {
            bucket.push(ms(d));
        }
    }
    for bucket in &mut per_row {
        bucket.sort_by(f64::total_cmp);
    }
    let at = |q: f64| {
        segments(
            trace
                .rows
                .iter()
                .zip(&per_row)
                .map(|(r, b)| (secs(r.t) + half, nearest_rank(b, q))),
        )
    };
    (at(0.5), Some(at(0.95)))
}

fn duration(runs: &[Run<'_>]) -> f64 {
    runs.iter()
        .filter_map(|r| {
            let last = r.trace.rows.last()?;
            Some(secs(last.t) + secs(r.trace.interval))
        })
        .fold(1.0, f64::max)
}

/// The top of a y axis: 10 % above the largest value, and at least `floor`.
fn y_max<'a>(series: impl IntoIterator<Item = &'a Segments>, floor: f64) -> f64 {
    series
        .into_iter()
        .flatten()
        .flatten()
        .map(|&(_, y)| y * 1.1)
        .fold(floor, f64::max)
}

/// Decimals of the y tick labels of an axis from 0 to `top`: enough for a tenth of it to show
/// one significant digit (none from 10 up, 3 for a loss axis of 0 to 0.01).
fn tick_digits(top: f64) -> usize {
    let step = top / 10.0;
    if step.is_finite() && step > 0.0 {
        (-step.log10()).ceil().clamp(0.0, 4.0) as usize
    } else {
        0
    }
}

/// How a line is stroked, in pixels of width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stroke {
    Solid(u32),
    /// [`DASH`] drawn, [`GAP`] left, along the line.
    Dashed(u32),
}

struct Line {
    label: String,
    color: RGBColor,
    stroke: Stroke,
    /// Lines are drawn by layer, lowest first, and listed in the legend in the order given.
    layer: u8,
    segments: Segments,
}

impl Line {
    fn new(label: String, color: RGBColor, stroke: Stroke, layer: u8, segments: Segments) -> Self {
        Self {
            label,
            color,
            stroke,
            layer,
            segments,
        }
    }
}

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

/// Draws `points` (pixels or data coordinates) in `area` with `stroke`.
fn stroke_path<DB, CT>(
    area: &DrawingArea<DB, CT>,
    points: &[CT::From],
    color: RGBColor,
    stroke: Stroke,
) -> Result<(), String>
where
    DB: DrawingBackend,
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone,
{
    match stroke {
        Stroke::Solid(w) => area.draw(&PathElement::new(points.to_vec(), color.stroke_width(w))),
        Stroke::Dashed(w) => area.draw(&DashedPathElement::new(
            points.iter().cloned(),
            DASH,
            GAP,
            color.stroke_width(w),
        )),
    }
    .map_err(err)
}

/// One panel: the chart in `area`, its legend in `legend` (the column beside it).
fn panel(
    area: &Area<'_>,
    legend: &Area<'_>,
    x_max: f64,
    y_desc: &str,
    y_floor: f64,
    lines: &[Line],
) -> Result<(), String> {
    let y_top = y_max(lines.iter().map(|l| &l.segments), y_floor);
    let digits = tick_digits(y_top);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..y_top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.digits$}"))
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_SIZE))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let plot = chart.plotting_area();
    let mut order: Vec<&Line> = lines.iter().collect();
    order.sort_by_key(|l| l.layer);
    for line in order {
        for seg in &line.segments {
            stroke_path(plot, seg, line.color, line.stroke)?;
        }
    }
    draw_legend(legend, lines)
}

/// The legend column of one panel: one entry per line, its swatch stroked as the line is.
fn draw_legend(area: &Area<'_>, lines: &[Line]) -> Result<(), String> {
    // Centred on the swatch's height, not hung from it.
    let style =
        TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, line) in lines.iter().enumerate() {
        let y = (LEGEND_TOP + LEGEND_ROW * i as u32) as i32;
        stroke_path(area, &[(6, y), (6 + SWATCH, y)], line.color, line.stroke)?;
        area.draw(&Text::new(line.label.clone(), (14 + SWATCH, y), &style))
            .map_err(err)?;
    }
    Ok(())
}

/// A white SVG page of `size` with `title` on top, drawing into `svg`: the area under the
/// title. Every figure of ours starts from it.
pub(crate) fn titled_page<'a>(
    svg: &'a mut String,
    size: (u32, u32),
    title: &str,
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, String> {
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    root.titled(title, (FONT, TITLE_SIZE).into_font())
        .map_err(err)
}

/// The three panels' lines: rates, queuing delay, loss. Run `i` has colour `PALETTE[i]` in all
/// three.
fn lines(runs: &[Run<'_>]) -> [Vec<Line>; 3] {
    let name = |run: &Run<'_>, what: &str| {
        if runs.len() > 1 {
            format!("{} {what}", run.label)
        } else {
            what.to_owned()
        }
    };
    let mut rates = Vec::new();
    let mut delays = Vec::new();
    let mut losses = Vec::new();
    if let Some(first) = runs.first() {
        rates.push(Line::new(
            "capacity".to_owned(),
            CAPACITY,
            Stroke::Solid(2),
            3,
            capacity_steps(first.trace),
        ));
    }
    for (run, &color) in runs.iter().zip(PALETTE.iter().cycle()) {
        let half = secs(run.trace.interval) / 2.0;
        let rows = &run.trace.rows;
        // A run without a target (a TCP flow) gets no target line and no legend entry for one.
        let target = segments(rows.iter().map(|r| (secs(r.t), r.target.map(kbps))));
        if !target.is_empty() {
            rates.push(Line::new(
                name(run, "target"),
                color,
                Stroke::Solid(2),
                1,
                target,
            ));
        }
        rates.push(Line::new(
            name(run, "goodput"),
            tint(color),
            Stroke::Solid(2),
            0,
            segments(
                rows.iter()
                    .map(|r| (secs(r.t) + half, Some(kbps(r.goodput)))),
            ),
        ));
        let remb = segments(rows.iter().map(|r| (secs(r.t), r.remb.map(kbps))));
        if !remb.is_empty() {
            // Tinted and on top: where the target is the REMB, as it mostly is, the dashes
            // show on the target's line instead of vanishing into it.
            rates.push(Line::new(
                name(run, "REMB (dashed)"),
                tint(color),
                Stroke::Dashed(2),
                2,
                remb,
            ));
        }
        match queue_delay(run.trace) {
            (p50, Some(p95)) => {
                delays.push(Line::new(name(run, "p50"), color, Stroke::Solid(2), 1, p50));
                delays.push(Line::new(
                    name(run, "p95 (dashed)"),
                    color,
                    Stroke::Dashed(2),
                    0,
                    p95,
                ));
            }
            (mean, None) => delays.push(Line::new(
                name(run, "mean"),
                color,
                Stroke::Solid(2),
                1,
                mean,
            )),
        }
        losses.push(Line::new(
            name(run, "loss"),
            color,
            Stroke::Solid(2),
            0,
            segments(rows.iter().map(|r| (secs(r.t) + half, r.loss))),
        ));
    }
    [rates, delays, losses]
}

/// The page's height: [`HEIGHT`], or more when a panel's legend needs it.
fn page_height(panels: &[Vec<Line>; 3]) -> u32 {
    let shares = [TOP_SHARE, MIDDLE_SHARE, 100 - TOP_SHARE - MIDDLE_SHARE];
    let title = 50;
    panels
        .iter()
        .zip(shares)
        .map(|(lines, share)| {
            let needed = 2 * LEGEND_TOP + LEGEND_ROW * lines.len() as u32;
            needed * 100 / share + title
        })
        .fold(HEIGHT, u32::max)
}

/// Renders `runs` of one scenario as an SVG document titled `title`.
pub fn render(title: &str, runs: &[Run<'_>]) -> Result<String, String> {
    let x_max = duration(runs);
    let panels = lines(runs);
    let height = page_height(&panels);
    let [rates, delays, losses] = panels;
    let mut svg = String::new();
    {
        let root = titled_page(&mut svg, (WIDTH, height), title)?;
        let (plots, legends) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let (_, under_title) = plots.dim_in_pixel();
        let (top_h, middle_h) = (
            under_title * TOP_SHARE / 100,
            under_title * MIDDLE_SHARE / 100,
        );
        let (top, rest) = plots.split_vertically(top_h);
        let (middle, bottom) = rest.split_vertically(middle_h);
        let (top_legend, rest) = legends.split_vertically(top_h);
        let (middle_legend, bottom_legend) = rest.split_vertically(middle_h);
        panel(&top, &top_legend, x_max, "rate (kbit/s)", 100.0, &rates)?;
        panel(
            &middle,
            &middle_legend,
            x_max,
            "queuing delay (ms)",
            10.0,
            &delays,
        )?;
        panel(
            &bottom,
            &bottom_legend,
            x_max,
            "loss (fraction of packets)",
            0.01,
            &losses,
        )?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests;
