//! The probing pacer in real chains: what leaves is marshalled and parsed back, instants are
//! built from one base plus offsets, and feedback (in the closed loop) is real TWCC. The
//! pacer's own rules (window, keep-alive, pushback, stale media, clusters held) are tested
//! sans-I/O in `bwe-core`'s `pacer` module; these are the ones that need RTP.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bwe_core::controller::ControllerConfig;
use bwe_core::send_side::SendSideConfig;
use bwe_core::{Bitrate, TimeDelta};
use bwe_interceptor::{
    BweChainConfig, BweHandle, BweSendSide, DEFAULT_FEEDBACK_INTERVAL, PACER_SLOT, PacerConfig,
    SendSideChain, SendSideView, configure_bwe,
};
use rtc::interceptor::{
    Attribute, AttributedPacket, CongestionControlBuilder, Interceptor, Packet, Registry, Slot,
    TaggedPacket, TwccSenderBuilder,
};
use rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::{
    TransportLayerNack, nack_pairs_from_sequence_numbers,
};
use rtc::rtp;
use rtc::sansio::Protocol;
use rtc::shared::TransportContext;
use rtc::shared::marshal::Unmarshal;

use support::closed_loop::run_observed;
use support::{drain_wire, drive, video_stream};

const SSRC: u32 = 0x5EED;
const PAYLOAD: usize = 1200;

fn media(now: Instant, seq: u16) -> TaggedPacket {
    support::media_packet(now, SSRC, seq, PAYLOAD)
}

/// A controller starting at `start` with `pacer`, its estimator adapter and its pacer adapter.
fn pair(start: Bitrate, pacer: PacerConfig) -> (BweSendSide, bwe_interceptor::ProbingPacer) {
    let handle = BweHandle::new();
    let (estimator, pacer) = BweSendSide::with_pacer(ControllerConfig {
        estimator: SendSideConfig {
            start,
            ..SendSideConfig::default()
        },
        pacer,
    });
    (estimator.with_handle(handle), pacer)
}

/// Send side only: history with our estimator, the probing pacer, the TWCC sender.
fn sender(start: Bitrate) -> (impl Interceptor, SendSideView, BweHandle) {
    let (estimator, pacer) = pair(start, PacerConfig::default());
    let (view, handle) = (pacer.view(), estimator.handle());
    let chain = Registry::new()
        .with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(estimator).build(),
        )
        .with(PACER_SLOT, pacer)
        .with(Slot::TwccSender, TwccSenderBuilder::new().build())
        .build();
    (chain, view, handle)
}

/// The pacer alone at `start` (no feedback ever reaches its controller), probing off unless
/// `config` turns it on.
fn pacer_alone(start: Bitrate, config: PacerConfig) -> (impl Interceptor, BweHandle) {
    let (estimator, pacer) = pair(start, config);
    let handle = estimator.handle();
    let mut chain = Registry::new().with(PACER_SLOT, pacer).build();
    chain.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    (chain, handle)
}

/// [`PacerConfig::default`] without probe clusters.
fn no_probing() -> PacerConfig {
    PacerConfig {
        probing: false,
        ..PacerConfig::default()
    }
}

/// What left, parsed: (instant, header, payload length, wire bytes).
fn parse(wire: &[(Instant, Vec<u8>, bool)]) -> Vec<(Instant, rtp::header::Header, usize, usize)> {
    wire.iter()
        .filter(|(_, _, rtcp)| !rtcp)
        .map(|(at, bytes, _)| {
            let p = rtp::Packet::unmarshal(&mut &bytes[..]).expect("what we send parses");
            (*at, p.header, p.payload.len(), bytes.len())
        })
        .collect()
}

/// Rate of a run of packets the way the probe estimator measures a send rate: bytes without
/// the last over the interval from first to last.
fn send_rate_kbps(packets: &[(Instant, usize)]) -> f64 {
    let (first, last) = (packets[0].0, packets[packets.len() - 1].0);
    let bytes: usize = packets[..packets.len() - 1].iter().map(|p| p.1).sum();
    bytes as f64 * 8.0 / (last - first).as_secs_f64() / 1_000.0
}

/// The start-up the pacer exists for: once media flows, two clusters at 3× and 6× the start
/// rate, each 15 ms of data (≥ 5 packets), padded because the encoder has too little.
#[test]
fn initial_clusters_go_at_three_and_six_times_the_start_rate() {
    let (mut chain, view, handle) = sender(Bitrate::from_kbps(300));
    chain.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    let base = Instant::now();
    let mut wire = Vec::new();
    for ms in 0..300u64 {
        let now = base + Duration::from_millis(ms);
        if ms % 32 == 0 {
            chain
                .handle_write(media(now, (ms / 32) as u16))
                .expect("write");
        }
        drive(&mut chain, now);
        wire.extend(drain_wire(&mut chain));
    }
    let mut clusters: BTreeMap<u32, Vec<(Instant, usize)>> = BTreeMap::new();
    let mut padding = 0;
    let mut last_seq: Option<u16> = None;
    for (at, header, payload, bytes) in parse(&wire) {
        if let Some(prev) = last_seq {
            assert_eq!(header.sequence_number, prev.wrapping_add(1), "gap-free");
        }
        last_seq = Some(header.sequence_number);
        if header.padding && payload == 0 {
            padding += 1;
        }
        if let Some(probe) = view.probe_of(header.ssrc, header.sequence_number, at) {
            clusters
                .entry(probe.cluster_id)
                .or_default()
                .push((at, bytes));
        }
    }
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    let expected = [(900.0, 1_687), (1_800.0, 3_375)];
    for ((id, packets), (kbps, min_bytes)) in clusters.iter().zip(expected) {
        let rate = send_rate_kbps(packets);
        let bytes: usize = packets.iter().map(|p| p.1).sum();
        let span = packets[packets.len() - 1].0 - packets[0].0;
        println!(
            "cluster {id}: {} packets, {bytes} B over {span:?}, {rate:.0} kbit/s",
            packets.len()
        );
        assert!(
            (kbps * 0.9..=kbps * 1.1).contains(&rate),
            "cluster {id}: {rate:.0} kbit/s, wanted {kbps}"
        );
        // Five packets, padding of at least 500 bytes and a queued media packet among them,
        // may take a small cluster past its bytes.
        let most = min_bytes.max(4 * 560 + 1_300) + 300;
        assert!(
            (min_bytes..=most).contains(&bytes),
            "cluster {id}: {bytes} B, wanted {min_bytes}..={most}"
        );
        assert!(
            packets.len() >= 5,
            "cluster {id}: {} packets",
            packets.len()
        );
        // 15 ms of the cluster's rate, or as long as its five packets take at that rate.
        assert!(
            span >= Duration::from_millis(10) && span <= Duration::from_millis(30),
            "cluster {id} lasted {span:?}"
        );
    }
    // Ten packets in all, a media packet or two among them.
    assert!((8..=10).contains(&padding), "{padding} padding packets");
    let stats = handle.snapshot().pacer.expect("pacer publishes");
    assert_eq!(stats.clusters_sent, 2);
    assert_eq!(stats.padding_packets, padding);
}

/// Writes a 50-packet frame at `t0` and returns what leaves over the next 2 s.
fn burst(chain: &mut impl Interceptor, t0: Instant, seq0: u16) -> Vec<(Instant, usize)> {
    for i in 0..50u16 {
        chain.handle_write(media(t0, seq0 + i)).expect("write");
    }
    window_run(chain, t0, 2_000)
}

/// Media leaves at 2.5 × the target: fast enough to drain an encoder burst, slow enough to be
/// paced.
#[test]
fn media_is_paced_at_two_and_a_half_times_the_target() {
    let base = Instant::now();
    for (kbps, lo, hi) in [(300, 735.0, 765.0), (1_000, 2_450.0, 2_550.0)] {
        let (mut chain, _) = pacer_alone(Bitrate::from_kbps(kbps), no_probing());
        let out = burst(&mut chain, base, 0);
        assert_eq!(out.len(), 50);
        // From the fourth packet on: the first ones go at once on the 5 ms burst allowance.
        let rate = send_rate_kbps(&out[3..]);
        println!("paced at {rate:.0} kbit/s with a {kbps} kbit/s target");
        assert!((lo..=hi).contains(&rate), "{rate:.0} kbit/s at {kbps}");
    }
}

/// An encoder burst far beyond the queue must neither grow it nor stall it: arrivals beyond
/// the bound are refused and counted, and (without a queue time limit) what is queued drains
/// within the 2 s queue time.
#[test]
fn queue_bound_holds_under_an_encoder_burst() {
    let (mut chain, handle) = pacer_alone(
        Bitrate::from_kbps(300),
        PacerConfig {
            queue_time_limit: None,
            ..no_probing()
        },
    );
    let base = Instant::now();
    for seq in 0..5_000u16 {
        chain.handle_write(media(base, seq)).expect("write");
    }
    let stats = handle.snapshot().pacer.expect("published on drop");
    assert_eq!(stats.queued_packets, 2_048);
    assert_eq!(stats.dropped_packets, 5_000 - 2_048);
    let mut last = None;
    let mut sent = 0;
    let mut worst = TimeDelta::ZERO;
    for ms in 0..3_000u64 {
        let now = base + Duration::from_millis(ms);
        drive(&mut chain, now);
        let out = drain_wire(&mut chain);
        sent += out.len();
        if let Some((at, _, _)) = out.last() {
            last = Some(*at);
        }
        if let Some(delay) = handle.snapshot().pacer.and_then(|p| p.queue_delay) {
            worst = worst.max(delay);
        }
    }
    assert_eq!(sent, 2_048);
    let drained = last.expect("sent") - base;
    println!("drained in {drained:?}, queue delay peaked at {worst:?}");
    assert!(
        drained >= Duration::from_millis(1_900) && drained <= Duration::from_millis(2_100),
        "drained in {drained:?}"
    );
    assert!(
        worst >= TimeDelta::from_millis(1_800) && worst <= TimeDelta::from_millis(2_100),
        "queue delay peaked at {worst:?}"
    );
}

/// Start-up on a 2.5 Mbit/s path from 300 kbit/s: probe results, attributed through the
/// controller's table, lift the target to the capacity within 2 s without a standing queue.
#[test]
fn probes_bring_the_target_to_capacity_within_two_seconds() {
    let engine = || {
        let mut engine = MediaEngine::default();
        engine.register_default_codecs().expect("codecs");
        engine
    };
    let start = Bitrate::from_kbps(300);
    let mut config = BweChainConfig::send_side(CongestionFeedback::Twcc);
    config.send_side = Some(SendSideChain {
        feedback: CongestionFeedback::Twcc,
        estimator: SendSideConfig {
            start,
            ..SendSideConfig::default()
        },
        pacer: Some(PacerConfig::default()),
        feedback_interval: DEFAULT_FEEDBACK_INTERVAL,
    });
    let (registry, handle) = configure_bwe(Registry::new(), &mut engine(), config).expect("chain");
    let (receiver, _) = configure_bwe(
        Registry::new(),
        &mut engine(),
        BweChainConfig::send_side(CongestionFeedback::Twcc),
    )
    .expect("chain");
    let capacity = Bitrate::from_kbps(2_500);
    let mut reached: Option<u64> = None;
    let mut queue_ms = Vec::new();
    let mut target_at_3s = 0.0;
    run_observed(
        registry.build(),
        receiver.build(),
        start,
        3,
        |_| capacity,
        Duration::from_secs(2),
        |ms, kbps, queue| {
            if reached.is_none() && kbps >= 0.85 * 2_500.0 {
                reached = Some(ms);
            }
            if ms < 2_000 {
                queue_ms.push(queue.as_secs_f64() * 1_000.0);
            }
            target_at_3s = kbps;
        },
    );
    queue_ms.sort_by(f64::total_cmp);
    let p95 = queue_ms[queue_ms.len() * 95 / 100];
    let snapshot = handle.snapshot();
    let probe = snapshot
        .send_side
        .and_then(|s| s.core.probe_result)
        .expect("a probe result was computed");
    println!(
        "85 % of capacity at {reached:?} ms, p95 queue {p95:.1} ms, probe result {probe:?}, target at 3 s {target_at_3s:.0} kbit/s"
    );
    let reached = reached.expect("reached 85 % of capacity");
    assert!(
        (100..=2_000).contains(&reached),
        "85 % of capacity at {reached} ms"
    );
    assert!((0.0..=30.0).contains(&p95), "p95 queue {p95:.1} ms");
    assert!(
        (1_500.0..=2_750.0).contains(&target_at_3s),
        "target at 3 s: {target_at_3s:.0} kbit/s"
    );
    assert!(
        probe >= Bitrate::from_kbps(1_500) && probe <= Bitrate::from_kbps(3_000),
        "{probe:?}"
    );
}

/// Network input and odd calls must never panic the pacer: unknown SSRCs, empty and huge
/// packets, NACKs naming padding or nothing, non-finite target attributes (ignored now),
/// time running backwards, and unbinding mid-cluster (the initial clusters start with the
/// first media).
#[test]
fn odd_inputs_never_panic() {
    let (mut chain, _) = pacer_alone(
        Bitrate::from_kbps(300),
        PacerConfig {
            queue_limit: 0,
            ..PacerConfig::default()
        },
    );
    let base = Instant::now() + Duration::from_secs(10);
    let at = |ms: i64| {
        if ms >= 0 {
            base + Duration::from_millis(ms as u64)
        } else {
            base - Duration::from_millis((-ms) as u64)
        }
    };
    let mut seq = 0u16;
    for (i, ms) in [0i64, 5, -3_000, 7, 7, 1_000, -1, 50]
        .into_iter()
        .enumerate()
    {
        let now = at(ms);
        let mut odd = media(now, seq);
        if let Packet::Rtp(p) = &mut odd.message.packet {
            match i % 4 {
                0 => p.payload = Vec::new().into(),
                1 => p.payload = vec![0; 60_000].into(),
                2 => p.header.ssrc = 1,
                _ => p.header.padding = true,
            }
        }
        chain.handle_write(odd).expect("write");
        chain.handle_write(media(now, seq)).expect("write");
        seq = seq.wrapping_add(40_000);
        for target in [f64::NAN, -1.0, f64::INFINITY, 0.0, 1e300] {
            let mut carrier =
                AttributedPacket::new(Packet::Rtcp(vec![Box::new(TransportLayerNack {
                    sender_ssrc: 1,
                    media_ssrc: if i % 2 == 0 { SSRC } else { 9 },
                    nacks: nack_pairs_from_sequence_numbers(&[0, 1, 2, 65_535, seq]),
                })]));
            carrier.add(Attribute::TargetBitrateChanged {
                bits_per_second: target,
            });
            chain
                .handle_read(TaggedPacket {
                    now,
                    transport: TransportContext::default(),
                    message: carrier,
                })
                .expect("read");
            while chain.poll_read().is_some() {}
        }
        for step in 0..20u64 {
            drive(&mut chain, now + Duration::from_millis(step));
            let _ = drain_wire(&mut chain);
        }
        if i == 5 {
            chain.unbind_local_stream(&video_stream(SSRC, None, Some(5)));
        }
    }
    // Never before the latest instant the chain was given (1 s in), never absurdly late.
    if let Some(deadline) = chain.poll_timeout() {
        assert!(
            deadline >= at(1_000) && deadline <= at(60) + Duration::from_secs(100),
            "{deadline:?}"
        );
    }
}

/// The NACK responder above the pacer, and a stream that negotiated NACK (and RTX if asked).
fn with_responder(rtx: bool) -> impl Interceptor {
    // Fast enough that media never waits, so the clusters are all padding.
    with_responder_at(rtx, Bitrate::from_kbps(2_000))
}

/// [`with_responder`] with the target at `start`.
fn with_responder_at(rtx: bool, start: Bitrate) -> impl Interceptor {
    let (_, pacer) = pair(start, PacerConfig::default());
    let mut chain = Registry::new()
        .with(PACER_SLOT, pacer)
        .with(
            Slot::NackResponder,
            rtc::interceptor::NackResponderBuilder::new().build(),
        )
        .build();
    let mut info = video_stream(SSRC, None, Some(5));
    info.rtcp_feedback.push(rtc::interceptor::RTCPFeedback {
        typ: "nack".to_owned(),
        parameter: String::new(),
    });
    if rtx {
        info.ssrc_rtx = Some(SSRC + 1);
        info.payload_type_rtx = Some(97);
    }
    chain.bind_local_stream(&info);
    chain
}

/// Media seq 0..20, one every 10 ms; the first one starts the initial clusters, which go out
/// as padding after it. Returns the wire number of each application number and the padding
/// wire numbers.
fn media_around_padding(
    chain: &mut impl Interceptor,
    base: Instant,
) -> (BTreeMap<u16, u16>, Vec<u16>) {
    let mut wire = Vec::new();
    for (ms, seq) in (0..20u16).enumerate() {
        let now = base + Duration::from_millis(ms as u64 * 10);
        chain.handle_write(media(now, seq)).expect("write");
        for step in 0..10 {
            drive(chain, now + Duration::from_millis(step));
            wire.extend(drain_wire(chain));
        }
    }
    let mut media_wire = BTreeMap::new();
    let mut padding = Vec::new();
    let mut next_app = 0u16;
    for (_, header, payload, _) in parse(&wire) {
        if header.padding && payload == 0 {
            padding.push(header.sequence_number);
        } else {
            media_wire.insert(next_app, header.sequence_number);
            next_app += 1;
        }
    }
    (media_wire, padding)
}

/// What leaves after a NACK: the responder's retransmission reaches the pacer on the belt
/// (`poll_write`) and leaves on the pacer's next timeout.
fn resend(chain: &mut impl Interceptor, now: Instant) -> Vec<(Instant, Vec<u8>, bool)> {
    let mut out = drain_wire(chain);
    for ms in 0..5 {
        drive(chain, now + Duration::from_millis(ms));
        out.extend(drain_wire(chain));
    }
    out
}

fn nack(now: Instant, wire: &[u16]) -> TaggedPacket {
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtcp(vec![Box::new(TransportLayerNack {
            sender_ssrc: 1,
            media_ssrc: SSRC,
            nacks: nack_pairs_from_sequence_numbers(wire),
        })])),
    }
}

/// After padding shifted the wire numbers, a NACK names the wire number and must get back the
/// packet that left under it (same number, same timestamp), and a NACK for padding nothing.
#[test]
fn nacked_media_is_retransmitted_under_its_wire_number_after_padding() {
    let mut chain = with_responder(false);
    let base = Instant::now();
    let (media_wire, padding) = media_around_padding(&mut chain, base);
    assert!(padding.len() >= 2, "{padding:?}");
    let wire_15 = media_wire[&15];
    assert_eq!(wire_15, 15 + padding.len() as u16, "shifted by the padding");
    let now = base + Duration::from_millis(500);
    chain
        .handle_read(nack(now, &[wire_15, padding[0]]))
        .expect("read");
    while chain.poll_read().is_some() {}
    let resent = parse(&resend(&mut chain, now));
    assert_eq!(resent.len(), 1, "{resent:?}");
    let (_, header, payload, _) = &resent[0];
    assert_eq!(header.sequence_number, wire_15);
    assert_eq!(header.timestamp, 15 * 3_000);
    assert_eq!(*payload, PAYLOAD);
}

/// With RTX the retransmission's original sequence number is the wire number too.
#[test]
fn rtx_retransmission_carries_the_wire_number_after_padding() {
    let mut chain = with_responder(true);
    let base = Instant::now();
    let (media_wire, padding) = media_around_padding(&mut chain, base);
    let wire_12 = media_wire[&12];
    let now = base + Duration::from_millis(500);
    chain.handle_read(nack(now, &[wire_12])).expect("read");
    while chain.poll_read().is_some() {}
    let wire = resend(&mut chain, now);
    let resent: Vec<_> = wire
        .iter()
        .map(|(_, b, _)| rtp::Packet::unmarshal(&mut &b[..]).expect("parses"))
        .collect();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].header.ssrc, SSRC + 1);
    let osn = u16::from_be_bytes([resent[0].payload[0], resent[0].payload[1]]);
    assert_eq!(osn, wire_12);
    assert_eq!(osn, 12 + padding.len() as u16);
}

/// rtc 0.21's NACK generator asks for every missing number every 100 ms until it leaves its
/// 512-packet window, and never learns of an RTX repair. Under sustained loss the responder
/// answers each of those NACKs; the wire must still stay near the target (it once reached
/// many times the target: copies queued, the queue's drain rule sped the pacer up to match),
/// and every lost packet must still be retransmitted.
#[test]
fn repeated_nacks_under_sustained_loss_keep_the_wire_near_the_target() {
    let target = Bitrate::from_kbps(300);
    let mut chain = with_responder_at(true, target);
    let base = Instant::now();
    let end = Duration::from_secs(10);
    // 20 packets/s of ~1.2 kB: about 200 kbit/s of media, a third of the target left.
    let frame = Duration::from_millis(50);
    let mut next_seq = 0u16;
    let mut lost: Vec<u16> = Vec::new();
    // Every loss (wire number) and when it happened: the initial clusters' padding shifts the
    // wire numbers away from the application's.
    let mut ever_lost: Vec<(u16, Duration)> = Vec::new();
    let mut newest_wire = 0u16;
    let mut repaired = std::collections::BTreeSet::new();
    let mut wire_bytes = 0usize;
    let mut rtx_packets = 0usize;
    let mut step = Duration::ZERO;
    while step < end {
        let now = base + step;
        if step.as_millis() % frame.as_millis() == 0 {
            chain.handle_write(media(now, next_seq)).expect("write");
            next_seq = next_seq.wrapping_add(1);
        }
        if step.as_millis() % 100 == 0 && !lost.is_empty() {
            lost.retain(|&s| newest_wire.wrapping_sub(s) < 512);
            chain.handle_read(nack(now, &lost)).expect("read");
            while chain.poll_read().is_some() {}
        }
        drive(&mut chain, now);
        for (_, bytes, rtcp) in drain_wire(&mut chain) {
            if rtcp {
                continue;
            }
            let p = rtp::Packet::unmarshal(&mut &bytes[..]).expect("parses");
            if step >= Duration::from_secs(2) {
                wire_bytes += bytes.len();
            }
            if p.header.ssrc == SSRC {
                newest_wire = p.header.sequence_number;
                if p.header.padding && p.payload.is_empty() {
                    // The initial clusters' padding: never retransmitted, so never counted.
                    continue;
                }
                // One media packet in ten is lost on the way.
                if p.header.sequence_number % 10 == 3 {
                    lost.push(p.header.sequence_number);
                    ever_lost.push((p.header.sequence_number, step));
                }
            } else {
                rtx_packets += 1;
                repaired.insert(u16::from_be_bytes([p.payload[0], p.payload[1]]));
            }
        }
        step += Duration::from_millis(1);
    }
    let wire_kbps = wire_bytes as f64 * 8.0 / (end - Duration::from_secs(2)).as_secs_f64() / 1e3;
    println!("wire {wire_kbps:.0} kbit/s at a {target} target ({rtx_packets} RTX packets)");
    // At least the media itself (20 × 1 212 B/s, 194 kbit/s), at most half as much again as
    // the target.
    let kbps = target.as_kbps_f64();
    assert!(
        (0.6 * kbps..=1.5 * kbps).contains(&wire_kbps),
        "wire {wire_kbps:.0} kbit/s at a {target} target ({rtx_packets} RTX packets)"
    );
    // Losses with a second of NACKs behind them.
    let nacked: Vec<u16> = ever_lost
        .iter()
        .filter(|(_, at)| *at + Duration::from_secs(1) < end)
        .map(|(s, _)| *s)
        .collect();
    assert!((15..=20).contains(&nacked.len()), "{} losses", nacked.len());
    let missed: Vec<_> = nacked.iter().filter(|s| !repaired.contains(s)).collect();
    assert!(missed.is_empty(), "never retransmitted: {missed:?}");
}

/// Drives the chain every millisecond for `ms` from `from` and returns what leaves: when, and
/// how many bytes.
fn window_run(chain: &mut impl Interceptor, from: Instant, ms: u64) -> Vec<(Instant, usize)> {
    let mut out = Vec::new();
    for i in 0..ms {
        let now = from + Duration::from_millis(i);
        drive(chain, now);
        out.extend(
            parse(&drain_wire(chain))
                .into_iter()
                .map(|(at, _, _, bytes)| (at, bytes)),
        );
    }
    out
}
