//! The REMB path end to end over real PeerConnections. The cases share one binary: a call does
//! not depend on what ran before it in the process (see `docs/simulator.md`, "Determinism").
//!
//! - Convergence: the receiver's `RembInterceptor` estimates from abs-send-time and sends REMB,
//!   the sender's `RembSenderInterceptor` runs its loss-based controller under it and the pacer
//!   enforces the result.
//! - Start-up, the shipped `remb-startup` file: on 2.5 Mbit/s the receiver finds the sender's
//!   start-up probe clusters from abs-send-time and its REMB follows them, so the target reaches
//!   85 % of the link within 3 s, without a queue.
//! - RFC 8867 §5.1, the shipped `remb-rfc8867-5.1` file, run exactly as `cargo xtask scenario
//!   run` runs it: every check must pass (utilisation, p95 queuing delay, loss, 85 % of the raise
//!   to 2.5 Mbit/s within 3 s, no estimate frozen for more than 5 s on a link with room).

mod support;

use bwe_e2e::{CallSpec, Estimator, run_call};
use support::scenario_file::all_checks_pass;
use vnet_sim::{Rate, SimDuration};

/// A REMB-only peer (an SFU, an older browser) must get a sender that uses the link, not one
/// stuck at the start rate or one that overruns it.
#[test]
fn remb_mode_converges_on_1_mbps() {
    let forward = CallSpec::bottleneck(
        Rate::from_kbps(1_000),
        SimDuration::from_millis(50),
        SimDuration::from_millis(300),
    );
    let mut spec = CallSpec::new(1, Estimator::OursRemb, forward);
    spec.duration = SimDuration::from_secs(30);
    let result = run_call(&spec).expect("the call runs");
    println!("{}", result.trace.render());
    // Converged within 20 s: from there on the sender's rate on the wire is in the band.
    let settled = result
        .trace
        .metrics(SimDuration::from_secs(20), spec.duration);
    println!("{settled}");
    let sent = settled.send_rate.map_or(0.0, |r| r.as_kbps_f64());
    assert!((800.0..=1_000.0).contains(&sent), "sent {sent:.0} kbit/s");
    // The REMB reached the sender and caps it.
    let remb = result.trace.rows.last().and_then(|r| r.remb);
    let remb = remb.map_or(0.0, |r| r.as_kbps_f64());
    assert!(
        (700.0..=1_100.0).contains(&remb),
        "last REMB {remb:.0} kbit/s"
    );
    // Without overrunning the link: the queue stays short.
    let p95 = settled
        .queue_p95
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    assert!((0.0..=100.0).contains(&p95), "queue p95 {p95:.1} ms");
}

#[test]
fn remb_mode_starts_up_from_the_probes() {
    all_checks_pass("remb-startup", "ours (REMB)", 5);
}

#[test]
fn remb_mode_meets_the_rfc8867_5_1_floors() {
    all_checks_pass("remb-rfc8867-5.1", "ours (REMB)", 5);
}
