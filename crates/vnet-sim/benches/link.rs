//! Packets per second through a fully impaired link: the simulator's hot path.
//!
//! Each iteration pushes 100 000 packets through a link with capacity, a time-limited queue,
//! propagation delay, loss and jitter, polling deliveries after every packet as a runtime would.
//! Criterion reports the rate in elements (packets) per second; the floor to beat is 10 M/s.

// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vnet_sim::{
    JitterConfig, JitterDistribution, Link, LinkConfig, LossModel, Packet, QueueLimit, Rate,
    RateSchedule, SimDuration, SimTime,
};

const PACKETS: u64 = 100_000;

fn config(capacity: RateSchedule, reorder: bool) -> LinkConfig {
    LinkConfig {
        capacity,
        queue: QueueLimit::Time(SimDuration::from_millis(100)),
        loss: LossModel::Bernoulli { probability: 0.01 },
        delay: SimDuration::from_millis(20),
        jitter: JitterConfig {
            distribution: JitterDistribution::Uniform {
                max: SimDuration::from_millis(2),
            },
            reorder,
        },
        ..LinkConfig::default()
    }
}

/// Sends 1200-byte packets every `gap` and drains deliveries as they fall due.
fn run(config: &LinkConfig, gap: SimDuration) -> u64 {
    let mut link = Link::new(config, 1).expect("valid config");
    let mut delivered = 0;
    let mut now = SimTime::ZERO;
    for i in 0..PACKETS {
        link.handle_packet(now, Packet::new(i, 1200));
        while let Some(d) = link.poll_delivery(now) {
            delivered += black_box(d).packet.payload & 1;
        }
        now += gap;
    }
    while let Some(t) = link.poll_timeout() {
        while let Some(d) = link.poll_delivery(t) {
            delivered += black_box(d).packet.payload & 1;
        }
    }
    delivered
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("link");
    group.throughput(Throughput::Elements(PACKETS));
    // 48 Mbit/s offered to 50 Mbit/s: the queue is busy but rarely full.
    let constant = config(Rate::from_mbps(50).into(), false);
    group.bench_function("capacity_queue_delay_loss_jitter", |b| {
        b.iter(|| run(&constant, SimDuration::from_micros(192)))
    });
    // A 12 Mbit/s mahimahi-style trace, offered 13.8 Mbit/s, with reordering jitter.
    let trace = RateSchedule::from_mahimahi("1\n2\n2\n3\n5\n6\n6\n8\n").expect("valid trace");
    let traced = config(trace, true);
    group.bench_function("trace_queue_delay_loss_reordering_jitter", |b| {
        b.iter(|| run(&traced, SimDuration::from_micros(695)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
