//! The TCP model against the textbook: one flow fills a drop-tail bottleneck with NewReno's
//! halving sawtooth or CUBIC's 0.7 one, two flows share it fairly, a single loss is repaired
//! without a timeout, a blackout backs the timer off, a message completes in the time slow start
//! allows, and the same seed repeats a run exactly. Every check is two-sided.
//!
//! Flows run the default configuration (HyStart++ in the first slow start, the Slow-but-Steady
//! recovery timer; see `vnet_sim::tcp`), and one test shows what RFC 6582's Impatient timer does
//! instead.
//!
//! The bottleneck is the textbook one: 2 Mbit/s, 50 ms one way (100 ms RTT, a BDP of 25 kB,
//! about 17 full segments), a 300 ms drop-tail queue (75 kB, 50 segments), the same in both
//! directions. Goodput counts payload delivered in order, so a full link reads 1448/1500 =
//! 0.965 of capacity at most.

use proptest::prelude::*;
use vnet_sim::tcp::{
    CubicConfig, MessageDone, RecoveryTimer, Segment, TcpAlgorithm, TcpConfig, TcpEvent, TcpPath,
    TcpReceiver, TcpSender,
};
use vnet_sim::{
    JitterConfig, JitterDistribution, LinkConfig, LossModel, QueueLimit, Rate, SimDuration,
    SimTime, Window,
};

const CAPACITY_BPS: f64 = 2e6;

fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

fn textbook_link() -> LinkConfig {
    LinkConfig {
        capacity: Rate::from_mbps(2).into(),
        queue: QueueLimit::Time(SimDuration::from_millis(300)),
        delay: SimDuration::from_millis(50),
        ..LinkConfig::default()
    }
}

fn newreno() -> TcpConfig {
    TcpConfig::default()
}

fn cubic() -> TcpConfig {
    TcpConfig {
        algorithm: TcpAlgorithm::Cubic(CubicConfig::default()),
        ..TcpConfig::default()
    }
}

/// Fails with the name, the value and the bounds unless `lo <= value <= hi`.
#[track_caller]
fn assert_within(what: &str, value: f64, lo: f64, hi: f64) {
    assert!(
        (lo..=hi).contains(&value),
        "{what} = {value:.4}, expected within [{lo}, {hi}]"
    );
}

/// A path with bulk flows, run in steps, keeping every sender event.
struct Run {
    path: TcpPath,
    /// Per flow, every event so far.
    events: Vec<Vec<TcpEvent>>,
}

impl Run {
    /// Bulk flows `(config, start)` over `forward`, with the textbook link carrying the ACKs.
    fn bulk(flows: &[(TcpConfig, SimTime)], forward: &LinkConfig, seed: u64) -> Self {
        let mut path = TcpPath::new(forward, &textbook_link(), seed).expect("valid links");
        for (config, start) in flows {
            let id = path.add_flow(config).expect("valid config");
            path.sender_mut(id)
                .expect("just added")
                .start_bulk(*start)
                .expect("not stopped");
        }
        let events = vec![Vec::new(); flows.len()];
        Self { path, events }
    }

    fn until(&mut self, t: SimTime) -> &mut Self {
        self.path.run_until(t).expect("no livelock");
        for (id, events) in self.events.iter_mut().enumerate() {
            let sender = self.path.sender_mut(id as u32).expect("a flow");
            events.extend(std::iter::from_fn(|| sender.poll_event()));
        }
        self
    }

    fn delivered(&self, flow: u32) -> u64 {
        self.path.receiver(flow).expect("a flow").bytes_delivered()
    }

    fn sender(&self, flow: u32) -> &TcpSender {
        self.path.sender(flow).expect("a flow")
    }

    /// Goodput of each flow over `[from, to)` as a fraction of capacity.
    fn goodput(&mut self, from: SimTime, to: SimTime) -> Vec<f64> {
        self.until(from);
        let before: Vec<u64> = (0..self.path.flow_count())
            .map(|f| self.delivered(f))
            .collect();
        self.until(to);
        let span = (to - from).as_secs_f64();
        before
            .iter()
            .enumerate()
            .map(|(f, b)| (self.delivered(f as u32) - b) as f64 * 8.0 / (CAPACITY_BPS * span))
            .collect()
    }

    /// For each fast recovery of `flow` that began after `from`: (the window before it, the
    /// threshold it set, the window when it ended).
    fn decreases(&self, flow: usize, from: SimTime) -> Vec<(u64, u64, u64)> {
        let mut out = Vec::new();
        let mut open = None;
        for e in &self.events[flow] {
            match *e {
                TcpEvent::FastRetransmit {
                    at,
                    cwnd_before,
                    ssthresh,
                    ..
                } if at >= from => open = Some((cwnd_before, ssthresh)),
                TcpEvent::RecoveryDone { cwnd, .. } => {
                    if let Some((before, ssthresh)) = open.take() {
                        out.push((before, ssthresh, cwnd));
                    }
                }
                TcpEvent::Timeout { .. } => open = None,
                _ => {}
            }
        }
        out
    }

    fn timeouts_after(&self, flow: usize, from: SimTime) -> usize {
        self.events[flow]
            .iter()
            .filter(|e| matches!(e, TcpEvent::Timeout { at, .. } if *at >= from))
            .count()
    }
}

/// Checks a single bulk flow's utilisation over 20–60 s and the ratio of every window
/// reduction in the first minute; returns (goodput, ratios) for the report.
fn sawtooth(config: TcpConfig, ratio: (f64, f64)) -> (f64, Vec<f64>) {
    let mut run = Run::bulk(&[(config, SimTime::ZERO)], &textbook_link(), 1);
    let goodput = run.goodput(secs(20), secs(60))[0];
    assert_within("goodput over 20–60 s", goodput, 0.90, 1.0);
    let decreases = run.decreases(0, SimTime::ZERO);
    let ratios: Vec<f64> = decreases
        .iter()
        .map(|&(before, _, after)| after as f64 / before as f64)
        .collect();
    println!("goodput {goodput:.4}; (cwnd before, ssthresh, cwnd after): {decreases:?}");
    println!("ratios {ratios:.3?}");
    assert!(
        (3..=30).contains(&ratios.len()),
        "{} reductions in 60 s",
        ratios.len()
    );
    for r in &ratios {
        assert_within("window after / before a reduction", *r, ratio.0, ratio.1);
    }
    assert_eq!(
        run.timeouts_after(0, secs(20)),
        0,
        "steady state has no timeouts"
    );
    (goodput, ratios)
}

/// The textbook picture of Reno: a sawtooth between the buffer-full window and half of it,
/// which with a queue of twice the BDP never drains the link.
#[test]
fn a_newreno_flow_fills_the_link_and_halves_its_window_on_each_loss() {
    sawtooth(newreno(), (0.4, 0.6));
}

/// CUBIC keeps 70 % of its window on a loss (RFC 9438 §4.6), and fills the link too.
#[test]
fn a_cubic_flow_fills_the_link_and_keeps_seven_tenths_of_its_window_on_each_loss() {
    sawtooth(cubic(), (0.6, 0.8));
}

/// Why the default recovery timer is Slow-but-Steady: with RFC 6582's Impatient timer the
/// same CUBIC flow times out whenever a loss event costs more holes than fit in one RTO at a
/// 400 ms RTT (every other event here), though it still fills the link most of the time.
#[test]
fn with_the_impatient_timer_cubics_multi_loss_events_become_timeouts() {
    let impatient = TcpConfig {
        recovery_timer: RecoveryTimer::Impatient,
        ..cubic()
    };
    let mut run = Run::bulk(&[(impatient, SimTime::ZERO)], &textbook_link(), 1);
    let goodput = run.goodput(secs(20), secs(60))[0];
    let timeouts = run.timeouts_after(0, secs(20));
    println!("goodput {goodput:.4}, timeouts over 20–60 s: {timeouts}");
    assert_within("timeouts over 20–60 s", timeouts as f64, 2.0, 6.0);
    assert_within("goodput over 20–60 s", goodput, 0.85, 0.96);
}

/// AIMD's classic result (Chiu and Jain): flows with the same RTT converge to equal shares.
#[test]
fn two_newreno_flows_with_the_same_rtt_share_the_link_fairly() {
    let mut run = Run::bulk(
        &[(newreno(), SimTime::ZERO), (newreno(), secs(5))],
        &textbook_link(),
        1,
    );
    for from in [30, 50, 70] {
        let g = run.goodput(secs(from), secs(from + 20));
        let fairness = g[0].min(g[1]) / g[0].max(g[1]);
        let sum = g[0] + g[1];
        println!(
            "{from}–{} s: goodput {g:.3?}, min/max {fairness:.3}",
            from + 20
        );
        assert_within("min/max goodput", fairness, 0.8, 1.0);
        assert_within("total goodput", sum, 0.9, 1.0);
    }
}

/// Fast retransmit's point: one lost segment costs one retransmission and a halving, not a
/// timeout and a restart from one segment.
#[test]
fn a_single_loss_is_repaired_by_fast_retransmit_without_a_timeout() {
    // One data segment leaves the queue every 6 ms once the link is busy (from the first ACKs
    // at about 106 ms); a 2 ms cut at 400 ms drops exactly one.
    let link = LinkConfig {
        queue: QueueLimit::Unlimited,
        blackouts: vec![Window::new(
            SimTime::from_millis(400),
            SimTime::from_millis(402),
        )],
        ..textbook_link()
    };
    let mut path = TcpPath::new(&link, &textbook_link(), 1).expect("valid links");
    let id = path.add_flow(&newreno()).expect("valid config");
    let sender = path.sender_mut(id).expect("a flow");
    sender.write(SimTime::ZERO, 200 * 1448).expect("a message");
    path.run_until(secs(10)).expect("no livelock");
    assert_eq!(path.forward().stats().dropped_blackout.packets, 1);
    let sender = path.sender_mut(id).expect("a flow");
    let stats = sender.stats();
    println!("{stats:?}");
    assert_eq!(
        (
            stats.fast_retransmits,
            stats.retransmissions,
            stats.timeouts
        ),
        (1, 1, 0)
    );
    let events: Vec<TcpEvent> = std::iter::from_fn(|| sender.poll_event()).collect();
    match events.as_slice() {
        [
            TcpEvent::FastRetransmit {
                cwnd_before,
                ssthresh,
                ..
            },
            TcpEvent::RecoveryDone { .. },
            TcpEvent::MessageDone(done),
        ] => {
            let ratio = *ssthresh as f64 / *cwnd_before as f64;
            println!(
                "ssthresh / cwnd {ratio:.3}; message done in {}",
                done.duration()
            );
            assert_within("ssthresh / cwnd before", ratio, 0.4, 0.6);
        }
        other => panic!("one fast recovery, then the message completes: {other:?}"),
    }
    assert_eq!(
        path.receiver(id).expect("a flow").bytes_delivered(),
        200 * 1448
    );
}

/// RFC 6298 §5.5: a dead path is probed at 1, 2, 4 … s intervals, not flooded, and the flow
/// comes back at full rate once the path does.
#[test]
fn a_three_second_blackout_backs_the_timer_off_and_the_flow_recovers() {
    let link = LinkConfig {
        blackouts: vec![Window::new(secs(10), secs(13))],
        ..textbook_link()
    };
    let mut run = Run::bulk(&[(newreno(), SimTime::ZERO)], &link, 1);
    run.until(secs(10));
    let timeouts_before = run.sender(0).stats().timeouts;
    let during = run.goodput(SimTime::from_millis(10_500), secs(13))[0];
    let after = run.goodput(secs(20), secs(40))[0];
    let timeouts: Vec<(SimTime, SimDuration, SimDuration)> = run.events[0]
        .iter()
        .filter_map(|e| match *e {
            TcpEvent::Timeout {
                at, rto, next_rto, ..
            } if at >= secs(10) => Some((at, rto, next_rto)),
            _ => None,
        })
        .collect();
    println!("timeouts before 10 s: {timeouts_before}; in the blackout: {timeouts:?}");
    println!("goodput during {during:.3}, over 20–40 s {after:.3}");
    assert!(
        (2..=3).contains(&timeouts.len()),
        "{} timeouts",
        timeouts.len()
    );
    for pair in timeouts.windows(2) {
        let ((t1, rto1, next1), (t2, rto2, _)) = (pair[0], pair[1]);
        assert_eq!(next1, rto1.saturating_mul(2), "backoff doubles");
        assert_eq!(rto2, next1);
        assert_eq!(
            t2 - t1,
            next1,
            "the next expiry is one backed-off RTO later"
        );
    }
    assert_within("first RTO", timeouts[0].1.as_secs_f64(), 1.0, 1.5);
    assert_within("goodput during the blackout", during, 0.0, 0.0);
    assert_within("goodput over 20–40 s", after, 0.90, 1.0);
}

/// Slow start from IW10 sets how long a short transfer takes: 40 kB is 28 segments, sent in
/// two rounds (10, then 18 of the 20 the first round's ACKs allow).
#[test]
fn a_40_kb_message_completes_in_two_round_trips_plus_its_serialisation() {
    let mut path = TcpPath::new(&textbook_link(), &textbook_link(), 1).expect("valid links");
    let id = path.add_flow(&newreno()).expect("valid config");
    let start = SimTime::from_millis(100);
    path.run_until(start).expect("no livelock");
    let sender = path.sender_mut(id).expect("a flow");
    sender.write(start, 40_000).expect("a message");
    path.run_until(secs(5)).expect("no livelock");
    let sender = path.sender_mut(id).expect("a flow");
    let done: Vec<MessageDone> = std::iter::from_fn(|| sender.poll_event())
        .filter_map(|e| match e {
            TcpEvent::MessageDone(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 1);
    let took = done[0].duration().as_secs_f64();
    // Serialising 28 segments (27 full, one of 904 + 52 bytes) at 2 Mbit/s takes 165.8 ms.
    let serialisation = (27.0 * 1500.0 + 956.0) * 8.0 / CAPACITY_BPS;
    let rtt = 0.1;
    println!("40 kB message: {:.1} ms", took * 1e3);
    // At least one RTT plus the serialisation (a link never idle); at most two RTTs plus it
    // (the link idle for a whole RTT after the first flight). The model: the link idles
    // between the end of the first flight (60 ms) and the first ACK (106 ms): 312 ms.
    assert_within(
        "completion time, s",
        took,
        rtt + serialisation,
        2.0 * rtt + serialisation,
    );
    assert_eq!(sender.stats().retransmissions, 0);
}

/// Same seed, same run, on an impaired path; another seed changes it.
#[test]
fn the_same_seed_gives_identical_stats_and_events() {
    let lossy = LinkConfig {
        loss: LossModel::Bernoulli { probability: 0.01 },
        jitter: JitterConfig {
            distribution: JitterDistribution::Uniform {
                max: SimDuration::from_millis(5),
            },
            reorder: false,
        },
        ..textbook_link()
    };
    let run = |seed| {
        let mut run = Run::bulk(
            &[(newreno(), SimTime::ZERO), (cubic(), secs(2))],
            &lossy,
            seed,
        );
        run.until(secs(30));
        let stats: Vec<_> = (0..2).map(|f| run.sender(f).stats()).collect();
        let received: Vec<_> = (0..2)
            .map(|f| run.path.receiver(f).expect("a flow").stats())
            .collect();
        (stats, received, run.events, *run.path.forward().stats())
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert_eq!(a, b);
    assert_ne!(a.2, c.2);
    assert!(a.0[0].fast_retransmits > 0 && a.3.dropped_loss.packets > 0);
}

/// Everything a sender or receiver may be handed from a network, decoded or not.
fn any_segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        (
            any::<bool>(),
            0u32..3,
            any::<u64>(),
            any::<u32>(),
            any::<u64>()
        )
            .prop_map(|(data, flow, n, len, ts)| {
                let mut bytes = vec![0xC7, if data { 1 } else { 2 }];
                bytes.extend_from_slice(&flow.to_be_bytes());
                bytes.extend_from_slice(&(n % 100_000).to_be_bytes());
                if data {
                    bytes.extend_from_slice(&(len % 5_000).to_be_bytes());
                }
                bytes.extend_from_slice(&ts.to_be_bytes());
                bytes
            }),
    ]
}

proptest! {
    /// Segments come off the network: any bytes decode to a value or an error, and any decoded
    /// segment leaves a sender and a receiver working, never panicking.
    #[test]
    fn random_bytes_never_panic_the_decoder_or_the_endpoints(
        datagrams in prop::collection::vec(any_segment(), 0..50),
    ) {
        let mut sender = TcpSender::new(1, &TcpConfig::default()).expect("valid config");
        sender.start_bulk(SimTime::ZERO).expect("not stopped");
        let mut receiver = TcpReceiver::new(1);
        for (i, bytes) in datagrams.iter().enumerate() {
            let now = SimTime::from_millis(i as u64);
            while sender.poll_transmit(now).is_some() {}
            if let Ok(segment) = Segment::decode(bytes) {
                let _ = sender.handle_ack(now, &segment);
                let _ = receiver.handle_data(now, &segment);
            }
            sender.handle_timeout(now);
            while receiver.poll_transmit().is_some() {}
        }
        let stats = sender.stats();
        prop_assert!(stats.cwnd >= 1448);
        prop_assert!(stats.bytes_acked <= stats.bytes_sent);
    }
}
