//! [`CallSpec`] and [`run_call`]: one video call between two real webrtc PeerConnections over a
//! vnet-sim path, in virtual time, returning its [`Trace`].
//!
//! A single call is a multi-flow call with one flow: [`run_call`] hands [`run_multi_call`] a
//! [`MultiCallSpec`] of one forward video flow with no access delay, so one simulator builder,
//! one media loop and one set of seed labels serve every call (see [`crate::multi`] for the
//! topology and the order of events). `CallSpec` stays as the short way to say "one flow".
//!
//! Everything that decides timing is seeded from `seed` (links, crypto, encoder sizes) and the
//! SSRCs are fixed, so the same spec gives the same trace; webrtc's own unseeded draws change
//! bytes, not sizes or times (see `docs/simulator.md`).

use vnet_sim::{LinkConfig, LinkStats, QueueLimit, RateSchedule, SimDuration, SimTime, Window};

use crate::capture::CallCapture;
use crate::encoder::EncoderConfig;
use crate::error::CallError;
use crate::estimator::{Estimator, Nack};
use crate::flow::FlowSpec;
use crate::multi::{MultiCallSpec, run_multi_call};
use crate::recorder::Trace;

/// A call to run. Start from [`CallSpec::new`].
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// Seeds the links, the peers' crypto and the encoder's frame sizes.
    pub seed: u64,
    /// The congestion controller, on both peers.
    pub estimator: Estimator,
    /// Loss repair. Default [`Nack::WithRtx`].
    pub nack: Nack,
    /// Virtual time of media, from the moment both peers are connected.
    pub duration: SimDuration,
    /// Sender → receiver. Its capacity schedule's offsets, its blackout windows (read as
    /// offsets from `SimTime::ZERO`) and its delay steps count from the start of media;
    /// `record_log` is turned on by the runner.
    pub forward: LinkConfig,
    /// Receiver → sender (feedback). Its blackout windows and delay steps count from the start
    /// of media too.
    pub backward: LinkConfig,
    /// The encoder model; its seed is derived from `seed`.
    pub encoder: EncoderConfig,
    /// Trace row length (default 200 ms).
    pub interval: SimDuration,
    /// How long ICE and DTLS may take (default 10 s).
    pub connect_timeout: SimDuration,
    /// Capture every link and both PeerConnections' plaintext RTP and RTCP
    /// ([`CallResult::capture`]). Default off.
    pub capture: bool,
}

impl CallSpec {
    /// A 20 s call with `estimator` over `forward` and a return link with the same delay, no
    /// bottleneck and no loss.
    pub fn new(seed: u64, estimator: Estimator, forward: LinkConfig) -> Self {
        let backward = LinkConfig {
            delay: forward.delay,
            ..LinkConfig::default()
        };
        Self {
            seed,
            estimator,
            nack: Nack::default(),
            duration: SimDuration::from_secs(20),
            forward,
            backward,
            encoder: EncoderConfig::default(),
            interval: SimDuration::from_millis(200),
            connect_timeout: SimDuration::from_secs(10),
            capture: false,
        }
    }

    /// A bottleneck link: `capacity`, `delay` one way, a drop-tail queue holding `queue` of
    /// traffic at the current rate.
    pub fn bottleneck(
        capacity: impl Into<RateSchedule>,
        delay: SimDuration,
        queue: SimDuration,
    ) -> LinkConfig {
        LinkConfig {
            capacity: capacity.into(),
            queue: QueueLimit::Time(queue),
            delay,
            ..LinkConfig::default()
        }
    }
}

/// What a call produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CallResult {
    /// Per-interval record and per-packet samples of the forward link (queuing delay is the
    /// time in the bottleneck).
    pub trace: Trace,
    /// The forward link's totals over the whole simulation (handshake included).
    pub forward_stats: LinkStats,
    /// RTP packets the receiving application read from its track.
    pub rtp_received: u64,
    /// When media started, in simulation time (after ICE and DTLS).
    pub media_start: SimTime,
    /// The links' pcaps and both PeerConnections' taps, when the spec asked for `capture`.
    pub capture: Option<CallCapture>,
}

/// `window`, written as offsets from `SimTime::ZERO`, moved to start at `media_start`.
pub(crate) fn after(media_start: SimTime, window: &Window) -> Window {
    Window::new(
        media_start + window.start.since_start(),
        media_start + window.end.since_start(),
    )
}

impl CallSpec {
    /// The same call as a multi-flow call of one forward video flow.
    pub fn as_multi(&self) -> MultiCallSpec {
        let mut flow = FlowSpec::new(self.estimator);
        flow.nack = self.nack;
        let mut spec = MultiCallSpec::new(self.seed, self.forward.clone(), vec![flow]);
        spec.backward = self.backward.clone();
        spec.duration = self.duration;
        spec.encoder = self.encoder.clone();
        spec.interval = self.interval;
        spec.connect_timeout = self.connect_timeout;
        spec.capture = self.capture;
        spec
    }
}

/// Runs `spec` as a one-flow [`run_multi_call`].
pub fn run_call(spec: &CallSpec) -> Result<CallResult, CallError> {
    let result = run_multi_call(&spec.as_multi())?;
    let flow = result
        .flows
        .into_iter()
        .next()
        .ok_or_else(|| CallError::Invalid("a one-flow call returned no flow".to_owned()))?;
    Ok(CallResult {
        trace: flow.trace,
        forward_stats: result.forward_stats,
        rtp_received: flow.rtp_received,
        media_start: result.media_start,
        capture: result.capture,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_sim::Rate;

    fn spec() -> CallSpec {
        let link = CallSpec::bottleneck(
            Rate::from_mbps(1),
            SimDuration::from_millis(10),
            SimDuration::from_millis(100),
        );
        CallSpec::new(1, Estimator::OursSendSide, link)
    }

    /// A call with no media time has nothing to measure: an error, not an empty trace.
    #[test]
    fn a_call_without_duration_is_refused() {
        let mut s = spec();
        s.duration = SimDuration::ZERO;
        assert!(matches!(run_call(&s), Err(CallError::Invalid(_))));
    }

    /// A bad link is reported with its direction, before any peer is built.
    #[test]
    fn an_invalid_link_is_an_error_naming_it() {
        let mut s = spec();
        s.forward.duplicate = 2.0;
        let err = run_call(&s).expect_err("invalid duplication probability");
        assert!(err.to_string().contains("r1 -> r2"), "{err}");
    }
}
