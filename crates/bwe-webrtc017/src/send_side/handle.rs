//! The application's view of the send side: the rate to encode at, and the figures.
//!
//! As with [`RembHandle`](crate::RembHandle), the builder makes the handle before any
//! PeerConnection exists and each interceptor it builds attaches itself; reading locks the
//! send side for the length of a copy, so the figures are never stale.

use std::sync::{Arc, Mutex, PoisonError};

use bwe_core::Bitrate;

use super::core::SendSideStats017;
use super::interceptor::Shared;
use crate::clock;

/// Reads the send side's decisions; see the module docs.
#[derive(Clone, Default)]
pub struct SendSideHandle {
    current: Arc<Mutex<Option<Arc<Shared>>>>,
}

impl std::fmt::Debug for SendSideHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendSideHandle").finish_non_exhaustive()
    }
}

impl SendSideHandle {
    /// A handle with nothing attached yet.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn attach(&self, shared: Arc<Shared>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(shared);
    }

    /// The figures now (all zero / `None` before any PeerConnection was built).
    pub fn stats(&self) -> SendSideStats017 {
        let current = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        current.map_or_else(SendSideStats017::default, |s| s.lock().stats(clock::now()))
    }

    /// The rate the encoder should produce: the target, lowered while the pacer's congestion
    /// window pushes back. `None` before the first packet was sent.
    pub fn encoder_target(&self) -> Option<Bitrate> {
        self.stats().output.map(|o| o.encoder_target)
    }

    /// The estimator's target. `None` before the first packet was sent.
    pub fn target(&self) -> Option<Bitrate> {
        self.stats().output.map(|o| o.target)
    }
}
