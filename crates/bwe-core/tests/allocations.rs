//! The per-packet paths allocate nothing once warmed up.
//!
//! A counting global allocator (per thread, so the harness's other threads do not interfere)
//! wraps the system allocator; each path is warmed up, then driven for many more packets while
//! counting.

use alloc_counter::{CountingAllocator, allocations};
use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{DataSize, PacketResult, ProbeInfo, SentPacket, TimeDelta, Timestamp};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Drives the receive side with a 1 Mbps stream on two SSRCs that alternates between a free and
/// a congested path, so every stage (grouping, filter, detector, AIMD, stream table) runs.
fn drive_receive(est: &mut ReceiveSideEstimator, from: i64, to: i64) {
    for i in from..to {
        // 100 packets/s per SSRC; every other 5 s the arrivals stretch by 10 % (a growing queue).
        let send = Timestamp::from_millis(i * 5);
        let stretch = if (i / 1000) % 2 == 1 { 11 } else { 10 };
        let arrival = Timestamp::from_micros(i * 500 * stretch + 40_000);
        est.on_packet(
            arrival,
            PacketArrival {
                send_time: AbsSendTime::from_timestamp(send),
                size: DataSize::from_bytes(1200),
                ssrc: 1 + (i % 2) as u32,
            },
        );
        if i % 100 == 0 {
            est.handle_timeout(arrival);
            let _ = est.stats();
            let _ = est.ssrcs().count();
        }
    }
}

/// The receive path allocates nothing per packet after warm-up.
#[test]
fn receive_path_allocates_nothing_per_packet_after_warm_up() {
    let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
    drive_receive(&mut est, 0, 10_000);
    let before = allocations();
    drive_receive(&mut est, 10_000, 60_000);
    let during = allocations() - before;
    assert!(
        est.estimate().is_some(),
        "the warm-up must have produced an estimate"
    );
    assert_eq!(during, 0, "{during} allocations over 50 000 packets");
}

/// Drives the send side: 50 packets per 50 ms feedback batch, with loss, probes and RTT updates.
fn drive_send(est: &mut SendSideEstimator, batch: &mut [PacketResult; 50], from: i64, to: i64) {
    for b in from..to {
        let base = Timestamp::from_millis(b * 50);
        let probe = est.poll_probe();
        for (i, slot) in batch.iter_mut().enumerate() {
            let seq = (b * 50) as u64 + i as u64;
            let send_time = base + TimeDelta::from_millis(i as i64);
            let sent = SentPacket {
                sequence: seq,
                send_time,
                size: DataSize::from_bytes(1200),
                probe: probe.filter(|_| i < 10).map(|c| ProbeInfo {
                    cluster_id: c.id,
                    min_probes: c.min_probes,
                    min_bytes: c.min_bytes,
                }),
            };
            est.on_sent(send_time, &sent);
            let queue = if (b / 100) % 2 == 1 {
                i as i64 * 200
            } else {
                0
            };
            *slot = PacketResult {
                sent,
                receive_time: (seq % 37 != 0)
                    .then(|| send_time + TimeDelta::from_micros(30_000 + queue)),
            };
        }
        let now = base + TimeDelta::from_millis(100);
        est.on_rtt(now, TimeDelta::from_millis(80));
        est.on_feedback(now, batch);
        if est.poll_timeout().is_some_and(|t| t <= now) {
            est.handle_timeout(now);
        }
        let _ = est.stats();
    }
}

/// The send path allocates nothing per feedback entry after warm-up.
#[test]
fn send_path_allocates_nothing_per_feedback_entry_after_warm_up() {
    let mut est = SendSideEstimator::new(SendSideConfig::default());
    est.on_network_available(Timestamp::ZERO);
    let blank = PacketResult {
        sent: SentPacket {
            sequence: 0,
            send_time: Timestamp::ZERO,
            size: DataSize::ZERO,
            probe: None,
        },
        receive_time: None,
    };
    let mut batch = [blank; 50];
    drive_send(&mut est, &mut batch, 0, 400);
    let before = allocations();
    drive_send(&mut est, &mut batch, 400, 2_000);
    let during = allocations() - before;
    assert_eq!(
        during, 0,
        "{during} allocations over 80 000 feedback entries"
    );
}

/// Drives the send-side controller (estimator and pacer): a 2 Mbit/s encoder in 1 200-byte
/// packets, every packet through the pacer queue and out, feedback every 50 packets with one
/// loss in 25, probes (padding packets included) whenever the estimator asks for them.
fn drive_controller(
    c: &mut bwe_core::controller::SendSideController<u64>,
    batch: &mut [PacketResult; 50],
    from: i64,
    to: i64,
) {
    use bwe_core::pacer::PacketKind;
    let mut filled = 0;
    let mut sequence = (from as u64) * 2;
    for i in from..to {
        let now = Timestamp::from_micros(i * 4_800);
        let kind = PacketKind::Media {
            ssrc: 1,
            seq: i as u16,
        };
        let _ = c.enqueue(now, i as u64, DataSize::from_bytes(1_200), kind);
        c.handle_timeout(now);
        while let Some(r) = c.poll_release(now, |size| Some((u64::MAX, size))) {
            if let Some(probe) = r.probe {
                c.record_probe(1, sequence as u16, now, probe);
            }
            if filled < batch.len() {
                let sent = SentPacket {
                    sequence,
                    send_time: now,
                    size: r.size,
                    probe: r.probe,
                };
                let lost = sequence % 25 == 0;
                batch[filled] = PacketResult {
                    sent,
                    receive_time: (!lost).then(|| now + TimeDelta::from_millis(40)),
                };
                filled += 1;
            }
            sequence += 1;
        }
        if filled == batch.len() {
            let at = now + TimeDelta::from_millis(60);
            c.on_rtt(at, TimeDelta::from_millis(60));
            for r in batch.iter() {
                c.on_sent(at, &r.sent);
            }
            c.on_feedback(at, &batch[..]);
            c.feedback_done(at, Some(batch[filled - 1].sent.send_time));
            filled = 0;
            let _ = c.output();
            let _ = c.pacer_stats(now);
        }
    }
}

/// The controller (pacer included) allocates nothing per packet after warm-up.
#[test]
fn controller_path_allocates_nothing_per_packet_after_warm_up() {
    use bwe_core::controller::{ControllerConfig, SendSideController};
    let mut c = SendSideController::new(ControllerConfig::default());
    c.add_stream(1);
    let empty = PacketResult {
        sent: SentPacket {
            sequence: 0,
            send_time: Timestamp::ZERO,
            size: DataSize::from_bytes(1),
            probe: None,
        },
        receive_time: None,
    };
    let mut batch = [empty; 50];
    drive_controller(&mut c, &mut batch, 0, 10_000);
    let before = allocations();
    drive_controller(&mut c, &mut batch, 10_000, 60_000);
    let during = allocations() - before;
    let stats = c.pacer_stats(Timestamp::from_secs(300));
    assert!(
        stats.media_packets >= 50_000 && stats.padding_packets > 0,
        "every path of the pacer ran: {stats:?}"
    );
    assert_eq!(during, 0, "{during} allocations over 50 000 packets");
}
