//! [`CallError`]: why a call could not be set up or run. Errors are values; the harness never
//! panics on a bad scenario.

use bwe_interceptor::ChainError;
use thiserror::Error;

use crate::multi::MultiCallSpec;
use vnet_sim::peer::PeerError;
use vnet_sim::{SimDuration, SimError};

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
    /// A flow's ICE and DTLS handshake did not complete within the connect timeout.
    #[error(
        "flow {flow} did not connect: the ICE and DTLS handshake did not complete within the \
         connect timeout of {timeout} of virtual time, on a path with a round trip of \
         {round_trip}{capacity} ({source}); {hint}"
    )]
    Connect {
        /// The flow, 1-based.
        flow: usize,
        /// The timeout it had.
        timeout: SimDuration,
        /// The flow's round-trip propagation delay (access links and both bottlenecks).
        round_trip: SimDuration,
        /// `", at most N kbit/s"` when a bottleneck limits the path at the start, else empty.
        capacity: String,
        /// Where the wait ended (boxed: the variant would otherwise make every `CallError`
        /// large).
        source: Box<PeerError>,
        /// What to change: a longer timeout, unless the connection failed outright.
        hint: &'static str,
    },
    /// The scenario itself is unusable.
    #[error("invalid call: {0}")]
    Invalid(String),
}

impl CallError {
    /// Flow `index`'s (0-based) connection failed with `error`: a timeout becomes
    /// [`CallError::Connect`], with the path it ran on; anything else is kept.
    pub(crate) fn connect(index: usize, spec: &MultiCallSpec, error: CallError) -> Self {
        let CallError::Peer(source @ PeerError::Timeout { .. }) = error else {
            return error;
        };
        let failed =
            matches!(&source, PeerError::Timeout { reached, .. } if reached.ends_with("failed"));
        let hint = if failed {
            "the connection failed (ICE or DTLS gave up), so a longer timeout will not help: \
             webrtc-rs 0.21 forgets an ICE check left unanswered for 4 s, so a round trip near \
             4 s, or a link too slow to carry the handshake (a few kbit/s), never connects; \
             shorten the delay or raise the capacity at the start of the call"
        } else {
            "a slow or long path needs a longer timeout (`connect_timeout_s` in a scenario \
             file, `connect_timeout` in a call spec)"
        };
        let flow = &spec.flows[index];
        let round_trip =
            flow.access_delay.saturating_mul(4) + spec.forward.delay + spec.backward.delay;
        let slowest = [&spec.forward, &spec.backward]
            .iter()
            .filter_map(|l| l.capacity.nominal_rate_at(SimDuration::ZERO))
            .min();
        Self::Connect {
            flow: index + 1,
            timeout: spec.connect_timeout,
            round_trip,
            capacity: slowest.map_or_else(String::new, |r| {
                format!(", at most {} kbit/s", r.bps() / 1000)
            }),
            source: Box::new(source),
            hint,
        }
    }

    pub(crate) fn webrtc(context: &'static str, e: impl std::fmt::Display) -> Self {
        Self::WebRtc {
            context,
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Estimator, FlowSpec};
    use vnet_sim::LinkConfig;

    fn timeout(reached: &str) -> CallError {
        CallError::Peer(PeerError::Timeout {
            peer: "flow1-sender#0".to_owned(),
            wanted: "connection state connected".to_owned(),
            reached: reached.to_owned(),
            history: "connecting".to_owned(),
            timeout: SimDuration::from_secs(1),
        })
    }

    /// A flow that does not connect must say so with its path, and name the key that gives it
    /// more time, unless more time cannot help.
    #[test]
    fn a_connect_timeout_names_the_path_and_the_key_to_change() {
        let link = LinkConfig {
            delay: SimDuration::from_millis(400),
            ..LinkConfig::default()
        };
        let spec = MultiCallSpec::new(1, link, vec![FlowSpec::new(Estimator::OursSendSide)]);
        let err = CallError::connect(0, &spec, timeout("connecting")).to_string();
        assert!(
            err.starts_with("flow 1 did not connect: the ICE and DTLS handshake")
                && err.contains("round trip of 800ms")
                && err.ends_with(
                    "(`connect_timeout_s` in a scenario file, `connect_timeout` in a call spec)"
                ),
            "{err}"
        );
        let err = CallError::connect(0, &spec, timeout("failed")).to_string();
        assert!(err.contains("a longer timeout will not help"), "{err}");
        let other = CallError::connect(0, &spec, CallError::Invalid("x".to_owned()));
        assert!(matches!(other, CallError::Invalid(_)), "{other}");
    }
}
