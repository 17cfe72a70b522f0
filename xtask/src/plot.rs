//! `plot.svg`: a run's trace as a three-panel figure, the thing a person looks at first.
//!
//! - top: capacity (a step line, as the link schedule is), the sender's target, goodput and,
//!   when the sender reads REMB, the REMB, in kbit/s;
//! - middle: queuing delay in ms, the p50 (solid) and p95 (dashed) of the packets sent in each
//!   interval, computed from the trace's per-packet record; a trace without packets falls back to
//!   the per-interval mean;
//! - bottom: loss in % per interval.
//!
//! Several runs of one scenario (`scenario compare`) share the figure: one capacity line, and
//! each run's target, goodput, queuing delay and loss in its own colour.
//!
//! SVG rather than PNG: it needs no fonts or system libraries at build time (plotters' SVG
//! backend writes labels as `<text>` and leaves the font to the viewer), it diffs as text, and the
//! same trace gives byte-identical output, as the seeded runs it draws do.

use bwe_core::Bitrate;
use bwe_e2e::Trace;
use bwe_e2e::metrics::nearest_rank;
use plotters::backend::SVGBackend;
use plotters::coord::Shift;
use plotters::prelude::*;
use vnet_sim::SimDuration;

/// One run to draw.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Legend prefix when there are several runs (the estimator's name).
    pub label: &'a str,
    /// What it recorded.
    pub trace: &'a Trace,
}

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 900;
const CAPACITY: RGBColor = RGBColor(0, 0, 0);
pub(crate) const REMB: RGBColor = RGBColor(44, 160, 44);
/// (target and queuing delay, goodput and loss) per run, in order.
pub(crate) const PALETTE: [(RGBColor, RGBColor); 5] = [
    (RGBColor(31, 119, 180), RGBColor(255, 127, 14)),
    (RGBColor(214, 39, 40), RGBColor(148, 103, 189)),
    (RGBColor(140, 86, 75), RGBColor(227, 119, 194)),
    (RGBColor(23, 190, 207), RGBColor(188, 189, 34)),
    (RGBColor(127, 127, 127), RGBColor(44, 160, 44)),
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

struct Line {
    label: String,
    color: RGBColor,
    dashed: bool,
    segments: Segments,
}

impl Line {
    fn solid(label: String, color: RGBColor, segments: Segments) -> Self {
        Self {
            label,
            color,
            dashed: false,
            segments,
        }
    }
}

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

fn panel(
    area: &Area<'_>,
    x_max: f64,
    y_desc: &str,
    y_floor: f64,
    y_digits: usize,
    lines: &[Line],
) -> Result<(), String> {
    let y_top = y_max(lines.iter().map(|l| &l.segments), y_floor);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(30)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        // Decimals only where the axis is short enough to need them.
        .y_label_formatter(&|y| {
            let digits = if y_top >= 10.0 { 0 } else { y_digits };
            format!("{y:.digits$}")
        })
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_SIZE))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    for line in lines {
        let style = line.color.stroke_width(if line.dashed { 1 } else { 2 });
        for (i, seg) in line.segments.iter().enumerate() {
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(seg.iter().copied(), 6, 4, style))
            } else {
                chart.draw_series(LineSeries::new(seg.iter().copied(), style))
            }
            .map_err(err)?;
            // One legend entry per line, however many gaps split it.
            if i == 0 {
                let color = line.color;
                drawn
                    .label(line.label.as_str())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, LABEL_SIZE))
        .draw()
        .map_err(err)?;
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

/// Renders `runs` of one scenario as an SVG document titled `title`.
pub fn render(title: &str, runs: &[Run<'_>]) -> Result<String, String> {
    let x_max = duration(runs);
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
        rates.push(Line::solid(
            "capacity".to_owned(),
            CAPACITY,
            capacity_steps(first.trace),
        ));
    }
    for (run, &(main, second)) in runs.iter().zip(PALETTE.iter().cycle()) {
        let half = secs(run.trace.interval) / 2.0;
        let rows = &run.trace.rows;
        rates.push(Line::solid(
            name(run, "target"),
            main,
            segments(rows.iter().map(|r| (secs(r.t), r.target.map(kbps)))),
        ));
        rates.push(Line::solid(
            name(run, "goodput"),
            second,
            segments(
                rows.iter()
                    .map(|r| (secs(r.t) + half, Some(kbps(r.goodput)))),
            ),
        ));
        let remb = segments(rows.iter().map(|r| (secs(r.t), r.remb.map(kbps))));
        if !remb.is_empty() {
            let color = if runs.len() > 1 {
                main.mix(0.5)
            } else {
                REMB.into()
            };
            let RGBAColor(r, g, b, _) = color;
            rates.push(Line::solid(name(run, "REMB"), RGBColor(r, g, b), remb));
        }
        match queue_delay(run.trace) {
            (p50, Some(p95)) => {
                delays.push(Line::solid(name(run, "p50"), main, p50));
                delays.push(Line {
                    label: name(run, "p95 (dashed)"),
                    color: main,
                    dashed: true,
                    segments: p95,
                });
            }
            (mean, None) => delays.push(Line::solid(name(run, "mean"), main, mean)),
        }
        losses.push(Line::solid(
            name(run, "loss"),
            second,
            segments(
                rows.iter()
                    .map(|r| (secs(r.t) + half, r.loss.map(|l| l * 100.0))),
            ),
        ));
    }

    let mut svg = String::new();
    {
        let root = titled_page(&mut svg, (WIDTH, HEIGHT), title)?;
        let (top, rest) = root.split_vertically(HEIGHT * 45 / 100);
        let (middle, bottom) = rest.split_vertically(HEIGHT * 30 / 100);
        panel(&top, x_max, "kbit/s", 100.0, 0, &rates)?;
        panel(&middle, x_max, "queuing delay (ms)", 10.0, 0, &delays)?;
        panel(&bottom, x_max, "loss (%)", 1.0, 1, &losses)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use bwe_e2e::{PacketSample, TraceRow};

    use super::*;

    /// plotters' SVG backend writes each label on its own line inside `<text>`.
    fn has_text(svg: &str, text: &str) -> bool {
        svg.contains(&format!("\n{text}\n</text>"))
    }

    fn trace(with_packets: bool) -> Trace {
        let interval = SimDuration::from_millis(200);
        let rows = (0..20u64)
            .map(|i| TraceRow {
                t: SimDuration::from_millis(200 * i),
                capacity: Some(Bitrate::from_kbps(if i < 10 { 1000 } else { 500 })),
                send_rate: Bitrate::from_kbps(400 + 20 * i),
                goodput: Bitrate::from_kbps(380 + 20 * i),
                target: Some(Bitrate::from_kbps(400 + 25 * i)),
                remb: None,
                queue_delay: (i != 5).then(|| SimDuration::from_millis(3 * i)),
                loss: Some(if i == 15 { 0.02 } else { 0.0 }),
                pacer_queue: None,
            })
            .collect();
        let packets = if with_packets {
            (0..400u64)
                .map(|k| PacketSample {
                    sent: SimDuration::from_millis(10 * k),
                    size: 1200,
                    queue_delay: (k % 50 != 0).then(|| SimDuration::from_millis(k % 17)),
                })
                .collect()
        } else {
            Vec::new()
        };
        Trace {
            interval,
            rows,
            packets,
        }
    }

    /// The figure is an artefact of a seeded run: the same trace must give the same bytes, or
    /// regenerating it would show changes that are not there.
    #[test]
    fn the_same_trace_renders_byte_identical_svg() {
        let t = trace(true);
        let runs = [Run {
            label: "ours",
            trace: &t,
        }];
        let a = render("rfc8867-5.1 ours-send-side", &runs).expect("renders");
        let b = render("rfc8867-5.1 ours-send-side", &runs).expect("renders");
        assert_eq!(a, b);
    }

    /// Every series a reader looks for is drawn and named in a legend, under the title.
    #[test]
    fn a_single_run_draws_capacity_target_goodput_delay_and_loss() {
        let t = trace(true);
        let svg = render(
            "rfc8867-5.1 ours-send-side",
            &[Run {
                label: "ours",
                trace: &t,
            }],
        )
        .expect("renders");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(has_text(&svg, "rfc8867-5.1 ours-send-side"));
        for label in [
            "capacity",
            "target",
            "goodput",
            "p50",
            "p95 (dashed)",
            "loss",
        ] {
            assert!(has_text(&svg, label), "no {label}");
        }
        assert!(!has_text(&svg, "REMB"), "no REMB line without REMB samples");
        assert!(svg.contains("<polyline"), "lines are drawn");
    }

    /// Capacity is a schedule of steps, so it is drawn as one: the drop from 1000 to 500 kbit/s
    /// is a vertical edge at 2 s, not a ramp across an interval.
    #[test]
    fn capacity_is_a_step_line() {
        let steps = capacity_steps(&trace(false));
        assert_eq!(steps.len(), 1);
        let s = &steps[0];
        let at_2s: Vec<_> = s.iter().filter(|p| (p.0 - 2.0).abs() < 1e-9).collect();
        assert_eq!(at_2s, [&(2.0, 1000.0), &(2.0, 500.0)]);
    }

    /// Without per-packet samples the middle panel still shows something: the per-interval
    /// mean, broken where an interval delivered nothing rather than drawn through zero.
    #[test]
    fn without_packets_queuing_delay_is_the_interval_mean_with_gaps() {
        let (mean, p95) = queue_delay(&trace(false));
        assert!(p95.is_none());
        assert_eq!(mean.len(), 2, "split at the interval without a delay");
    }

    /// Two runs share one capacity line, each with its own named series.
    #[test]
    fn a_comparison_names_each_run() {
        let a = trace(true);
        let b = trace(false);
        let svg = render(
            "rfc8867-5.1",
            &[
                Run {
                    label: "ours",
                    trace: &a,
                },
                Run {
                    label: "rtc-gcc",
                    trace: &b,
                },
            ],
        )
        .expect("renders");
        for label in [
            "ours target",
            "rtc-gcc target",
            "ours p95 (dashed)",
            "rtc-gcc mean",
        ] {
            assert!(has_text(&svg, label), "no {label}");
        }
        assert_eq!(svg.matches("\ncapacity\n</text>").count(), 1);
    }
}
