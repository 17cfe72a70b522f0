//! Real webrtc PeerConnections over the simulator: a data channel opens and carries messages.
#![cfg(feature = "webrtc")]

use std::time::Instant;

use bytes::BytesMut;
use vnet_sim::peer::{SimPeer, connect};
use vnet_sim::{LinkConfig, Sim, SimDuration};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::RTCPeerConnectionState;

const SECOND: SimDuration = SimDuration::from_secs(1);

/// Waits for the channel's next message, skipping other events.
async fn next_message(dc: &dyn DataChannel) -> Option<Vec<u8>> {
    while let Some(event) = dc.poll().await {
        if let DataChannelEvent::OnMessage(m) = event {
            return Some(m.data.to_vec());
        }
    }
    None
}

/// Waits for the channel to open.
async fn opened(dc: &dyn DataChannel) -> bool {
    while let Some(event) = dc.poll().await {
        if matches!(event, DataChannelEvent::OnOpen) {
            return true;
        }
    }
    false
}

/// The basic promise of the crate: two unmodified PeerConnections complete ICE, DTLS and SCTP
/// over simulated links and exchange application data both ways, in virtual time.
#[test]
fn a_data_channel_opens_and_carries_a_message_both_ways() {
    let wall = Instant::now();
    let mut builder = Sim::builder().seed(1);
    let (a, b) = (builder.host("alice"), builder.host("bob"));
    builder.path(a, b, LinkConfig::wired());
    let sim = builder.build().expect("valid topology");
    let (connected_at, reply) = sim
        .run(async {
            let alice: SimPeer = sim.peer(a).build().await.expect("alice builds");
            let bob = sim.peer(b).build().await.expect("bob builds");
            let dc = alice
                .pc()
                .create_data_channel("chat", None)
                .await
                .expect("channel");
            connect(&alice, &bob, SECOND).await.expect("negotiates");
            alice
                .wait_for_state(
                    RTCPeerConnectionState::Connected,
                    SimDuration::from_secs(10),
                )
                .await
                .expect("alice connects");
            let connected_at = sim.time();
            let remote = bob
                .next_data_channel(SimDuration::from_secs(10))
                .await
                .expect("bob sees it");
            assert!(opened(dc.as_ref()).await, "alice's channel opens");
            dc.send(BytesMut::from(&b"ping"[..])).await.expect("send");
            let got = next_message(remote.as_ref()).await.expect("bob receives");
            assert_eq!(got, b"ping");
            remote
                .send(BytesMut::from(&b"pong"[..]))
                .await
                .expect("reply");
            let reply = next_message(dc.as_ref()).await.expect("alice receives");
            (connected_at, reply)
        })
        .expect("the simulation runs");
    assert_eq!(reply, b"pong");
    eprintln!(
        "connected at {connected_at}, done at {}, wall {:?}",
        sim.time(),
        wall.elapsed()
    );
}
