//! Our end of an interop call: a webrtc-rs 0.21 PeerConnection on tokio and the wall clock
//! (webrtc's `TokioRuntime`), with one of bwe-e2e's chains, bound to a loopback port, and the
//! SDP rewriting that routes a call through the shaping relay.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bwe_e2e::Endpoint;
use tokio::sync::{Notify, watch};
use vnet_sim::peer::{SeededCryptoProvider, seeded_certificate};
use vnet_sim::webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use vnet_sim::webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
    SettingEngineBuilder,
};
use vnet_sim::webrtc::runtime::{Runtime, TokioRuntime};

/// What the connection reported.
struct Events {
    state: watch::Sender<RTCPeerConnectionState>,
    gathered: Notify,
    gathering_done: Mutex<bool>,
    /// RTP packets and payload bytes the receiving application read.
    received: Arc<Mutex<(u64, u64)>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            *self
                .gathering_done
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = true;
            self.gathered.notify_waiters();
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        // The receiving application reads every packet, as a real one would.
        let events = Arc::clone(&self.received);
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(p) = event {
                    let mut r = events.lock().unwrap_or_else(PoisonError::into_inner);
                    r.0 += 1;
                    r.1 += p.payload.len() as u64;
                }
            }
        });
    }
}

/// A PeerConnection on the wall clock.
pub struct RealPeer {
    pub pc: Arc<dyn PeerConnection>,
    events: Arc<Events>,
    /// The UDP address it listens on (its only ICE candidate).
    pub addr: SocketAddr,
}

/// A free UDP port on loopback (bound and released: the peer binds it next).
fn free_port() -> Result<u16, String> {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free UDP port: {e}"))
}

impl RealPeer {
    /// A peer with `endpoint`'s media engine and chain; its certificate and DTLS randomness
    /// come from `seed`.
    pub async fn new(endpoint: Endpoint, seed: u64) -> Result<Self, String> {
        let provider =
            Arc::new(SeededCryptoProvider::new(seed).map_err(|e| format!("crypto provider: {e}"))?);
        let certificate = seeded_certificate(provider.as_ref(), seed)?;
        let setting_engine = SettingEngineBuilder::default()
            .with_multicast_dns_mode(vnet_sim::rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_crypto_provider(provider)
            .build();
        let (state, _) = watch::channel(RTCPeerConnectionState::New);
        let events = Arc::new(Events {
            state,
            gathered: Notify::new(),
            gathering_done: Mutex::new(false),
            received: Arc::default(),
        });
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), free_port()?);
        let pc = PeerConnectionBuilder::new()
            .with_configuration(
                RTCConfigurationBuilder::new()
                    .with_certificates(vec![certificate])
                    .build(),
            )
            .with_media_engine(endpoint.media_engine)
            .with_setting_engine(setting_engine)
            .with_interceptor_registry(endpoint.registry)
            .with_runtime(Arc::new(TokioRuntime) as Arc<dyn Runtime>)
            .with_handler(Arc::clone(&events) as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(vec![addr])
            .build()
            .await
            .map_err(|e| format!("building our PeerConnection: {e}"))?;
        Ok(Self {
            pc: Arc::new(pc),
            events,
            addr,
        })
    }

    /// Creates an offer, sets it and waits for gathering; returns the SDP.
    pub async fn offer(&self) -> Result<String, String> {
        let offer = self
            .pc
            .create_offer(None)
            .await
            .map_err(|e| format!("create_offer: {e}"))?;
        self.pc
            .set_local_description(offer)
            .await
            .map_err(|e| format!("set_local_description: {e}"))?;
        self.wait_gathered(Duration::from_secs(5)).await?;
        let local = self
            .pc
            .local_description()
            .await
            .ok_or("no local description")?;
        Ok(local.sdp)
    }

    /// Sets the remote answer, and `relay` as the remote's only candidate.
    pub async fn accept_answer(&self, sdp: &str, relay: SocketAddr) -> Result<(), String> {
        let answer = RTCSessionDescription::answer(strip_candidates(sdp))
            .map_err(|e| format!("parsing the answer: {e}"))?;
        self.pc
            .set_remote_description(answer)
            .await
            .map_err(|e| format!("set_remote_description: {e}"))?;
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate: candidate_line(relay),
                sdp_mid: Some("0".to_owned()),
                sdp_mline_index: Some(0),
                ..RTCIceCandidateInit::default()
            })
            .await
            .map_err(|e| format!("add_ice_candidate: {e}"))
    }

    async fn wait_gathered(&self, timeout: Duration) -> Result<(), String> {
        let wait = async {
            loop {
                let notified = self.events.gathered.notified();
                if *self
                    .events
                    .gathering_done
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| "ICE gathering did not complete".to_owned())
    }

    /// Waits for `Connected` (an error on `Failed`, `Closed` or `timeout`).
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), String> {
        let mut state = self.events.state.subscribe();
        let wait = async {
            loop {
                let now = *state.borrow_and_update();
                match now {
                    RTCPeerConnectionState::Connected => return Ok(()),
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        return Err(format!("our PeerConnection went {now}"));
                    }
                    _ => {}
                }
                if state.changed().await.is_err() {
                    return Err("the connection's events ended".to_owned());
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| format!("not connected within {timeout:?}"))?
    }

    /// RTP packets and payload bytes the receiving application read so far.
    pub fn received(&self) -> (u64, u64) {
        *self
            .events
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// An ICE host candidate line for `addr` (UDP).
pub fn candidate_line(addr: SocketAddr) -> String {
    format!(
        "candidate:1 1 udp 2130706431 {} {} typ host",
        addr.ip(),
        addr.port()
    )
}

/// `sdp` without its candidates and end-of-candidates lines.
pub fn strip_candidates(sdp: &str) -> String {
    sdp.split("\r\n")
        .filter(|l| !l.starts_with("a=candidate:") && *l != "a=end-of-candidates")
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `sdp` with `addr` as the only candidate of every media section (so the remote sends to the
/// relay, whatever this side gathered).
pub fn only_candidate(sdp: &str, addr: SocketAddr) -> String {
    let mut out = Vec::new();
    for line in strip_candidates(sdp).split("\r\n") {
        out.push(line.to_owned());
        if line.starts_with("a=mid:") {
            out.push(format!("a={}", candidate_line(addr)));
            out.push("a=end-of-candidates".to_owned());
        }
    }
    out.join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_replaced_in_every_media_section() {
        let sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n\
                   a=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\na=end-of-candidates\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n";
        let relay: SocketAddr = "127.0.0.1:4242".parse().expect("addr");
        let out = only_candidate(sdp, relay);
        assert!(!out.contains("10.0.0.1"));
        assert_eq!(out.matches("127.0.0.1 4242 typ host").count(), 2);
        assert_eq!(out.matches("a=end-of-candidates").count(), 2);
    }
}
