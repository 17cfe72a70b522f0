//! Static routes: hosts without a link between them reach each other through a router, and a
//! shared bottleneck's log tells its senders apart (the shape of RFC 8867 §5.5).
#![cfg(feature = "webrtc")]

mod support;

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use bytes::BytesMut;
use vnet_sim::peer::{SimPeer, connect};
use vnet_sim::{HostId, LinkConfig, PacketRecord, Rate, Sim, SimDuration, SimError, SimTime};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::runtime::{AsyncUdpSocket, Runtime};

const SECOND: SimDuration = SimDuration::from_secs(1);

fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

/// A link of `delay` one way and nothing else, with its log on.
fn delay(n: u64) -> LinkConfig {
    LinkConfig {
        delay: ms(n),
        record_log: true,
        ..LinkConfig::default()
    }
}

fn socket(sim: &Sim, host: HostId) -> (Arc<dyn AsyncUdpSocket>, SocketAddr) {
    let ip = sim.host_ip(host).expect("a host of this simulation");
    let real = UdpSocket::bind((ip, 0)).expect("127/8 binds on Linux");
    let socket = sim.wrap_udp_socket(real).expect("a host address");
    let addr = socket.local_addr().expect("bound");
    (socket, addr)
}

/// Packets of `log` per origin.
fn per_origin(log: &[PacketRecord]) -> BTreeMap<u32, usize> {
    let mut counts = BTreeMap::new();
    for r in log {
        *counts.entry(r.origin).or_default() += 1;
    }
    counts
}

/// The router forwards at the instant it receives, so a routed path's delay is exactly the sum
/// of its links' and scenario delays add up as configured.
#[test]
fn a_routed_datagram_arrives_after_the_sum_of_both_links_delays() {
    let mut builder = Sim::builder().seed(5);
    let (a, r, d) = (builder.host("a"), builder.host("r"), builder.host("d"));
    builder.link(a, r, delay(10)).link(r, d, delay(25));
    builder.route(a, d, r);
    let sim = builder.build().expect("valid topology");
    let (tx, tx_addr) = socket(&sim, a);
    let (rx, rx_addr) = socket(&sim, d);
    let (at, got, from) = sim
        .run(async {
            tx.send_to(b"hello", rx_addr).await.expect("sent");
            let mut buf = [0u8; 64];
            let (n, from) = rx.recv_from(&mut buf).await.expect("received");
            (sim.time(), buf[..n].to_vec(), from)
        })
        .expect("runs");
    assert_eq!(at, SimTime::from_millis(35));
    assert_eq!((got.as_slice(), from), (&b"hello"[..], tx_addr));
    let hop = sim.link_log(r, d).expect("r -> d");
    assert_eq!(hop.len(), 1);
    assert_eq!(
        (hop[0].origin, hop[0].sent, hop[0].size),
        (a.index(), SimTime::from_millis(10), 5 + 28)
    );
    let stats = sim.network_stats();
    assert_eq!((stats.unroutable.packets, stats.hop_limit.packets), (0, 0));
}

/// Splitting a shared bottleneck's log per flow is what a multi-flow fairness scenario plots;
/// the origin must be the sender's host, not the router that handed the packet on.
#[test]
fn a_shared_bottleneck_logs_each_packet_with_its_sending_host() {
    let mut builder = Sim::builder().seed(6);
    let (a, b) = (builder.host("a"), builder.host("b"));
    let (r, d) = (builder.host("router"), builder.host("d"));
    let bottleneck = LinkConfig {
        capacity: Rate::from_kbps(1_000).into(),
        ..delay(5)
    };
    builder
        .link(a, r, delay(10))
        .link(b, r, delay(100))
        .link(r, d, bottleneck);
    builder.route(a, d, r).route(b, d, r);
    let sim = builder.build().expect("valid topology");
    let (ta, _) = socket(&sim, a);
    let (tb, _) = socket(&sim, b);
    let (rx, rx_addr) = socket(&sim, d);
    let got = sim
        .run(async {
            for _ in 0..3 {
                ta.send_to(&[1; 100], rx_addr).await.expect("sent");
            }
            for _ in 0..2 {
                tb.send_to(&[2; 100], rx_addr).await.expect("sent");
            }
            let mut buf = [0u8; 256];
            let mut got = Vec::new();
            for _ in 0..5 {
                let (n, _) = rx.recv_from(&mut buf).await.expect("received");
                got.push((buf[0], n, sim.time()));
            }
            got
        })
        .expect("runs");
    // a's three arrive first (10 ms access), b's two 90 ms later.
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        vec![1, 1, 1, 2, 2]
    );
    let log = sim.link_log(r, d).expect("r -> d");
    assert_eq!(
        per_origin(&log),
        BTreeMap::from([(a.index(), 3), (b.index(), 2)])
    );
    assert!(log.iter().all(|p| p.origin != r.index()));
    // 128 bytes at 1 Mbit/s is 1.024 ms each; a's three queue behind each other.
    assert_eq!(got[2].2, SimTime::from_micros(10_000 + 3 * 1_024 + 5_000));
    assert_eq!(per_origin(&sim.link_log(a, r).expect("a -> r")).len(), 1);
}

/// Mistakes in a route must stop the build with the route named, not drop datagrams later.
#[test]
fn a_bad_route_is_a_build_error_naming_it() {
    let topology = |route: &dyn Fn(&mut vnet_sim::SimBuilder, [HostId; 3])| {
        let mut builder = Sim::builder().seed(1);
        let hosts = [builder.host("a"), builder.host("r"), builder.host("d")];
        builder.path(hosts[0], hosts[1], LinkConfig::default());
        route(&mut builder, hosts);
        builder.build().expect_err("refused")
    };
    let no_first_hop = topology(&|b, [a, _, d]| {
        b.route(d, a, a);
    });
    assert_eq!(
        no_first_hop.to_string(),
        "the route at d for a goes via a, but there is no link d -> a"
    );
    let looped = topology(&|b, [a, r, d]| {
        b.route(a, d, r).route(r, d, a);
    });
    assert_eq!(
        looped.to_string(),
        "the route at a for d loops: a -> r -> a"
    );
    let dead_end = topology(&|b, [a, r, d]| {
        b.route(a, d, r);
    });
    assert_eq!(
        dead_end.to_string(),
        "the route at a for d stops at r: no link or route from there to d"
    );
    let mut other = Sim::builder().seed(1);
    let stranger = ["w", "x", "y", "z"].map(|n| other.host(n))[3];
    let unknown = topology(&|b, [a, r, _]| {
        b.route(a, stranger, r);
    });
    assert_eq!(unknown, SimError::UnknownHost { host: stranger });
}

/// Waits for the channel to open.
async fn opened(dc: &dyn DataChannel) {
    while let Some(event) = dc.poll().await {
        if matches!(event, DataChannelEvent::OnOpen) {
            return;
        }
    }
}

/// Connects `sender` to `receiver` and sends `count` messages of 600 bytes every 20 ms.
async fn flow(sim: &Sim, sender: &SimPeer, receiver: &SimPeer, count: usize) {
    let dc = sender
        .pc()
        .create_data_channel("data", None)
        .await
        .expect("channel");
    connect(sender, receiver, SECOND).await.expect("negotiates");
    sender
        .wait_for_state(
            RTCPeerConnectionState::Connected,
            SimDuration::from_secs(20),
        )
        .await
        .expect("connects through the router");
    opened(dc.as_ref()).await;
    for _ in 0..count {
        dc.send(BytesMut::from(&[7u8; 600][..]))
            .await
            .expect("send");
        sim.sleep_for(ms(20)).await;
    }
}

/// Two real PeerConnection pairs, with access delays of 10 and 50 ms, share one impaired
/// bottleneck behind a router; returns the bottleneck's log and the two senders.
fn two_flows(seed: u64) -> (Vec<PacketRecord>, HostId, HostId) {
    let mut builder = Sim::builder().seed(seed);
    let (s1, s2) = (builder.host("sender1"), builder.host("sender2"));
    let (r, d) = (builder.host("router"), builder.host("receiver"));
    builder
        .path(s1, r, delay(10))
        .path(s2, r, delay(50))
        .link(r, d, support::impaired(2_000, 0.0))
        .link(d, r, delay(20));
    for s in [s1, s2] {
        builder.route(s, d, r).route(d, s, r);
    }
    let sim = builder.build().expect("valid topology");
    sim.run(async {
        let p1 = sim.peer(s1).build().await.expect("sender1");
        let p2 = sim.peer(s2).build().await.expect("sender2");
        let q1 = sim.peer(d).build().await.expect("receiver 1");
        let q2 = sim.peer(d).build().await.expect("receiver 2");
        let one = flow(&sim, &p1, &q1, 50);
        let two = flow(&sim, &p2, &q2, 50);
        futures::join!(one, two);
        sim.sleep_for(SECOND).await;
    })
    .expect("the simulation runs");
    assert_eq!(sim.network_stats().hop_limit.packets, 0);
    (sim.link_log(r, d).expect("router -> receiver"), s1, s2)
}

/// The RFC 8867 §5.5 shape on real stacks: both flows get through the shared bottleneck, its
/// log splits per sender, and a seed fixes every packet of it.
#[test]
fn two_peer_connections_share_a_routed_bottleneck_deterministically() {
    let (first, s1, s2) = two_flows(1);
    let (second, _, _) = two_flows(1);
    let counts = per_origin(&first);
    eprintln!("bottleneck packets per origin: {counts:?}");
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        vec![s1.index(), s2.index()]
    );
    for (origin, n) in &counts {
        assert!((50..1_000).contains(n), "origin {origin}: {n} packets");
    }
    assert_eq!(first.len(), second.len());
    if let Some(i) = first.iter().zip(&second).position(|(x, y)| x != y) {
        panic!("diverges at packet {i}: {:?} vs {:?}", first[i], second[i]);
    }
}
