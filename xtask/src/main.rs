//! `cargo xtask scenario …`: runs scenario files on two real PeerConnections over the
//! simulator, checks their metrics and writes what a person needs to look at.
//!
//! ```text
//! cargo xtask scenario list
//! cargo xtask scenario run rfc8867-5.1 [more names or files…] [--seed N] [--estimator E] [--out DIR] [--pcap DIR]
//! cargo xtask scenario compare rfc8867-5.1 [--seed N] [--out DIR] [--pcap DIR]  # ours vs rtc::Gcc
//! cargo xtask scenario all [names…] [--out DIR]         # every scenario, with wall time
//! cargo xtask scenario frontier [names…] [--seed N] [--out DIR]  # 3 estimators, one figure
//! ```
//!
//! Each run writes `trace.csv`, `metrics.json` and `plot.svg` to `target/scenarios/<name>/`; a
//! file with `[[flow]]` tables runs several flows on one bottleneck and also writes
//! `trace-flow<N>.csv` per flow (see `docs/scenarios.md`). `compare` takes one-flow files only.
//! `compare` writes each estimator's files with a suffix (`trace-ours.csv`, `plot-rtc-gcc.svg`,
//! …) in the same folder, plus `plot-compare.svg` with both on one figure; it leaves the plain
//! names to `run`, so comparing never overwrites a run's output. `frontier` runs each scenario
//! (by default every `trace-*` one) with ours-send-side, ours-remb and rtc-gcc, prints one
//! table and writes `frontier.svg`, utilisation against p95 queuing delay (see `frontier`).
//! `all`, `frontier` and a `run` of several scenarios show a progress bar on stderr when it is a
//! terminal. Only `run` prints the per-interval trace table, so only `run` takes `--quiet`.
//!
//! `RUST_LOG` (e.g. `RUST_LOG=bwe=debug`) logs the estimators' decisions to stderr.
//!
//! Exit codes: 0 when every check passes, 1 when a check fails (or a call cannot run), 2 on bad
//! input (an unreadable or invalid scenario file, an unknown name or option). `all` counts a
//! failed check of a file marked `known_failing` as expected, and a marked file that passes
//! every check as a failure (see `all`). Every file is validated before anything runs, so bad
//! input leaves no partial output.

mod all;
mod frontier;
mod frontier_plot;
mod interop;
mod output;
mod plot;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bwe_e2e::scenario::{self as spec, EstimatorName, Scenario};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Network scenarios on real PeerConnections.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Calls with a real browser on the other end, through the link model on the wall clock.
    Interop {
        #[command(subcommand)]
        command: InteropCommand,
    },
}

#[derive(Debug, Subcommand)]
enum InteropCommand {
    /// Headless Chromium (install it with `bash scripts/install-chromium.sh`): Chrome sends
    /// video to our REMB receiver, then our send side (and rtc::Gcc) send video to Chrome,
    /// each for a minute on 1.0 → 0.5 → 1.5 Mbit/s, in real time.
    ///
    /// Writes `trace.csv`, `metrics.json`, `plot.svg` and Chrome's own figures
    /// (`chrome-stats.csv`) per case into `<out>/<case>/`. Exit 1 when a check fails, 2 when
    /// the browser cannot be driven.
    Chromium {
        /// Output folder (default `target/interop/chromium/`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Leaves out the per-interval trace tables.
        #[arg(long)]
        quiet: bool,
        /// Runs only this case (repeatable): chrome-sends-remb, we-send-ours, we-send-rtc-gcc.
        #[arg(long = "case")]
        cases: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ScenarioCommand {
    /// Lists the scenarios in `scenarios/`.
    List,
    /// Runs scenarios by name (from `scenarios/`) or by file path.
    Run {
        /// Scenario names or `.toml` files.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Overrides the file's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Overrides the file's estimator: ours-send-side, ours-send-side-no-probing, ours-remb or rtc-gcc.
        #[arg(long)]
        estimator: Option<String>,
        /// Output folder (default `target/scenarios/<name>/`); with several scenarios, each
        /// writes to `<out>/<name>/`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Leaves out the per-interval trace table (the metrics and checks are still printed;
        /// `trace.csv` is still written).
        #[arg(long)]
        quiet: bool,
        /// Captures the run and writes its pcaps to `<pcap>/<name>/`: one per link
        /// (`<from>-<to>.pcap`) and one per PeerConnection with its plaintext RTP and RTCP
        /// (`<host>.tap.pcap`); see `docs/simulator.md`, "Capture".
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
        /// Appends one summary line per scenario to this file (how `scenario all` collects
        /// the rows of the processes it runs).
        #[arg(long, hide = true)]
        row_file: Option<PathBuf>,
    },
    /// Runs one scenario with our send-side estimator and with rtc::Gcc on the same seed.
    Compare {
        /// Scenario name or `.toml` file.
        scenario: String,
        /// Overrides the file's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default `target/scenarios/<name>/`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Captures both runs and writes their pcaps to `<pcap>/<name>/ours-send-side/` and
        /// `<pcap>/<name>/rtc-gcc/`, as `run --pcap` does for one.
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
    },
    /// Runs every scenario in `scenarios/` (or those named), each in a process of its own,
    /// and prints one table with wall time and speed.
    ///
    /// Exit 1 when a scenario fails a check and its file is not marked `known_failing`, when a
    /// marked one passes every check (so the mark is removed), or when a run gives no report.
    All {
        /// Scenario names or `.toml` files; none: every `scenarios/*.toml`.
        scenarios: Vec<String>,
        /// Output folder; each scenario writes to `<out>/<name>/` (default
        /// `target/scenarios/<name>/`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Runs scenarios with ours-send-side, ours-remb and rtc-gcc and draws them on one
    /// throughput–delay figure.
    ///
    /// Each (scenario, estimator) runs in a process of its own, as `scenario all` does. Prints
    /// one table (scenario, estimator, goodput kbit/s, utilisation and loss as fractions, p95
    /// queuing delay in ms) and
    /// writes `frontier.svg` (x: utilisation, so that links of different capacity compare; y:
    /// p95 queuing delay, log scale; better is toward the lower right), `frontier.csv`, and each
    /// run's `trace.csv`, `metrics.json` and `plot.svg` in `<out>/<scenario>/<estimator>/`.
    /// The scenarios' checks are not applied: exit 1 only when a run gives no figures.
    Frontier {
        /// One-flow scenario names or `.toml` files; none: every `scenarios/trace-*.toml`
        /// (the cellular traces).
        scenarios: Vec<String>,
        /// Output folder (default `target/scenarios/frontier/`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overrides the files' seed.
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// The workspace root: xtask lives one level below it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    // By scenario name (the file stem): `rfc8867-5.6` before `rfc8867-5.6-deep`, which a sort
    // by file name (`.toml` after `-`) would reverse.
    files.sort_by(|a, b| a.file_stem().cmp(&b.file_stem()));
    files
}

fn resolve(name: &str) -> PathBuf {
    let as_path = PathBuf::from(name);
    if name.ends_with(".toml") || as_path.is_file() {
        as_path
    } else {
        root().join("scenarios").join(format!("{name}.toml"))
    }
}

fn main() -> ExitCode {
    // `RUST_LOG=bwe=debug cargo xtask scenario run …` shows every estimator decision (detector,
    // AIMD, loss, target, REMB) on stderr, stamped with the instant it was taken at.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .without_time()
            .init();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Interop {
            command: InteropCommand::Chromium { out, quiet, cases },
        } => interop::chromium(out.as_deref(), quiet, &cases),
        Command::Scenario {
            command: ScenarioCommand::List,
        } => list(),
        Command::Scenario {
            command:
                ScenarioCommand::Run {
                    scenarios,
                    seed,
                    estimator,
                    out,
                    quiet,
                    pcap,
                    row_file,
                },
        } => run(
            &scenarios,
            seed,
            estimator.as_deref(),
            out.as_deref(),
            quiet,
            pcap.as_deref(),
            row_file.as_deref(),
        ),
        Command::Scenario {
            command:
                ScenarioCommand::Compare {
                    scenario,
                    seed,
                    out,
                    pcap,
                },
        } => compare(&scenario, seed, out.as_deref(), pcap.as_deref()),
        Command::Scenario {
            command: ScenarioCommand::All { scenarios, out },
        } => all::all(&scenarios, out.as_deref()),
        Command::Scenario {
            command:
                ScenarioCommand::Frontier {
                    scenarios,
                    out,
                    seed,
                },
        } => frontier::frontier(&scenarios, out.as_deref(), seed),
    }
}

fn out_dir(name: &str) -> PathBuf {
    root().join("target").join("scenarios").join(name)
}

fn compare(name: &str, seed: Option<u64>, out: Option<&Path>, pcap: Option<&Path>) -> ExitCode {
    let mut scenario = match spec::load(&resolve(name), &root()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(flows) = &scenario.flows {
        eprintln!(
            "error: compare runs one-flow scenarios; {} has {} flows (use `scenario run {} \
             --estimator rtc-gcc` to run every flow with rtc::Gcc)",
            scenario.name,
            flows.len(),
            name
        );
        return ExitCode::from(2);
    }
    if let Some(seed) = seed {
        scenario.set_seed(seed);
    }
    scenario.call.capture = pcap.is_some();
    let mut outcomes = Vec::new();
    for (estimator, suffix, spelling) in [
        (EstimatorName::OursSendSide, "-ours", "ours-send-side"),
        (EstimatorName::RtcGcc, "-rtc-gcc", "rtc-gcc"),
    ] {
        scenario.set_estimator(estimator.estimator());
        eprintln!("{}", output::describe(&scenario));
        match output::run(&scenario) {
            Ok(o) => {
                let dir = out.map_or_else(|| out_dir(&scenario.name), Path::to_path_buf);
                if let Err(e) = o.write(&dir, suffix) {
                    eprintln!("{e}");
                    return ExitCode::from(1);
                }
                if let (Some(pcap), Some(capture)) = (pcap, o.capture()) {
                    let dir = pcap.join(&scenario.name).join(spelling);
                    match capture.write_pcaps(&dir) {
                        Ok(files) => {
                            println!("wrote {} pcap files to {}", files.len(), dir.display());
                        }
                        Err(e) => {
                            eprintln!("{}: {e}", scenario.name);
                            return ExitCode::from(1);
                        }
                    }
                }
                outcomes.push(o);
            }
            Err(e) => {
                eprintln!("{}: {e}", scenario.name);
                return ExitCode::from(1);
            }
        }
    }
    println!("{} (seed {})", scenario.name, scenario.call.seed);
    println!("{}", output::table_header());
    for o in &outcomes {
        println!("{}", o.table_row());
    }
    println!("ours:\n{}", outcomes[0].render_checks());
    if let (Some(why), false) = (&scenario.known_failing, outcomes[0].passed()) {
        println!("known failing: {why}\n");
    }
    println!("rtc::Gcc (same checks):\n{}", outcomes[1].render_checks());
    let runs: Vec<plot::Run<'_>> = outcomes
        .iter()
        .map(|o| plot::Run {
            label: o.estimator(),
            trace: o.trace(),
        })
        .collect();
    let dir = out.map_or_else(|| out_dir(&scenario.name), Path::to_path_buf);
    let title = format!(
        "{} — ours vs rtc::Gcc (seed {})",
        scenario.name, scenario.call.seed
    );
    if let Err(e) = plot::render(&title, &runs).and_then(|svg| {
        std::fs::write(dir.join("plot-compare.svg"), svg)
            .map_err(|e| format!("{}: {e}", dir.display()))
    }) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    println!(
        "wrote {}/{{trace,metrics,plot}}-{{ours,rtc-gcc}}.{{csv,json,svg}} and plot-compare.svg",
        dir.display()
    );
    if outcomes[0].passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn list() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in scenario_files() {
        match spec::load(&path, &root()) {
            Ok(s) => println!("{:<24} {}", s.name, s.description),
            Err(e) => {
                eprintln!("{e}");
                status = ExitCode::from(2);
            }
        }
    }
    status
}

fn run(
    names: &[String],
    seed: Option<u64>,
    estimator: Option<&str>,
    out: Option<&Path>,
    quiet: bool,
    pcap: Option<&Path>,
    row_file: Option<&Path>,
) -> ExitCode {
    let estimator = match estimator_arg(estimator) {
        Ok(e) => e,
        Err(code) => return code,
    };
    // Validate everything before running anything: bad input leaves no partial output.
    let mut scenarios: Vec<Scenario> = Vec::with_capacity(names.len());
    for name in names {
        match spec::load(&resolve(name), &root()) {
            Ok(mut s) => {
                if let Some(seed) = seed {
                    s.set_seed(seed);
                }
                if let Some(e) = estimator {
                    s.set_estimator(e.estimator());
                }
                s.call.capture = pcap.is_some();
                scenarios.push(s);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut failed = false;
    let bar = progress::Progress::over(&scenarios, scenarios.len() > 1);
    for scenario in &scenarios {
        // One after another in this process: a call does not depend on what ran before it
        // (`docs/simulator.md`, "Determinism"). Several scenarios each write to `<out>/<name>/`.
        let dir = match out {
            Some(out) if scenarios.len() > 1 => out.join(&scenario.name),
            Some(out) => out.to_path_buf(),
            None => out_dir(&scenario.name),
        };
        bar.start(scenario);
        let outcome = output::run(scenario).and_then(|o| o.write(&dir, "").map(|()| o));
        bar.finish_one();
        match outcome {
            Ok(o) => {
                bar.suspend(|| {
                    if !quiet {
                        println!("{}", o.render_trace());
                    }
                    println!("{}", output::table_header());
                    println!("{}", o.table_rows());
                    print!("{}", o.render_checks());
                    match (&scenario.known_failing, o.passed()) {
                        (Some(why), false) => println!("known failing: {why}"),
                        (Some(_), true) => {
                            println!("every check passes: the file's known_failing mark can go")
                        }
                        (None, _) => {}
                    }
                    println!(
                        "wrote {}/trace.csv, metrics.json and plot.svg{}",
                        dir.display(),
                        if scenario.flows.is_some() {
                            " (and trace-flow<N>.csv per flow)"
                        } else {
                            ""
                        }
                    );
                });
                failed |= !o.passed();
                if let (Some(pcap), Some(capture)) = (pcap, o.capture()) {
                    let dir = pcap.join(&scenario.name);
                    match capture.write_pcaps(&dir) {
                        Ok(files) => bar.suspend(|| {
                            println!("wrote {} pcap files to {}", files.len(), dir.display());
                        }),
                        Err(e) => {
                            bar.note(&format!("{}: {e}", scenario.name));
                            failed = true;
                        }
                    }
                }
                if let Some(path) = row_file {
                    let row = format!("{:<24} {}", scenario.name, o.table_row());
                    append_row(path, o.passed(), o.virtual_s, &o.failures(), &row);
                }
            }
            Err(e) => {
                bar.note(&format!("{}: {e}", scenario.name));
                failed = true;
                if let Some(path) = row_file {
                    append_row(
                        path,
                        false,
                        0.0,
                        &[],
                        &format!("{:<24} error: {e}", scenario.name),
                    );
                }
            }
        }
    }
    bar.clear();
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The `--estimator` value, or exit 2 with the spellings it takes.
fn estimator_arg(estimator: Option<&str>) -> Result<Option<EstimatorName>, ExitCode> {
    match estimator.map(|e| (e, EstimatorName::parse(e))) {
        None => Ok(None),
        Some((_, Some(e))) => Ok(Some(e)),
        Some((e, None)) => {
            eprintln!(
                "error: unknown estimator '{e}' (ours-send-side, ours-send-side-no-probing, ours-remb, rtc-gcc)"
            );
            Err(ExitCode::from(2))
        }
    }
}

/// One summary line for `scenario all`: passed, virtual seconds, the failed checks (`; `
/// between them), the table row; tab-separated (see `all::Report::parse`).
fn append_row(path: &Path, passed: bool, virtual_s: f64, failures: &[String], row: &str) {
    let failures = failures.join("; ").replace(['\t', '\n'], " ");
    let line = format!("{passed}\t{virtual_s}\t{failures}\t{row}\n");
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
}

/// This program again, as `scenario run <scenario> …` in a process of its own.
///
/// Why a process per scenario for `all` and `frontier`: isolation, so that one scenario that
/// ends badly (an error inside webrtc, a panic) costs its row and not the whole table. Not for
/// its figures: a call does not depend on what ran before it in a process (see
/// `docs/simulator.md`, "Determinism"), so a row is what `scenario run` of it alone gives either
/// way.
fn child(scenario: &str, seed: Option<u64>, estimator: Option<&str>) -> std::process::Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("xtask"));
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["scenario", "run", scenario]);
    if let Some(seed) = seed {
        cmd.args(["--seed", &seed.to_string()]);
    }
    if let Some(e) = estimator {
        cmd.args(["--estimator", e]);
    }
    cmd
}
