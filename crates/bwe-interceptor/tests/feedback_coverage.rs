//! Lost feedback against lost packets, through real chains: RTP written to a sender chain with
//! rtc's TWCC sender and send history, marshalled, parsed by a real rtc TWCC receiver chain,
//! whose feedback is marshalled and parsed back into the sender. "The feedback message covering
//! packets 0..10 was lost" is played as "the receiver never saw 0..10": either way no feedback
//! message ever mentions them, which is all the sender can know.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bwe_core::controller::ControllerConfig;
use bwe_interceptor::{
    BweChainConfig, BweHandle, BweSendSide, BweSendSideStats, PACER_SLOT, PacerConfig,
    configure_bwe,
};
use rtc::interceptor::{
    BandwidthEstimator, CongestionControlBuilder, Interceptor, Packet, PacketReport, Registry,
    Slot, TaggedPacket, TwccReceiverBuilder, TwccSenderBuilder,
};
use rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use rtc::rtp;
use rtc::rtp::extension::transport_cc_extension::TransportCcExtension;
use rtc::sansio::Protocol;
use rtc::shared::marshal::Unmarshal;

use support::{drain_wire, drive, inbound_rtcp, inbound_rtp, video_stream};

const SSRC: u32 = 0x5EED;
const TWCC_ID: u16 = 5;
/// Small packets, one every [`SPACING`]: about 180 kbit/s, under the 300 kbit/s start target,
/// so the pacer never holds one back and 40 of them stay well inside its congestion window.
const PAYLOAD: usize = 200;
const SPACING: Duration = Duration::from_millis(10);
const ONE_WAY: Duration = Duration::from_millis(20);
/// The receiver reports once a second: every run below fits in one feedback message, so the
/// sender sees the whole run in one batch and the loss arithmetic is exact.
const FEEDBACK_INTERVAL: Duration = Duration::from_secs(1);
/// Long enough for the last packet, the one feedback message and its way back.
const RUN: Duration = Duration::from_millis(1_600);

fn media(now: Instant, seq: u16) -> TaggedPacket {
    support::media_packet(now, SSRC, seq, PAYLOAD)
}

/// A `BandwidthEstimator` that keeps every report rtc's send history hands it.
struct Recording {
    reports: Arc<Mutex<Vec<PacketReport>>>,
}

impl BandwidthEstimator for Recording {
    fn on_reports(&mut self, _now: Instant, reports: &[PacketReport]) {
        self.reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(reports);
    }

    fn target_bitrate(&self) -> f64 {
        300_000.0
    }
}

/// What crossed the wire in one run.
#[derive(Debug, Default)]
struct Run {
    /// RTP packets the sender put on the wire: (RTP sequence number, transport-wide number).
    sent: Vec<(u16, u16)>,
    /// RTP sequence numbers the receiver got.
    delivered: Vec<u16>,
    /// Each TWCC message that reached the sender: (base sequence number, status count).
    feedback: Vec<(u16, u16)>,
}

/// Writes `packets` RTP packets (sequence 0, 1, …) into `sender`, one every [`SPACING`]; the
/// ones `delivered` accepts reach a real rtc TWCC receiver chain [`ONE_WAY`] after they left,
/// the others are lost on the way; the receiver's feedback reaches `sender` [`ONE_WAY`] after
/// it left. Every packet crosses as bytes and is parsed back.
fn exchange(sender: &mut impl Interceptor, packets: u16, delivered: impl Fn(u16) -> bool) -> Run {
    let stream = video_stream(SSRC, None, Some(TWCC_ID));
    sender.bind_local_stream(&stream);
    let mut receiver = Registry::new()
        .with(
            Slot::TwccReceiver,
            TwccReceiverBuilder::new()
                .with_interval(FEEDBACK_INTERVAL)
                .build(),
        )
        .build();
    receiver.bind_remote_stream(&stream);

    let base = Instant::now();
    let mut forward: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut backward: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut run = Run::default();
    let mut next = 0u16;
    for ms in 0..RUN.as_millis() as u64 {
        let now = base + Duration::from_millis(ms);
        if next < packets && now >= base + SPACING * u32::from(next) {
            sender.handle_write(media(now, next)).expect("write");
            next += 1;
        }
        drive(sender, now);
        for (at, bytes, rtcp) in drain_wire(sender) {
            if rtcp {
                continue; // sender reports: not what this test is about
            }
            let packet = rtp::Packet::unmarshal(&mut &bytes[..]).expect("what we send parses");
            let mut ext = packet
                .header
                .get_extension(TWCC_ID as u8)
                .expect("every packet carries a transport-wide number");
            let twcc = TransportCcExtension::unmarshal(&mut ext).expect("parses");
            let seq = packet.header.sequence_number;
            run.sent.push((seq, twcc.transport_sequence));
            if delivered(seq) {
                forward.push_back((at.max(now) + ONE_WAY, bytes));
            }
        }
        while forward.front().is_some_and(|(at, _)| *at <= now) {
            let (_, bytes) = forward.pop_front().expect("checked");
            let inbound = inbound_rtp(now, &bytes);
            if let Packet::Rtp(p) = &inbound.message.packet {
                run.delivered.push(p.header.sequence_number);
            }
            receiver.handle_read(inbound).expect("read");
            while receiver.poll_read().is_some() {}
        }
        drive(&mut receiver, now);
        for (at, bytes, rtcp) in drain_wire(&mut receiver) {
            assert!(rtcp, "the receiver only sends feedback");
            backward.push_back((at.max(now) + ONE_WAY, bytes));
        }
        while backward.front().is_some_and(|(at, _)| *at <= now) {
            let (_, bytes) = backward.pop_front().expect("checked");
            for p in rtc::rtcp::packet::unmarshal(&mut &bytes[..]).expect("feedback parses") {
                if let Some(twcc) = p.as_any().downcast_ref::<TransportLayerCc>() {
                    run.feedback
                        .push((twcc.base_sequence_number, twcc.packet_status_count));
                }
            }
            sender.handle_read(inbound_rtcp(now, &bytes)).expect("read");
            while sender.poll_read().is_some() {}
        }
    }
    assert!(forward.is_empty() && backward.is_empty(), "all delivered");
    // One wire packet per packet written, numbered from 0 in both spaces (no padding, no
    // retransmission), so the counts below are exact.
    let expected: Vec<(u16, u16)> = (0..packets).map(|s| (s, s)).collect();
    assert_eq!(run.sent, expected);
    run
}

/// Documents the upstream behaviour `FeedbackTap` exists for: rtc-interceptor 0.21.1's send
/// history (`History::take_reports`) reports every packet older than the newest acknowledged
/// one, and one that no feedback message ever mentioned comes out `arrived: false`, exactly
/// like one a TWCC message reported as not received. Here packets 0..10 never reach the
/// receiver, so its only feedback message starts at 10; the sender still gets 0..10 as "not
/// arrived".
///
/// When this fails, upstream tells unknown from lost itself, and `FeedbackTap` (with
/// `BweSendSideStats::reports_unknown`) may go.
#[test]
fn upstream_history_reports_unacknowledged_packets_as_not_arrived() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let mut sender = Registry::new()
        .with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(Recording {
                reports: reports.clone(),
            })
            .build(),
        )
        .with(Slot::TwccSender, TwccSenderBuilder::new().build())
        .build();
    let run = exchange(&mut sender, 20, |seq| seq >= 10);
    assert_eq!(run.delivered, (10..20).collect::<Vec<u16>>());
    assert_eq!(
        run.feedback,
        [(10, 10)],
        "one message, about 10..20 only: nothing ever mentions 0..10"
    );

    let reports = reports.lock().unwrap_or_else(PoisonError::into_inner);
    let seqs: Vec<u16> = reports.iter().map(|r| r.rtp_sequence_number).collect();
    assert_eq!(
        seqs,
        (0..20).collect::<Vec<u16>>(),
        "every packet, in send order"
    );
    for r in &reports[..10] {
        assert!(
            !r.arrived && r.arrival.is_none(),
            "never mentioned, reported not arrived: {r:?}"
        );
        assert!(r.is_twcc);
    }
    for r in &reports[10..] {
        assert!(r.arrived && r.arrival.is_some(), "acknowledged: {r:?}");
        assert_eq!(r.twcc_sequence_number, r.rtp_sequence_number);
    }
}

/// Runs 40 packets through `sender` (the receiver sees those `lost` does not name) and reads
/// the figures the estimator published to `handle`.
fn run_and_read(
    sender: &mut impl Interceptor,
    handle: &BweHandle,
    lost: impl Fn(u16) -> bool,
) -> (Run, BweSendSideStats) {
    let run = exchange(sender, 40, |seq| !lost(seq));
    let stats = handle
        .snapshot()
        .send_side
        .expect("the estimator publishes");
    (run, stats)
}

/// Our sender chain (`configure_bwe`, which puts `FeedbackTap` at `FEEDBACK_TAP_SLOT`, wire-ward
/// of the send history) with probing off so that nothing but the written packets takes a
/// transport-wide number. Runs 40 packets through a receiver that loses `lost` of them and
/// returns what the estimator published after the one feedback message.
fn our_sender(lost: impl Fn(u16) -> bool) -> (Run, BweSendSideStats) {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let (registry, handle) = configure_bwe(
        Registry::new(),
        &mut engine,
        BweChainConfig::send_side_without_probing(CongestionFeedback::Twcc),
    )
    .expect("chain");
    let mut sender = registry.build();
    run_and_read(&mut sender, &handle, lost)
}

/// [`our_sender`]'s chain by hand without the tap (history with our estimator, our pacer with
/// probing off, the TWCC sender, as `probing_pacer.rs` builds it): the control that shows the
/// tap is what tells the two apart.
fn our_sender_without_tap(lost: impl Fn(u16) -> bool) -> (Run, BweSendSideStats) {
    let (estimator, pacer) = BweSendSide::with_pacer(ControllerConfig {
        pacer: PacerConfig {
            probing: false,
            ..PacerConfig::default()
        },
        ..ControllerConfig::default()
    });
    let handle = estimator.handle();
    let mut sender = Registry::new()
        .with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(estimator).build(),
        )
        .with(PACER_SLOT, pacer)
        .with(Slot::TwccSender, TwccSenderBuilder::new().build())
        .build();
    run_and_read(&mut sender, &handle, lost)
}

/// Three packets inside the receiver's reported range never arrive: real losses in both cases.
const DROPPED: [u16; 3] = [20, 25, 30];

/// With `FeedbackTap` in the chain, a "not arrived" report is a loss only if a feedback message
/// reported on it. Case A: packets 0..10 are never mentioned (the receiver never saw them, as
/// when the message covering them is lost) and three more are dropped inside the range the one
/// message covers (10..40): the 10 are unknown, left out, and the loss fraction is 3 of the 30
/// reported on, not 13 of 40. Case B, the control: the receiver sees packet 0, so its message
/// covers 0..40 and the same gap (1..10) plus the three drops are real losses: nothing unknown,
/// 12 lost of 40. Case C: case A's run on a chain without the tap counts the 10 it never
/// heard about as lost, 13 of 40 (what the tap exists to prevent).
#[test]
fn feedback_tap_tells_lost_feedback_from_lost_packets() {
    // A: the feedback about 0..10 never comes.
    let (run, stats) = our_sender(|seq| seq < 10 || DROPPED.contains(&seq));
    assert_eq!(run.delivered.len(), 27);
    assert_eq!(run.feedback, [(10, 30)], "one message, about 10..40 only");
    println!("case A: {stats:?}");
    assert_eq!(stats.feedback_batches, 1);
    assert_eq!(
        stats.reports, 40,
        "the history reports all 40, 13 as not arrived"
    );
    assert_eq!(
        stats.reports_unknown, 10,
        "0..10: no message reported on them"
    );
    assert_eq!(
        stats.core.loss_fraction,
        Some(3.0 / 30.0),
        "only the three dropped inside the reported range count"
    );

    // B: the same gap reported on, so it is loss.
    let (run, stats) = our_sender(|seq| (1..10).contains(&seq) || DROPPED.contains(&seq));
    assert_eq!(run.delivered.len(), 28);
    assert_eq!(run.feedback, [(0, 40)], "one message, about all 40");
    println!("case B: {stats:?}");
    assert_eq!(stats.feedback_batches, 1);
    assert_eq!(stats.reports, 40);
    assert_eq!(stats.reports_unknown, 0, "every packet was reported on");
    assert_eq!(
        stats.core.loss_fraction,
        Some(12.0 / 40.0),
        "1..10 and the three drops: all reported not received"
    );

    // C: case A without the tap: the 10 never mentioned are taken for losses.
    let (run, stats) = our_sender_without_tap(|seq| seq < 10 || DROPPED.contains(&seq));
    assert_eq!(run.feedback, [(10, 30)]);
    println!("case C (no tap): {stats:?}");
    assert_eq!(stats.feedback_batches, 1);
    assert_eq!(stats.reports, 40);
    assert_eq!(
        stats.reports_unknown, 0,
        "nothing can be told unknown without the tap"
    );
    assert_eq!(
        stats.core.loss_fraction,
        Some(13.0 / 40.0),
        "0..10 and the three drops, all as losses"
    );
}
