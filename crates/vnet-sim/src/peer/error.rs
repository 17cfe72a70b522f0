//! [`PeerError`]: why a simulated peer could not be built, connected or waited on.

use thiserror::Error;

use crate::runtime::SimError;
use crate::time::SimDuration;

/// A simulated peer that could not be built, connected, or did not get where it was asked to.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The simulation refused (unknown host, shut down, …).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// An interceptor registry came without its media engine.
    #[error(
        "{peer}: an interceptor registry needs the media engine it was configured with (pass \
         both): interceptors register their RTP header extensions and RTCP feedback there, and \
         without them they would silently see nothing"
    )]
    RegistryWithoutMediaEngine {
        /// The peer being built.
        peer: String,
    },
    /// Setting up the seeded crypto provider or certificate failed.
    #[error("{peer}: crypto setup failed: {message}")]
    Crypto {
        /// The peer being built.
        peer: String,
        /// What failed.
        message: String,
    },
    /// A webrtc call failed.
    #[error("{peer}: {operation} failed: {message}")]
    WebRtc {
        /// The peer.
        peer: String,
        /// The webrtc operation.
        operation: &'static str,
        /// webrtc's error.
        message: String,
    },
    /// A wait ran out of virtual time.
    #[error(
        "{peer}: waited {timeout} (virtual) for {wanted}, but it reached {reached} (states so \
         far: {history})"
    )]
    Timeout {
        /// The peer.
        peer: String,
        /// What was awaited.
        wanted: String,
        /// Where it got to.
        reached: String,
        /// Every state it went through, oldest first.
        history: String,
        /// How long it was given.
        timeout: SimDuration,
    },
}

impl PeerError {
    pub(crate) fn webrtc(
        peer: &str,
        operation: &'static str,
        error: impl std::fmt::Display,
    ) -> Self {
        PeerError::WebRtc {
            peer: peer.to_owned(),
            operation,
            message: error.to_string(),
        }
    }
}
