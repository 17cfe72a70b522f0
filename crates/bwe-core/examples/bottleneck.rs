//! Drives both estimators through a deterministic bottleneck on the RFC 8867 §5.1 capacity
//! schedule (1.0 → 2.5 → 0.6 → 1.0 Mbit/s at 0/40/60/80 s, 50 ms one way, 300 ms drop-tail queue)
//! and prints one line per second.
//!
//! `cargo run --release -p bwe-core --example bottleneck [-- --seed N --seconds S]`

#[path = "../tests/support/mod.rs"]
mod support;

use bwe_core::receive_side::ReceiveSideConfig;
use bwe_core::send_side::SendSideConfig;
use bwe_core::{Bitrate, TimeDelta, Timestamp};
use support::bottleneck::{Bottleneck, Schedule};
use support::receive_loop::ReceiveLoop;
use support::send_loop::SendLoop;

fn arg(name: &str, default: i64) -> Result<i64, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .ok_or_else(|| format!("{name} needs a value"))?
            .parse()
            .map_err(|e| format!("{name}: {e}")),
    }
}

fn main() {
    let (seed, seconds) = match (arg("--seed", 1), arg("--seconds", 100)) {
        (Ok(s), Ok(d)) if d > 0 => (s as u64, d),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
        _ => {
            eprintln!("error: --seconds must be positive");
            std::process::exit(2);
        }
    };
    let schedule = Schedule::steps(&[(0, 1000), (40_000, 2500), (60_000, 600), (80_000, 1000)]);
    let link = |seed| {
        Bottleneck::new(
            schedule.clone(),
            TimeDelta::from_millis(50),
            TimeDelta::from_millis(300),
            seed,
        )
    };
    let mut send = SendLoop::new(SendSideConfig::default(), link(seed));
    let mut recv = ReceiveLoop::new(
        ReceiveSideConfig::default(),
        link(seed),
        Bitrate::from_kbps(300),
    );

    println!("bottleneck: RFC 8867 5.1 schedule, 50 ms one way, 300 ms queue, seed {seed}");
    println!(
        "left: send side (TWCC-style feedback every 50 ms); right: REMB (receive side) with a"
    );
    println!("loss-based sender capped by REMB. Rates in kbit/s.");
    println!(
        "{:>5} {:>8} | {:>8} {:>8} {:>8} {:>6} | {:>8} {:>8} {:>8}",
        "t_s", "capacity", "target", "goodput", "queue_ms", "loss%", "remb", "rate", "queue_ms"
    );
    let mut last_bytes = 0u64;
    let (mut last_sent, mut last_lost) = (0u64, 0u64);
    for s in 1..=seconds {
        let t = Timestamp::from_secs(s);
        send.run_until(t);
        recv.run_until(t);
        let goodput = (send.delivered_bytes - last_bytes) as f64 * 8.0 / 1000.0;
        let sent = send.sent - last_sent;
        let lost = send.lost - last_lost;
        last_bytes = send.delivered_bytes;
        last_sent = send.sent;
        last_lost = send.lost;
        let queue = |d: TimeDelta| d.as_millis_f64();
        let last = send.samples.last().copied();
        let rlast = recv.samples.last().copied();
        println!(
            "{:>5} {:>8.0} | {:>8.0} {:>8.0} {:>8.1} {:>6.1} | {:>8} {:>8.0} {:>8.1}",
            s,
            last.map_or(0.0, |l| l.capacity.as_kbps_f64()),
            send.estimator.target().as_kbps_f64(),
            goodput,
            last.map_or(0.0, |l| queue(l.queue_delay)),
            if sent > 0 {
                lost as f64 * 100.0 / sent as f64
            } else {
                0.0
            },
            rlast
                .and_then(|l| l.remb)
                .map_or("-".to_string(), |e| format!("{:.0}", e.as_kbps_f64())),
            rlast.map_or(0.0, |l| l.send_rate.as_kbps_f64()),
            rlast.map_or(0.0, |l| queue(l.queue_delay)),
        );
    }
}
