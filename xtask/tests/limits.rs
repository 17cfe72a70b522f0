//! What a scenario file cannot ask for: specs the runtime cannot run are refused before
//! anything runs (exit 2, `file:line:col: ` and the reason, no output), what only the run can
//! tell ends it with exit 1 and an error naming the key to change, and the extremes that can
//! run (every link stage at once, an hour of media) do.

mod support;

use std::path::{Path, PathBuf};
use support::{run_into, temp_dir, xtask};

/// A one-flow file: `top` among its top-level keys, `forward` as its `[forward]` table (which
/// starts on line 6), a loss check that any run passes.
fn spec_file(dir: &Path, name: &str, top: &str, forward: &str) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "name = \"{name}\"\nseed = 1\nduration_s = 4\n{top}\n\
             [forward]\n{forward}\n\
             [[check]]\nmetric = \"loss\"\nmin = 0.0\nmax = 1.0\n"
        ),
    )
    .expect("write");
    file
}

/// Specs the runtime cannot run (or that would silently do nothing) are refused before
/// anything runs: exit 2, `file:line:col: ` and the reason, no output written.
#[test]
fn specs_the_runtime_cannot_run_are_refused_with_the_cause() {
    let dir = temp_dir("limits-refused");
    let cap = "capacity = [{ at_s = 0, kbps = 1000 }]";
    let cases = [
        (
            "",
            format!("delay_ms = 25\nqueue_ms = 0\n{cap}"),
            "7:12",
            "queue_ms = 0 holds no packet at all",
        ),
        (
            "",
            format!("delay_ms = 25\nqueue_ms = 10\n{cap}"),
            "7:12",
            "queue_ms = 10 holds 1250 bytes at 1000 kbit/s",
        ),
        (
            "",
            "delay_ms = 25\ncapacity = [{ at_s = 0, kbps = 1000 }, { at_s = 4, kbps = 500 }]"
                .to_owned(),
            "7:40",
            "a capacity step at 4 s is at or after the end of the call",
        ),
        (
            "",
            "delay_ms = 25\nblackouts = [{ from_s = 3, to_s = 5 }]".to_owned(),
            "7:14",
            "a blackout needs 0 <= from_s < to_s <= duration_s",
        ),
        (
            "",
            "delay_ms = 2000".to_owned(),
            "6:12",
            "the round trip at the start of the call is 4.000 s",
        ),
        (
            "",
            "delay_ms = 25\nloss = 1.0".to_owned(),
            "7:8",
            "a loss of 1 would lose every packet",
        ),
        (
            "",
            "delay_ms = 25\nloss = { mean_loss = 0.6, mean_burst = 1 }".to_owned(),
            "7:8",
            "loss: Gilbert–Elliott loss 0.6 with mean burst 1",
        ),
        (
            "",
            "delay_ms = 25\njitter = { max_ms = 5, mean_ms = 2 }".to_owned(),
            "7:10",
            "jitter takes either max_ms",
        ),
        (
            "",
            "delay_ms = 25\ndelay_steps = [{ at_s = 4, delay_ms = 80 }]".to_owned(),
            "7:16",
            "delay steps need at_s strictly increasing",
        ),
        (
            "",
            "delay_ms = 25\nduplicate = 1.5".to_owned(),
            "7:13",
            "duplicate is a probability in [0, 1], got 1.5",
        ),
        (
            "connect_timeout_s = 0",
            "delay_ms = 25".to_owned(),
            "4:21",
            "connect_timeout_s must be between 1 and 3600",
        ),
    ];
    for (i, (top, forward, at, message)) in cases.iter().enumerate() {
        let file = spec_file(&dir, &format!("refused-{i}"), top, forward);
        let out = dir.join(format!("out-{i}"));
        let (code, stdout, stderr) = run_into(&file, &out);
        assert_eq!(code, 2, "{forward}: {stderr}");
        let want = format!("{}:{at}: {message}", file.display());
        assert!(stderr.starts_with(&want), "want {want}\ngot  {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(!out.exists(), "no partial output");
    }
    let long = dir.join("long.toml");
    std::fs::write(
        &long,
        "name = \"long\"\nseed = 1\nduration_s = 3601\n[forward]\ndelay_ms = 25\n",
    )
    .expect("write");
    let (code, _, stderr) = xtask(&["scenario", "run", long.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("long.toml:3:14: duration_s must be between 1 and 3600 (an hour"),
        "{stderr}"
    );
}

/// A handshake that does not finish in time is only known at run time: exit 1, and the error
/// says what happened and which key gives it more time (never a panic).
#[test]
fn a_handshake_that_times_out_is_exit_1_naming_the_key() {
    let dir = temp_dir("limits-connect-timeout");
    let file = spec_file(
        &dir,
        "slow-connect",
        "connect_timeout_s = 1",
        "delay_ms = 400\ncapacity = [{ at_s = 0, kbps = 1000 }]",
    );
    let (code, _, stderr) = run_into(&file, &dir.join("out"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("slow-connect: flow 1 did not connect: the ICE and DTLS handshake")
            && stderr.contains("connect timeout of 1s")
            && stderr.contains("round trip of 800ms")
            && stderr.contains("`connect_timeout_s` in a scenario file"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every link stage a file can name runs end to end: delay steps, jitter with reordering,
/// bursty loss and duplication on one path.
#[test]
fn a_file_with_every_link_stage_runs() {
    let dir = temp_dir("limits-every-stage");
    let file = spec_file(
        &dir,
        "every-stage",
        "",
        "delay_ms = 30\nqueue_ms = 200\ncapacity = [{ at_s = 0, kbps = 1000 }]\n\
         delay_steps = [{ at_s = 2, delay_ms = 60 }, { at_s = 3, delay_ms = 10 }]\n\
         jitter = { mean_ms = 3, std_dev_ms = 1 }\nreorder = true\n\
         loss = { mean_loss = 0.02, mean_burst = 2 }\nduplicate = 0.02\n\
         blackouts = [{ from_s = 1.5, to_s = 1.7 }]",
    );
    let out = dir.join("out");
    let (code, stdout, stderr) = run_into(&file, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(out.join("trace.csv").is_file());
}

/// An hour of media runs to its end: the simulation's time limit grows with the call (the
/// runtime's default, one virtual hour, would stop it in its last seconds, the handshake
/// coming first). About 7 s of wall time in the test profile.
#[test]
fn an_hour_long_call_runs_to_its_end() {
    let dir = temp_dir("limits-hour");
    let file = dir.join("hour.toml");
    std::fs::write(
        &file,
        "name = \"hour\"\nseed = 1\nduration_s = 3600\n[forward]\ndelay_ms = 25\nqueue_ms = 300\n\
         capacity = [{ at_s = 0, kbps = 1000 }]\n\
         [[check]]\nmetric = \"loss\"\nmin = 0.0\nmax = 1.0\n",
    )
    .expect("write");
    let (code, stdout, stderr) = run_into(&file, &dir.join("out"));
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
}
