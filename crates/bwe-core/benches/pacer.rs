//! Hot-path cost of the send-side controller's pacer: ns per packet for a packet's whole way
//! through it — queued, released at the pacing rate, and resolved by feedback (50 packets a
//! batch, which also runs the estimator) — on a 2 Mbit/s stream of 1 200-byte packets.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bwe_core::controller::{ControllerConfig, SendSideController};
use bwe_core::pacer::PacketKind;
use bwe_core::{DataSize, PacketResult, SentPacket, TimeDelta, Timestamp};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const PACKETS: i64 = 20_000;

/// One run: a fresh controller, every packet queued, released and reported.
fn run() -> u64 {
    let mut c: SendSideController<i64> = SendSideController::new(ControllerConfig::default());
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
    let mut filled = 0;
    let mut sequence = 0u64;
    let mut released = 0;
    for i in 0..PACKETS {
        let now = Timestamp::from_micros(i * 4_800);
        let kind = PacketKind::Media {
            ssrc: 1,
            seq: i as u16,
        };
        let _ = c.enqueue(now, i, DataSize::from_bytes(1_200), kind);
        c.handle_timeout(now);
        while let Some(r) = c.poll_release(now, |size| Some((-1, size))) {
            released += 1;
            if filled < batch.len() {
                batch[filled] = PacketResult {
                    sent: SentPacket {
                        sequence,
                        send_time: now,
                        size: r.size,
                        probe: r.probe,
                    },
                    receive_time: Some(now + TimeDelta::from_millis(40)),
                };
                filled += 1;
            }
            sequence += 1;
        }
        if filled == batch.len() {
            let at = now + TimeDelta::from_millis(60);
            c.on_rtt(at, TimeDelta::from_millis(60));
            c.on_feedback(at, &batch[..]);
            c.feedback_done(at, Some(now));
            filled = 0;
        }
    }
    released
}

fn controller_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("controller_per_packet");
    group.throughput(Throughput::Elements(PACKETS as u64));
    group.bench_function(BenchmarkId::new("bwe_core", "SendSideController"), |b| {
        b.iter(|| black_box(run()))
    });
    group.finish();
}

criterion_group!(benches, controller_path);
criterion_main!(benches);
