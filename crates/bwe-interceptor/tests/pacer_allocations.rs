//! The probing pacer's media path and the estimator's feedback path (with its probe lookups)
//! allocate nothing once warmed up.
//!
//! A counting global allocator (per thread, so the harness's other threads do not interfere)
//! wraps the system allocator. Packets and feedback reports are built before counting starts;
//! then they are handed to the pacer (write, timeouts, write-out) and to `BweSendSide` while
//! counting; both share one send-side controller. Padding packets are not on this path: each one
//! allocates its header-extension list (rtc-rtp keeps extensions in a `Vec`).

mod support;

use alloc_counter::{CountingAllocator, allocations};
use std::time::{Duration, Instant};

use bwe_core::Bitrate;
use bwe_core::controller::ControllerConfig;
use bwe_core::send_side::SendSideConfig;
use bwe_interceptor::{BweSendSide, PacerConfig, ProbingPacer};
use rtc::interceptor::{
    AttributedPacket, BandwidthEstimator, Interceptor, Packet, PacketReport, TaggedPacket,
};
use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;
use rtc::rtp;
use rtc::sansio::Protocol;
use rtc::shared::TransportContext;

use support::video_stream;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const SSRC: u32 = 0x5EED;

/// One 1 200-byte packet every 5 ms (about 2 Mbit/s) from `from_ms` to `to_ms`.
fn packets(base: Instant, from_ms: u64, to_ms: u64) -> Vec<TaggedPacket> {
    (from_ms..to_ms)
        .step_by(5)
        .map(|ms| TaggedPacket {
            now: base + Duration::from_millis(ms),
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(rtp::Packet {
                header: rtp::header::Header {
                    version: 2,
                    payload_type: 96,
                    sequence_number: (ms / 5) as u16,
                    timestamp: ms as u32 * 90,
                    ssrc: SSRC,
                    ..Default::default()
                },
                payload: vec![0x5A; 1_200].into(),
            })),
        })
        .collect()
}

/// Writes each packet, runs the pacer's timers up to its instant and hands what left to `out`.
fn pace(pacer: &mut ProbingPacer, packets: Vec<TaggedPacket>, mut out: impl FnMut(TaggedPacket)) {
    for packet in packets {
        let now = packet.now;
        pacer.handle_write(packet).expect("write");
        while let Some(deadline) = pacer.poll_timeout() {
            if deadline > now {
                break;
            }
            pacer.handle_timeout(now).expect("timeout");
            while let Some(left) = pacer.poll_write() {
                out(left);
            }
        }
    }
}

/// Every media packet's path through the pacer (queue, release, renumbering, stats published
/// to the handle) must not touch the heap once the queues have reached their working size.
#[test]
fn pacer_media_path_allocates_nothing_after_warm_up() {
    let base = Instant::now();
    let (_estimator, mut pacer) = BweSendSide::with_pacer(ControllerConfig {
        estimator: SendSideConfig {
            start: Bitrate::from_kbps(1_000),
            ..SendSideConfig::default()
        },
        pacer: PacerConfig {
            probing: false,
            ..PacerConfig::default()
        },
    });
    pacer.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    let warm_up = packets(base, 0, 1_000);
    let measured = packets(base, 1_000, 3_000);
    let count = measured.len();
    let mut warmed = 0;
    pace(&mut pacer, warm_up, |_| warmed += 1);
    assert!(warmed > 150);

    let before = allocations();
    let mut sent = 0;
    pace(&mut pacer, measured, |_| sent += 1);
    let during = allocations() - before;
    assert!(sent + 2 >= count && sent <= count, "{sent} of {count}");
    assert_eq!(during, 0, "{during} allocations for {count} packets");
}

/// What the pacer wrote out, as the send history would report it: arrived 20 ms later.
fn report(id: u64, packet: &TaggedPacket, base: Instant) -> Option<PacketReport> {
    let Packet::Rtp(rtp) = &packet.message.packet else {
        return None;
    };
    Some(PacketReport {
        ssrc: rtp.header.ssrc,
        id,
        rtp_sequence_number: rtp.header.sequence_number,
        is_twcc: true,
        twcc_sequence_number: id as u16,
        size: 1_212,
        arrived: true,
        departure: packet.now,
        arrival: Some(packet.now.duration_since(base) + Duration::from_millis(20)),
        ecn: Ecn::NotEct,
    })
}

/// The estimator's side: feedback for what the pacer sent, initial probe clusters included
/// (so the probe lookups hit), adds no allocation once warmed up.
#[test]
fn feedback_with_probe_lookups_allocates_nothing_after_warm_up() {
    let base = Instant::now();
    let (mut estimator, mut pacer) = BweSendSide::with_pacer(ControllerConfig {
        estimator: SendSideConfig {
            start: Bitrate::from_kbps(1_000),
            ..SendSideConfig::default()
        },
        pacer: PacerConfig::default(),
    });
    pacer.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    // Three seconds of media; the first one starts the initial clusters (padded).
    let mut wire = Vec::new();
    pace(&mut pacer, packets(base, 0, 3_000), |p| wire.push(p));
    let reports: Vec<PacketReport> = wire
        .iter()
        .enumerate()
        .filter_map(|(id, p)| report(id as u64, p, base))
        .collect();
    assert!(reports.len() > 600, "{} packets left", reports.len());
    let batches: Vec<(Instant, &[PacketReport])> = reports
        .chunks(20)
        .map(|c| (c[c.len() - 1].departure + Duration::from_millis(40), c))
        .collect();
    let (warm_up, measured) = batches.split_at(10);
    for (now, reports) in warm_up {
        estimator.on_reports(*now, reports);
    }
    let probe = estimator
        .bwe_stats()
        .core
        .probe_result
        .expect("the initial clusters were attributed and measured");
    assert!(probe > Bitrate::from_kbps(1_000), "{probe:?}");
    let before = allocations();
    for (now, reports) in measured {
        estimator.on_reports(*now, reports);
        estimator.handle_timeout(*now);
    }
    let during = allocations() - before;
    assert_eq!(
        during,
        0,
        "{during} allocations over {} batches",
        measured.len()
    );
}
