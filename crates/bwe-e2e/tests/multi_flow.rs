//! Two flows on one bottleneck: the same seed gives the same per-flow traces, packet for
//! packet, and another seed does not.

use bwe_e2e::{Estimator, FlowSpec, MultiCallResult, MultiCallSpec, PacketSample, run_multi_call};
use vnet_sim::{LinkConfig, QueueLimit, Rate, SimDuration};

fn call(seed: u64) -> MultiCallResult {
    let forward = LinkConfig {
        capacity: Rate::from_kbps(1_500).into(),
        queue: QueueLimit::Time(SimDuration::from_millis(200)),
        delay: SimDuration::from_millis(20),
        ..LinkConfig::default()
    };
    let first = FlowSpec::new(Estimator::OursSendSide);
    let mut second = FlowSpec::new(Estimator::OursSendSide);
    second.start = SimDuration::from_secs(2);
    second.access_delay = SimDuration::from_millis(15);
    let mut spec = MultiCallSpec::new(seed, forward, vec![first, second]);
    spec.duration = SimDuration::from_secs(6);
    run_multi_call(&spec).expect("the call runs")
}

/// The packets of a trace as a multiset: order among packets handed to a link at the same
/// instant is left out (see the test).
fn sorted(packets: &[PacketSample]) -> Vec<(u64, u32, Option<u64>)> {
    let mut v: Vec<_> = packets
        .iter()
        .map(|p| {
            (
                p.sent.as_nanos(),
                p.size,
                p.queue_delay.map(|d| d.as_nanos()),
            )
        })
        .collect();
    v.sort_unstable();
    v
}

/// A regression that moves one packet of either flow must show up as a diff, not as noise.
///
/// Each flow's trace and every aggregate row repeat exactly. The aggregates' packet lists are
/// compared as multisets: a receiver hands several RTCP packets to the backward link at one
/// instant in an order webrtc takes from a `HashMap` (per-process random keys, see
/// `docs/simulator.md`), which changes neither a time nor a size.
#[test]
fn the_same_seed_gives_identical_flow_traces_and_another_seed_does_not() {
    let first = call(1);
    let second = call(1);
    assert_eq!(first.flows.len(), 2);
    for f in &first.flows {
        assert_eq!(f.trace.rows.len(), 30);
        assert!(!f.trace.packets.is_empty());
        assert!(f.rtp_received > 0, "the receiving application reads media");
    }
    assert_eq!(first.flows, second.flows);
    assert_eq!(first.media_start, second.media_start);
    for (a, b) in [
        (&first.forward, &second.forward),
        (&first.backward, &second.backward),
    ] {
        assert_eq!(a.rows, b.rows);
        assert_eq!(sorted(&a.packets), sorted(&b.packets));
    }
    assert_eq!(
        (first.forward_stats, first.backward_stats),
        (second.forward_stats, second.backward_stats)
    );
    assert_ne!(first.flows[0].trace, call(2).flows[0].trace);
}
