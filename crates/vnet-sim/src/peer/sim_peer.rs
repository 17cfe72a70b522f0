//! [`SimPeer`]: a PeerConnection on a simulated host, with waits in virtual time, and
//! [`connect`], which negotiates two of them in memory.

use std::sync::Arc;

use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{PeerConnection, RTCIceGatheringState, RTCPeerConnectionState};

use crate::peer::error::PeerError;
use crate::peer::events::{History, PeerEvents};
use crate::runtime::{HostId, SimRuntime};
use crate::time::SimDuration;

/// A webrtc PeerConnection on a simulated host, and what it has reported.
pub struct SimPeer {
    pc: Arc<dyn PeerConnection>,
    events: Arc<PeerEvents>,
    runtime: Arc<SimRuntime>,
    host: HostId,
    name: String,
}

impl std::fmt::Debug for SimPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPeer")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl SimPeer {
    pub(crate) fn new(
        pc: Arc<dyn PeerConnection>,
        events: Arc<PeerEvents>,
        runtime: Arc<SimRuntime>,
        host: HostId,
        name: String,
    ) -> Self {
        Self {
            pc,
            events,
            runtime,
            host,
            name,
        }
    }

    /// The connection, for everything webrtc offers.
    pub fn pc(&self) -> &Arc<dyn PeerConnection> {
        &self.pc
    }

    /// What the connection has reported.
    pub fn events(&self) -> &PeerEvents {
        &self.events
    }

    /// The host it runs on.
    pub fn host(&self) -> HostId {
        self.host
    }

    /// `host#index`, as used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `wait` for at most `timeout` of virtual time.
    async fn within<T>(&self, timeout: SimDuration, wait: impl Future<Output = T>) -> Option<T> {
        webrtc::runtime::timeout(self.runtime.as_ref(), timeout.to_std(), wait)
            .await
            .ok()
    }

    /// Completes once the connection is in `wanted` or has entered it since the wait began (so
    /// a brief visit is not missed), or fails after `timeout` of virtual time naming the state
    /// it reached.
    pub async fn wait_for_state(
        &self,
        wanted: RTCPeerConnectionState,
        timeout: SimDuration,
    ) -> Result<(), PeerError> {
        let start = self.events.lock().connection.len();
        let reached = |h: &mut History| {
            let now = h.connection.last().copied();
            let entered = h.connection.get(start..).unwrap_or(&[]).contains(&wanted);
            (entered || now == Some(wanted)).then_some(())
        };
        if self
            .within(timeout, self.events.wait_for(reached))
            .await
            .is_some()
        {
            return Ok(());
        }
        let history = self.events.connection_states();
        Err(PeerError::Timeout {
            peer: self.name.clone(),
            wanted: format!("connection state {wanted}"),
            reached: self.events.connection_state().to_string(),
            history: join(&history),
            timeout,
        })
    }

    /// The next data channel the remote peer opened, waiting up to `timeout` of virtual time.
    pub async fn next_data_channel(
        &self,
        timeout: SimDuration,
    ) -> Result<Arc<dyn DataChannel>, PeerError> {
        let next = self.events.wait_for(|h| h.data_channels.pop_front());
        self.within(timeout, next)
            .await
            .ok_or_else(|| self.timeout("a data channel from the remote peer", timeout))
    }

    /// The next track the remote peer sent, waiting up to `timeout` of virtual time.
    pub async fn next_track(
        &self,
        timeout: SimDuration,
    ) -> Result<Arc<dyn TrackRemote>, PeerError> {
        let next = self.events.wait_for(|h| h.tracks.pop_front());
        self.within(timeout, next)
            .await
            .ok_or_else(|| self.timeout("a track from the remote peer", timeout))
    }

    fn timeout(&self, wanted: &str, timeout: SimDuration) -> PeerError {
        let history = self.events.connection_states();
        PeerError::Timeout {
            peer: self.name.clone(),
            wanted: wanted.to_owned(),
            reached: format!("connection state {}", self.events.connection_state()),
            history: join(&history),
            timeout,
        }
    }
}

fn join(states: &[impl std::fmt::Display]) -> String {
    if states.is_empty() {
        return "none".to_owned();
    }
    states
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Negotiates `offerer` with `answerer` in memory: offer, answer, and every local candidate of
/// each handed to the other once both have finished gathering. Fails if gathering takes longer
/// than `timeout` of virtual time.
///
/// Something must be negotiated: create a data channel or add a track on the offerer first.
/// Connecting is then up to ICE and DTLS over the simulated links; wait for it with
/// [`SimPeer::wait_for_state`].
pub async fn connect(
    offerer: &SimPeer,
    answerer: &SimPeer,
    timeout: SimDuration,
) -> Result<(), PeerError> {
    let (a, b) = (&offerer.pc, &answerer.pc);
    let offer = a
        .create_offer(None)
        .await
        .map_err(|e| PeerError::webrtc(&offerer.name, "create_offer", e))?;
    a.set_local_description(offer.clone())
        .await
        .map_err(|e| PeerError::webrtc(&offerer.name, "set_local_description(offer)", e))?;
    b.set_remote_description(offer)
        .await
        .map_err(|e| PeerError::webrtc(&answerer.name, "set_remote_description(offer)", e))?;
    let answer = b
        .create_answer(None)
        .await
        .map_err(|e| PeerError::webrtc(&answerer.name, "create_answer", e))?;
    b.set_local_description(answer.clone())
        .await
        .map_err(|e| PeerError::webrtc(&answerer.name, "set_local_description(answer)", e))?;
    a.set_remote_description(answer)
        .await
        .map_err(|e| PeerError::webrtc(&offerer.name, "set_remote_description(answer)", e))?;
    for (from, to) in [(offerer, answerer), (answerer, offerer)] {
        let gathered = from.events.wait_for(|h| {
            h.gathering
                .contains(&RTCIceGatheringState::Complete)
                .then(|| std::mem::take(&mut h.candidates))
        });
        let Some(candidates) = from.within(timeout, gathered).await else {
            let gathering = from.events.lock().gathering.clone();
            return Err(PeerError::Timeout {
                peer: from.name.clone(),
                wanted: "ICE gathering to complete".to_owned(),
                reached: format!(
                    "gathering state {}",
                    gathering.last().copied().unwrap_or_default()
                ),
                history: join(&gathering),
                timeout,
            });
        };
        for candidate in candidates {
            to.pc
                .add_ice_candidate(candidate)
                .await
                .map_err(|e| PeerError::webrtc(&to.name, "add_ice_candidate", e))?;
        }
    }
    Ok(())
}
