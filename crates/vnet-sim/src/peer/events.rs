//! [`PeerEvents`]: what a simulated peer's connection has reported, and futures that wait on it.
//!
//! webrtc reports through one event handler per connection. The peer helpers install a recorder
//! that keeps the history (connection, ICE and gathering states, local candidates, data channels
//! and tracks the remote opened) and wakes anyone waiting, then passes each event on to the
//! application's own handler, if one was given.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceCandidateInit, RTCIceConnectionState, RTCIceGatheringState,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState,
};

/// The recorded history.
#[derive(Default)]
pub(crate) struct History {
    pub(crate) connection: Vec<RTCPeerConnectionState>,
    pub(crate) ice: Vec<RTCIceConnectionState>,
    pub(crate) gathering: Vec<RTCIceGatheringState>,
    /// Local candidates not yet handed to the remote peer.
    pub(crate) candidates: VecDeque<RTCIceCandidateInit>,
    pub(crate) data_channels: VecDeque<Arc<dyn DataChannel>>,
    pub(crate) tracks: VecDeque<Arc<dyn TrackRemote>>,
    wakers: Vec<Waker>,
}

/// The recorder installed as a simulated peer's event handler.
#[derive(Default)]
pub struct PeerEvents {
    history: Mutex<History>,
    forward: Option<Arc<dyn PeerConnectionEventHandler>>,
}

impl std::fmt::Debug for PeerEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = self.lock();
        f.debug_struct("PeerEvents")
            .field("connection", &h.connection)
            .field("ice", &h.ice)
            .field("gathering", &h.gathering)
            .finish_non_exhaustive()
    }
}

impl PeerEvents {
    pub(crate) fn new(forward: Option<Arc<dyn PeerConnectionEventHandler>>) -> Self {
        Self {
            history: Mutex::default(),
            forward,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, f: impl FnOnce(&mut History)) {
        let wakers = {
            let mut h = self.lock();
            f(&mut h);
            std::mem::take(&mut h.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Completes with `f`'s answer once it has one, re-asking after every event.
    pub(crate) async fn wait_for<T>(&self, mut f: impl FnMut(&mut History) -> Option<T>) -> T {
        poll_fn(|cx| {
            let mut h = self.lock();
            if let Some(v) = f(&mut h) {
                return Poll::Ready(v);
            }
            if !h.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                h.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// Every connection state reported so far, oldest first.
    pub fn connection_states(&self) -> Vec<RTCPeerConnectionState> {
        self.lock().connection.clone()
    }

    /// Every ICE connection state reported so far, oldest first.
    pub fn ice_states(&self) -> Vec<RTCIceConnectionState> {
        self.lock().ice.clone()
    }

    /// The latest connection state (`New` before any report).
    pub fn connection_state(&self) -> RTCPeerConnectionState {
        self.lock()
            .connection
            .last()
            .copied()
            .unwrap_or(RTCPeerConnectionState::New)
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for PeerEvents {
    async fn on_negotiation_needed(&self) {
        if let Some(f) = &self.forward {
            f.on_negotiation_needed().await;
        }
    }

    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            self.record(|h| h.candidates.push_back(init));
        }
        if let Some(f) = &self.forward {
            f.on_ice_candidate(event).await;
        }
    }

    async fn on_ice_candidate_error(
        &self,
        event: webrtc::peer_connection::RTCPeerConnectionIceErrorEvent,
    ) {
        if let Some(f) = &self.forward {
            f.on_ice_candidate_error(event).await;
        }
    }

    async fn on_signaling_state_change(&self, state: webrtc::peer_connection::RTCSignalingState) {
        if let Some(f) = &self.forward {
            f.on_signaling_state_change(state).await;
        }
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.record(|h| h.ice.push(state));
        if let Some(f) = &self.forward {
            f.on_ice_connection_state_change(state).await;
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.record(|h| h.gathering.push(state));
        if let Some(f) = &self.forward {
            f.on_ice_gathering_state_change(state).await;
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.record(|h| h.connection.push(state));
        if let Some(f) = &self.forward {
            f.on_connection_state_change(state).await;
        }
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        self.record(|h| h.data_channels.push_back(Arc::clone(&data_channel)));
        if let Some(f) = &self.forward {
            f.on_data_channel(data_channel).await;
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        self.record(|h| h.tracks.push_back(Arc::clone(&track)));
        if let Some(f) = &self.forward {
            f.on_track(track).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Sim;
    use crate::time::SimDuration;

    #[derive(Default)]
    struct Counter(Mutex<Vec<RTCPeerConnectionState>>);

    #[async_trait::async_trait]
    impl PeerConnectionEventHandler for Counter {
        async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
            self.0.lock().expect("unpoisoned").push(state);
        }
    }

    /// A waiter must wake on the event it waits for (not before), and the application's own
    /// handler must still see every event.
    #[test]
    fn a_waiter_wakes_on_its_event_and_the_application_handler_still_sees_it() {
        let sim = Sim::builder().seed(1).build().expect("valid");
        let app = Arc::new(Counter::default());
        let events = Arc::new(PeerEvents::new(Some(
            Arc::clone(&app) as Arc<dyn PeerConnectionEventHandler>
        )));
        let reporter = Arc::clone(&events);
        let rt = sim.runtime();
        drop(webrtc::runtime::Runtime::spawn(
            sim.runtime().as_ref(),
            Box::pin(async move {
                for state in [
                    RTCPeerConnectionState::Connecting,
                    RTCPeerConnectionState::Connected,
                ] {
                    rt.sleep_for(SimDuration::from_millis(10)).await;
                    reporter.on_connection_state_change(state).await;
                }
            }),
        ));
        let woke_at = sim
            .run(async {
                events
                    .wait_for(|h| {
                        h.connection
                            .contains(&RTCPeerConnectionState::Connected)
                            .then_some(())
                    })
                    .await;
                sim.time()
            })
            .expect("runs");
        assert_eq!(woke_at, crate::SimTime::from_millis(20));
        assert_eq!(events.connection_state(), RTCPeerConnectionState::Connected);
        assert_eq!(
            *app.0.lock().expect("unpoisoned"),
            events.connection_states()
        );
    }
}
