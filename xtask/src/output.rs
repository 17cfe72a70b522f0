//! Runs one scenario and reports it: the metrics table and the checks on stdout, `trace.csv`,
//! `metrics.json` and `plot.svg` in the output folder (written only once the call has run).

use std::fmt::Write as _;
use std::path::Path;

use bwe_core::Bitrate;
use bwe_e2e::{Metrics, Trace, run_call};
use serde::Serialize;
use vnet_sim::SimDuration;

use crate::plot;
use crate::spec::{CheckSpec, MetricName, Scenario};

#[derive(Debug, Serialize)]
struct CheckResult {
    metric: MetricName,
    from_s: f64,
    to_s: f64,
    min: f64,
    max: f64,
    value: Option<f64>,
    passed: bool,
}

fn ms(d: Option<SimDuration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1e3)
}

fn kbps(r: Option<Bitrate>) -> Option<f64> {
    r.map(Bitrate::as_kbps_f64)
}

fn value(metric: MetricName, m: &Metrics) -> Option<f64> {
    match metric {
        MetricName::Utilisation => m.utilisation,
        MetricName::QueueP50Ms => ms(m.queue_p50),
        MetricName::QueueP95Ms => ms(m.queue_p95),
        MetricName::Loss => m.loss,
        MetricName::TargetKbps => kbps(m.target),
        MetricName::GoodputKbps => kbps(m.goodput),
    }
}

fn check(trace: &Trace, duration: SimDuration, c: &CheckSpec) -> CheckResult {
    let from = SimDuration::from_secs(c.from_s.unwrap_or(0));
    let to = c.to_s.map_or(duration, SimDuration::from_secs);
    let v = value(c.metric, &trace.metrics(from, to));
    CheckResult {
        metric: c.metric,
        from_s: from.as_secs_f64(),
        to_s: to.as_secs_f64(),
        min: c.min,
        max: c.max,
        value: v,
        // A metric that could not be computed fails: "not measured" must never pass.
        passed: v.is_some_and(|v| v >= c.min && v <= c.max),
    }
}

fn csv(trace: &Trace) -> String {
    let mut out = String::from(
        "t_s,capacity_kbps,target_kbps,remb_kbps,send_kbps,goodput_kbps,queue_delay_ms,loss\n",
    );
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.3}"));
    for r in &trace.rows {
        let _ = writeln!(
            out,
            "{:.3},{},{},{},{:.3},{:.3},{},{}",
            r.t.as_secs_f64(),
            opt(kbps(r.capacity)),
            opt(kbps(r.target)),
            opt(kbps(r.remb)),
            r.send_rate.as_kbps_f64(),
            r.goodput.as_kbps_f64(),
            opt(ms(r.queue_delay)),
            opt(r.loss),
        );
    }
    out
}

/// One finished run: what it measured and whether its checks passed.
pub struct Outcome {
    file: MetricsFileOwned,
    trace: Trace,
    /// Virtual duration of the media phase.
    pub virtual_s: f64,
}

#[derive(Debug, Serialize)]
struct MetricsFileOwned {
    name: String,
    seed: u64,
    estimator: String,
    duration_s: f64,
    utilisation: Option<f64>,
    queue_p50_ms: Option<f64>,
    queue_p95_ms: Option<f64>,
    loss: Option<f64>,
    target_kbps: Option<f64>,
    goodput_kbps: Option<f64>,
    send_kbps: Option<f64>,
    checks: Vec<CheckResult>,
}

impl Outcome {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.file.checks.iter().all(|c| c.passed)
    }

    /// The estimator's name.
    pub fn estimator(&self) -> &str {
        &self.file.estimator
    }

    /// What the call recorded.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Writes `trace{suffix}.csv`, `metrics{suffix}.json` and `plot{suffix}.svg` into `dir`.
    pub fn write(&self, dir: &Path, suffix: &str) -> Result<(), String> {
        let json = serde_json::to_string_pretty(&self.file).map_err(|e| e.to_string())?;
        let svg = plot::render(
            &format!("{} — {}", self.file.name, self.file.estimator),
            &[plot::Run {
                label: &self.file.estimator,
                trace: &self.trace,
            }],
        )?;
        let fail = |e: std::io::Error| format!("{}: {e}", dir.display());
        std::fs::create_dir_all(dir).map_err(fail)?;
        std::fs::write(dir.join(format!("trace{suffix}.csv")), csv(&self.trace)).map_err(fail)?;
        std::fs::write(dir.join(format!("metrics{suffix}.json")), json + "\n").map_err(fail)?;
        std::fs::write(dir.join(format!("plot{suffix}.svg")), svg).map_err(fail)?;
        Ok(())
    }

    /// The per-second trace.
    pub fn render_trace(&self) -> String {
        self.trace.render()
    }

    /// One row of the metrics table (see [`table_header`]).
    pub fn table_row(&self) -> String {
        let f = &self.file;
        format!(
            "{:<22} {:>8} {:>8} {:>11} {:>7} {:>11} {:>12}",
            f.estimator,
            show(f.queue_p50_ms, 1),
            show(f.queue_p95_ms, 1),
            show(f.utilisation.map(|u| u * 100.0), 1),
            show(f.loss.map(|l| l * 100.0), 2),
            show(f.target_kbps, 0),
            show(f.goodput_kbps, 0),
        )
    }

    /// One line per check.
    pub fn render_checks(&self) -> String {
        let mut out = String::new();
        for c in &self.file.checks {
            let _ = writeln!(
                out,
                "check {:<14} [{:>5.1}, {:>5.1}) s: {} in [{}, {}] … {}",
                serde_json::to_string(&c.metric)
                    .unwrap_or_default()
                    .trim_matches('"'),
                c.from_s,
                c.to_s,
                show(c.value, 3),
                c.min,
                c.max,
                if c.passed { "ok" } else { "FAILED" }
            );
        }
        out
    }
}

fn show(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

/// The header of the metrics table.
pub fn table_header() -> String {
    format!(
        "{:<22} {:>8} {:>8} {:>11} {:>7} {:>11} {:>12}",
        "estimator", "p50 ms", "p95 ms", "utilisation", "loss %", "target kbps", "goodput kbps"
    )
}

/// What is about to run, for stderr: `running <name> (<s> s of media, seed <n>, <estimator>)…`.
pub fn describe(scenario: &Scenario) -> String {
    let call = &scenario.call;
    format!(
        "running {} ({} s of media, seed {}, {})…",
        scenario.name,
        call.duration.as_secs_f64(),
        call.seed,
        call.estimator.name()
    )
}

/// Runs the scenario's call and evaluates its checks.
pub fn run(scenario: &Scenario) -> Result<Outcome, String> {
    let call = &scenario.call;
    let result = run_call(call).map_err(|e| e.to_string())?;
    let trace = result.trace;
    let whole = trace.metrics(SimDuration::ZERO, call.duration);
    let checks = scenario
        .checks
        .iter()
        .map(|c| check(&trace, call.duration, c))
        .collect();
    Ok(Outcome {
        file: MetricsFileOwned {
            name: scenario.name.clone(),
            seed: call.seed,
            estimator: call.estimator.name().to_owned(),
            duration_s: call.duration.as_secs_f64(),
            utilisation: whole.utilisation,
            queue_p50_ms: ms(whole.queue_p50),
            queue_p95_ms: ms(whole.queue_p95),
            loss: whole.loss,
            target_kbps: kbps(whole.target),
            goodput_kbps: kbps(whole.goodput),
            send_kbps: kbps(whole.send_rate),
            checks,
        },
        trace,
        virtual_s: call.duration.as_secs_f64(),
    })
}
