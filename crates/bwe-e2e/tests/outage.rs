//! The shipped outage scenarios, run from their files exactly as `cargo xtask scenario run`
//! runs them: real PeerConnections over the simulator, a 4 s blackout and 6 s of zero capacity
//! on a 2 Mbit/s, 25 ms, 300 ms-queue link. Every check in the files must pass for our send
//! side; `rtc::Gcc` runs the same files on the same seed beside it for the record.

mod support;

use bwe_e2e::Estimator;
use support::scenario_file::{checks, load, show};

fn outage_holds(name: &str) {
    let s = load(name);
    assert_eq!(s.checks.len(), 3, "the file's three checks");
    let ours = checks(&s);
    show("ours", &ours);
    let mut gcc = s.clone();
    gcc.set_estimator(Estimator::RtcGcc);
    show("rtc::Gcc", &checks(&gcc));
    assert!(ours.iter().all(|c| c.passed), "{ours:#?}");
}

/// After a 4 s blackout the sender must not burst stale media into the link: queuing delay
/// and per-interval loss stay low on the return and goodput is near capacity within 3 s.
#[test]
fn a_blackout_is_followed_by_no_stale_burst() {
    outage_holds("outage-blackout");
}

/// The same after 6 s of zero capacity (the queue fills, then drains on the return).
#[test]
fn zero_capacity_is_followed_by_no_stale_burst() {
    outage_holds("outage-zero-capacity");
}
