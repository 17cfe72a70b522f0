//! A shaping relay for any two UDP endpoints, on the wall clock: give endpoint X side A's
//! address as its peer's and endpoint Y side B's, and every datagram between them meets the
//! link model (here: a capacity with a drop-tail queue and a one-way delay, the same both
//! ways).
//!
//! ```sh
//! cargo run -p vnet-sim --features relay --example relay -- 1000 50 300 30
//! #                                     kbit/s, one-way ms, queue ms, seconds
//! ```
//!
//! It prints both sides' addresses, relays for the given time and prints what each
//! direction carried, dropped and delayed.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vnet_sim::relay::{DirectionReport, RelayConfig, ShapingRelay};
use vnet_sim::{Fate, LinkConfig, QueueLimit, Rate, RateSchedule, SimDuration};

fn arg(args: &[String], i: usize, default: u64) -> u64 {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn describe(name: &str, d: &DirectionReport) {
    let delivered = d.log.iter().filter(|r| r.fate == Fate::Delivered).count();
    let mut waits: Vec<SimDuration> = d.log.iter().filter_map(|r| r.queue_delay).collect();
    waits.sort();
    let p95 = waits
        .get(waits.len().saturating_sub(1) * 95 / 100)
        .map_or(0.0, |w| w.as_secs_f64() * 1e3);
    println!(
        "{name}: {} datagrams in, {delivered} delivered, {} dropped, p95 time in the queue {p95:.1} ms, {} undeliverable",
        d.log.len(),
        d.log.len() - delivered,
        d.undeliverable
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kbps, delay_ms, queue_ms, secs) = (
        arg(&args, 0, 1_000),
        arg(&args, 1, 50),
        arg(&args, 2, 300),
        arg(&args, 3, 30),
    );
    let link = LinkConfig {
        capacity: RateSchedule::from(Rate::from_kbps(kbps)),
        queue: QueueLimit::Time(SimDuration::from_millis(queue_ms)),
        delay: SimDuration::from_millis(delay_ms),
        ..LinkConfig::default()
    };
    let relay = ShapingRelay::start(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        RelayConfig {
            a_to_b: link.clone(),
            b_to_a: link,
            seed: 1,
        },
    )
    .await?;
    println!(
        "{kbps} kbit/s, {delay_ms} ms one way, {queue_ms} ms of queue, for {secs} s\n\
         side A: {} (endpoint X's peer address: what X sends takes link A → B)\n\
         side B: {} (endpoint Y's peer address)",
        relay.side_a(),
        relay.side_b()
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let report = relay.stop().await?;
    describe("A → B", &report.a_to_b);
    describe("B → A", &report.b_to_a);
    Ok(())
}
