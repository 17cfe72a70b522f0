//! `cargo xtask scenario …`: runs scenario files on two real PeerConnections over the
//! simulator, checks their metrics and writes what a person needs to look at.
//!
//! ```text
//! cargo xtask scenario list
//! cargo xtask scenario run rfc8867-5.1 [more names or files…] [--seed N] [--estimator E] [--out DIR]
//! ```
//!
//! Exit codes: 0 when every check passes, 1 when a check fails (or a call cannot run), 2 on bad
//! input (an unreadable or invalid scenario file, an unknown name or option). Every file is
//! validated before anything runs, so bad input leaves no partial output.

mod output;
mod spec;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use spec::{EstimatorName, Scenario};

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
        /// Overrides the file's estimator: ours-send-side, ours-remb or rtc-gcc.
        #[arg(long)]
        estimator: Option<String>,
        /// Output folder (default `target/scenarios/<name>/`).
        #[arg(long)]
        out: Option<PathBuf>,
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
    files.sort();
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
                },
        } => run(&scenarios, seed, estimator.as_deref(), out.as_deref()),
    }
}

fn list() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in scenario_files() {
        match spec::load(&path) {
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
) -> ExitCode {
    let estimator = match estimator.map(|e| (e, EstimatorName::parse(e))) {
        None => None,
        Some((_, Some(e))) => Some(e),
        Some((e, None)) => {
            eprintln!("error: unknown estimator '{e}' (ours-send-side, ours-remb, rtc-gcc)");
            return ExitCode::from(2);
        }
    };
    if out.is_some() && names.len() > 1 {
        eprintln!("error: --out takes one scenario at a time");
        return ExitCode::from(2);
    }
    // Validate everything before running anything: bad input leaves no partial output.
    let mut scenarios: Vec<Scenario> = Vec::with_capacity(names.len());
    for name in names {
        match spec::load(&resolve(name)) {
            Ok(mut s) => {
                if let Some(seed) = seed {
                    s.call.seed = seed;
                }
                if let Some(e) = estimator {
                    s.call.estimator = e.estimator();
                }
                scenarios.push(s);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut failed = false;
    for scenario in &scenarios {
        let dir = out.map_or_else(
            || root().join("target").join("scenarios").join(&scenario.name),
            Path::to_path_buf,
        );
        match output::run_and_report(scenario, &dir) {
            Ok(passed) => failed |= !passed,
            Err(e) => {
                eprintln!("{}: {e}", scenario.name);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
