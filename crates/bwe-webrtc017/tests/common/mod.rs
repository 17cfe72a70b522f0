//! A REMB call on the virtual network, shared by the end-to-end tests: a sender with a VP8
//! track at ~1 Mbit/s, a receiver with the REMB generator, and the REMBs the sender decodes.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use bwe_core::Bitrate;
use bwe_webrtc017::vnet::{
    RateControl, RateLimit, RateLimitStats, RateLimitedNic, VirtualNetwork, VnetConfig,
    connect_vnet_peers, new_vnet_peer_connection, wait_for_peer_connection_state,
};
use bwe_webrtc017::{RembHandle, SendSideHandle, configure_remb_bwe, configure_send_side_bwe};
use bytes::Bytes;
use interceptor::registry::Registry;
use tokio::sync::mpsc;
use tokio::time::Instant;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_VP8, MediaEngine};
use webrtc::media::Sample;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use webrtc::rtp_transceiver::rtp_codec::RTCRtpCodecCapability;
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;
use webrtc_util::vnet::net::Net;

pub const FRAME_INTERVAL: Duration = Duration::from_millis(33);
/// ~1 Mbit/s of VP8 payload at 30 frames per second.
pub const FRAME_BYTES: usize = 4_125;

/// A REMB call: the receiver's REMB handle.
pub type RembCall = Call<RembHandle>;

/// A connected call with the handle of the estimator under test.
pub struct Call<H> {
    pub network: VirtualNetwork,
    pub sender: RTCPeerConnection,
    pub receiver: RTCPeerConnection,
    pub track: Arc<TrackLocalStaticSample>,
    pub media_ssrc: u32,
    /// Every REMB the sender read, with the instant (tokio's clock) it arrived.
    pub rembs: mpsc::UnboundedReceiver<(Instant, ReceiverEstimatedMaximumBitrate)>,
    pub handle: H,
}

/// A connected call over `network`'s hosts; media has not started.
pub async fn remb_call(mut network: VirtualNetwork) -> RembCall {
    let sender_net = network.add_net().await.expect("host");
    let receiver_net = network.add_net().await.expect("host");
    remb_call_between(network, sender_net, receiver_net).await
}

/// A connected call from `sender_net` to `receiver_net`, hosts of `network` (added by the
/// caller, e.g. behind a wrapper); media has not started.
pub async fn remb_call_between(
    network: VirtualNetwork,
    sender_net: Arc<Net>,
    receiver_net: Arc<Net>,
) -> RembCall {
    let (sender, _) = peer(sender_net, |engine| {
        configure_remb_bwe(Registry::new(), engine).expect("sender REMB setup")
    })
    .await;
    let (receiver, handle) = peer(receiver_net, |engine| {
        configure_remb_bwe(Registry::new(), engine).expect("receiver REMB setup")
    })
    .await;
    finish(network, sender, receiver, handle).await
}

/// A PeerConnection on `net` with the default codecs and the registry `chain` builds on its
/// MediaEngine; returns it with what `chain` returned beside the registry.
pub async fn peer<T>(
    net: Arc<Net>,
    chain: impl FnOnce(&mut MediaEngine) -> (Registry, T),
) -> (RTCPeerConnection, T) {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let (registry, extra) = chain(&mut engine);
    let pc = new_vnet_peer_connection(Some(net), engine, registry)
        .await
        .expect("peer connection");
    (pc, extra)
}

/// A connected call from `sender_net` to `receiver_net` with our send side on the sender
/// (`ours`; otherwise 0.17's default chain, which has no estimator) and 0.17's default chain
/// (its TWCC receiver among it) on the receiver; media has not started.
pub async fn send_side_call_between(
    network: VirtualNetwork,
    sender_net: Arc<Net>,
    receiver_net: Arc<Net>,
    ours: bool,
) -> Call<Option<SendSideHandle>> {
    let defaults = |engine: &mut MediaEngine| {
        let registry = register_default_interceptors(Registry::new(), engine).expect("defaults");
        (registry, None)
    };
    let (sender, handle) = if ours {
        peer(sender_net, |engine| {
            let (registry, handle) =
                configure_send_side_bwe(Registry::new(), engine).expect("send side");
            (registry, Some(handle))
        })
        .await
    } else {
        peer(sender_net, defaults).await
    };
    let (receiver, _) = peer(receiver_net, defaults).await;
    finish(network, sender, receiver, handle).await
}

/// A network (no router latency: 0.17's router measures it on the wall clock) with a sender
/// host and a receiver host behind a `RateLimitedNic` of `kbps` and a 300 ms queue.
pub async fn rate_limited_hosts(
    kbps: u64,
) -> (
    VirtualNetwork,
    Arc<Net>,
    Arc<Net>,
    Arc<RateLimitStats>,
    RateControl,
) {
    let mut network = VirtualNetwork::new(VnetConfig {
        latency: Duration::ZERO,
        ..VnetConfig::default()
    })
    .await
    .expect("router");
    let sender_net = network.add_net().await.expect("host");
    let mut link = None;
    let receiver_net = network
        .add_net_wrapped(|inner| {
            let nic = RateLimitedNic::new(
                inner,
                RateLimit {
                    rate: Bitrate::from_kbps(kbps),
                    queue: Duration::from_millis(300),
                },
            );
            link = Some((nic.stats(), nic.control()));
            nic
        })
        .await
        .expect("rate-limited host");
    let (stats, control) = link.expect("the wrapper was built");
    (network, sender_net, receiver_net, stats, control)
}

/// As [`remb_call`] on a fresh network with `latency`.
pub async fn remb_call_with_latency(latency: Duration) -> RembCall {
    let network = VirtualNetwork::new(VnetConfig {
        latency,
        ..VnetConfig::default()
    })
    .await
    .expect("router");
    remb_call(network).await
}

/// Adds the track, wires the RTCP and media readers and connects.
pub async fn finish<H>(
    network: VirtualNetwork,
    sender: RTCPeerConnection,
    receiver: RTCPeerConnection,
    handle: H,
) -> Call<H> {
    let track = Arc::new(TrackLocalStaticSample::new(
        RTCRtpCodecCapability {
            mime_type: MIME_TYPE_VP8.to_owned(),
            ..RTCRtpCodecCapability::default()
        },
        "video".to_owned(),
        "bwe".to_owned(),
    ));
    let rtp_sender = sender
        .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
        .await
        .expect("track added");
    let (remb_tx, rembs) = mpsc::unbounded_channel();
    let rtcp_sender = Arc::clone(&rtp_sender);
    tokio::spawn(async move {
        while let Ok((packets, _)) = rtcp_sender.read_rtcp().await {
            for packet in packets {
                if let Some(remb) = packet
                    .as_any()
                    .downcast_ref::<ReceiverEstimatedMaximumBitrate>()
                {
                    let _ = remb_tx.send((Instant::now(), remb.clone()));
                }
            }
        }
    });
    // 0.17 pulls media through the receiver's chain only as the application reads it.
    receiver.on_track(Box::new(|track, _, _| {
        Box::pin(async move {
            tokio::spawn(async move { while track.read_rtp().await.is_ok() {} });
        })
    }));
    connect_vnet_peers(&sender, &receiver)
        .await
        .expect("offer/answer");
    for pc in [&sender, &receiver] {
        wait_for_peer_connection_state(
            pc,
            RTCPeerConnectionState::Connected,
            Duration::from_secs(5),
        )
        .await
        .expect("connected");
    }
    let media_ssrc = rtp_sender.get_parameters().await.encodings[0].ssrc;
    Call {
        network,
        sender,
        receiver,
        track,
        media_ssrc,
        rembs,
        handle,
    }
}

impl<H> Call<H> {
    /// Sends ~1 Mbit/s of dummy VP8 for `span` (tokio's clock); returns when it started.
    pub async fn send_video(&self, span: Duration) -> Instant {
        let rate = FRAME_BYTES as f64 * 8.0 / FRAME_INTERVAL.as_secs_f64();
        self.send_video_at(span, || rate).await
    }

    /// Sends dummy VP8 for `span` (bit/s) starting at `start_rate` and following every REMB the
    /// sender reads, up to `max_rate`, as a REMB-only sender's encoder would. Returns when it
    /// started and every REMB read, with its instant.
    pub async fn send_video_following_remb(
        &mut self,
        span: Duration,
        start_rate: f64,
        max_rate: f64,
    ) -> (Instant, Vec<(Instant, ReceiverEstimatedMaximumBitrate)>) {
        let (_, placeholder) = mpsc::unbounded_channel();
        let mut incoming = std::mem::replace(&mut self.rembs, placeholder);
        let mut rate = start_rate;
        let mut rembs = Vec::new();
        let start = self
            .send_video_at(span, || {
                while let Ok((at, remb)) = incoming.try_recv() {
                    rate = f64::from(remb.bitrate).min(max_rate);
                    rembs.push((at, remb));
                }
                rate
            })
            .await;
        self.rembs = incoming;
        (start, rembs)
    }

    /// Sends dummy VP8 for `span` at whatever `rate` (bit/s) says before each frame (at least
    /// 100 bytes a frame). Returns when it started.
    pub async fn send_video_at(&self, span: Duration, mut rate: impl FnMut() -> f64) -> Instant {
        let start = Instant::now();
        let mut ticker = tokio::time::interval(FRAME_INTERVAL);
        while start.elapsed() < span {
            ticker.tick().await;
            let bytes = (rate() * FRAME_INTERVAL.as_secs_f64() / 8.0) as usize;
            self.track
                .write_sample(&Sample {
                    data: Bytes::from(vec![0x10u8; bytes.max(100)]),
                    duration: FRAME_INTERVAL,
                    ..Sample::default()
                })
                .await
                .expect("frame written");
        }
        start
    }

    /// The REMBs received so far.
    pub fn take_rembs(&mut self) -> Vec<(Instant, ReceiverEstimatedMaximumBitrate)> {
        std::iter::from_fn(|| self.rembs.try_recv().ok()).collect()
    }

    pub async fn close(self) {
        self.sender.close().await.expect("close");
        self.receiver.close().await.expect("close");
        self.network.stop().await.expect("router stops");
    }
}
