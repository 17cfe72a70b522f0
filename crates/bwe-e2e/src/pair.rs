//! [`Pair`]: one flow's two PeerConnections, connected, with its tracks (video, audio or both)
//! on the sender and the receiving application reading them — how [`crate::run_multi_call`]
//! (and so [`crate::run_call`], a call of one flow) builds each flow.
//!
//! The order of the steps is part of the contract: building peers, creating the track, adding it,
//! connecting and waiting all move virtual time or draw from seeded streams, so reordering them
//! would change every trace.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bwe_interceptor::TapHandle;
use vnet_sim::peer::{SimPeer, connect};
use vnet_sim::{HostId, Sim, SimDuration};
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::runtime::Runtime;

use crate::audio::AudioSender;
use crate::audio_model::AudioConfig;
use crate::capture::TappedPeer;
use crate::encoder::EncoderConfig;
use crate::error::CallError;
use crate::estimator::{Endpoint, Estimator, Nack};
use crate::flow::Media;
use crate::target::TargetSource;
use crate::video::VideoSender;

/// A connected flow.
pub(crate) struct Pair {
    /// The sending peer (kept alive for the call).
    pub sender: SimPeer,
    /// The receiving peer.
    pub receiver: Arc<SimPeer>,
    /// Where the sender's chain publishes its target.
    pub target: Arc<dyn TargetSource>,
    /// The sender's video track and encoder model, if it sends video.
    pub video: Option<VideoSender>,
    /// The sender's audio track and audio model, if it sends audio.
    pub audio: Option<AudioSender>,
    /// Sender then receiver, when the pair was built to capture; empty otherwise.
    pub tapped: Vec<TappedPeer>,
}

/// What a [`Pair`] is made of.
pub(crate) struct PairSpec {
    /// Host of the sending peer.
    pub sender: HostId,
    /// Host of the receiving peer.
    pub receiver: HostId,
    /// The congestion controller, on both peers.
    pub estimator: Estimator,
    /// Loss repair.
    pub nack: Nack,
    /// The encoder model, seed included.
    pub encoder: EncoderConfig,
    /// Which tracks the sender has.
    pub media: Media,
    /// Video media and RTX SSRCs.
    pub ssrcs: (u32, u32),
    /// The audio model, seed included (unused without audio).
    pub audio: AudioConfig,
    /// The audio SSRC (unused without audio).
    pub audio_ssrc: u32,
    /// How long ICE and DTLS may take.
    pub connect_timeout: SimDuration,
    /// Put a packet tap in both peers' chains.
    pub capture: bool,
}

/// Builds both peers, adds the tracks (audio before video), connects them and waits for
/// `Connected`.
pub(crate) async fn connect_pair(sim: &Sim, spec: PairSpec) -> Result<Pair, CallError> {
    let tap = || spec.capture.then(TapHandle::new);
    let (sender_tap, receiver_tap) = (tap(), tap());
    let sending = Endpoint::with_tap(spec.estimator, spec.nack, sender_tap.clone())?;
    let receiving = Endpoint::with_tap(spec.estimator, spec.nack, receiver_tap.clone())?;
    let tapped = [
        (spec.sender, sender_tap, &sending),
        (spec.receiver, receiver_tap, &receiving),
    ]
    .into_iter()
    .filter_map(|(host, tap, endpoint)| {
        Some(TappedPeer {
            host,
            tap: tap?,
            bwe: endpoint.handle.clone(),
        })
    })
    .collect();
    let target = Arc::clone(&sending.target);
    let sender = sim
        .peer(spec.sender)
        .media_engine(sending.media_engine)
        .interceptor_registry(sending.registry)
        .build()
        .await?;
    let receiver = Arc::new(
        sim.peer(spec.receiver)
            .media_engine(receiving.media_engine)
            .interceptor_registry(receiving.registry)
            .build()
            .await?,
    );
    let audio = if spec.media.has_audio() {
        let audio = AudioSender::with_ssrc(sim.now(), spec.audio, spec.audio_ssrc)?;
        sender
            .pc()
            .add_track(audio.track())
            .await
            .map_err(|e| CallError::webrtc("adding the audio track", e))?;
        Some(audio)
    } else {
        None
    };
    let video = if spec.media.has_video() {
        let video = VideoSender::with_ssrcs(
            sim.now(),
            spec.encoder,
            spec.nack == Nack::WithRtx,
            spec.ssrcs.0,
            spec.ssrcs.1,
        )?;
        sender
            .pc()
            .add_track(video.track())
            .await
            .map_err(|e| CallError::webrtc("adding the video track", e))?;
        Some(video)
    } else {
        None
    };
    connect(&sender, &receiver, spec.connect_timeout).await?;
    sender
        .wait_for_state(RTCPeerConnectionState::Connected, spec.connect_timeout)
        .await?;
    Ok(Pair {
        sender,
        receiver,
        target,
        video,
        audio,
        tapped,
    })
}

/// What a receiving application read, updated as packets arrive.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// Every RTP packet on every track, padding-only ones included.
    pub rtp: AtomicU64,
    /// Packets with a payload on the audio SSRC.
    pub audio: AtomicU64,
    /// Packets with a payload on the video SSRC.
    pub video: AtomicU64,
}

/// The receiving application reads its `tracks` tracks, as a real one would, counting RTP
/// packets into `count` (per SSRC `ssrcs` = (audio, video) for those that carry a payload:
/// padding-only packets, the pacer's probes, may arrive on either); it waits up to `wait` for
/// each track to appear.
pub(crate) fn read_tracks(
    sim: &Sim,
    receiver: &Arc<SimPeer>,
    tracks: usize,
    ssrcs: (u32, u32),
    count: &Arc<Received>,
    wait: SimDuration,
) {
    for _ in 0..tracks {
        let (peer, count) = (Arc::clone(receiver), Arc::clone(count));
        drop(sim.spawn(Box::pin(async move {
            if let Ok(track) = peer.next_track(wait).await {
                while let Some(event) = track.poll().await {
                    if let TrackRemoteEvent::OnRtpPacket(p) = event {
                        count.rtp.fetch_add(1, Ordering::Relaxed);
                        if p.payload.is_empty() {
                            continue;
                        }
                        if p.header.ssrc == ssrcs.0 {
                            count.audio.fetch_add(1, Ordering::Relaxed);
                        } else if p.header.ssrc == ssrcs.1 {
                            count.video.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        })));
    }
}
