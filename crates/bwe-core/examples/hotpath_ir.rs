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

use bwe_core::PacketResult;
use rtc::interceptor::PacketReport;

#[path = "../benches/common/mod.rs"]
mod common;
use common::{Packet, reports, results, traffic};

#[inline(never)]
fn run_ours_receive(packets: &[Packet]) {
    black_box(common::ours_receive(packets));
}

#[inline(never)]
fn run_gcc_receive(reps: &[PacketReport], epoch: Instant) {
    black_box(common::gcc_receive(reps, epoch));
}

#[inline(never)]
fn run_ours_send(ours: &[PacketResult]) {
    black_box(common::ours_send(ours));
}

#[inline(never)]
fn run_gcc_send(reps: &[PacketReport], ours: &[PacketResult], epoch: Instant) {
    black_box(common::gcc_send(reps, ours, epoch));
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
