//! Same seed, same call: two runs of one spec give identical traces, packet for packet, and
//! another seed gives a different one; and a call does not depend on what the process ran
//! before it, on this thread or another.

use bwe_e2e::{
    CallSpec, Estimator, FlowSpec, MultiCallResult, MultiCallSpec, Trace, run_call, run_multi_call,
};
use vnet_sim::{LinkConfig, LossModel, QueueLimit, Rate, RateSchedule, SimDuration};

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

/// 30 s, three flows on one 4 Mbit/s bottleneck with 25, 50 and 75 ms access links each way
/// (RFC 8867 §5.5's shape: long round trips make the instants at which a flow's feedback
/// lands meet its own timers): our send side (start-up probes, probes after changes) twice
/// from 0 s and our REMB mode from 5 s, 1 % random loss, 2.5 Mbit/s from 15 s.
fn history_call() -> MultiCallResult {
    let forward = LinkConfig {
        capacity: RateSchedule::steps(
            Rate::from_kbps(4_000),
            [(SimDuration::from_secs(15), Rate::from_kbps(2_500))],
        ),
        queue: QueueLimit::Time(SimDuration::from_millis(300)),
        loss: LossModel::Bernoulli { probability: 0.01 },
        ..LinkConfig::default()
    };
    let flow = |estimator, access_ms| {
        let mut flow = FlowSpec::new(estimator);
        flow.access_delay = SimDuration::from_millis(access_ms);
        flow
    };
    let mut late = flow(Estimator::OursRemb, 75);
    late.start = SimDuration::from_secs(5);
    let flows = vec![
        flow(Estimator::OursSendSide, 25),
        flow(Estimator::OursSendSide, 50),
        late,
    ];
    let mut spec = MultiCallSpec::new(11, forward, flows);
    spec.duration = SimDuration::from_secs(30);
    run_multi_call(&spec).expect("the call runs")
}

/// Something else, first: another seed, another path, another estimator.
fn a_different_call() {
    let forward = CallSpec::bottleneck(
        Rate::from_kbps(800),
        SimDuration::from_millis(10),
        SimDuration::from_millis(100),
    );
    let mut spec = CallSpec::new(99, Estimator::RtcGcc, forward);
    spec.duration = SimDuration::from_secs(3);
    run_call(&spec).expect("the call runs");
}

/// Moves the thread-local generator futures-util 0.3's `select!` draws from when it picks
/// among ready branches (webrtc's peer-connection driver waits in one): the process-global
/// state a call used to depend on.
fn stir_select_generator(times: usize) {
    for _ in 0..times {
        futures::executor::block_on(async {
            let a = futures::future::ready(1);
            let b = futures::future::ready(2);
            futures::pin_mut!(a, b);
            futures::select! { x = a => x, y = b => y }
        });
    }
}

/// The simulator's promise is "same seed, same run" for any caller: a call's packets must not
/// depend on which calls the process made before it, nor on the thread it runs on. Every
/// packet of both bottlenecks (time sent, size, time in the queue) and every flow's trace are
/// compared.
#[test]
fn a_call_does_not_depend_on_what_ran_before_it_in_the_process() {
    a_different_call();
    let first = history_call();
    stir_select_generator(3);
    let second = history_call();
    let third = std::thread::spawn(|| {
        stir_select_generator(1);
        history_call()
    })
    .join()
    .expect("no panic");
    assert!(
        first.forward.packets.len() > 8_000 && first.backward.packets.len() > 1_000,
        "{} forward and {} backward packets",
        first.forward.packets.len(),
        first.backward.packets.len()
    );
    for (name, other) in [("second", &second), ("third, on another thread", &third)] {
        assert_eq!(
            first.forward.packets.len(),
            other.forward.packets.len(),
            "{name} run: forward packet count"
        );
        assert!(
            first.forward == other.forward && first.backward == other.backward,
            "{name} run: the bottlenecks' packet logs differ"
        );
        assert_eq!(first, *other, "{name} run");
    }
}
