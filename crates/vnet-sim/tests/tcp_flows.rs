//! TCP-model flows as tasks of a running simulation, sharing its links with anything else on
//! them (`SimRuntime::spawn_tcp_flow`).
#![cfg(feature = "webrtc")]

use vnet_sim::{
    HostId, LinkConfig, MessagePlan, QueueLimit, Rate, Sim, SimDuration, SimTime, TcpAlgorithm,
    TcpConfig, TcpFlowSnapshot, TcpFlowSpec, TcpTraffic,
};

/// A dumbbell `a → r → b` with a 2 Mbit/s, 50 ms, 300 ms-queue bottleneck `r → b` and 50 ms back.
fn dumbbell(seed: u64) -> (Sim, HostId, HostId) {
    let mut builder = Sim::builder().seed(seed);
    let (a, r, b) = (builder.host("a"), builder.host("r"), builder.host("b"));
    builder.path(a, r, LinkConfig::default());
    builder.link(
        r,
        b,
        LinkConfig {
            capacity: Rate::from_mbps(2).into(),
            queue: QueueLimit::Time(SimDuration::from_millis(300)),
            delay: SimDuration::from_millis(50),
            record_log: true,
            ..LinkConfig::default()
        },
    );
    builder.link(
        b,
        r,
        LinkConfig {
            delay: SimDuration::from_millis(50),
            ..LinkConfig::default()
        },
    );
    builder.route(a, b, r).route(b, a, r);
    (builder.build().expect("valid topology"), a, b)
}

fn bulk(id: u32, algorithm: TcpAlgorithm, start_s: u64) -> TcpFlowSpec {
    TcpFlowSpec {
        id,
        config: TcpConfig {
            algorithm,
            ..TcpConfig::default()
        },
        start: SimTime::from_secs(start_s),
        stop: None,
        traffic: TcpTraffic::Bulk,
    }
}

/// Runs the flows for `secs` and returns their snapshots at 20 s (or the end) and at the end.
fn run(
    seed: u64,
    specs: &[TcpFlowSpec],
    secs: u64,
) -> (Vec<TcpFlowSnapshot>, Vec<TcpFlowSnapshot>) {
    let (sim, a, b) = dumbbell(seed);
    let flows: Vec<_> = specs
        .iter()
        .map(|s| sim.spawn_tcp_flow(a, b, *s).expect("flow starts"))
        .collect();
    let mid = SimTime::from_secs(20.min(secs));
    let (at_mid, at_end) = sim
        .run(async {
            sim.sleep_until(mid).await;
            let at_mid: Vec<_> = flows.iter().map(|f| f.snapshot()).collect();
            sim.sleep_until(SimTime::from_secs(secs)).await;
            (
                at_mid,
                flows.iter().map(|f| f.snapshot()).collect::<Vec<_>>(),
            )
        })
        .expect("the run completes");
    (at_mid, at_end)
}

/// Goodput in bits per second between two snapshots `secs` apart.
fn goodput(before: &TcpFlowSnapshot, after: &TcpFlowSnapshot, secs: f64) -> f64 {
    (after.receiver.bytes_delivered - before.receiver.bytes_delivered) as f64 * 8.0 / secs
}

/// A bulk flow over the runtime's links fills the bottleneck like the sans-I/O model does:
/// the padding makes the link charge 1500 bytes per full segment.
#[test]
fn a_bulk_flow_on_the_runtime_fills_the_bottleneck() {
    let (mid, end) = run(1, &[bulk(1, TcpAlgorithm::NewReno, 0)], 60);
    let fraction = goodput(&mid[0], &end[0], 40.0) / 2e6;
    // Payload is 1448 of every 1500 bytes: a full link reads 0.965.
    assert!(
        (0.88..=0.966).contains(&fraction),
        "goodput {fraction:.3} of capacity"
    );
    assert!(end[0].sender.fast_retransmits >= 2, "{:?}", end[0].sender);
    assert_eq!(end[0].malformed, 0);
}

/// Two flows, one of each algorithm, both get a real share: neither starves.
#[test]
fn newreno_and_cubic_share_the_bottleneck() {
    let specs = [
        bulk(1, TcpAlgorithm::NewReno, 0),
        bulk(2, TcpAlgorithm::Cubic(Default::default()), 2),
    ];
    let (mid, end) = run(3, &specs, 80);
    let reno = goodput(&mid[0], &end[0], 60.0);
    let cubic = goodput(&mid[1], &end[1], 60.0);
    let total = (reno + cubic) / 2e6;
    assert!(
        (0.88..=0.966).contains(&total),
        "together {total:.3} of capacity"
    );
    let ratio = reno.min(cubic) / reno.max(cubic);
    assert!(
        (0.2..=1.0).contains(&ratio),
        "reno {reno:.0} bit/s, cubic {cubic:.0} bit/s"
    );
}

/// Short transfers follow their plan: sizes within bounds, every one completes, each within
/// a few round trips of its start on an otherwise idle link.
#[test]
fn message_flows_complete_every_transfer_in_a_few_round_trips() {
    let spec = TcpFlowSpec {
        id: 7,
        config: TcpConfig::default(),
        start: SimTime::from_secs(1),
        stop: Some(SimTime::from_secs(55)),
        traffic: TcpTraffic::Messages(MessagePlan {
            min_bytes: 30 * 1024,
            max_bytes: 50 * 1024,
            mean_gap: SimDuration::from_secs(5),
            first_at_start: true,
        }),
    };
    let (_, end) = run(5, &[spec], 60);
    let s = &end[0];
    assert!(
        (5..=20).contains(&s.messages_started),
        "{} transfers",
        s.messages_started
    );
    assert_eq!(s.messages_done.len() as u64, s.messages_started);
    for m in &s.messages_done {
        assert!((30 * 1024..=50 * 1024).contains(&m.bytes), "{m:?}");
        let ms = m.duration().as_secs_f64() * 1e3;
        // 2 round trips (100 ms each) plus serialisation of ≤ 50 KiB at 2 Mbit/s, at least 1 RTT.
        assert!(
            (100.0..=450.0).contains(&ms),
            "transfer took {ms:.1} ms: {m:?}"
        );
    }
}

/// The same seed gives the same flows, segment for segment.
#[test]
fn tcp_flows_on_the_runtime_are_deterministic() {
    let specs = [
        bulk(1, TcpAlgorithm::NewReno, 0),
        bulk(2, TcpAlgorithm::Cubic(Default::default()), 1),
    ];
    let (_, a) = run(9, &specs, 25);
    let (_, b) = run(9, &specs, 25);
    assert_eq!(a, b);
}

/// A second flow with the id of a running one is refused with the port it could not bind.
#[test]
fn a_duplicate_flow_id_is_refused() {
    let (sim, a, b) = dumbbell(1);
    sim.spawn_tcp_flow(a, b, bulk(3, TcpAlgorithm::NewReno, 0))
        .expect("first flow");
    let err = sim
        .spawn_tcp_flow(a, b, bulk(3, TcpAlgorithm::NewReno, 0))
        .expect_err("same id, same ports");
    assert!(err.to_string().contains("TCP flow 3"), "{err}");
}
