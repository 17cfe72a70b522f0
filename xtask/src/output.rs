//! Runs one scenario and reports it: the metrics table and the checks on stdout, `trace.csv`,
//! `metrics.json` and `plot.svg` in the output folder (written only once the call has run).
//!
//! Running and checking is `bwe_e2e::scenario`'s (so tests run the same files the same way);
//! this writes the report. A file without `[[flow]]` runs the one-flow call; with flows it
//! writes `trace-flow<N>.csv` per flow (with the pacer queue column)
//! and the forward flows' sum as `trace.csv`, and prints one table row per flow plus the
//! aggregate's, fairness and each capacity change's convergence and overshoot. Metrics are
//! defined in `docs/scenarios.md`.
//!
//! **One unit per metric, named wherever it appears.** Utilisation, loss and overshoot are
//! fractions (0 to 1), fairness and instability ratios, never percentages: the scenario files'
//! checks bound them that way (`max = 0.01` is 1 % loss), so the table, the check lines,
//! `metrics.json` and the CSVs print what a check compares. Each header, key and check line
//! says the unit (`loss (fraction)`, `loss_fraction`, `… 0.0066 in [0, 0.01] fraction`).

use std::fmt::Write as _;
use std::path::Path;

use bwe_e2e::scenario::run::{kbps, ms, secs};
use bwe_e2e::scenario::{self, CheckResult, MetricName, MetricUnit, Scenario, ScenarioRun};
use bwe_e2e::{Direction, Media, Metrics, Trace};
use serde::Serialize;
use vnet_sim::SimDuration;

use crate::plot;

/// Decimals of a loss fraction wherever it is printed: 0.66 % of the packets is 0.0066.
pub(crate) const LOSS_DIGITS: usize = 4;
/// Decimals of the other fractions and of ratios (utilisation 0.901).
pub(crate) const FRACTION_DIGITS: usize = 3;

/// A check's outcome as `metrics.json` lists it; `value`, `min` and `max` are in `unit`.
#[derive(Debug, Serialize)]
struct CheckOut {
    metric: MetricName,
    unit: MetricUnit,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow: Option<usize>,
    from_s: f64,
    to_s: f64,
    min: f64,
    max: f64,
    value: Option<f64>,
    passed: bool,
}

impl CheckOut {
    /// The check's name as the file writes it, with its flow: `loss (flow 2)`.
    fn name(&self) -> String {
        let name = serde_json::to_string(&self.metric).unwrap_or_default();
        let name = name.trim_matches('"');
        match self.flow {
            Some(f) => format!("{name} (flow {f})"),
            None => name.to_owned(),
        }
    }

    /// `value` as the check lines print it: a loss with [`LOSS_DIGITS`], anything else with 3.
    fn value(&self) -> String {
        let digits = match self.metric {
            MetricName::Loss | MetricName::MaxIntervalLoss => LOSS_DIGITS,
            _ => 3,
        };
        show(self.value, digits)
    }

    /// One line for a failed check: `queue_p95_ms 83.470 not in [0, 50] ms`.
    fn failure(&self) -> String {
        format!(
            "{} {} not in [{}, {}] {}",
            self.name(),
            self.value(),
            self.min,
            self.max,
            self.unit.as_str()
        )
    }
}

impl From<CheckResult> for CheckOut {
    fn from(c: CheckResult) -> Self {
        Self {
            metric: c.spec.metric,
            unit: c.spec.metric.unit(),
            flow: c.spec.flow,
            from_s: c.from.as_secs_f64(),
            to_s: c.to.as_secs_f64(),
            min: c.spec.min,
            max: c.spec.max,
            value: c.value,
            passed: c.passed,
        }
    }
}

pub(crate) fn csv(trace: &Trace, pacer: bool) -> String {
    let mut out = String::from(
        "t_s,capacity_kbps,target_kbps,remb_kbps,send_kbps,goodput_kbps,queue_delay_ms,\
         loss_fraction",
    );
    out.push_str(if pacer { ",pacer_queue_ms\n" } else { "\n" });
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.3}"));
    for r in &trace.rows {
        let _ = write!(
            out,
            "{:.3},{},{},{},{:.3},{:.3},{},{}",
            r.t.as_secs_f64(),
            opt(kbps(r.capacity)),
            opt(kbps(r.target)),
            opt(kbps(r.remb)),
            r.send_rate.as_kbps_f64(),
            r.goodput.as_kbps_f64(),
            opt(ms(r.queue_delay)),
            r.loss
                .map_or_else(String::new, |l| format!("{l:.LOSS_DIGITS$}")),
        );
        if pacer {
            let _ = write!(out, ",{}", opt(ms(r.pacer_queue)));
        }
        out.push('\n');
    }
    out
}

/// One finished run: what it measured and whether its checks passed.
pub struct Outcome {
    file: MetricsFileOwned,
    recorded: ScenarioRun,
    aggregate: Trace,
    /// Virtual duration of the media phase.
    pub virtual_s: f64,
}

/// Whole-run figures of a flow or of the aggregate.
#[derive(Debug, Serialize)]
struct Figures {
    #[serde(rename = "utilisation_fraction")]
    utilisation: Option<f64>,
    queue_p50_ms: Option<f64>,
    queue_p95_ms: Option<f64>,
    #[serde(rename = "loss_fraction")]
    loss: Option<f64>,
    target_kbps: Option<f64>,
    goodput_kbps: Option<f64>,
    send_kbps: Option<f64>,
}

impl Figures {
    fn of(trace: &Trace, duration: SimDuration) -> Self {
        let m: Metrics = trace.metrics(SimDuration::ZERO, duration);
        Self {
            utilisation: m.utilisation,
            queue_p50_ms: ms(m.queue_p50),
            queue_p95_ms: ms(m.queue_p95),
            loss: m.loss,
            target_kbps: kbps(m.target),
            goodput_kbps: kbps(m.goodput),
            send_kbps: kbps(m.send_rate),
        }
    }
}

#[derive(Debug, Serialize)]
struct FlowFigures {
    flow: usize,
    estimator: String,
    direction: &'static str,
    media: &'static str,
    start_s: f64,
    #[serde(flatten)]
    figures: Figures,
    startup_s: Option<f64>,
    #[serde(rename = "instability_ratio")]
    instability: Option<f64>,
}

/// A TCP-model flow's figures: its packets at the bottleneck, and its endpoints' counters.
#[derive(Debug, Serialize)]
struct TcpFigures {
    tcp: usize,
    algorithm: &'static str,
    direction: &'static str,
    workload: &'static str,
    start_s: f64,
    stop_s: f64,
    /// Its packets at the bottleneck (`goodput_kbps` here is delivery, retransmissions
    /// included).
    #[serde(flatten)]
    figures: Figures,
    /// Bytes delivered in order at the receiver between its start and stop, as a rate.
    in_order_kbps: Option<f64>,
    retransmissions: u64,
    fast_retransmits: u64,
    timeouts: u64,
    transfers_started: u64,
    transfers_done: u64,
    transfer_p50_ms: Option<f64>,
    transfer_p95_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
struct ChangeFigures {
    at_s: f64,
    from_kbps: f64,
    to_kbps: f64,
    convergence_s: Option<f64>,
    #[serde(rename = "overshoot_fraction")]
    overshoot: Option<f64>,
}

#[derive(Debug, Serialize)]
struct MetricsFileOwned {
    name: String,
    seed: u64,
    estimator: String,
    duration_s: f64,
    /// The forward aggregate (the one flow when single).
    #[serde(flatten)]
    aggregate: Figures,
    /// Capacity changes of the forward bottleneck and how the forward flows responded.
    changes: Vec<ChangeFigures>,
    #[serde(rename = "fairness_1s_ratio")]
    fairness_1s: Option<f64>,
    #[serde(rename = "fairness_5s_ratio")]
    fairness_5s: Option<f64>,
    #[serde(rename = "fairness_20s_ratio")]
    fairness_20s: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flows: Vec<FlowFigures>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tcp: Vec<TcpFigures>,
    checks: Vec<CheckOut>,
}

impl Outcome {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.file.checks.iter().all(|c| c.passed)
    }

    /// The checks that failed, one phrase each (see `CheckOut::failure`).
    pub fn failures(&self) -> Vec<String> {
        self.file
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(CheckOut::failure)
            .collect()
    }

    /// The estimator's name.
    pub fn estimator(&self) -> &str {
        &self.file.estimator
    }

    /// What the call recorded (the forward aggregate).
    pub fn trace(&self) -> &Trace {
        &self.aggregate
    }

    /// The links' pcaps and the PeerConnections' taps, when the scenario ran with capture.
    pub fn capture(&self) -> Option<&bwe_e2e::CallCapture> {
        self.recorded.capture.as_ref()
    }

    /// Writes `trace{suffix}.csv`, `metrics{suffix}.json` and `plot{suffix}.svg` into `dir`,
    /// and for a multi-flow run `trace-flow<N>{suffix}.csv` per flow.
    pub fn write(&self, dir: &Path, suffix: &str) -> Result<(), String> {
        let json = serde_json::to_string_pretty(&self.file).map_err(|e| e.to_string())?;
        let title = format!("{} — {}", self.file.name, self.file.estimator);
        let svg = if self.recorded.multi {
            // TCP flows are drawn beside the media (their packets at the bottleneck; they have
            // no target), after the media flows so that the media keep their colours.
            let labels: Vec<String> = (1..=self.recorded.flows.len())
                .map(|i| format!("flow {i}"))
                .chain((1..=self.recorded.tcp.len()).map(|i| format!("tcp {i}")))
                .collect();
            let traces = self
                .recorded
                .flows
                .iter()
                .map(|f| &f.trace)
                .chain(self.recorded.tcp.iter().map(|t| &t.trace));
            let runs: Vec<plot::Run<'_>> = traces
                .zip(&labels)
                .map(|(trace, label)| plot::Run { label, trace })
                .collect();
            plot::render(&title, &runs)?
        } else {
            plot::render(
                &title,
                &[plot::Run {
                    label: &self.file.estimator,
                    trace: &self.aggregate,
                }],
            )?
        };
        let fail = |e: std::io::Error| format!("{}: {e}", dir.display());
        std::fs::create_dir_all(dir).map_err(fail)?;
        std::fs::write(
            dir.join(format!("trace{suffix}.csv")),
            // A single flow's trace is its own, pacer column included; the sum of several has
            // no one pacer.
            csv(&self.aggregate, !self.recorded.multi),
        )
        .map_err(fail)?;
        if self.recorded.multi {
            for (i, f) in self.recorded.flows.iter().enumerate() {
                std::fs::write(
                    dir.join(format!("trace-flow{}{suffix}.csv", i + 1)),
                    csv(&f.trace, true),
                )
                .map_err(fail)?;
            }
        }
        for (i, t) in self.recorded.tcp.iter().enumerate() {
            std::fs::write(
                dir.join(format!("trace-tcp{}{suffix}.csv", i + 1)),
                tcp_csv(t),
            )
            .map_err(fail)?;
        }
        std::fs::write(dir.join(format!("metrics{suffix}.json")), json + "\n").map_err(fail)?;
        std::fs::write(dir.join(format!("plot{suffix}.svg")), svg).map_err(fail)?;
        Ok(())
    }

    /// The per-second trace: the one flow's, or each flow's under a heading.
    pub fn render_trace(&self) -> String {
        if !self.recorded.multi {
            return self.aggregate.render();
        }
        let mut out = String::new();
        for (i, f) in self.recorded.flows.iter().enumerate() {
            let _ = writeln!(
                out,
                "flow {} ({}, {}, {}):",
                i + 1,
                f.estimator.name(),
                direction_name(f.direction),
                media_name(f.media)
            );
            out.push_str(&f.trace.render());
        }
        out
    }

    /// One summary row of the metrics table (see [`table_header`]): the estimator and the
    /// aggregate's figures.
    pub fn table_row(&self) -> String {
        row(&self.file.estimator, &self.file.aggregate)
            .trim_end()
            .to_owned()
    }

    /// The metrics table's rows (see [`table_header`]): one for a single flow; one per flow
    /// and one for the aggregate otherwise, then the multi-flow figures.
    pub fn table_rows(&self) -> String {
        let f = &self.file;
        if f.flows.is_empty() {
            return self.table_row();
        }
        let mut out = String::new();
        for flow in &f.flows {
            let label = format!("flow {} {}", flow.flow, flow.estimator);
            out.push_str(&row(&label, &flow.figures));
            let _ = writeln!(
                out,
                "    {}, {}, start {} s, startup {} s, instability (ratio) {}",
                flow.direction,
                flow.media,
                flow.start_s,
                show(flow.startup_s, 1),
                show(flow.instability, FRACTION_DIGITS)
            );
        }
        for t in &f.tcp {
            let label = format!("tcp {} {}", t.tcp, t.algorithm);
            out.push_str(&row(&label, &t.figures));
            let _ = writeln!(
                out,
                "    {}, {}, {}-{} s, in order {} kbit/s, retransmissions {}, timeouts {}, \
                 transfers {}/{} (p50 {} ms, p95 {} ms)",
                t.direction,
                t.workload,
                t.start_s,
                t.stop_s,
                show(t.in_order_kbps, 0),
                t.retransmissions,
                t.timeouts,
                t.transfers_done,
                t.transfers_started,
                show(t.transfer_p50_ms, 0),
                show(t.transfer_p95_ms, 0)
            );
        }
        out.push_str(&row("aggregate (forward)", &f.aggregate));
        let _ = writeln!(
            out,
            "    fairness (min/max goodput ratio) 1 s {}, 5 s {}, 20 s {}",
            show(f.fairness_1s, FRACTION_DIGITS),
            show(f.fairness_5s, FRACTION_DIGITS),
            show(f.fairness_20s, FRACTION_DIGITS)
        );
        for c in &f.changes {
            let _ = writeln!(
                out,
                "    {:.0} -> {:.0} kbit/s at {:.1} s: converged in {} s, overshoot (fraction) {}",
                c.from_kbps,
                c.to_kbps,
                c.at_s,
                show(c.convergence_s, 1),
                show(c.overshoot, FRACTION_DIGITS)
            );
        }
        out.trim_end().to_owned()
    }

    /// One line per check, value and bounds in the metric's unit.
    pub fn render_checks(&self) -> String {
        let mut out = String::new();
        for c in &self.file.checks {
            let _ = writeln!(
                out,
                "check {:<14} [{:>5.1}, {:>5.1}) s: {} in [{}, {}] {} … {}",
                c.name(),
                c.from_s,
                c.to_s,
                c.value(),
                c.min,
                c.max,
                c.unit.as_str(),
                if c.passed { "ok" } else { "FAILED" }
            );
        }
        out
    }
}

/// The scenario file's spelling of `m`.
fn media_name(m: Media) -> &'static str {
    match m {
        Media::Video => "video",
        Media::Audio => "audio",
        Media::AudioVideo => "audio+video",
    }
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::LeftToRight => "forward",
        Direction::RightToLeft => "backward",
    }
}

fn row(label: &str, f: &Figures) -> String {
    format!(
        "{:<22} {:>8} {:>8} {:>15} {:>15} {:>13} {:>14}",
        label,
        show(f.queue_p50_ms, 1),
        show(f.queue_p95_ms, 1),
        show(f.utilisation, FRACTION_DIGITS),
        show(f.loss, LOSS_DIGITS),
        show(f.target_kbps, 0),
        show(f.goodput_kbps, 0),
    ) + "\n"
}

/// `v` with `digits` decimals, or `-` when it was not measured.
pub(crate) fn show(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

/// The header of the metrics table: each column with its unit.
pub fn table_header() -> String {
    format!(
        "{:<22} {:>8} {:>8} {:>15} {:>15} {:>13} {:>14}",
        "estimator",
        "p50 ms",
        "p95 ms",
        "util (fraction)",
        "loss (fraction)",
        "target kbit/s",
        "goodput kbit/s"
    )
}

/// What is about to run, for stderr: `running <name> (<s> s of media, seed <n>, <estimator>)…`.
pub fn describe(scenario: &Scenario) -> String {
    let call = &scenario.call;
    let who = match &scenario.flows {
        Some(flows) => format!("{} flows", flows.len()),
        None => call.estimator.name().to_owned(),
    };
    format!(
        "running {} ({} s of media, seed {}, {who})…",
        scenario.name,
        call.duration.as_secs_f64(),
        call.seed,
    )
}

/// Runs the scenario's call and evaluates its checks.
pub fn run(scenario: &Scenario) -> Result<Outcome, String> {
    let call = &scenario.call;
    // A panic inside the call (a bug in a chain or the harness) is this scenario's failure, not
    // the end of `scenario all`: it is reported like any error and the next scenario runs.
    let recorded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scenario::run(scenario).map_err(|e| e.to_string())
    }))
    .map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the call panicked: {what}")
    })??;
    let aggregate = recorded.aggregate();
    let forward = recorded.in_direction(Direction::LeftToRight);
    let set = recorded.set(&forward);
    let (zero, end) = (SimDuration::ZERO, call.duration);
    let changes = set
        .changes()
        .into_iter()
        .map(|c| ChangeFigures {
            at_s: c.at.as_secs_f64(),
            from_kbps: c.from.as_kbps_f64(),
            to_kbps: c.to.as_kbps_f64(),
            convergence_s: secs(c.convergence),
            overshoot: c.overshoot,
        })
        .collect();
    let flows = if recorded.multi {
        (0..recorded.flows.len())
            .map(|i| {
                let f = &recorded.flows[i];
                let members = recorded.in_direction(f.direction);
                let own = recorded.set(&members);
                let p = members.iter().position(|&m| m == i).unwrap_or(0);
                FlowFigures {
                    flow: i + 1,
                    estimator: f.estimator.name().to_owned(),
                    direction: direction_name(f.direction),
                    media: media_name(f.media),
                    start_s: f.activity.start.as_secs_f64(),
                    figures: Figures::of(&f.trace, end),
                    startup_s: secs(own.startup(p)),
                    instability: own.instability(p, zero, end),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let tcp = recorded
        .tcp
        .iter()
        .enumerate()
        .map(|(i, t)| tcp_figures(i, t, end))
        .collect();
    let checks = scenario
        .checks
        .iter()
        .map(|c| CheckOut::from(recorded.check(&aggregate, c)))
        .collect();
    let estimator = match &scenario.flows {
        None => call.estimator.name().to_owned(),
        Some(flows) => {
            let mut names: Vec<&str> = flows.iter().map(|f| f.estimator.name()).collect();
            names.dedup();
            names.join(" + ")
        }
    };
    let file = MetricsFileOwned {
        name: scenario.name.clone(),
        seed: call.seed,
        estimator,
        duration_s: call.duration.as_secs_f64(),
        aggregate: Figures::of(&aggregate, end),
        changes,
        fairness_1s: set.fairness(SimDuration::from_secs(1), zero, end),
        fairness_5s: set.fairness(SimDuration::from_secs(5), zero, end),
        fairness_20s: set.fairness(SimDuration::from_secs(20), zero, end),
        flows,
        tcp,
        checks,
    };
    Ok(Outcome {
        file,
        recorded,
        aggregate,
        virtual_s: call.duration.as_secs_f64(),
    })
}

fn tcp_figures(i: usize, t: &bwe_e2e::TcpResult, end: SimDuration) -> TcpFigures {
    let stop = t.spec.stop.unwrap_or(end);
    let last = &t.last;
    let mut durations: Vec<f64> = last
        .messages_done
        .iter()
        .map(|m| m.duration().as_secs_f64() * 1e3)
        .collect();
    durations.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        (!durations.is_empty()).then(|| {
            let rank = ((p * durations.len() as f64).ceil() as usize).clamp(1, durations.len());
            durations[rank - 1]
        })
    };
    TcpFigures {
        tcp: i + 1,
        algorithm: match t.spec.algorithm {
            vnet_sim::TcpAlgorithm::NewReno => "newreno",
            _ => "cubic",
        },
        direction: direction_name(t.spec.direction),
        workload: match t.spec.workload {
            bwe_e2e::TcpWorkload::Bulk => "bulk",
            bwe_e2e::TcpWorkload::Messages(_) => "messages",
        },
        start_s: t.spec.start.as_secs_f64(),
        stop_s: stop.as_secs_f64(),
        figures: Figures::of(&t.trace, end),
        in_order_kbps: t.goodput_bps(t.spec.start, stop).map(|b| b / 1e3),
        retransmissions: last.sender.retransmissions,
        fast_retransmits: last.sender.fast_retransmits,
        timeouts: last.sender.timeouts,
        transfers_started: last.messages_started,
        transfers_done: last.messages_done.len() as u64,
        transfer_p50_ms: pct(0.5),
        transfer_p95_ms: pct(0.95),
    }
}

/// A TCP flow's endpoints per trace row: in-order goodput since the previous row, window and
/// smoothed RTT.
fn tcp_csv(t: &bwe_e2e::TcpResult) -> String {
    let mut out = String::from("t_s,in_order_kbps,cwnd_bytes,srtt_ms\n");
    for pair in t.samples.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let secs = (b.at - a.at).as_secs_f64();
        if secs <= 0.0 {
            continue;
        }
        let kbps = (b.delivered - a.delivered) as f64 * 8.0 / secs / 1e3;
        let srtt = a
            .srtt
            .map_or(String::new(), |d| format!("{:.1}", d.as_secs_f64() * 1e3));
        let _ = writeln!(out, "{:.3},{kbps:.3},{},{srtt}", a.at.as_secs_f64(), a.cwnd);
    }
    out
}
