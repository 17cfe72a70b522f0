//! [`CallError`]: why a call could not be set up or run. Errors are values; the harness never
//! panics on a bad scenario.

use bwe_interceptor::ChainError;
use thiserror::Error;
use vnet_sim::SimError;
use vnet_sim::peer::PeerError;

/// Why a call failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CallError {
    /// The simulation could not be built or run.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A peer could not be built, connected or waited on.
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// One of our chain helpers refused its configuration.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// webrtc or rtc refused something.
    #[error("{context}: {message}")]
    WebRtc {
        /// What the harness was doing.
        context: &'static str,
        /// webrtc's message.
        message: String,
    },
    /// The scenario itself is unusable.
    #[error("invalid call: {0}")]
    Invalid(String),
}

impl CallError {
    pub(crate) fn webrtc(context: &'static str, e: impl std::fmt::Display) -> Self {
        Self::WebRtc {
            context,
            message: e.to_string(),
        }
    }
}
