//! The probing pacer in real chains: what leaves is marshalled and parsed back, instants are
//! built from one base plus offsets, and feedback (in the closed loop) is real TWCC.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bwe_core::probe::ProbeCluster;
use bwe_core::send_side::SendSideConfig;
use bwe_core::{Bitrate, DataSize, TimeDelta, Timestamp};
use bwe_interceptor::{
    BweChainConfig, BweHandle, BweSendSide, DEFAULT_FEEDBACK_INTERVAL, PACER_SLOT, PacerConfig,
    ProbeMailbox, ProbingPacer, SendSideChain, configure_bwe,
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
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtp(rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: 96,
                sequence_number: seq,
                timestamp: u32::from(seq) * 3_000,
                ssrc: SSRC,
                ..Default::default()
            },
            payload: vec![0x5A; PAYLOAD].into(),
        })),
    }
}

/// Send side only: history with our estimator, the probing pacer, the TWCC sender.
fn sender(start: Bitrate) -> (impl Interceptor, ProbeMailbox, BweHandle) {
    let mailbox = ProbeMailbox::new();
    let handle = BweHandle::new();
    let estimator = BweSendSide::new(SendSideConfig {
        start,
        ..SendSideConfig::default()
    })
    .with_probe_mailbox(mailbox.clone());
    let pacer = ProbingPacer::new(
        PacerConfig {
            start,
            ..PacerConfig::default()
        },
        mailbox.clone(),
    )
    .with_handle(handle.clone());
    let chain = Registry::new()
        .with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(estimator).build(),
        )
        .with(PACER_SLOT, pacer)
        .with(Slot::TwccSender, TwccSenderBuilder::new().build())
        .build();
    (chain, mailbox, handle)
}

/// The pacer alone, with a mailbox nobody posts to unless the test does.
fn pacer_alone(config: PacerConfig) -> (impl Interceptor, ProbeMailbox, BweHandle) {
    let mailbox = ProbeMailbox::new();
    let handle = BweHandle::new();
    let pacer = ProbingPacer::new(config, mailbox.clone()).with_handle(handle.clone());
    let mut chain = Registry::new().with(PACER_SLOT, pacer).build();
    chain.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    (chain, mailbox, handle)
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
    let (mut chain, mailbox, handle) = sender(Bitrate::from_kbps(300));
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
        if let Some(probe) = mailbox.probe_of(header.ssrc, header.sequence_number, at) {
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
/// paced; and it follows a new target announced on the read leg.
#[test]
fn media_is_paced_at_two_and_a_half_times_the_target() {
    let (mut chain, _, _) = pacer_alone(PacerConfig {
        start: Bitrate::from_kbps(300),
        ..PacerConfig::default()
    });
    let base = Instant::now();
    let slow = burst(&mut chain, base, 0);
    assert_eq!(slow.len(), 50);
    // From the fourth packet on: the first ones go at once on the 5 ms burst allowance.
    let rate = send_rate_kbps(&slow[3..]);
    println!("paced at {rate:.0} kbit/s with a 300 kbit/s target");
    assert!((735.0..=765.0).contains(&rate), "{rate:.0} kbit/s at 300");

    let mut carrier = AttributedPacket::new(Packet::Rtcp(vec![]));
    carrier.add(Attribute::TargetBitrateChanged {
        bits_per_second: 1_000_000.0,
    });
    chain
        .handle_read(TaggedPacket {
            now: base + Duration::from_millis(2_500),
            transport: TransportContext::default(),
            message: carrier,
        })
        .expect("read");
    while chain.poll_read().is_some() {}
    let fast = burst(&mut chain, base + Duration::from_millis(3_000), 50);
    let rate = send_rate_kbps(&fast[3..]);
    println!("paced at {rate:.0} kbit/s with a 1 000 kbit/s target");
    assert!(
        (2_450.0..=2_550.0).contains(&rate),
        "{rate:.0} kbit/s at 1000"
    );
}

/// An encoder burst far beyond the queue must neither grow it nor stall it: arrivals beyond
/// the bound are refused and counted, and what is queued drains within the 2 s queue time.
#[test]
fn queue_bound_holds_under_an_encoder_burst() {
    let (mut chain, _, handle) = pacer_alone(PacerConfig::default());
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
/// mailbox, lift the target to the capacity within 2 s without a standing queue.
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
/// packets, NACKs naming padding or nothing, non-finite targets, time running backwards, odd
/// clusters and unbinding mid-cluster.
#[test]
fn odd_inputs_never_panic() {
    let (mut chain, mailbox, _) = pacer_alone(PacerConfig {
        queue_limit: 0,
        ..PacerConfig::default()
    });
    let base = Instant::now() + Duration::from_secs(10);
    let at = |ms: i64| {
        if ms >= 0 {
            base + Duration::from_millis(ms as u64)
        } else {
            base - Duration::from_millis((-ms) as u64)
        }
    };
    let cluster = |id: u32, kbps: u64, bytes: u64, probes: u32| ProbeCluster {
        id,
        target: Bitrate::from_kbps(kbps),
        min_probes: probes,
        min_bytes: DataSize::from_bytes(bytes),
        duration: TimeDelta::from_millis(15),
        created_at: Timestamp::ZERO,
    };
    let mut clusters = vec![
        cluster(1, 0, 0, 0),
        cluster(2, 1, 100_000, 1_000),
        cluster(3, 100_000_000, 10, 1),
    ]
    .into_iter();
    mailbox.post_clusters(|| clusters.next());
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
    if let Some(deadline) = chain.poll_timeout() {
        assert!(
            deadline <= at(60) + Duration::from_secs(100),
            "{deadline:?}"
        );
    }
}

/// The NACK responder above the pacer, and a stream that negotiated NACK (and RTX if asked).
fn with_responder(rtx: bool) -> (impl Interceptor, ProbeMailbox) {
    // Fast enough that media never waits, so the cluster is all padding.
    with_responder_at(rtx, Bitrate::from_kbps(2_000))
}

/// [`with_responder`] with the pacer's target at `start`.
fn with_responder_at(rtx: bool, start: Bitrate) -> (impl Interceptor, ProbeMailbox) {
    let mailbox = ProbeMailbox::new();
    let config = PacerConfig {
        start,
        ..PacerConfig::default()
    };
    let pacer = ProbingPacer::new(config, mailbox.clone());
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
    (chain, mailbox)
}

/// Media seq 0..10, a padded cluster, media 10..20; returns the wire number of each
/// application number and the set of padding wire numbers.
fn media_around_padding(
    chain: &mut impl Interceptor,
    mailbox: &ProbeMailbox,
    base: Instant,
) -> (BTreeMap<u16, u16>, Vec<u16>) {
    let mut wire = Vec::new();
    for (ms, seq) in (0..20u16).enumerate() {
        let now = base + Duration::from_millis(ms as u64 * 10);
        if seq == 10 {
            let mut one = Some(ProbeCluster {
                id: 1,
                target: Bitrate::from_kbps(900),
                min_probes: 5,
                min_bytes: DataSize::from_bytes(1_000),
                duration: TimeDelta::from_millis(15),
                created_at: Timestamp::ZERO,
            });
            mailbox.post_clusters(|| one.take());
            for step in 0..10 {
                drive(chain, now + Duration::from_millis(step));
                wire.extend(drain_wire(chain));
            }
        }
        chain.handle_write(media(now, seq)).expect("write");
        drive(chain, now);
        wire.extend(drain_wire(chain));
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
    let (mut chain, mailbox) = with_responder(false);
    let base = Instant::now();
    let (media_wire, padding) = media_around_padding(&mut chain, &mailbox, base);
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
    let (mut chain, mailbox) = with_responder(true);
    let base = Instant::now();
    let (media_wire, padding) = media_around_padding(&mut chain, &mailbox, base);
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
    let (mut chain, _mailbox) = with_responder_at(true, target);
    let base = Instant::now();
    let end = Duration::from_secs(10);
    // 20 packets/s of ~1.2 kB: about 200 kbit/s of media, a third of the target left.
    let frame = Duration::from_millis(50);
    let mut next_seq = 0u16;
    let mut lost: Vec<u16> = Vec::new();
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
            let newest = next_seq.wrapping_sub(1);
            lost.retain(|&s| newest.wrapping_sub(s) < 512);
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
                // One media packet in ten is lost on the way.
                if p.header.sequence_number % 10 == 3 {
                    lost.push(p.header.sequence_number);
                }
            } else {
                rtx_packets += 1;
                repaired.insert(u16::from_be_bytes([p.payload[0], p.payload[1]]));
            }
        }
        step += Duration::from_millis(1);
    }
    let wire_kbps = wire_bytes as f64 * 8.0 / (end - Duration::from_secs(2)).as_secs_f64() / 1e3;
    assert!(
        wire_kbps <= 1.5 * target.as_kbps_f64(),
        "wire {wire_kbps:.0} kbit/s at a {target} target ({rtx_packets} RTX packets)"
    );
    let nacked: Vec<u16> = (0..next_seq)
        .filter(|s| s % 10 == 3 && next_seq - s > 20)
        .collect();
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

/// The congestion window, (RTT + 350 ms) × target: media stops once that much is in flight,
/// and feedback resolving what left lets it resume.
#[test]
fn congestion_window_holds_media_until_feedback_resolves_it() {
    let (mut chain, mailbox, handle) = pacer_alone(PacerConfig::default());
    let base = Instant::now();
    // What the estimator leaves after its first feedback: nothing resolved yet, a 100 ms RTT.
    mailbox.feedback(None, Some(Duration::from_millis(100)));
    for seq in 0..100u16 {
        chain.handle_write(media(base, seq)).expect("write");
    }
    let first = window_run(&mut chain, base, 1_000);
    let stats = handle.snapshot().pacer.expect("published");
    let window = stats.congestion_window.expect("an RTT sizes the window");
    // 0.45 s × 300 kbit/s.
    assert_eq!(window, DataSize::from_bytes(16_875));
    let sent: usize = first.iter().map(|p| p.1).sum();
    println!(
        "{} packets ({sent} bytes) against a {} byte window; full {} times for {:?}",
        first.len(),
        window.bytes(),
        stats.congestion_window_full_count,
        stats.congestion_window_full_time
    );
    // Up to the window and one packet over it, plus the keep-alives of the held second.
    let keepalives = stats.keepalive_packets as usize;
    assert!((1..=2).contains(&keepalives), "{keepalives} keep-alives");
    let windowed = sent - keepalives * first[0].1;
    assert!(
        windowed as u64 >= window.bytes() && (windowed as u64) < window.bytes() + 1_300,
        "{windowed} bytes left before the window held"
    );
    assert_eq!(stats.in_flight, DataSize::from_bytes(sent as u64));
    assert_eq!(stats.congestion_window_full_count, 1);
    // Counted up to the last publication (the keep-alive's timeout, 500 ms after the window
    // filled).
    assert!(stats.congestion_window_full_time >= TimeDelta::from_millis(450));
    assert_eq!(stats.queued_packets as usize, 100 - first.len());

    // Feedback reports everything that left: the window opens and media flows at once.
    let (last_departure, _) = *first.last().expect("sent");
    let at = base + Duration::from_millis(1_000);
    mailbox.feedback(Some(last_departure), Some(Duration::from_millis(100)));
    let second = window_run(&mut chain, at, 100);
    assert!(
        second.first().is_some_and(|p| p.0 == at),
        "resumes as soon as the feedback is in"
    );
    // Paced at 750 kbit/s: a 1 212-byte packet every 13 ms, after the 5 ms burst allowance.
    assert!(
        (8..=10).contains(&second.len()),
        "{} packets after feedback",
        second.len()
    );
}

/// Feedback that never comes cannot stall the pacer: with the window full, one queued packet
/// leaves every 500 ms (libwebrtc's keep-alive), and its feedback, when it comes, reopens it.
#[test]
fn a_full_window_without_feedback_still_lets_a_packet_through_every_half_second() {
    let (mut chain, mailbox, handle) = pacer_alone(PacerConfig {
        start: Bitrate::from_kbps(50),
        ..PacerConfig::default()
    });
    let base = Instant::now();
    mailbox.feedback(None, Some(Duration::from_millis(50)));
    for seq in 0..40u16 {
        chain.handle_write(media(base, seq)).expect("write");
    }
    let out = window_run(&mut chain, base, 3_000);
    let stats = handle.snapshot().pacer.expect("published");
    // 0.4 s × 50 kbit/s is below the 3 000-byte floor.
    assert_eq!(stats.congestion_window, Some(DataSize::from_bytes(3_000)));
    let gaps: Vec<Duration> = out.windows(2).map(|w| w[1].0 - w[0].0).collect();
    println!("{} packets, gaps {gaps:?}", out.len());
    // Three packets fill the window, then one every 500 ms: 2.5 s of keep-alives.
    assert_eq!(out.len(), 3 + 5, "{gaps:?}");
    assert_eq!(stats.keepalive_packets, 5);
    assert!(
        gaps[2..]
            .iter()
            .all(|g| *g >= Duration::from_millis(500) && *g <= Duration::from_millis(501)),
        "{gaps:?}"
    );
    assert!(
        chain.poll_timeout().is_some(),
        "a queue behind a full window keeps a timer"
    );
}

/// No cluster starts while the window is full; it waits in the mailbox and goes once feedback
/// reopens the window.
#[test]
fn a_full_window_holds_probes_until_it_reopens() {
    let (mut chain, mailbox, handle) = pacer_alone(PacerConfig::default());
    let base = Instant::now();
    mailbox.feedback(None, Some(Duration::from_millis(100)));
    for seq in 0..30u16 {
        chain.handle_write(media(base, seq)).expect("write");
    }
    let first = window_run(&mut chain, base, 300);
    let mut clusters = std::iter::once(ProbeCluster {
        id: 1,
        target: Bitrate::from_kbps(900),
        min_probes: 5,
        min_bytes: DataSize::from_bytes(1_687),
        duration: TimeDelta::from_millis(15),
        created_at: Timestamp::ZERO,
    });
    mailbox.post_clusters(|| clusters.next());
    let held = window_run(&mut chain, base + Duration::from_millis(300), 100);
    assert!(held.is_empty(), "{} packets left a full window", held.len());
    assert_eq!(handle.snapshot().pacer.expect("published").clusters_sent, 0);
    let (last, _) = *first.last().expect("sent");
    mailbox.feedback(Some(last), Some(Duration::from_millis(100)));
    window_run(&mut chain, base + Duration::from_millis(400), 200);
    let stats = handle.snapshot().pacer.expect("published");
    assert_eq!(stats.clusters_sent, 1, "{stats:?}");
}

/// Encoder pushback: each feedback that finds the window (with the pacer's backlog) over 1.5×
/// full scales the encoder target by 0.9; once feedback finds it nearly empty the push is off.
#[test]
fn a_full_window_pushes_the_encoder_target_back() {
    let (mut chain, mailbox, handle) = pacer_alone(PacerConfig::default());
    let base = Instant::now();
    mailbox.feedback(None, Some(Duration::from_millis(100)));
    for seq in 0..100u16 {
        chain.handle_write(media(base, seq)).expect("write");
    }
    // The first feedback already finds the 100-packet backlog.
    let first = window_run(&mut chain, base, 400);
    for i in 0..5u64 {
        mailbox.feedback(None, Some(Duration::from_millis(100)));
        window_run(&mut chain, base + Duration::from_millis(400 + 20 * i), 20);
    }
    let pushed = handle
        .snapshot()
        .pacer
        .and_then(|p| p.pushback_target)
        .expect("pushed back");
    // 300 kbit/s × 0.9⁶.
    assert_eq!(pushed, Bitrate::from_kbps(300).mul_f64(0.9f64.powi(6)));

    // Everything resolved and the backlog gone: no push.
    let mut last = first.last().expect("sent").0;
    let mut at = base + Duration::from_millis(500);
    while handle
        .snapshot()
        .pacer
        .is_some_and(|p| p.queued_packets > 0)
    {
        mailbox.feedback(Some(last), Some(Duration::from_millis(100)));
        if let Some(p) = window_run(&mut chain, at, 100).last() {
            last = p.0;
        }
        at += Duration::from_millis(100);
        assert!(at < base + Duration::from_secs(10), "the backlog drains");
    }
    mailbox.feedback(Some(last), Some(Duration::from_millis(100)));
    window_run(&mut chain, at, 10);
    let stats = handle.snapshot().pacer.expect("published");
    assert_eq!(stats.pushback_target, None, "{stats:?}");
}
