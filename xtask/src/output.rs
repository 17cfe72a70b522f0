//! Runs one scenario and reports it: the metrics table and the checks on stdout, `trace.csv`
//! and `metrics.json` in the output folder (written only once the call has run).

use std::fmt::Write as _;
use std::path::Path;

use bwe_core::Bitrate;
use bwe_e2e::{Metrics, Trace, run_call};
use serde::Serialize;
use vnet_sim::SimDuration;

use crate::spec::{CheckSpec, MetricName, Scenario};

#[derive(Debug, Serialize)]
struct MetricsFile<'a> {
    name: &'a str,
    seed: u64,
    estimator: &'a str,
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

/// Runs the scenario, prints its table and checks, writes its files; `Ok(true)` if every check
/// passed.
pub fn run_and_report(scenario: &Scenario, dir: &Path) -> Result<bool, String> {
    let call = &scenario.call;
    eprintln!(
        "running {} ({} s of media, seed {}, {})…",
        scenario.name,
        call.duration.as_secs_f64(),
        call.seed,
        call.estimator.name()
    );
    let result = run_call(call).map_err(|e| e.to_string())?;
    let trace = &result.trace;
    let whole = trace.metrics(SimDuration::ZERO, call.duration);
    let checks: Vec<CheckResult> = scenario
        .checks
        .iter()
        .map(|c| check(trace, call.duration, c))
        .collect();

    let file = MetricsFile {
        name: &scenario.name,
        seed: call.seed,
        estimator: call.estimator.name(),
        duration_s: call.duration.as_secs_f64(),
        utilisation: whole.utilisation,
        queue_p50_ms: ms(whole.queue_p50),
        queue_p95_ms: ms(whole.queue_p95),
        loss: whole.loss,
        target_kbps: kbps(whole.target),
        goodput_kbps: kbps(whole.goodput),
        send_kbps: kbps(whole.send_rate),
        checks,
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("trace.csv"), csv(trace))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("metrics.json"), json + "\n")
        .map_err(|e| format!("{}: {e}", dir.display()))?;

    let show = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    println!("{}", trace.render());
    println!(
        "{:<22} {:>8} {:>8} {:>11} {:>7} {:>11} {:>12}",
        "estimator", "p50 ms", "p95 ms", "utilisation", "loss %", "target kbps", "goodput kbps"
    );
    println!(
        "{:<22} {:>8} {:>8} {:>11} {:>7} {:>11} {:>12}",
        file.estimator,
        show(file.queue_p50_ms, 1),
        show(file.queue_p95_ms, 1),
        show(file.utilisation.map(|u| u * 100.0), 1),
        show(file.loss.map(|l| l * 100.0), 2),
        show(file.target_kbps, 0),
        show(file.goodput_kbps, 0),
    );
    let mut all = true;
    for c in &file.checks {
        all &= c.passed;
        println!(
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
    println!("wrote {}/trace.csv and metrics.json", dir.display());
    Ok(all)
}
