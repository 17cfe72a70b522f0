//! The shipped REMB-mode scenario for RFC 8867 §5.1, run from its file exactly as `cargo xtask
//! scenario run` runs it: real PeerConnections over the simulator, the receiver estimating from
//! abs-send-time and sending REMB, the sender pacing and probing under it. Every check in the
//! file must pass: utilisation, p95 queuing delay, loss, 85 % of the raise to 2.5 Mbit/s within
//! 3 s, and no estimate frozen for more than 5 s on a link with room.

mod support;

use support::scenario_file::all_checks_pass;

#[test]
fn remb_mode_meets_the_rfc8867_5_1_floors() {
    all_checks_pass("remb-rfc8867-5.1", "ours (REMB)", 5);
}
