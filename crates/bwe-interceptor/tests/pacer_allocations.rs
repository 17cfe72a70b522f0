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
use std::collections::BTreeMap;
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
    // 200 written, paced at 2.5 Mbit/s: all but the last one or two have left.
    assert!((198..=200).contains(&warmed), "{warmed} of 200 left");

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

/// The estimator's side: feedback for what the pacer sent, probe clusters included, adds no
/// allocation once warmed up — with lookups that hit a cluster first seen after the warm-up,
/// so that starting a new cluster's measurement is on the measured path too.
///
/// The loop is closed so that the estimator's later clusters (follow-ups of the initial ones,
/// the periodic one while application-limited) reach the wire: every 100 ms the pacer sends
/// that interval's media, then the estimator gets the reports of everything that has arrived
/// (20 ms after it left). Only the estimator's calls are counted; building the reports and
/// pacing (whose padding allocates in rtc-rtp, see the module docs) are not.
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
    let view = pacer.view();
    pacer.bind_local_stream(&video_stream(SSRC, None, Some(5)));
    let warm_up = Duration::from_secs(1);
    let mut pending: Vec<TaggedPacket> = Vec::new();
    let mut next_id = 0u64;
    // Per phase (warm-up, measured): feedback batches, and probe reports per cluster.
    let mut batches = [0usize; 2];
    let mut clusters: [BTreeMap<u32, usize>; 2] = Default::default();
    let mut during = 0;
    for interval in 0..70u64 {
        let from = interval * 100;
        pace(&mut pacer, packets(base, from, from + 100), |p| {
            pending.push(p)
        });
        let now = base + Duration::from_millis(from + 100);
        let arrived = pending
            .iter()
            .take_while(|p| p.now + Duration::from_millis(20) <= now)
            .count();
        let reports: Vec<PacketReport> = pending
            .drain(..arrived)
            .filter_map(|p| {
                next_id += 1;
                report(next_id - 1, &p, base)
            })
            .collect();
        if reports.is_empty() {
            continue;
        }
        let phase = usize::from(now - base > warm_up);
        batches[phase] += 1;
        for r in &reports {
            if let Some(probe) = view.probe_of(r.ssrc, r.rtp_sequence_number, r.departure) {
                *clusters[phase].entry(probe.cluster_id).or_default() += 1;
            }
        }
        let before = allocations();
        estimator.on_reports(now, &reports);
        estimator.handle_timeout(now);
        if phase == 1 {
            during += allocations() - before;
        }
    }
    let [warm, measured] = &clusters;
    println!("probe reports per cluster: warm-up {warm:?}, measured {measured:?}");
    // The initial two and the follow-ups that climb to the maximum; then the periodic probe
    // five seconds on, a cluster the estimator has not seen before.
    assert!((2..=6).contains(&warm.len()), "{warm:?}");
    assert_eq!(measured.len(), 1, "{measured:?}");
    assert!(
        measured.keys().all(|id| !warm.contains_key(id)),
        "{measured:?} after {warm:?}"
    );
    // At least a cluster's five packets, and less than two clusters' worth (15 ms at the
    // 30 Mbit/s maximum is 56 kB: some 55 packets with the padding's sizes).
    let probes: usize = measured.values().sum();
    assert!((5..=100).contains(&probes), "{probes} probe reports");
    assert!(
        estimator.bwe_stats().core.probe_result.is_some(),
        "the clusters were attributed and measured"
    );
    assert_eq!(
        during, 0,
        "{during} allocations over {} batches",
        batches[1]
    );
}
