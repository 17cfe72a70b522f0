//! One unit per metric in every output, and every output names it: utilisation and loss are
//! fractions (0 to 1) on screen, in `trace.csv`, in `metrics.json` and in the check lines, as
//! the scenario files' checks bound them.

mod support;

use std::path::{Path, PathBuf};
use support::{run_into, temp_dir, xtask};

/// 6 s on 800 → 400 kbit/s with a utilisation and a loss check that any run passes.
fn scenario(dir: &Path, name: &str) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "name = \"{name}\"\nseed = 7\nduration_s = 6\n\
             [forward]\ndelay_ms = 20\nqueue_ms = 200\n\
             capacity = [{{ at_s = 0, kbps = 800 }}, {{ at_s = 3, kbps = 400 }}]\n\
             [[check]]\nmetric = \"utilisation\"\nmin = 0.0\nmax = 1.5\n\
             [[check]]\nmetric = \"loss\"\nmin = 0.0\nmax = 1.0\n"
        ),
    )
    .expect("write");
    file
}

/// The value in the first line of `text` that starts with `prefix`, as a number.
fn figure(text: &str, prefix: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}:\n{text}"));
    line.trim_start()[prefix.len()..]
        .trim_start_matches([' ', ':', '"'])
        .split([',', ' ', '"'])
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line}"))
}

/// The same utilisation and loss, as the same fraction, in the table, the check lines and
/// `metrics.json`; each header, key and check line names the unit.
#[test]
fn utilisation_and_loss_are_fractions_everywhere_and_say_so() {
    let dir = temp_dir("units");
    let file = scenario(&dir, "xtask-units");
    let out = dir.join("out");
    let (code, stdout, stderr) = run_into(&file, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");

    // The trace table: time in s, loss as a fraction.
    assert!(
        stdout.contains("  t_s ") && stdout.contains(" queue_ms loss_fraction\n"),
        "{stdout}"
    );
    // The metrics table: both columns say fraction, and the figures are in 0..1.
    let header = stdout
        .lines()
        .find(|l| l.starts_with("estimator "))
        .expect("the metrics table's header");
    assert!(
        header.contains("util (fraction)") && header.contains("loss (fraction)"),
        "{header}"
    );
    let cells: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("ours (send side) "))
        .expect("the row")
        .split_whitespace()
        .collect();
    let (table_util, table_loss): (f64, f64) = (
        cells[5].parse().expect("utilisation"),
        cells[6].parse().expect("loss"),
    );
    assert!((0.0..=1.5).contains(&table_util), "{cells:?}");
    assert!((0.0..=1.0).contains(&table_loss), "{cells:?}");

    // The check lines: the same figures, with the unit after the bounds.
    let check_util = figure(&stdout, "check utilisation    [  0.0,   6.0) s");
    assert_eq!(format!("{check_util:.3}"), format!("{table_util:.3}"));
    assert!(stdout.contains("in [0, 1.5] fraction … ok"), "{stdout}");
    assert!(stdout.contains("in [0, 1] fraction … ok"), "{stdout}");

    // metrics.json: the unit in the key, and in each check.
    let json = std::fs::read_to_string(out.join("metrics.json")).expect("metrics.json");
    let util = figure(&json, "\"utilisation_fraction\"");
    let loss = figure(&json, "\"loss_fraction\"");
    assert_eq!(format!("{util:.3}"), format!("{table_util:.3}"));
    assert_eq!(format!("{loss:.4}"), format!("{table_loss:.4}"));
    assert!(
        !json.contains("\"utilisation\":") && !json.contains("\"loss\":"),
        "{json}"
    );
    assert_eq!(json.matches("\"unit\": \"fraction\"").count(), 2, "{json}");

    // trace.csv: the loss column says fraction, every value in 0..1.
    let csv = std::fs::read_to_string(out.join("trace.csv")).expect("trace.csv");
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "loss_fraction")
        .unwrap_or_else(|| panic!("{header:?}"));
    for line in csv.lines().skip(1) {
        let v = line.split(',').nth(column).expect("a loss cell");
        if !v.is_empty() {
            let v: f64 = v.parse().expect("a number");
            assert!((0.0..=1.0).contains(&v), "{line}");
        }
    }
}

/// `compare` prints the same table header as `run`, and with `--pcap` writes each estimator's
/// captures to a folder of its own.
#[test]
fn compare_names_units_and_writes_pcaps_per_estimator() {
    let dir = temp_dir("units-compare");
    let file = scenario(&dir, "xtask-units-compare");
    let (out, pcap) = (dir.join("out"), dir.join("pcap"));
    let (code, stdout, stderr) = xtask(&[
        "scenario",
        "compare",
        file.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
        "--pcap",
        pcap.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("loss (fraction)"), "{stdout}");
    for estimator in ["ours-send-side", "rtc-gcc"] {
        let folder = pcap.join("xtask-units-compare").join(estimator);
        let pcaps = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .count();
        assert_eq!(pcaps, 8, "{}", folder.display());
    }
    assert_eq!(stdout.matches("wrote 8 pcap files").count(), 2, "{stdout}");
}
