//! Runs one hot path of the `estimators` bench once, for an instruction count under callgrind:
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='hotpath_ir::run_*' \
//!     target/release/examples/hotpath_ir ours-receive
//! ```
//!
//! Paths: `ours-receive`, `gcc-receive`, `ours-send`, `gcc-send`. The traffic is the bench's.
//!
//! An optional second argument repeats the path that many times and prints the fastest run in
//! ns per element: on a loaded machine the minimum is a steadier figure than criterion's mean.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use rtc::interceptor::{BandwidthEstimator, Gcc};

#[path = "../benches/common/mod.rs"]
mod common;
use bwe_core::{DataSize, PacketResult, Timestamp};
use common::{BATCH, Packet, feedback_time, reports, results, traffic};
use rtc::interceptor::PacketReport;

#[inline(never)]
fn run_ours_receive(packets: &[Packet]) {
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
    black_box(est.estimate());
}

#[inline(never)]
fn run_gcc_receive(reps: &[PacketReport], epoch: Instant) {
    let mut gcc = Gcc::default();
    for r in reps.iter().filter(|r| r.arrived) {
        let now = epoch + r.arrival.unwrap_or_default();
        gcc.on_reports(now, std::slice::from_ref(r));
    }
    black_box(gcc.target_bitrate());
}

#[inline(never)]
fn run_ours_send(ours: &[PacketResult]) {
    let mut est = SendSideEstimator::new(SendSideConfig::default());
    est.on_network_available(Timestamp::ZERO);
    for batch in ours.chunks(BATCH) {
        est.on_feedback(feedback_time(batch), black_box(batch));
    }
    black_box(est.target());
}

#[inline(never)]
fn run_gcc_send(reps: &[PacketReport], ours: &[PacketResult], epoch: Instant) {
    let mut gcc = Gcc::default();
    for (batch, mine) in reps.chunks(BATCH).zip(ours.chunks(BATCH)) {
        let now = epoch + Duration::from_micros(feedback_time(mine).as_micros() as u64);
        gcc.on_reports(now, black_box(batch));
    }
    black_box(gcc.target_bitrate());
}

fn main() {
    let packets = traffic();
    let epoch = Instant::now();
    let reps = reports(&packets, epoch);
    let ours = results(&packets);
    let received = packets.iter().filter(|p| p.arrival.is_some()).count();
    let path = std::env::args().nth(1).unwrap_or_default();
    let repeats: u32 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let mut best = Duration::MAX;
    for _ in 0..repeats {
        let start = Instant::now();
        run(&path, &packets, &reps, &ours, epoch);
        best = best.min(start.elapsed());
    }
    let elements = if path.ends_with("receive") {
        received
    } else {
        packets.len()
    };
    let ns = best.as_nanos() as f64 / elements as f64;
    println!("{path}: {elements} elements, fastest of {repeats} runs {ns:.1} ns per element");
}

fn run(
    path: &str,
    packets: &[Packet],
    reps: &[PacketReport],
    ours: &[PacketResult],
    epoch: Instant,
) {
    match path {
        "ours-receive" => run_ours_receive(packets),
        "gcc-receive" => run_gcc_receive(reps, epoch),
        "ours-send" => run_ours_send(ours),
        "gcc-send" => run_gcc_send(reps, ours, epoch),
        other => {
            eprintln!("unknown path {other:?}: ours-receive, gcc-receive, ours-send, gcc-send");
            std::process::exit(2);
        }
    }
}
