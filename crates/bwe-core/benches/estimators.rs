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
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{DataSize, Timestamp};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rtc::interceptor::{BandwidthEstimator, Gcc};

mod common;
use common::{BATCH, Packet, feedback_time, reports, results, traffic};

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
