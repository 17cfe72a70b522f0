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
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{gcc_receive, gcc_send, ours_receive, ours_send, reports, results, traffic};

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
        b.iter(|| black_box(gcc_receive(&reps, epoch)))
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
        b.iter(|| black_box(ours_send(&ours)))
    });
    group.bench_function(BenchmarkId::new("rtc_gcc", "Gcc::on_reports"), |b| {
        b.iter(|| black_box(gcc_send(&reps, &ours, epoch)))
    });
    group.finish();
}

criterion_group!(benches, receive_path, send_path);
criterion_main!(benches);
