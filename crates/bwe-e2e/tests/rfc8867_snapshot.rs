//! RFC 8867 §5.1 with our send-side estimator on two real PeerConnections, snapshot-tested:
//! the compact per-second trace and the metrics, as a person reviews them
//! (`cargo insta review` after an intended change).
//!
//! The run is a function of its seed (timing, sizes and fates of every packet), so any change in
//! the estimator, the chain or the simulator that moves a single packet shows up here as a diff
//! to read, not as a silently shifted number.

use bwe_e2e::{CallSpec, Estimator, run_call};
use vnet_sim::{LinkConfig, SimDuration};

/// §5.1 (1.0 → 2.5 → 0.6 → 1.0 Mbit/s, 50 ms, 300 ms queue, 100 s), seed 1.
#[test]
fn rfc8867_5_1_trace_and_metrics() {
    let mut spec = CallSpec::new(1, Estimator::OursSendSide, LinkConfig::rfc8867_5_1());
    spec.duration = SimDuration::from_secs(100);
    let result = run_call(&spec).expect("the call runs");
    let trace = &result.trace;
    let whole = trace.metrics(SimDuration::ZERO, spec.duration);
    let phases = [(0, 40), (40, 60), (60, 80), (80, 100)]
        .map(|(from, to)| {
            let m = trace.metrics(SimDuration::from_secs(from), SimDuration::from_secs(to));
            m.to_string()
        })
        .join("\n");
    // The pacer's own queue (the wait of its oldest packet, sampled every 200 ms): libwebrtc
    // holds its pacer to 150 ms at p95 under this schedule. It only fills after the 60 s drop,
    // while the window holds the encoder's excess.
    let mut waits: Vec<f64> = trace
        .rows
        .iter()
        .map(|r| r.pacer_queue.map_or(0.0, |d| d.as_secs_f64() * 1e3))
        .collect();
    waits.sort_by(f64::total_cmp);
    let p95 = waits[waits.len() * 95 / 100];
    let max = waits[waits.len() - 1];
    println!("pacer queue p95 {p95:.1} ms, max {max:.1} ms");
    assert!((0.0..=150.0).contains(&p95), "pacer queue p95 {p95} ms");
    assert!(
        trace.rows.iter().skip(5).all(|r| r.pacer_queue.is_some()),
        "our pacer publishes its queue delay at every sample after the first second"
    );
    insta::assert_snapshot!(
        "rfc8867_5_1",
        format!("{}\n{whole}\n{phases}\n", trace.render())
    );
}
