//! `cargo xtask scenario frontier`: every named scenario with each of three estimators, as one
//! table and one throughput–delay figure (`frontier.svg`, drawn by `frontier_plot`).
//!
//! Each (scenario, estimator) runs as `scenario run <file> --estimator <e> --out
//! <dir>/<scenario>/<e>` in a process of its own, as `scenario all` runs its scenarios (see
//! `child`), so that a run that ends badly costs its point and not the figure. The figures are read back from the `metrics.json`
//! each run writes, so they are exactly what a lone `scenario run` prints, computed in one
//! place; each run's `trace.csv` and `plot.svg` stay beside it for a closer look.
//!
//! The scenarios' checks are not the frontier's business: a run whose checks fail is still a
//! point (rtc::Gcc fails most of ours). The command fails only when a run gives no figures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use bwe_e2e::scenario::{self as spec, EstimatorName, Scenario};
use serde::Deserialize;

use crate::frontier_plot::{self, Point};
use crate::output::{FRACTION_DIGITS, LOSS_DIGITS, show};
use crate::{child, progress, resolve, root, scenario_files};

/// The estimators, in the order they run and are drawn (which picks their colours), with their
/// command-line spelling, which also names each run's output folder.
const ESTIMATORS: [(EstimatorName, &str); 3] = [
    (EstimatorName::OursSendSide, "ours-send-side"),
    (EstimatorName::OursRemb, "ours-remb"),
    (EstimatorName::RtcGcc, "rtc-gcc"),
];

/// The scenarios run when none is named: the files whose name starts with this.
const TRACE_PREFIX: &str = "trace-";

/// What the frontier reads from a run's `metrics.json` (the forward aggregate's figures).
#[derive(Debug, Deserialize)]
struct Figures {
    seed: u64,
    #[serde(rename = "utilisation_fraction")]
    utilisation: Option<f64>,
    queue_p95_ms: Option<f64>,
    #[serde(rename = "loss_fraction")]
    loss: Option<f64>,
    goodput_kbps: Option<f64>,
}

/// One scenario with one estimator: its figures, or why there are none.
struct Row {
    scenario: String,
    estimator: usize,
    figures: Result<Figures, String>,
}

/// A scenario's label on the figure: its name without the `trace-` prefix.
fn short_name(name: &str) -> &str {
    name.strip_prefix(TRACE_PREFIX).unwrap_or(name)
}

/// The estimator's name as tables and legends give it.
fn estimator_name(index: usize) -> &'static str {
    ESTIMATORS[index].0.estimator().name()
}

/// `names` as files, or every `scenarios/trace-*.toml` when there are none.
fn paths(names: &[String]) -> Vec<PathBuf> {
    if !names.is_empty() {
        return names.iter().map(|n| resolve(n)).collect();
    }
    scenario_files()
        .into_iter()
        .filter(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.starts_with(TRACE_PREFIX))
        })
        .collect()
}

/// Runs the frontier; see the module docs. Exit 2 on bad input (before anything runs), 1 when
/// a run gives no figures or the files cannot be written, 0 otherwise.
pub fn frontier(names: &[String], out: Option<&Path>, seed: Option<u64>) -> ExitCode {
    let paths = paths(names);
    if paths.is_empty() {
        eprintln!("error: no scenario named and no scenarios/{TRACE_PREFIX}*.toml");
        return ExitCode::from(2);
    }
    // Validate everything before running anything: bad input leaves no partial output.
    let mut scenarios: Vec<Scenario> = Vec::with_capacity(paths.len());
    for path in &paths {
        match spec::load(path, &root()) {
            Ok(s) if s.flows.is_some() => {
                eprintln!(
                    "error: the frontier runs one-flow scenarios; {} has [[flow]] tables",
                    s.name
                );
                return ExitCode::from(2);
            }
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let out = out.map_or_else(
        || root().join("target").join("scenarios").join("frontier"),
        Path::to_path_buf,
    );
    // The runs as the children will see them, for the progress lines.
    let runs: Vec<Scenario> = scenarios
        .iter()
        .flat_map(|s| {
            ESTIMATORS.iter().map(move |(e, _)| {
                let mut s = s.clone();
                s.set_estimator(e.estimator());
                if let Some(seed) = seed {
                    s.set_seed(seed);
                }
                s
            })
        })
        .collect();
    let bar = progress::Progress::over(&runs, true);
    let mut rows = Vec::with_capacity(runs.len());
    for (path, group) in paths.iter().zip(runs.chunks(ESTIMATORS.len())) {
        for (estimator, run) in group.iter().enumerate() {
            bar.start(run);
            let dir = out.join(&run.name).join(ESTIMATORS[estimator].1);
            let figures = run_one(path, seed, ESTIMATORS[estimator].1, &dir);
            bar.finish_one();
            if let Err(e) = &figures {
                let name = estimator_name(estimator);
                bar.note(&format!("{} with {name}: {e}", run.name));
            }
            rows.push(Row {
                scenario: run.name.clone(),
                estimator,
                figures,
            });
        }
    }
    bar.clear();
    print!("{}", table(&rows));
    let mut failed = rows.iter().any(|r| r.figures.is_err());
    match write(&out, &rows, seed) {
        Ok(()) => println!(
            "wrote {}/frontier.svg, frontier.csv and each run's files in <scenario>/<estimator>/",
            out.display()
        ),
        Err(e) => {
            eprintln!("{e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `path` with `estimator` in a process of its own, its output in `dir`, and reads the
/// figures from the `metrics.json` it wrote. Its checks may fail; its stdout (the report) is
/// not shown, its stderr only when it gave no figures.
fn run_one(path: &Path, seed: Option<u64>, estimator: &str, dir: &Path) -> Result<Figures, String> {
    let metrics = dir.join("metrics.json");
    // Figures left by an earlier frontier must not stand in for a run that wrote none.
    match std::fs::remove_file(&metrics) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", metrics.display())),
    }
    let run = child(&path.display().to_string(), seed, Some(estimator))
        .arg("--out")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("the run did not start: {e}"))?;
    let text = std::fs::read_to_string(&metrics).map_err(|e| {
        format!(
            "no figures ({}: {e}); the run ended with {}: {}",
            metrics.display(),
            run.status,
            String::from_utf8_lossy(&run.stderr).trim()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", metrics.display()))
}

/// The table on stdout: one row per run, figures and units as `scenario run` prints them.
fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<24} {:<18} {:>14} {:>15} {:>8} {:>15}\n",
        "scenario", "estimator", "goodput kbit/s", "util (fraction)", "p95 ms", "loss (fraction)"
    );
    for r in rows {
        let name = estimator_name(r.estimator);
        let _ = match &r.figures {
            Ok(f) => writeln!(
                out,
                "{:<24} {:<18} {:>14} {:>15} {:>8} {:>15}",
                r.scenario,
                name,
                show(f.goodput_kbps, 0),
                show(f.utilisation, FRACTION_DIGITS),
                show(f.queue_p95_ms, 1),
                show(f.loss, LOSS_DIGITS),
            ),
            Err(_) => writeln!(out, "{:<24} {:<18} error: no figures", r.scenario, name),
        };
    }
    out
}

/// `frontier.csv` (the figures behind the plot) and `frontier.svg` in `out`.
fn write(out: &Path, rows: &[Row], seed: Option<u64>) -> Result<(), String> {
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
    let mut csv = String::from(
        "scenario,estimator,seed,goodput_kbps,utilisation_fraction,queue_p95_ms,loss_fraction\n",
    );
    for r in rows {
        let spelling = ESTIMATORS[r.estimator].1;
        let _ = match &r.figures {
            Ok(f) => writeln!(
                csv,
                "{},{spelling},{},{},{},{},{}",
                r.scenario,
                f.seed,
                opt(f.goodput_kbps),
                opt(f.utilisation),
                opt(f.queue_p95_ms),
                opt(f.loss)
            ),
            Err(_) => writeln!(csv, "{},{spelling},,,,,", r.scenario),
        };
    }
    let points: Vec<Point> = rows
        .iter()
        .filter_map(|r| {
            let f = r.figures.as_ref().ok()?;
            Some(Point {
                label: short_name(&r.scenario).to_owned(),
                estimator: r.estimator,
                utilisation: f.utilisation,
                p95_ms: f.queue_p95_ms,
            })
        })
        .collect();
    let mut seeds: Vec<u64> = rows
        .iter()
        .filter_map(|r| r.figures.as_ref().ok().map(|f| f.seed))
        .chain(seed)
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    let seeds = match seeds.as_slice() {
        [one] => format!("seed {one}"),
        _ => "each file's seed".to_owned(),
    };
    let title =
        format!("Utilisation vs p95 queuing delay ({seeds}): better toward the lower right");
    let names: Vec<&str> = (0..ESTIMATORS.len()).map(estimator_name).collect();
    let svg = frontier_plot::render(&title, &names, &points)?;
    let fail = |e: std::io::Error| format!("{}: {e}", out.display());
    std::fs::create_dir_all(out).map_err(fail)?;
    std::fs::write(out.join("frontier.csv"), csv).map_err(fail)?;
    std::fs::write(out.join("frontier.svg"), svg).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With no scenario named, the frontier is the cellular traces: every shipped
    /// `trace-*.toml` and nothing else (not `remb-trace-lte-up`, which fixes its estimator).
    #[test]
    fn no_names_means_every_trace_scenario() {
        let found: Vec<String> = paths(&[])
            .iter()
            .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
            .collect();
        assert!(found.iter().all(|n| n.starts_with("trace-")), "{found:?}");
        assert!(found.len() >= 7, "the seven cellular traces: {found:?}");
        assert!(found.contains(&"trace-lte-up".to_owned()), "{found:?}");
    }

    /// A run's label is the trace's short name; other scenarios keep their name.
    #[test]
    fn labels_drop_the_trace_prefix() {
        assert_eq!(short_name("trace-att-lte-down"), "att-lte-down");
        assert_eq!(short_name("rfc8867-5.1"), "rfc8867-5.1");
    }

    /// The table shows a run without figures as such, not as zeros, and rates in the units
    /// the header names.
    #[test]
    fn the_table_names_missing_figures() {
        let rows = [
            Row {
                scenario: "trace-lte-up".to_owned(),
                estimator: 0,
                figures: Ok(Figures {
                    seed: 1,
                    utilisation: Some(0.552),
                    queue_p95_ms: Some(90.33),
                    loss: Some(0.0014),
                    goodput_kbps: Some(6194.8),
                }),
            },
            Row {
                scenario: "trace-lte-up".to_owned(),
                estimator: 2,
                figures: Err("boom".to_owned()),
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "trace-lte-up",
                "ours",
                "(send",
                "side)",
                "6195",
                "0.552",
                "90.3",
                "0.0014"
            ]
        );
        assert!(lines[2].contains("rtc::Gcc") && lines[2].ends_with("error: no figures"));
    }
}
