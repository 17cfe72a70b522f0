//! Two real webrtc-rs 0.17 PeerConnections on the virtual network.

use std::time::{Duration, Instant};

use bwe_webrtc017::vnet::{
    VirtualNetwork, VnetConfig, connect_vnet_peers, new_vnet_peer_connection,
    wait_for_peer_connection_state,
};
use interceptor::registry::Registry;
use tokio::sync::mpsc;
use webrtc::api::media_engine::MediaEngine;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;

fn media_engine() -> MediaEngine {
    let mut engine = MediaEngine::default();
    engine
        .register_default_codecs()
        .expect("the default codecs register");
    engine
}

/// The helpers must give a working call: ICE, DTLS and SCTP over a 50 ms one-way link, and a
/// message that takes at least that latency to cross.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_on_a_50_ms_vnet_connect_and_carry_a_data_channel_message() {
    let mut network = VirtualNetwork::new(VnetConfig {
        latency: Duration::from_millis(50),
        ..VnetConfig::default()
    })
    .await
    .expect("router");
    let offer_net = network.add_net().await.expect("offerer host");
    let answer_net = network.add_net().await.expect("answerer host");
    let offerer = new_vnet_peer_connection(Some(offer_net), media_engine(), Registry::new())
        .await
        .expect("offerer");
    let answerer = new_vnet_peer_connection(Some(answer_net), media_engine(), Registry::new())
        .await
        .expect("answerer");

    let (received_tx, mut received) = mpsc::channel::<(Instant, String)>(1);
    answerer.on_data_channel(Box::new(move |channel| {
        let received_tx = received_tx.clone();
        Box::pin(async move {
            channel.on_message(Box::new(move |message| {
                let received_tx = received_tx.clone();
                Box::pin(async move {
                    let text = String::from_utf8_lossy(&message.data).into_owned();
                    let _ = received_tx.send((Instant::now(), text)).await;
                })
            }));
        })
    }));
    let channel = offerer
        .create_data_channel("chat", None)
        .await
        .expect("data channel");
    let (open_tx, mut open) = mpsc::channel::<()>(1);
    channel.on_open(Box::new(move || {
        Box::pin(async move {
            let _ = open_tx.send(()).await;
        })
    }));

    let start = Instant::now();
    connect_vnet_peers(&offerer, &answerer)
        .await
        .expect("offer/answer");
    for pc in [&offerer, &answerer] {
        wait_for_peer_connection_state(
            pc,
            RTCPeerConnectionState::Connected,
            Duration::from_secs(5),
        )
        .await
        .expect("connected");
    }
    let connected_after = start.elapsed();
    tokio::time::timeout(Duration::from_secs(3), open.recv())
        .await
        .expect("channel opens in time")
        .expect("open signalled");

    let sent_at = Instant::now();
    channel.send_text("over the vnet").await.expect("sent");
    let (arrived_at, text) = tokio::time::timeout(Duration::from_secs(2), received.recv())
        .await
        .expect("message in time")
        .expect("message");
    assert_eq!(text, "over the vnet");
    let transit = arrived_at - sent_at;
    assert!(
        (Duration::from_millis(50)..=Duration::from_millis(300)).contains(&transit),
        "message took {transit:?} over a 50 ms link"
    );
    // ICE checks, DTLS and SCTP each take round trips of 100 ms; more than 4 s means a stall.
    assert!(
        (Duration::from_millis(200)..=Duration::from_secs(4)).contains(&connected_after),
        "connected after {connected_after:?}"
    );
    offerer.close().await.expect("close");
    answerer.close().await.expect("close");
    network.stop().await.expect("router stops");
}
