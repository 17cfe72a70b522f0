//! The shipped REMB-mode start-up scenario, run from its file: on 2.5 Mbit/s the receiver finds
//! the sender's start-up probe clusters from abs-send-time and its REMB follows them, so the
//! target reaches 85 % of the link within 3 s, without a queue.

mod support;

use support::scenario_file::all_checks_pass;

#[test]
fn remb_mode_starts_up_from_the_probes() {
    all_checks_pass("remb-startup", "ours (REMB)", 5);
}
