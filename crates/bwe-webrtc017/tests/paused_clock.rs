//! What of a 0.17 call follows tokio's paused clock, stated as tests so that a change upstream
//! shows up here.

use std::time::Duration;

use bwe_webrtc017::vnet::{
    VirtualNetwork, VnetConfig, VnetError, connect_vnet_peers, new_vnet_peer_connection,
    wait_for_peer_connection_state,
};
use interceptor::registry::Registry;
use webrtc::api::media_engine::MediaEngine;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;

fn media_engine() -> MediaEngine {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    engine
}

/// Connects two peers over a router with `latency`; returns the wait's outcome and how long it
/// took on the wall clock and on tokio's.
async fn connect(latency: Duration) -> (Result<(), VnetError>, Duration, Duration) {
    let wall = std::time::Instant::now();
    let virtual_start = tokio::time::Instant::now();
    let mut network = VirtualNetwork::new(VnetConfig {
        latency,
        ..VnetConfig::default()
    })
    .await
    .expect("router");
    let a_net = network.add_net().await.expect("host");
    let b_net = network.add_net().await.expect("host");
    let a = new_vnet_peer_connection(Some(a_net), media_engine(), Registry::new())
        .await
        .expect("pc");
    let b = new_vnet_peer_connection(Some(b_net), media_engine(), Registry::new())
        .await
        .expect("pc");
    a.create_data_channel("x", None)
        .await
        .expect("data channel");
    connect_vnet_peers(&a, &b).await.expect("signalling");
    let wanted = RTCPeerConnectionState::Connected;
    let result = wait_for_peer_connection_state(&a, wanted, Duration::from_secs(10)).await;
    let out = (result, wall.elapsed(), virtual_start.elapsed());
    a.close().await.expect("close");
    b.close().await.expect("close");
    network.stop().await.expect("router stops");
    out
}

/// ICE, DTLS and SCTP run on tokio timers: without router latency a paused-clock call connects
/// in virtual time, in milliseconds of wall time.
#[tokio::test(start_paused = true)]
async fn a_zero_latency_call_connects_on_a_paused_clock() {
    let (result, wall, virtual_time) = connect(Duration::ZERO).await;
    result.expect("connected");
    assert!(wall < Duration::from_secs(2), "{wall:?} of wall time");
    assert!(
        (Duration::from_millis(10)..=Duration::from_secs(3)).contains(&virtual_time),
        "{virtual_time:?} of virtual time"
    );
}

/// webrtc-util 0.17's router measures its delay on `SystemTime` but sleeps on tokio's clock:
/// on a paused clock every sleep ends at once while the wall clock barely moves, so no packet
/// ever becomes due and virtual time runs out. Latency needs a real-time test.
#[tokio::test(start_paused = true)]
async fn router_latency_does_not_follow_a_paused_clock() {
    let (result, wall, virtual_time) = connect(Duration::from_millis(50)).await;
    assert!(
        matches!(result, Err(VnetError::Timeout { .. })),
        "{result:?}: the router now follows the paused clock; move latency tests to it"
    );
    assert!(virtual_time >= Duration::from_secs(10));
    assert!(wall < Duration::from_secs(3), "{wall:?} of wall time");
}
