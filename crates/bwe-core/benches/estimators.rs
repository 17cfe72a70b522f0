//! Hot-path cost: ns per received packet on the receive path and ns per feedback entry on the
//! send path, with webrtc-rs 0.21's `rtc::interceptor::Gcc` fed the same packets in the same run.
//!
//! The traffic is a 2 Mbit/s stream of 1200-byte packets whose path alternates every 5 s between
//! free and congested (arrival gaps stretched by 10 %, so each congested phase adds about 0.5 s of
//! queue that the free phase after it keeps), so every stage of both estimators works —
//! grouping, filtering, detection, rate control — rather than idling in a steady state.
//!
//! `rtc::Gcc` has no receive side; on the receive-path group it is fed the same packets one report
//! per call (its only per-packet entry point), and on the send-path group in the same 50-entry
//! feedback batches as ours.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{DataSize, PacketResult, SentPacket, TimeDelta, Timestamp};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtc::interceptor::{BandwidthEstimator, Gcc, PacketReport};
use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;

const PACKETS: usize = 20_000;
const BATCH: usize = 50;

#[derive(Clone, Copy)]
struct Packet {
    send: Timestamp,
    /// The abs-send-time extension value, computed outside the timed loop.
    abs_send_time: AbsSendTime,
    arrival: Option<Timestamp>,
}

/// 2 Mbit/s of 1200-byte packets (4.8 ms apart), one in 50 lost, congested every other 5 s.
fn traffic() -> Vec<Packet> {
    let mut arrival = Timestamp::from_micros(30_000);
    (0..PACKETS as i64)
        .map(|i| {
            let send = Timestamp::from_micros(i * 4_800);
            // Arrival gaps accumulate: each congested gap is 10 % longer than its send gap, so the
            // queue grows throughout a congested phase and a free phase keeps the delay it
            // inherited. (Taking `i × spacing` instead would jump the arrival clock at every
            // phase switch, which reads as a clock fault or as reordering, not as congestion.)
            if i > 0 {
                let congested = (i / 1_000) % 2 == 1;
                arrival += TimeDelta::from_micros(if congested { 5_280 } else { 4_800 });
            }
            Packet {
                send,
                abs_send_time: AbsSendTime::from_timestamp(send),
                arrival: (i % 50 != 7).then_some(arrival),
            }
        })
        .collect()
}

fn ours_receive(packets: &[Packet]) -> ReceiveSideEstimator {
    let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
    for p in packets {
        if let Some(arrival) = p.arrival {
            est.on_packet(
                arrival,
                PacketArrival {
                    send_time: p.abs_send_time,
                    size: DataSize::from_bytes(1200),
                    ssrc: 7,
                },
            );
        }
    }
    est
}

fn reports(packets: &[Packet], epoch: Instant) -> Vec<PacketReport> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| PacketReport {
            ssrc: 7,
            id: i as u64,
            rtp_sequence_number: i as u16,
            is_twcc: true,
            twcc_sequence_number: i as u16,
            size: 1200,
            arrived: p.arrival.is_some(),
            departure: epoch + Duration::from_micros(p.send.as_micros() as u64),
            arrival: p
                .arrival
                .map(|a| Duration::from_micros(a.as_micros() as u64)),
            ecn: Ecn::default(),
        })
        .collect()
}

fn results(packets: &[Packet]) -> Vec<PacketResult> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| PacketResult {
            sent: SentPacket {
                sequence: i as u64,
                send_time: p.send,
                size: DataSize::from_bytes(1200),
                probe: None,
            },
            receive_time: p.arrival,
        })
        .collect()
}

fn feedback_time(batch: &[PacketResult]) -> Timestamp {
    batch.last().map_or(Timestamp::ZERO, |r| r.sent.send_time) + TimeDelta::from_millis(60)
}

fn receive_path(c: &mut Criterion) {
    let packets = traffic();
    let received = packets.iter().filter(|p| p.arrival.is_some()).count();
    let epoch = Instant::now();
    let reps = reports(&packets, epoch);
    let mut group = c.benchmark_group("receive_path_per_packet");
    group.throughput(Throughput::Elements(received as u64));
    group.bench_function(BenchmarkId::new("bwe_core", "ReceiveSideEstimator"), |b| {
        b.iter(|| black_box(ours_receive(black_box(&packets))))
    });
    group.bench_function(BenchmarkId::new("rtc_gcc", "one report per call"), |b| {
        b.iter(|| {
            let mut gcc = Gcc::default();
            for r in reps.iter().filter(|r| r.arrived) {
                let now = epoch + r.arrival.unwrap_or_default();
                gcc.on_reports(now, std::slice::from_ref(r));
            }
            black_box(gcc.target_bitrate())
        })
    });
    group.finish();
}

fn send_path(c: &mut Criterion) {
    let packets = traffic();
    let epoch = Instant::now();
    let reps = reports(&packets, epoch);
    let ours = results(&packets);
    let mut group = c.benchmark_group("send_path_per_feedback_entry");
    group.throughput(Throughput::Elements(packets.len() as u64));
    group.bench_function(BenchmarkId::new("bwe_core", "SendSideEstimator"), |b| {
        b.iter(|| {
            let mut est = SendSideEstimator::new(SendSideConfig::default());
            est.on_network_available(Timestamp::ZERO);
            for batch in ours.chunks(BATCH) {
                let now = feedback_time(batch);
                est.on_feedback(now, black_box(batch));
            }
            black_box(est.target())
        })
    });
    group.bench_function(BenchmarkId::new("rtc_gcc", "Gcc::on_reports"), |b| {
        b.iter(|| {
            let mut gcc = Gcc::default();
            for (batch, mine) in reps.chunks(BATCH).zip(ours.chunks(BATCH)) {
                let now = epoch + Duration::from_micros(feedback_time(mine).as_micros() as u64);
                gcc.on_reports(now, black_box(batch));
            }
            black_box(gcc.target_bitrate())
        })
    });
    group.finish();
}

criterion_group!(benches, receive_path, send_path);
criterion_main!(benches);
