//! The probing pacer's media path and the estimator's probe lookup allocate nothing once warmed
//! up.
//!
//! A counting global allocator (per thread, so the harness's other threads do not interfere)
//! wraps the system allocator. Packets and feedback reports are built before counting starts;
//! then they are handed to the pacer (write, timeouts, write-out) and to `BweSendSide` with a
//! probe mailbox while counting. Padding packets are not on this path: each one allocates its
//! header-extension list (rtc-rtp keeps extensions in a `Vec`).

mod support;

use alloc_counter::{CountingAllocator, allocations};
use std::time::{Duration, Instant};

use bwe_core::{DataSize, ProbeInfo};
use bwe_interceptor::{BweSendSide, PacerConfig, ProbeMailbox, ProbingPacer};
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

/// Writes each packet, runs the pacer's timers up to its instant and takes out what left.
fn pace(pacer: &mut ProbingPacer, packets: Vec<TaggedPacket>) -> usize {
    let mut sent = 0;
    for packet in packets {
        let now = packet.now;
        pacer.handle_write(packet).expect("write");
        while let Some(deadline) = pacer.poll_timeout() {
            if deadline > now {
                break;
            }
            pacer.handle_timeout(now).expect("timeout");
            while pacer.poll_write().is_some() {
                sent += 1;
            }
        }
    }
    sent
}

/// Every media packet's path through the pacer (queue, release, renumbering, stats published
/// to the handle) must not touch the heap once the queues have reached their working size.
#[test]
fn pacer_media_path_allocates_nothing_after_warm_up() {
    let base = Instant::now();
    let mut pacer = ProbingPacer::new(
        PacerConfig {
            start: bwe_core::Bitrate::from_kbps(1_000),
            ..PacerConfig::default()
        },
        ProbeMailbox::new(),
    )
    .with_handle(bwe_interceptor::BweHandle::new());
    pacer.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    let warm_up = packets(base, 0, 1_000);
    let measured = packets(base, 1_000, 3_000);
    let count = measured.len();
    assert!(pace(&mut pacer, warm_up) > 150);

    let before = allocations();
    let sent = pace(&mut pacer, measured);
    let during = allocations() - before;
    assert!(sent + 2 >= count && sent <= count, "{sent} of {count}");
    assert_eq!(during, 0, "{during} allocations for {count} packets");
}

fn report(base: Instant, id: u64) -> PacketReport {
    PacketReport {
        ssrc: SSRC,
        id,
        rtp_sequence_number: id as u16,
        is_twcc: true,
        twcc_sequence_number: id as u16,
        size: 1_212,
        arrived: true,
        departure: base + Duration::from_millis(id * 5),
        arrival: Some(Duration::from_millis(id * 5 + 20)),
        ecn: Ecn::NotEct,
    }
}

/// The estimator's side: looking every report up in the probe table adds no allocation to
/// feedback handling.
#[test]
fn probe_lookup_on_feedback_allocates_nothing_after_warm_up() {
    let base = Instant::now();
    let mailbox = ProbeMailbox::new();
    let mut estimator = BweSendSide::default().with_probe_mailbox(mailbox.clone());
    for id in (0..600).step_by(7) {
        let r = report(base, id);
        mailbox.record(
            r.ssrc,
            r.rtp_sequence_number,
            r.departure,
            ProbeInfo {
                cluster_id: (id / 100) as u32 + 1,
                min_probes: 5,
                min_bytes: DataSize::from_bytes(6_000),
            },
        );
    }
    let batches: Vec<(Instant, Vec<PacketReport>)> = (0..30u64)
        .map(|b| {
            let reports = (b * 20..b * 20 + 20).map(|id| report(base, id)).collect();
            (base + Duration::from_millis(b * 100 + 150), reports)
        })
        .collect();
    let (warm_up, measured) = batches.split_at(10);
    for (now, reports) in warm_up {
        estimator.on_reports(*now, reports);
    }
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
