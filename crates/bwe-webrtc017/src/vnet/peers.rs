//! PeerConnections on a virtual network: build, connect, wait.
//!
//! Signalling is one offer and one answer, each sent once ICE gathering has finished, so the
//! descriptions carry every candidate (no trickle to wire up). Waiting polls the connection
//! state every 10 ms rather than installing an `on_peer_connection_state_change` handler, which
//! would replace the application's own (0.17 keeps one handler per event).

use std::sync::Arc;
use std::time::Duration;

use interceptor::registry::Registry;
use webrtc::api::APIBuilder;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc_util::vnet::net::Net;

use super::error::VnetError;

/// A `SettingEngine` whose ICE agent binds `net` instead of the host's interfaces.
pub fn vnet_setting_engine(net: Option<Arc<Net>>) -> Result<SettingEngine, VnetError> {
    let net = net.ok_or(VnetError::NoNet)?;
    if !net.is_virtual() {
        return Err(VnetError::NoNet);
    }
    let mut engine = SettingEngine::default();
    engine.set_vnet(Some(net));
    Ok(engine)
}

/// A PeerConnection on `net` with `media_engine` and `registry` (see
/// [`crate::configure_remb_bwe`]) and the default `RTCConfiguration` (no ICE servers: hosts on
/// one router reach each other directly).
pub async fn new_vnet_peer_connection(
    net: Option<Arc<Net>>,
    media_engine: MediaEngine,
    registry: Registry,
) -> Result<RTCPeerConnection, VnetError> {
    let api = APIBuilder::new()
        .with_setting_engine(vnet_setting_engine(net)?)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .build();
    Ok(api.new_peer_connection(RTCConfiguration::default()).await?)
}

/// Runs one offer/answer exchange with gathered candidates. The offerer must already have
/// something to negotiate (a track, a transceiver or a data channel).
pub async fn connect_vnet_peers(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
) -> Result<(), VnetError> {
    let offer = offerer.create_offer(None).await?;
    let mut gathered = offerer.gathering_complete_promise().await;
    offerer.set_local_description(offer).await?;
    let _ = gathered.recv().await;
    let offer = offerer
        .local_description()
        .await
        .ok_or(VnetError::NoLocalDescription("offerer"))?;

    answerer.set_remote_description(offer).await?;
    let answer = answerer.create_answer(None).await?;
    let mut gathered = answerer.gathering_complete_promise().await;
    answerer.set_local_description(answer).await?;
    let _ = gathered.recv().await;
    let answer = answerer
        .local_description()
        .await
        .ok_or(VnetError::NoLocalDescription("answerer"))?;
    offerer.set_remote_description(answer).await?;
    Ok(())
}

/// Waits until `pc` is in `wanted`, for at most `timeout` (on tokio's clock). Fails at once
/// when it reaches failed or closed instead.
pub async fn wait_for_peer_connection_state(
    pc: &RTCPeerConnection,
    wanted: RTCPeerConnectionState,
    timeout: Duration,
) -> Result<(), VnetError> {
    let start = tokio::time::Instant::now();
    loop {
        let state = pc.connection_state();
        if state == wanted {
            return Ok(());
        }
        if matches!(
            state,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        ) {
            return Err(VnetError::Unreachable {
                wanted,
                reached: state,
            });
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(VnetError::Timeout {
                wanted,
                last: state,
                waited,
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webrtc_util::vnet::net::NetConfig;

    /// Without a virtual Net a PeerConnection would quietly bind the host's real interfaces;
    /// the helper says so instead.
    #[test]
    fn a_missing_or_real_net_is_a_clear_error() {
        let missing = vnet_setting_engine(None).err().expect("refused");
        assert!(matches!(missing, VnetError::NoNet));
        assert!(
            missing.to_string().contains("VirtualNetwork::add_net"),
            "{missing}"
        );
        let real = Arc::new(Net::new(None));
        assert!(matches!(
            vnet_setting_engine(Some(real)),
            Err(VnetError::NoNet)
        ));
        let virtual_net = Arc::new(Net::new(Some(NetConfig::default())));
        assert!(vnet_setting_engine(Some(virtual_net)).is_ok());
    }
}
