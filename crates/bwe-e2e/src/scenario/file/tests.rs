//! Parsing and locating errors in scenario files.

use super::*;
use vnet_sim::{Rate, SimTime, Window};

const GOOD: &str = r#"
name = "t"
seed = 3
duration_s = 20

[forward]
delay_ms = 50
queue_ms = 300
capacity = [ { at_s = 0, kbps = 1000 }, { at_s = 10, kbps = 500 } ]

[[check]]
metric = "queue_p95_ms"
min = 0
max = 50
"#;

/// A well-formed file becomes a call with its schedule, delay, queue and checks.
#[test]
fn a_good_file_becomes_a_call() {
    let s = parse("good.toml", GOOD, Path::new(".")).expect("valid");
    assert_eq!(s.call.duration, SimDuration::from_secs(20));
    assert_eq!(s.call.forward.delay, SimDuration::from_millis(50));
    assert_eq!(
        s.call
            .forward
            .capacity
            .nominal_rate_at(SimDuration::from_secs(12)),
        Some(Rate::from_kbps(500))
    );
    assert_eq!(s.checks.len(), 1);
    assert_eq!(s.call.backward.delay, SimDuration::from_millis(50));
}

/// A misspelt key is reported at its line and column, not ignored.
#[test]
fn an_unknown_key_is_located() {
    let bad = GOOD.replace("queue_ms = 300", "queue_msec = 300");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("unknown key");
    assert!(err.starts_with("bad.toml:8:1: "), "{err}");
    assert!(err.contains("queue_msec"), "{err}");
}

/// A type error points at the value.
#[test]
fn a_wrong_type_is_located() {
    let bad = GOOD.replace("seed = 3", "seed = \"three\"");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("wrong type");
    assert!(err.starts_with("bad.toml:3:8: "), "{err}");
}

/// Values that parse but make no sense are located at the offending entry.
#[test]
fn semantic_errors_are_located() {
    let bad = GOOD.replace("at_s = 10", "at_s = 0");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("steps out of order");
    assert!(err.starts_with("bad.toml:9:12: capacity"), "{err}");
    let bad = GOOD.replace("max = 50", "max = -1");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("min > max");
    assert!(err.starts_with("bad.toml:11:1: a check"), "{err}");
    let bad = GOOD.replace("duration_s = 20", "duration_s = 0");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("zero duration");
    assert!(err.starts_with("bad.toml:4:14: duration_s"), "{err}");
}

const FLOWS: &str = r#"
name = "t"
seed = 3
duration_s = 60

[forward]
delay_ms = 50
queue_ms = 300
capacity = [ { at_s = 0, kbps = 2000 } ]

[[flow]]
access_delay_ms = 10

[[flow]]
estimator = "rtc-gcc"
direction = "backward"
media = "audio+video"
start_s = 20
pauses = [[30, 40]]

[[check]]
metric = "fairness_5s"
flow = 2
min = 0
max = 1
"#;

/// `[[flow]]` tables become flows, each defaulting to the file's estimator and forward.
#[test]
fn flow_tables_become_flows() {
    let s = parse("flows.toml", FLOWS, Path::new(".")).expect("valid");
    let flows = s.flows.expect("two flows");
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].estimator, Estimator::OursSendSide);
    assert_eq!(flows[0].access_delay, SimDuration::from_millis(10));
    assert_eq!(flows[1].estimator, Estimator::RtcGcc);
    assert_eq!(flows[1].direction, Direction::RightToLeft);
    assert_eq!(flows[0].media, Media::Video);
    assert_eq!(flows[1].media, Media::AudioVideo);
    assert_eq!(
        flows[1].pauses,
        [(SimDuration::from_secs(30), SimDuration::from_secs(40))]
    );
    assert_eq!(s.checks[0].flow, Some(2));
    assert!(
        parse("good.toml", GOOD, Path::new("."))
            .expect("valid")
            .flows
            .is_none()
    );
}

/// A bad flow key, a pause outside the flow and a check on a missing flow are located.
#[test]
fn flow_errors_are_located() {
    let bad = FLOWS.replace("access_delay_ms = 10", "access_delay = 10");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("unknown key");
    assert!(
        err.starts_with("bad.toml:12:1: unknown field `access_delay`"),
        "{err}"
    );
    let bad = FLOWS.replace("[[30, 40]]", "[[10, 40]]");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("pause before start");
    assert!(err.starts_with("bad.toml:14:1: a flow's pauses"), "{err}");
    let bad = FLOWS.replace("flow = 2", "flow = 3");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("no flow 3");
    assert!(err.starts_with("bad.toml:21:1: a check's flow"), "{err}");
    let bad = FLOWS.replace("\"audio+video\"", "\"voice\"");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("unknown media");
    assert!(
        err.starts_with("bad.toml:17:9: unknown variant `voice`"),
        "{err}"
    );
}

/// Outages parse: blackout windows (seconds from the start of media) and a capacity step
/// of zero after the first; a window outside the run, or zero capacity at the start, is
/// refused where it is written.
#[test]
fn blackouts_and_zero_capacity_steps_parse_and_bad_ones_are_located() {
    let outage = GOOD
        .replace(
            "{ at_s = 10, kbps = 500 } ]",
            "{ at_s = 10, kbps = 0 }, { at_s = 12, kbps = 500 } ]\nblackouts = [{ from_s = 15, to_s = 16.5 }]",
        );
    let s = parse("outage.toml", &outage, Path::new(".")).expect("valid");
    assert_eq!(
        s.call
            .forward
            .capacity
            .nominal_rate_at(SimDuration::from_secs(11)),
        Some(Rate::ZERO)
    );
    assert_eq!(
        s.call.forward.blackouts,
        [Window::new(
            SimTime::from_millis(15_000),
            SimTime::from_millis(16_500)
        )]
    );
    let late = outage.replace("to_s = 16.5", "to_s = 21");
    let err = parse("bad.toml", &late, Path::new(".")).expect_err("past the end");
    assert!(err.starts_with("bad.toml:10:14: a blackout"), "{err}");
    let first = GOOD.replace("{ at_s = 0, kbps = 1000 }", "{ at_s = 0, kbps = 0 }");
    let err = parse("bad.toml", &first, Path::new(".")).expect_err("zero at the start");
    assert!(err.starts_with("bad.toml:9:12: capacity"), "{err}");
}

/// Line and column count characters, starting at 1.
#[test]
fn line_col_is_one_based() {
    assert_eq!(line_col("ab\ncd", 0), (1, 1));
    assert_eq!(line_col("ab\ncd", 4), (2, 2));
    assert_eq!(line_col("é\nx", 3), (2, 1));
}

/// An `[encoder]` table sets the key-frame period and size; a period out of range is located at
/// the table.
#[test]
fn the_encoder_table_sets_key_frames_and_is_checked() {
    let with = format!("{GOOD}\n[encoder]\nkey_frame_interval_s = 3\nkey_frame_factor = 6\n");
    let s = parse("good.toml", &with, Path::new(".")).expect("valid");
    assert_eq!(s.call.encoder.key_frame_interval, SimDuration::from_secs(3));
    assert_eq!(s.call.encoder.key_frame_factor, 6.0);
    let default = parse("good.toml", GOOD, Path::new(".")).expect("valid");
    assert_eq!(
        default.call.encoder.key_frame_interval,
        SimDuration::from_secs(100)
    );
    let bad = format!("{GOOD}\n[encoder]\nkey_frame_interval_s = 0\n");
    let line = bad
        .lines()
        .position(|l| l.starts_with("key_frame_interval_s"))
        .expect("line")
        + 1;
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("zero period");
    assert!(
        err.starts_with(&format!("bad.toml:{line}:24: key_frame_interval_s")),
        "{err}"
    );
}

/// The connect timeout is the file's when given, 10 s on an ordinary path, and longer on a
/// long one; zero is refused where it is written.
#[test]
fn the_connect_timeout_is_the_files_or_scales_with_the_path() {
    let s = parse("good.toml", GOOD, Path::new(".")).expect("valid");
    assert_eq!(s.call.connect_timeout, SimDuration::from_secs(10));
    let given = GOOD.replace("duration_s = 20", "duration_s = 20\nconnect_timeout_s = 45");
    let s = parse("good.toml", &given, Path::new(".")).expect("valid");
    assert_eq!(s.call.connect_timeout, SimDuration::from_secs(45));
    let long = GOOD.replace("delay_ms = 50", "delay_ms = 1500");
    let s = parse("good.toml", &long, Path::new(".")).expect("valid");
    assert!(
        s.call.connect_timeout >= SimDuration::from_secs(25),
        "{:?}",
        s.call.connect_timeout
    );
    let zero = GOOD.replace("duration_s = 20", "duration_s = 20\nconnect_timeout_s = 0");
    let err = parse("bad.toml", &zero, Path::new(".")).expect_err("zero timeout");
    assert!(
        err.starts_with("bad.toml:5:21: connect_timeout_s must be between 1 and 3600"),
        "{err}"
    );
}

/// A round trip of 4 s can never connect (ICE forgets its checks): refused with the reason, at
/// the forward delay, or at the flow whose access delay makes it so.
#[test]
fn a_path_no_handshake_can_cross_is_refused_with_the_reason() {
    let far = GOOD.replace("delay_ms = 50", "delay_ms = 2000");
    let err = parse("bad.toml", &far, Path::new(".")).expect_err("4 s round trip");
    assert!(
        err.starts_with("bad.toml:7:12: the round trip at the start of the call is 4.000 s"),
        "{err}"
    );
    assert!(
        err.contains("forgets a connectivity check after 4 s"),
        "{err}"
    );
    let flow = FLOWS.replace("access_delay_ms = 10", "access_delay_ms = 975");
    let err = parse("bad.toml", &flow, Path::new(".")).expect_err("4 s round trip");
    assert!(
        err.starts_with("bad.toml:11:1: the round trip at the start of the call is 4.000 s"),
        "{err}"
    );
}

/// Durations beyond an hour are refused with the reason, not left to a limit deep in the run.
#[test]
fn a_duration_beyond_an_hour_is_refused_with_the_reason() {
    let s = parse(
        "good.toml",
        &GOOD.replace("duration_s = 20", "duration_s = 3600"),
        Path::new("."),
    )
    .expect("an hour is allowed");
    assert_eq!(s.call.duration, SimDuration::from_secs(3_600));
    let bad = GOOD.replace("duration_s = 20", "duration_s = 3601");
    let err = parse("bad.toml", &bad, Path::new(".")).expect_err("too long");
    assert!(
        err.starts_with("bad.toml:4:14: duration_s must be between 1 and 3600 (an hour"),
        "{err}"
    );
}

/// `known_failing` carries its reason into the scenario; an empty reason, a file without checks
/// (which cannot fail) and a misspelt key are refused, located.
#[test]
fn known_failing_needs_a_reason_and_a_check() {
    let s = parse("good.toml", GOOD, Path::new(".")).expect("valid");
    assert_eq!(s.known_failing, None);
    let marked = GOOD.replace(
        "duration_s = 20",
        "duration_s = 20\nknown_failing = \" p95 80 ms against 50: the drain is slow \"",
    );
    let s = parse("marked.toml", &marked, Path::new(".")).expect("valid");
    assert_eq!(
        s.known_failing.as_deref(),
        Some("p95 80 ms against 50: the drain is slow")
    );

    let empty = GOOD.replace("duration_s = 20", "duration_s = 20\nknown_failing = \" \"");
    let err = parse("bad.toml", &empty, Path::new(".")).expect_err("no reason");
    assert!(
        err.starts_with("bad.toml:5:17: known_failing needs the reason"),
        "{err}"
    );
    let unchecked = marked.split("[[check]]").next().unwrap_or_default();
    let err = parse("bad.toml", unchecked, Path::new(".")).expect_err("nothing to fail");
    assert!(
        err.starts_with("bad.toml:5:17: known_failing marks"),
        "{err}"
    );
    let misspelt = GOOD.replace("duration_s = 20", "duration_s = 20\nknown_failure = \"x\"");
    let err = parse("bad.toml", &misspelt, Path::new(".")).expect_err("unknown key");
    assert!(
        err.starts_with("bad.toml:5:1: unknown field `known_failure`"),
        "{err}"
    );
}

/// Every metric names its unit, and the dimensionless ones are fractions or ratios, never
/// percentages: the checks in the shipped files bound `utilisation` and `loss` in 0..1.
#[test]
fn every_metric_has_a_unit() {
    assert_eq!(MetricName::Utilisation.unit(), MetricUnit::Fraction);
    assert_eq!(MetricName::Loss.unit(), MetricUnit::Fraction);
    assert_eq!(MetricName::Overshoot.unit(), MetricUnit::Fraction);
    assert_eq!(MetricName::Fairness5s.unit(), MetricUnit::Ratio);
    assert_eq!(MetricName::QueueP95Ms.unit(), MetricUnit::Ms);
    assert_eq!(MetricName::ConvergenceS.unit(), MetricUnit::S);
    assert_eq!(MetricName::MinTargetKbps.unit(), MetricUnit::Kbps);
    assert_eq!(MetricUnit::Kbps.as_str(), "kbit/s");
}

/// A check starting at or after the end of the run measures an empty window; it is refused when
/// the file is read, as one with `to_s` would be (found by the `scenario_file` fuzz target).
#[test]
fn a_check_window_starting_at_the_end_is_refused() {
    let open = GOOD.replace("max = 50", "max = 50\nfrom_s = 20");
    let err = parse("bad.toml", &open, Path::new(".")).expect_err("empty window");
    assert!(
        err.starts_with("bad.toml:11:1: ") && err.contains("from_s < to_s <= duration_s"),
        "{err}"
    );
    let inside = GOOD.replace("max = 50", "max = 50\nfrom_s = 19");
    assert!(parse("good.toml", &inside, Path::new(".")).is_ok());
}

/// `[[tcp]]` tables become TCP flows with their workload; contradictions are located.
#[test]
fn tcp_tables_become_tcp_flows_and_bad_ones_are_located() {
    let text = format!(
        "{GOOD}\n[[tcp]]\nalgorithm = \"cubic\"\nstart_s = 2\n\n[[tcp]]\nworkload = \"messages\"\nmessage_kib = [30, 50]\nmean_gap_s = 10.0\n"
    );
    let s = parse("tcp.toml", &text, Path::new(".")).expect("valid");
    assert_eq!(s.tcp.len(), 2);
    assert!(matches!(s.tcp[0].algorithm, TcpAlgorithm::Cubic(_)));
    assert_eq!(s.tcp[0].start, SimDuration::from_secs(2));
    let TcpWorkload::Messages(plan) = s.tcp[1].workload else {
        panic!("messages: {:?}", s.tcp[1]);
    };
    assert_eq!((plan.min_bytes, plan.max_bytes), (30 * 1024, 50 * 1024));
    assert_eq!(plan.mean_gap, SimDuration::from_secs(10));

    let missing = format!("{GOOD}\n[[tcp]]\nworkload = \"messages\"\n");
    let err = parse("m.toml", &missing, Path::new(".")).expect_err("no sizes");
    // A table's own errors are located at its header.
    let line = missing.lines().position(|l| l == "[[tcp]]").expect("in") + 1;
    assert!(
        err.starts_with(&format!("m.toml:{line}:1: workload = \"messages\" needs")),
        "{err}"
    );
    let bulk = format!("{GOOD}\n[[tcp]]\nmean_gap_s = 3.0\n");
    let err = parse("b.toml", &bulk, Path::new(".")).expect_err("bulk with a gap");
    assert!(err.contains("belong to workload = \"messages\""), "{err}");
    let sizes = format!(
        "{GOOD}\n[[tcp]]\nworkload = \"messages\"\nmessage_kib = [50, 30]\nmean_gap_s = 1.0\n"
    );
    let err = parse("s.toml", &sizes, Path::new(".")).expect_err("min above max");
    let line = sizes
        .lines()
        .position(|l| l.starts_with("message_kib"))
        .expect("in")
        + 1;
    assert!(
        err.starts_with(&format!("s.toml:{line}:15: message_kib")),
        "{err}"
    );
    let late = format!("{GOOD}\n[[tcp]]\nstart_s = 20\n");
    let err = parse("l.toml", &late, Path::new(".")).expect_err("starts at the end");
    assert!(
        err.contains("a tcp flow needs start_s < stop_s <= duration_s"),
        "{err}"
    );
}
