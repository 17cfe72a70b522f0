//! Same seed, same call: two runs of one spec give identical traces, packet for packet, and
//! another seed gives a different one.

use bwe_e2e::{CallSpec, Estimator, Trace, run_call};
use vnet_sim::{LossModel, Rate, RateSchedule, SimDuration};

fn call(seed: u64) -> Trace {
    let schedule = RateSchedule::steps(
        Rate::from_kbps(1_200),
        [(SimDuration::from_secs(4), Rate::from_kbps(500))],
    );
    let mut forward = CallSpec::bottleneck(
        schedule,
        SimDuration::from_millis(30),
        SimDuration::from_millis(200),
    );
    // A little random loss, so the seed reaches the links, NACK and RTX too.
    forward.loss = LossModel::Bernoulli { probability: 0.01 };
    let mut spec = CallSpec::new(seed, Estimator::OursSendSide, forward);
    spec.duration = SimDuration::from_secs(8);
    run_call(&spec).expect("the call runs").trace
}

/// A regression that moves one packet must show up as a diff, not as noise between runs.
#[test]
fn the_same_seed_gives_an_identical_trace_and_another_seed_does_not() {
    let first = call(3);
    let second = call(3);
    assert!(
        !first.packets.is_empty() && first.rows.len() == 40,
        "{first:?}"
    );
    assert_eq!(first, second);
    assert_ne!(first, call(4));
}
