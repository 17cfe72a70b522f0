//! [`Pair`]: one flow's two PeerConnections, connected, with the video track on the sender and
//! the receiving application reading it — the setup [`crate::run_call`] and
//! [`crate::run_multi_call`] share, so that a flow of a multi-flow call is built exactly as a
//! one-flow call is.
//!
//! The order of the steps is part of the contract: building peers, creating the track, adding it,
//! connecting and waiting all move virtual time or draw from seeded streams, so reordering them
//! would change every trace.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use vnet_sim::peer::{SimPeer, connect};
use vnet_sim::{HostId, Sim, SimDuration};
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::runtime::Runtime;

use crate::encoder::EncoderConfig;
use crate::error::CallError;
use crate::estimator::{Endpoint, Estimator, Nack};
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
    /// The sender's video track and encoder model.
    pub video: VideoSender,
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
    /// Media and RTX SSRCs.
    pub ssrcs: (u32, u32),
    /// How long ICE and DTLS may take.
    pub connect_timeout: SimDuration,
}

/// Builds both peers, adds the video track, connects them and waits for `Connected`.
pub(crate) async fn connect_pair(sim: &Sim, spec: PairSpec) -> Result<Pair, CallError> {
    let sending = Endpoint::new(spec.estimator, spec.nack)?;
    let receiving = Endpoint::new(spec.estimator, spec.nack)?;
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
    connect(&sender, &receiver, spec.connect_timeout).await?;
    sender
        .wait_for_state(RTCPeerConnectionState::Connected, spec.connect_timeout)
        .await?;
    Ok(Pair {
        sender,
        receiver,
        target,
        video,
    })
}

/// The receiving application reads its track, as a real one would, counting RTP packets into
/// `count`; it waits up to `wait` for the track to appear.
pub(crate) fn read_track(
    sim: &Sim,
    receiver: &Arc<SimPeer>,
    count: &Arc<AtomicU64>,
    wait: SimDuration,
) {
    let (peer, count) = (Arc::clone(receiver), Arc::clone(count));
    drop(sim.spawn(Box::pin(async move {
        if let Ok(track) = peer.next_track(wait).await {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(_) = event {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    })));
}
