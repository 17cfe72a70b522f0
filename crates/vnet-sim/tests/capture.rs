//! Capture: a simulation built with `capture(true)` gives one pcap file per link holding every
//! datagram that entered it, with the simulated sockets' addresses and virtual-time stamps.
#![cfg(feature = "webrtc")]

mod support;

use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::Arc;

use vnet_sim::peer::connect;
use vnet_sim::{HostId, LinkConfig, LossModel, Rate, Sim, SimDuration, SimTime, read_udp};
use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::runtime::{AsyncUdpSocket, Runtime};

fn socket(sim: &Sim, host: HostId) -> (Arc<dyn AsyncUdpSocket>, SocketAddrV4) {
    let ip = sim.host_ip(host).expect("a host of this simulation");
    let real = UdpSocket::bind((ip, 0)).expect("127/8 binds on Linux");
    let socket = sim.wrap_udp_socket(real).expect("a host address");
    match socket.local_addr().expect("bound") {
        SocketAddr::V4(addr) => (socket, addr),
        SocketAddr::V6(addr) => panic!("hosts are IPv4, got {addr}"),
    }
}

/// Each link's file holds every datagram offered to it — those its loss stage then dropped
/// too — so its record count and bytes are the link's `sent`, each record stamped with the
/// instant the datagram entered (the link log's `sent`), addressed as the sockets were. A
/// forwarded datagram keeps its original addresses on the next link.
#[test]
fn every_link_captures_each_datagram_it_is_offered_with_its_entry_time() {
    let mut builder = Sim::builder().seed(3).capture(true);
    let (a, r, d) = (builder.host("a"), builder.host("r"), builder.host("d"));
    let access = LinkConfig {
        delay: SimDuration::from_millis(10),
        record_log: true,
        ..LinkConfig::default()
    };
    let lossy = LinkConfig {
        capacity: Rate::from_kbps(800).into(),
        delay: SimDuration::from_millis(25),
        loss: LossModel::Bernoulli { probability: 0.2 },
        record_log: true,
        ..LinkConfig::default()
    };
    builder.link(a, r, access).link(r, d, lossy);
    builder.route(a, d, r);
    let sim = builder.build().expect("valid topology");
    let (tx, tx_addr) = socket(&sim, a);
    let (_rx, rx_addr) = socket(&sim, d);
    sim.run(async {
        for i in 0..200u16 {
            let payload = vec![(i % 251) as u8; 100 + usize::from(i)];
            tx.send_to(&payload, rx_addr.into()).await.expect("sent");
            sim.sleep_for(SimDuration::from_millis(3)).await;
        }
        sim.sleep_for(SimDuration::from_secs(1)).await;
    })
    .expect("runs");

    let captures = sim.take_link_captures();
    let names: Vec<&str> = captures.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a-r", "r-d"]);
    assert_eq!(captures[1].file_name(), "r-d.pcap");
    for capture in &captures {
        let stats = sim.link_stats(capture.from, capture.to).expect("exists");
        let log = sim.link_log(capture.from, capture.to).expect("exists");
        let records = read_udp(&capture.pcap).expect("our own format reads back");
        assert_eq!(records.len() as u64, stats.sent.packets, "{}", capture.name);
        let bytes: u64 = records.iter().map(|r| r.payload_len as u64 + 28).sum();
        assert_eq!(bytes, stats.sent.bytes, "{}", capture.name);
        let mut sent: Vec<SimTime> = log.iter().map(|p| p.sent).collect();
        sent.sort_unstable();
        let times: Vec<SimTime> = records.iter().map(|r| r.time).collect();
        assert_eq!(times, sent, "{}", capture.name);
        assert!(records.iter().all(|r| r.src == tx_addr && r.dst == rx_addr));
        assert_eq!(records[7].payload, vec![7u8; 107]);
    }
    let bottleneck = sim.link_stats(r, d).expect("exists");
    assert!(bottleneck.dropped_loss.packets > 0 && bottleneck.sent.packets == 200);
    // Taking leaves each link capturing into a fresh, empty file.
    let again = sim.take_link_captures();
    assert!(
        again
            .iter()
            .all(|c| read_udp(&c.pcap).map(|r| r.len()).ok() == Some(0))
    );
}

/// Real PeerConnections over a lossy, jittery path: every datagram of ICE and DTLS on each
/// link is in its file, and a simulation that does not capture has no files.
#[test]
fn a_webrtc_handshake_is_captured_datagram_for_datagram() {
    let run = |capture: bool| {
        let mut builder = Sim::builder().seed(11).capture(capture);
        let (a, b) = (builder.host("alice"), builder.host("bob"));
        builder.path(a, b, support::impaired(2_000, 0.02));
        let sim = builder.build().expect("valid topology");
        sim.run(async {
            let alice = sim.peer(a).build().await.expect("alice builds");
            let bob = sim.peer(b).build().await.expect("bob builds");
            let _dc = alice.pc().create_data_channel("x", None).await.expect("dc");
            connect(&alice, &bob, SimDuration::from_secs(1))
                .await
                .expect("negotiates");
            alice
                .wait_for_state(
                    RTCPeerConnectionState::Connected,
                    SimDuration::from_secs(10),
                )
                .await
                .expect("connects");
            sim.sleep_for(SimDuration::from_secs(1)).await;
        })
        .expect("runs");
        let captures = sim.take_link_captures();
        let stats: Vec<_> = [(a, b), (b, a)]
            .iter()
            .map(|&(f, t)| sim.link_stats(f, t).expect("exists"))
            .collect();
        (captures, stats)
    };
    let (captures, stats) = run(true);
    assert_eq!(captures.len(), 2);
    for (capture, stats) in captures.iter().zip(&stats) {
        let records = read_udp(&capture.pcap).expect("reads back");
        assert!(records.len() > 10, "{}: {}", capture.name, records.len());
        assert_eq!(records.len() as u64, stats.sent.packets, "{}", capture.name);
    }
    let (uncaptured, _) = run(false);
    assert!(uncaptured.is_empty());
}
