//! The figure's contract: what is drawn, in which colour and stroke, and where the legends go.

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

/// `#RRGGBB` as plotters' SVG backend writes a colour.
fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Every `<polyline>` as (stroke colour, points in pixels).
fn polylines(svg: &str) -> Vec<(String, Vec<(i32, i32)>)> {
    svg.split("<polyline ")
        .skip(1)
        .filter_map(|e| {
            let attr = |name: &str| {
                let start = e.find(&format!("{name}=\""))? + name.len() + 2;
                let rest = &e[start..];
                Some(rest[..rest.find('"')?].to_owned())
            };
            let points = attr("points")?
                .split_whitespace()
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            Some((attr("stroke")?, points))
        })
        .collect()
}

/// The left edge of the legend column, in pixels.
fn legend_x() -> i32 {
    (WIDTH - LEGEND_WIDTH) as i32
}

/// A flow is followed across the panels by its colour: its target, delay and loss lines are
/// all in its colour and its goodput in that colour's tint, and no two flows share one.
#[test]
fn a_flow_keeps_its_colour_in_every_panel() {
    let t = trace(true);
    let labels = ["flow 1", "flow 2", "flow 3"];
    let runs: Vec<Run<'_>> = labels
        .iter()
        .map(|label| Run { label, trace: &t })
        .collect();
    let panels = lines(&runs);
    for (i, label) in labels.iter().enumerate() {
        let colour = PALETTE[i];
        for (panel, lines) in panels.iter().enumerate() {
            let own: Vec<&Line> = lines
                .iter()
                .filter(|l| l.label.starts_with(&format!("{label} ")))
                .collect();
            assert!(!own.is_empty(), "{label} in panel {panel}");
            for l in own {
                let expected = if l.label.ends_with("goodput") {
                    tint(colour)
                } else {
                    colour
                };
                assert_eq!(l.color, expected, "{}", l.label);
            }
        }
    }
    let distinct: std::collections::BTreeSet<String> = PALETTE.iter().copied().map(hex).collect();
    assert_eq!(distinct.len(), PALETTE.len());
}

/// Legends are beside the panels, never over the data: every curve's points are left of the
/// legend column, and every legend label and swatch inside it.
#[test]
fn legends_sit_beside_the_data_area() {
    let (a, b) = (trace(true), trace(true));
    let svg = render(
        "two flows",
        &[
            Run {
                label: "flow 1",
                trace: &a,
            },
            Run {
                label: "flow 2",
                trace: &b,
            },
        ],
    )
    .expect("renders");
    let lines = polylines(&svg);
    let (legend, data): (Vec<_>, Vec<_>) = lines
        .iter()
        .partition(|(_, points)| points.iter().any(|&(x, _)| x >= legend_x()));
    assert!(
        legend
            .iter()
            .all(|(_, points)| points.iter().all(|&(x, _)| x >= legend_x())),
        "a polyline crosses into the legend column"
    );
    // Three panels' entries: capacity and two per flow, two per flow, one per flow.
    let swatches = legend.iter().filter(|(_, p)| p.len() == 2).count();
    assert!(swatches >= 5 + 4 + 2, "{swatches} legend swatches");
    assert!(data.len() > 20, "curves drawn in the data area");
    for label in ["flow 1 target", "flow 2 p95 (dashed)", "flow 2 loss"] {
        let at = svg
            .find(&format!("\n{label}\n</text>"))
            .unwrap_or_else(|| panic!("no {label}"));
        let element = &svg[svg[..at].rfind("<text").expect("its element")..at];
        let x: i32 = element
            .split("x=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|x| x.parse().ok())
            .expect("an x");
        assert!(x >= legend_x(), "{label} at x {x}");
    }
}

/// A line the legend calls dashed is drawn in dashes, and so is its swatch; a solid one's
/// swatch is one stroke.
#[test]
fn a_dashed_line_has_a_dashed_swatch() {
    let t = trace(true);
    let svg = render(
        "one run",
        &[Run {
            label: "ours",
            trace: &t,
        }],
    )
    .expect("renders");
    let colour = hex(PALETTE[0]);
    let swatch_rows = |y_min: i32, y_max: i32| -> Vec<Vec<(i32, i32)>> {
        polylines(&svg)
            .into_iter()
            .filter(|(stroke, p)| {
                *stroke == colour
                    && p.iter()
                        .all(|&(x, y)| x >= legend_x() && (y_min..=y_max).contains(&y))
            })
            .map(|(_, p)| p)
            .collect()
    };
    // The middle panel's legend: p50 (solid) in its first row, p95 (dashed) in the second.
    let mut rows: Vec<i32> = polylines(&svg)
        .into_iter()
        .filter(|(stroke, p)| *stroke == colour && p.iter().all(|&(x, _)| x >= legend_x()))
        .map(|(_, p)| p[0].1)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    // Rows of the blue swatches: target (top panel), p50 and p95 (middle), loss (bottom).
    assert_eq!(rows.len(), 4, "{rows:?}");
    let (p50, p95) = (swatch_rows(rows[1], rows[1]), swatch_rows(rows[2], rows[2]));
    assert_eq!(p50.len(), 1, "solid: one stroke");
    assert_eq!(p50[0].last().map(|p| p.0 - p50[0][0].0), Some(SWATCH));
    assert!(p95.len() >= 3, "dashed: {} strokes", p95.len());
    assert!(
        p95.iter()
            .all(|p| p.last().map_or(0, |e| e.0) - p[0].0 <= DASH),
        "{p95:?}"
    );
    // In the data area, the p95 line is many short strokes beside the p50's long one.
    let short = polylines(&svg)
        .into_iter()
        .filter(|(stroke, p)| {
            *stroke == colour && p.iter().all(|&(x, _)| x < legend_x()) && p.len() <= 3
        })
        .count();
    assert!(short > 20, "{short} dashes");
}

/// Tick labels carry as many decimals as the axis needs: none on a rate axis, three on a loss
/// axis of 0 to 0.01.
#[test]
fn tick_labels_have_the_decimals_the_axis_needs() {
    assert_eq!(tick_digits(3_850.0), 0);
    assert_eq!(tick_digits(11.0), 0);
    assert_eq!(tick_digits(0.011), 3);
    assert_eq!(tick_digits(0.55), 2);
    assert_eq!(tick_digits(0.0), 0);
}

/// Many flows make the page taller rather than pushing legend entries off their panel.
#[test]
fn many_flows_make_the_page_taller() {
    let t = trace(true);
    let one = lines(&[Run {
        label: "a",
        trace: &t,
    }]);
    assert_eq!(page_height(&one), HEIGHT);
    let labels: Vec<String> = (1..=12).map(|i| format!("flow {i}")).collect();
    let runs: Vec<Run<'_>> = labels
        .iter()
        .map(|label| Run { label, trace: &t })
        .collect();
    let many = lines(&runs);
    let height = page_height(&many);
    assert!(height > HEIGHT, "{height}");
    let top = (height - 50) * TOP_SHARE / 100;
    assert!(LEGEND_TOP + LEGEND_ROW * many[0].len() as u32 <= top);
}
