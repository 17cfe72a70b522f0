//! The shaping relay on the wall clock, between two real UDP sockets: the link model's rate,
//! delay and queue apply to real datagrams, both ways, and a capacity change takes effect.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;
use vnet_sim::relay::{Direction, RelayConfig, ShapingRelay};
use vnet_sim::{Fate, LinkConfig, QueueLimit, Rate, RateSchedule, SimDuration};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn link(kbps: u64, delay_ms: u64, queue_ms: u64) -> LinkConfig {
    LinkConfig {
        capacity: RateSchedule::from(Rate::from_kbps(kbps)),
        queue: QueueLimit::Time(SimDuration::from_millis(queue_ms)),
        delay: SimDuration::from_millis(delay_ms),
        ..LinkConfig::default()
    }
}

/// Sends `count` datagrams of `bytes` from `from` to `to` as fast as the socket takes them.
async fn burst(from: &UdpSocket, to: SocketAddr, count: u32, bytes: usize) {
    for i in 0..count {
        let mut datagram = vec![0u8; bytes];
        datagram[..4].copy_from_slice(&i.to_be_bytes());
        from.send_to(&datagram, to).await.expect("sent");
    }
}

/// Receives until `quiet` passes with nothing; returns each datagram's number and arrival.
async fn drain(socket: &UdpSocket, quiet: Duration) -> Vec<(u32, Instant)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2_048];
    while let Ok(Ok((n, _))) = tokio::time::timeout(quiet, socket.recv_from(&mut buf)).await {
        assert!(n >= 4);
        out.push((
            u32::from_be_bytes(buf[..4].try_into().expect("4 bytes")),
            Instant::now(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_datagrams_meet_the_links_rate_delay_and_queue_both_ways() {
    let relay = ShapingRelay::start(
        LOCALHOST,
        RelayConfig {
            // 1 Mbit/s, 40 ms, 200 ms of queue: 972 + 28 bytes = 8 ms each.
            a_to_b: link(1_000, 40, 200),
            b_to_a: link(2_000, 10, 200),
            seed: 1,
        },
    )
    .await
    .expect("relay");
    let x = UdpSocket::bind((LOCALHOST, 0)).await.expect("x");
    let y = UdpSocket::bind((LOCALHOST, 0)).await.expect("y");
    // X speaks first: the relay learns X, but does not know Y yet, so X's datagram is
    // undeliverable. Then Y speaks and reaches X; from then on both ways work.
    x.send_to(b"hello-from-x", relay.side_a())
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(100)).await;
    y.send_to(b"hello-from-y", relay.side_b())
        .await
        .expect("sent");
    let mut buf = [0u8; 64];
    let (n, from) = tokio::time::timeout(Duration::from_secs(2), x.recv_from(&mut buf))
        .await
        .expect("in time")
        .expect("received");
    assert_eq!(&buf[..n], b"hello-from-y");
    assert_eq!(from, relay.side_a(), "Y's datagram comes from side A");

    let sent_at = Instant::now();
    burst(&x, relay.side_a(), 50, 972).await;
    let arrivals = drain(&y, Duration::from_millis(500)).await;
    // 200 ms of queue at 8 ms a packet: about 25 fit (one in service besides); the rest drop.
    let numbers: Vec<u32> = arrivals.iter().map(|(i, _)| *i).collect();
    assert!(
        (22..=30).contains(&numbers.len()),
        "{} of 50 delivered: {numbers:?}",
        numbers.len()
    );
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in order");
    let first = arrivals[0].1 - sent_at;
    assert!(
        (Duration::from_millis(45)..=Duration::from_millis(90)).contains(&first),
        "first after {first:?} (40 ms + 8 ms)"
    );
    let spread = arrivals[arrivals.len() - 1].1 - arrivals[0].1;
    let per_packet = spread.as_secs_f64() / (arrivals.len() - 1) as f64;
    assert!(
        (0.007..=0.010).contains(&per_packet),
        "{:.2} ms per packet at 1 Mbit/s",
        per_packet * 1e3
    );

    // Half the rate: twice the spacing.
    relay.set_capacity(Direction::AToB, Rate::from_kbps(500));
    tokio::time::sleep(Duration::from_millis(50)).await;
    burst(&x, relay.side_a(), 10, 972).await;
    let slower = drain(&y, Duration::from_millis(500)).await;
    assert_eq!(slower.len(), 10);
    let per_packet = (slower[9].1 - slower[0].1).as_secs_f64() / 9.0;
    assert!(
        (0.014..=0.019).contains(&per_packet),
        "{:.2} ms per packet at 500 kbit/s",
        per_packet * 1e3
    );

    let report = relay.stop().await.expect("stopped");
    let delivered = report
        .a_to_b
        .log
        .iter()
        .filter(|r| r.fate == Fate::Delivered)
        .count();
    assert_eq!(delivered, 1 + arrivals.len() + slower.len());
    assert_eq!(report.a_to_b.log.len(), 61, "every datagram logged");
    assert_eq!(report.b_to_a.log.len(), 1);
    assert_eq!(
        report.a_to_b.undeliverable, 1,
        "X's hello, before Y was known"
    );
    assert_eq!(report.b_to_a.undeliverable, 0);
    let queued = report
        .a_to_b
        .log
        .iter()
        .filter_map(|r| r.queue_delay)
        .max()
        .expect("queue delays logged");
    assert!(
        (SimDuration::from_millis(150)..=SimDuration::from_millis(215)).contains(&queued),
        "longest wait {queued:?}"
    );
}
