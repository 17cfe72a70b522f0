//! RFC 8867 §5.2 with two flows of our send-side estimator on real PeerConnections,
//! snapshot-tested: each flow's compact per-second trace, then the per-flow and aggregate
//! metrics (`cargo insta review` after an intended change).

use std::fmt::Write as _;

use bwe_e2e::{Estimator, FlowSet, FlowSpec, MultiCallSpec, run_multi_call};
use vnet_sim::{LinkConfig, QueueLimit, Rate, RateSchedule, SimDuration};

fn secs(d: Option<SimDuration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{x:.3}"))
}

/// §5.2 (2.0 → 1.0 → 1.75 → 0.5 → 1.0 Mbit/s every 25 s, 50 ms, 300 ms queue, 125 s, two
/// flows from 0 s), seed 1.
#[test]
fn rfc8867_5_2_two_flows_trace_and_metrics() {
    let kbps = Rate::from_kbps;
    let s = SimDuration::from_secs;
    let forward = LinkConfig {
        capacity: RateSchedule::steps(
            kbps(2_000),
            [
                (s(25), kbps(1_000)),
                (s(50), kbps(1_750)),
                (s(75), kbps(500)),
                (s(100), kbps(1_000)),
            ],
        ),
        queue: QueueLimit::Time(SimDuration::from_millis(300)),
        delay: SimDuration::from_millis(50),
        ..LinkConfig::default()
    };
    let flows = vec![FlowSpec::new(Estimator::OursSendSide); 2];
    let mut spec = MultiCallSpec::new(1, forward, flows);
    spec.duration = s(125);
    let result = run_multi_call(&spec).expect("the call runs");

    let mut out = String::new();
    for (i, f) in result.flows.iter().enumerate() {
        let _ = writeln!(out, "flow {}:\n{}", i + 1, f.trace.render());
    }
    let set = FlowSet::new(result.flows.iter().map(|f| (&f.trace, &f.activity)));
    for (i, f) in result.flows.iter().enumerate() {
        let m = f.trace.metrics(SimDuration::ZERO, spec.duration);
        let _ = writeln!(
            out,
            "flow {}: {m}; startup {}, instability {}",
            i + 1,
            secs(set.startup(i)),
            num(set.instability(i, SimDuration::ZERO, spec.duration)),
        );
    }
    let whole = set.combined().metrics(SimDuration::ZERO, spec.duration);
    let _ = writeln!(out, "aggregate: {whole}");
    let _ = writeln!(
        out,
        "fairness 1 s {}, 5 s {}, 20 s {}",
        num(set.fairness(s(1), SimDuration::ZERO, spec.duration)),
        num(set.fairness(s(5), SimDuration::ZERO, spec.duration)),
        num(set.fairness(s(20), SimDuration::ZERO, spec.duration)),
    );
    for c in set.changes() {
        let _ = writeln!(
            out,
            "{:.0} -> {:.0} kbit/s at {:.0} s: convergence {}, overshoot {}",
            c.from.as_kbps_f64(),
            c.to.as_kbps_f64(),
            c.at.as_secs_f64(),
            secs(c.convergence),
            num(c.overshoot),
        );
    }
    insta::assert_snapshot!("rfc8867_5_2", out);
}
