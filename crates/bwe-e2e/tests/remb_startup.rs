//! The shipped REMB-mode start-up scenario, run from its file: on 2.5 Mbit/s the receiver finds
//! the sender's start-up probe clusters from abs-send-time and its REMB follows them, so the
//! target reaches 85 % of the link within 3 s, without a queue.

mod support;

use support::scenario_file::{checks, load, show};

#[test]
fn remb_mode_starts_up_from_the_probes() {
    let s = load("remb-startup");
    assert_eq!(s.checks.len(), 5, "the file's five checks");
    let ours = checks(&s);
    show("ours (REMB)", &ours);
    assert!(ours.iter().all(|c| c.passed), "{ours:#?}");
}
