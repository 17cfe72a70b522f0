//! The command line's contract: bad input is exit 2 with a located message and no output
//! written; an unknown scenario or option is exit 2 too.

mod support;

use support::{run_into, temp_dir, xtask};

/// A scenario file with a misspelt key is refused with `file:line:col`, exit 2, and nothing is
/// written to the output folder.
#[test]
fn a_bad_scenario_file_is_exit_2_with_a_located_error_and_no_output() {
    let dir = temp_dir("cli-bad");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "name = \"x\"\nseed = 1\nduration_s = 10\n[forward]\ndelay_ms = 50\nqueue_msec = 3\n",
    )
    .expect("write");
    let out = dir.join("out");
    let (code, stdout, stderr) = run_into(&file, &out);
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{}:6:1: unknown field `queue_msec`",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!out.exists(), "no partial output");
}

/// A good file listed before a bad one does not run either: validation comes first.
#[test]
fn nothing_runs_when_any_file_is_bad() {
    let dir = temp_dir("cli-mixed");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nseed = \"one\"\n").expect("write");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "run",
        "rfc8867-5.1",
        bad.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(stderr.contains("bad.toml:2:8: "), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

/// Unknown names and options are bad input, not failures of a run.
#[test]
fn unknown_scenarios_and_estimators_are_exit_2() {
    assert_eq!(xtask(&["scenario", "run", "no-such-scenario"]).0, 2);
    assert_eq!(
        xtask(&["scenario", "run", "rfc8867-5.1", "--estimator", "bogus"]).0,
        2
    );
    assert_eq!(xtask(&["scenario", "frobnicate"]).0, 2);
}

/// The shipped scenarios all parse (`list` is exit 2 on any that does not), and `list` names
/// each file under its own name, the cellular trace scenarios among them.
#[test]
fn list_names_every_shipped_scenario() {
    let (code, stdout, stderr) = xtask(&["scenario", "list"]);
    assert_eq!(code, 0, "{stderr}");
    let listed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "toml").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    files.sort();
    assert_eq!(listed, files, "one line per file, named after it");
    for name in [
        "rfc8867-5.1",
        "trace-lte-up",
        "trace-umts-driving",
        "trace-evdo-driving",
        "trace-att-lte-down",
        "trace-att-lte-up",
        "trace-evdo-down",
        "trace-verizon-lte-up",
    ] {
        assert!(listed.contains(&name), "{name}: {stdout}");
    }
}

/// A short scenario (6 s, one capacity step) for the tests that run a call.
fn short_scenario(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "name = \"{name}\"\nseed = 7\nduration_s = 6\n\
             [forward]\ndelay_ms = 20\nqueue_ms = 200\n\
             capacity = [{{ at_s = 0, kbps = 800 }}, {{ at_s = 3, kbps = 400 }}]\n\
             [backward]\ndelay_ms = 20\n\
             [[check]]\nmetric = \"loss\"\nmin = 0.0\nmax = 1.0\n"
        ),
    )
    .expect("write");
    file
}

/// The figure is part of a run's output: `plot.svg` next to `trace.csv`, an SVG with lines.
#[test]
fn a_run_writes_a_plot_next_to_the_trace() {
    let dir = temp_dir("cli-plot");
    let file = short_scenario(&dir, "xtask-cli-plot");
    let out = dir.join("out");
    let (code, stdout, stderr) = run_into(&file, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(out.join("trace.csv").is_file());
    let svg = std::fs::read_to_string(out.join("plot.svg")).expect("plot.svg is written");
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(
        svg.contains("<polyline") || svg.contains("<path"),
        "no line in the plot"
    );
    assert!(svg.contains("xtask-cli-plot"), "titled with the scenario");
}

/// With stderr captured (not a terminal) the progress bar draws nothing: stderr holds only the
/// `running …` lines, with no escape sequences or carriage returns.
#[test]
fn several_runs_with_captured_output_show_no_progress_bar() {
    let dir = temp_dir("cli-progress");
    let a = short_scenario(&dir, "xtask-cli-progress-a");
    let b = short_scenario(&dir, "xtask-cli-progress-b");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "run",
        a.to_str().expect("utf-8 path"),
        b.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("running ")).count(),
        2,
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert_eq!(stdout.matches("plot.svg").count(), 2, "{stdout}");
}

/// A scenario's figures do not depend on what else the command runs: listed second after
/// another scenario, in the same process, its trace is the one it gives alone.
#[test]
fn a_scenario_run_after_another_gives_what_it_gives_alone() {
    let dir = temp_dir("cli-alone");
    let first = short_scenario(&dir, "xtask-cli-alone-first");
    let second = short_scenario(&dir, "xtask-cli-alone-second");
    let alone = dir.join("alone");
    let (code, _, stderr) = run_into(&second, &alone);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = xtask(&[
        "scenario",
        "run",
        first.to_str().expect("utf-8 path"),
        second.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("target/scenarios/xtask-cli-alone-second/trace.csv");
    let listed = std::fs::read_to_string(&root).expect("trace of the second scenario");
    let alone = std::fs::read_to_string(alone.join("trace.csv")).expect("trace alone");
    assert_eq!(listed, alone);
}

/// A short two-flow scenario: flow 2 joins at 2 s with its own access delay.
fn two_flow_scenario(dir: &std::path::Path, flow_key: &str) -> std::path::PathBuf {
    let file = dir.join("two-flows.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"xtask-cli-flows\"\nseed = 1\nduration_s = 6\n\
             [forward]\ndelay_ms = 20\nqueue_ms = 200\n\
             capacity = [{{ at_s = 0, kbps = 1500 }}]\n\
             [backward]\ndelay_ms = 20\n\
             [[flow]]\n\
             [[flow]]\nstart_s = 2\n{flow_key} = 15\n\
             [[check]]\nmetric = \"loss\"\nflow = 2\nmin = 0.0\nmax = 1.0\n\
             [[check]]\nmetric = \"fairness_1s\"\nmin = 0.0\nmax = 1.0\n"
        ),
    )
    .expect("write");
    file
}

/// A `[[flow]]` file writes one trace per flow beside the aggregate, one table row per flow,
/// and per-flow figures in metrics.json.
#[test]
fn a_flow_file_writes_a_trace_per_flow_and_a_row_per_flow() {
    let dir = temp_dir("cli-flows");
    let file = two_flow_scenario(&dir, "access_delay_ms");
    let out = dir.join("out");
    let (code, stdout, stderr) = run_into(&file, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    for name in [
        "trace.csv",
        "trace-flow1.csv",
        "trace-flow2.csv",
        "plot.svg",
    ] {
        assert!(out.join(name).is_file(), "{name} is written");
    }
    let flow2 = std::fs::read_to_string(out.join("trace-flow2.csv")).expect("flow 2 trace");
    assert!(
        flow2.starts_with("t_s,capacity_kbps,")
            && flow2
                .lines()
                .next()
                .unwrap_or("")
                .ends_with(",pacer_queue_ms"),
        "{flow2}"
    );
    assert_eq!(flow2.lines().count(), 31, "a header and 30 rows of 200 ms");
    assert!(stdout.contains("\nflow 1 ours"), "{stdout}");
    assert!(stdout.contains("\nflow 2 ours"), "{stdout}");
    assert!(stdout.contains("\naggregate (forward)"), "{stdout}");
    assert!(stdout.contains("check loss (flow 2)"), "{stdout}");
    let json = std::fs::read_to_string(out.join("metrics.json")).expect("metrics.json");
    assert!(
        json.contains("\"flows\"") && json.contains("\"fairness_1s\""),
        "{json}"
    );
}

/// A misspelt key inside a `[[flow]]` table is bad input, located at the key.
#[test]
fn a_bad_flow_key_is_exit_2_at_its_line_and_column() {
    let dir = temp_dir("cli-bad-flow");
    let file = two_flow_scenario(&dir, "access_ms");
    let (code, stdout, stderr) = xtask(&["scenario", "run", file.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{}:13:1: unknown field `access_ms`",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

/// `compare` is for one-flow files and says so for a multi-flow one, as bad input.
#[test]
fn compare_refuses_a_multi_flow_file_with_a_clear_message() {
    let dir = temp_dir("cli-compare-flows");
    let file = two_flow_scenario(&dir, "access_delay_ms");
    let (code, _, stderr) = xtask(&["scenario", "compare", file.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2, "stderr: {stderr}");
    assert!(stderr.contains("has 2 flows"), "{stderr}");
}

/// A short one-flow scenario whose flow has `media = <value>` (on line 7, column 9).
fn media_scenario(dir: &std::path::Path, value: &str) -> std::path::PathBuf {
    let file = dir.join("media.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"xtask-cli-media\"\nseed = 1\nduration_s = 4\n\
             [forward]\ndelay_ms = 20\n\
             [[flow]]\nmedia = {value}\n\
             [[check]]\nmetric = \"loss\"\nmin = 0.0\nmax = 1.0\n"
        ),
    )
    .expect("write");
    file
}

/// `media = "audio+video"` runs a flow with both tracks and says so; an unknown media is bad
/// input located at its value, with the spellings it accepts.
#[test]
fn a_flow_media_is_parsed_strictly() {
    let dir = temp_dir("cli-media");
    let file = media_scenario(&dir, "\"audio+video\"");
    let out = dir.join("out");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "run",
        file.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("forward, audio+video, start 0 s"),
        "{stdout}"
    );
    let json = std::fs::read_to_string(out.join("metrics.json")).expect("metrics.json");
    assert!(json.contains("\"media\": \"audio+video\""), "{json}");

    for bad in ["\"voice\"", "\"audio-video\"", "3"] {
        let file = media_scenario(&dir, bad);
        let (code, stdout, stderr) =
            xtask(&["scenario", "run", file.to_str().expect("utf-8 path")]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(
            stderr.starts_with(&format!("{}:7:9: ", file.display())),
            "{bad}: {stderr}"
        );
        assert!(stdout.is_empty(), "{stdout}");
    }
    let file = media_scenario(&dir, "\"voice\"");
    let (_, _, stderr) = xtask(&["scenario", "run", file.to_str().expect("utf-8 path")]);
    assert!(
        stderr.contains("unknown variant `voice`") && stderr.contains("`audio+video`"),
        "{stderr}"
    );
}

/// `frontier` validates every file before running anything: a multi-flow file (whose figures
/// are an aggregate, not one estimator's point) or an unknown name is exit 2, and nothing is
/// written.
#[test]
fn frontier_refuses_bad_input_before_running_anything() {
    let dir = temp_dir("cli-frontier-bad");
    let good = short_scenario(&dir, "xtask-cli-frontier-good");
    let flows = two_flow_scenario(&dir, "access_delay_ms");
    let out = dir.join("out");
    for bad in [flows.to_str().expect("utf-8 path"), "no-such-scenario"] {
        let (code, stdout, stderr) = xtask(&[
            "scenario",
            "frontier",
            good.to_str().expect("utf-8 path"),
            bad,
            "--out",
            out.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(!out.exists(), "no partial output");
    }
    let (_, _, stderr) = xtask(&["scenario", "frontier", flows.to_str().expect("utf-8 path")]);
    assert!(stderr.contains("one-flow scenarios"), "{stderr}");
}

/// `frontier` runs each scenario with the three estimators, prints a row per run, writes the
/// figure and its numbers, and each point is what a lone `scenario run` of that scenario,
/// estimator and seed gives (every run has a process of its own).
#[test]
fn frontier_runs_three_estimators_per_scenario_and_draws_them() {
    let dir = temp_dir("cli-frontier");
    let a = short_scenario(&dir, "xtask-cli-frontier-a");
    let b = short_scenario(&dir, "xtask-cli-frontier-b");
    let out = dir.join("out");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "frontier",
        a.to_str().expect("utf-8 path"),
        b.to_str().expect("utf-8 path"),
        "--seed",
        "3",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("xtask-cli-frontier-"))
        .collect();
    assert_eq!(rows.len(), 6, "{stdout}");
    for estimator in ["ours (send side)", "ours (REMB)", "rtc::Gcc"] {
        assert_eq!(
            rows.iter().filter(|r| r.contains(estimator)).count(),
            2,
            "{estimator}: {stdout}"
        );
    }
    let svg = std::fs::read_to_string(out.join("frontier.svg")).expect("frontier.svg");
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("lower right"), "says which corner is better");
    let csv = std::fs::read_to_string(out.join("frontier.csv")).expect("frontier.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 7, "{csv}");
    assert!(
        lines[1..].iter().all(|l| l.split(',').nth(2) == Some("3")),
        "the seed given: {csv}"
    );

    let alone = dir.join("alone");
    let (_, _, stderr) = xtask(&[
        "scenario",
        "run",
        b.to_str().expect("utf-8 path"),
        "--estimator",
        "rtc-gcc",
        "--seed",
        "3",
        "--out",
        alone.to_str().expect("utf-8 path"),
    ]);
    let read = |p: std::path::PathBuf| {
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    assert_eq!(
        read(out.join("xtask-cli-frontier-b/rtc-gcc/metrics.json")),
        read(alone.join("metrics.json")),
        "{stderr}"
    );
}

/// `--quiet` leaves out the per-interval table and nothing else: the metrics, the checks and
/// the files are the same as without it.
#[test]
fn quiet_leaves_out_the_trace_table_only() {
    let dir = temp_dir("cli-quiet");
    let file = short_scenario(&dir, "xtask-cli-quiet");
    let (loud_out, quiet_out) = (dir.join("loud"), dir.join("quiet"));
    let (code, loud, stderr) = run_into(&file, &loud_out);
    assert_eq!(code, 0, "{stderr}");
    let (code, quiet, stderr) = xtask(&[
        "scenario",
        "run",
        file.to_str().expect("utf-8 path"),
        "--out",
        quiet_out.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // Six seconds, one printed row per second: six rows the quiet run does not print.
    let (l, q) = (loud.lines().count(), quiet.lines().count());
    assert!(
        l >= q + 6 && q >= 4,
        "loud {l} lines, quiet {q} lines:\n{quiet}"
    );
    assert!(quiet.contains("check loss"), "{quiet}");
    assert_eq!(
        std::fs::read_to_string(loud_out.join("trace.csv")).expect("loud trace"),
        std::fs::read_to_string(quiet_out.join("trace.csv")).expect("quiet trace")
    );
}

/// With several scenarios `--out` is a parent folder: each writes to `<out>/<name>/`.
#[test]
fn out_with_several_scenarios_gives_each_its_own_folder() {
    let dir = temp_dir("cli-out-many");
    let a = short_scenario(&dir, "xtask-cli-many-a");
    let b = short_scenario(&dir, "xtask-cli-many-b");
    let out = dir.join("out");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "run",
        a.to_str().expect("utf-8 path"),
        b.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    for name in ["xtask-cli-many-a", "xtask-cli-many-b"] {
        assert!(out.join(name).join("trace.csv").is_file(), "{name}");
        assert!(out.join(name).join("plot.svg").is_file(), "{name}");
    }
}

/// `compare --out` writes both runs and the joint plot there.
#[test]
fn compare_writes_where_it_is_told() {
    let dir = temp_dir("cli-compare-out");
    let file = short_scenario(&dir, "xtask-cli-compare");
    let out = dir.join("out");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "compare",
        file.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(code == 0 || code == 1, "stdout: {stdout}\nstderr: {stderr}");
    for f in ["trace-ours.csv", "trace-rtc-gcc.csv", "plot-compare.svg"] {
        assert!(out.join(f).is_file(), "{f} in {}", out.display());
    }
}

/// `--pcap DIR` writes the run's captures to `DIR/<name>/`: one pcap per link and one per
/// PeerConnection's tap, each a nanosecond pcap that reads back.
#[test]
fn a_run_with_pcap_writes_a_capture_per_link_and_per_peer() {
    let dir = temp_dir("cli-pcap");
    let file = short_scenario(&dir, "xtask-cli-pcap");
    let pcap = dir.join("pcap");
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "run",
        file.to_str().expect("utf-8 path"),
        "--quiet",
        "--out",
        dir.join("out").to_str().expect("utf-8 path"),
        "--pcap",
        pcap.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let written = pcap.join("xtask-cli-pcap");
    let mut names: Vec<String> = std::fs::read_dir(&written)
        .expect("the folder is written")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "flow1-receiver-r2.pcap",
            "flow1-receiver.tap.pcap",
            "flow1-sender-r1.pcap",
            "flow1-sender.tap.pcap",
            "r1-flow1-sender.pcap",
            "r1-r2.pcap",
            "r2-flow1-receiver.pcap",
            "r2-r1.pcap",
        ]
    );
    for name in &names {
        let bytes = std::fs::read(written.join(name)).expect("readable");
        let records = vnet_sim::read_udp(&bytes).expect("a pcap this project writes");
        assert!(records.len() > 10, "{name}: {} records", records.len());
    }
    assert!(stdout.contains("wrote 8 pcap files"), "{stdout}");
}
