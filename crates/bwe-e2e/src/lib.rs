//! # bwe-e2e
//!
//! The end-to-end harness: real webrtc-rs 0.21 PeerConnections, a video source that follows the
//! estimator's target, over vnet-sim's deterministic network in virtual time.
//!
//! - [`EncoderModel`] — frame sizes for a target: rate-control lag, key frames, seeded variation;
//!   [`VideoSender`] writes them as VP8 samples on a real track.
//! - [`AudioModel`] — fixed-rate Opus frames (20 ms, 32 kbit/s, optional DTX) that ignore the
//!   target; [`AudioSender`] writes them as Opus samples on a real track.
//! - [`TargetSource`] — where the source reads its target: our [`bwe_interceptor::BweHandle`],
//!   rtc's `Gcc` through a [`TappedEstimator`], or a closure.
//! - [`Estimator`], [`Nack`], [`Endpoint`] — the interceptor chain each peer gets.
//! - [`CallSpec`], [`run_call`] — build the simulation, connect, run media, return a [`Trace`].
//! - [`MultiCallSpec`], [`FlowSpec`], [`run_multi_call`] — several flows, each its own pair of
//!   peers sending video, audio or both ([`Media`]), sharing one bottleneck per direction; one
//!   [`Trace`] per flow plus the aggregate.
//! - [`CallCapture`] — with `capture` on in a call spec: a pcap of every link and the
//!   plaintext RTP and RTCP of every PeerConnection, on one virtual clock ([`capture`]).
//! - [`scenario`] — scenario files (`scenarios/*.toml`) parsed with located errors, run, and
//!   their two-sided checks evaluated: what `cargo xtask scenario run` does, for tests.
//! - [`FlowSet`] — the multi-flow metrics: convergence, overshoot, instability, startup,
//!   fairness (defined in `docs/scenarios.md`).
//! - [`Recorder`], [`Trace`], [`Metrics`] — per-interval capacity, send rate, goodput, target,
//!   REMB, queuing delay and loss from the link's own log; p50/p95 queuing delay, utilisation
//!   and loss over a window.
//!
//! Why real PeerConnections and not the chain alone (as `bwe-interceptor`'s closed-loop tests
//! do): the chain-level loop cannot show what webrtc adds around it — packetisation into MTU-sized
//! packets, SRTP's replay window, the pacer's real scheduling, RTCP timing — and two of the
//! problems these tests pin down (NACK without RTX, rtc::Gcc's queue) live exactly there.
//!
//! ```no_run
//! use bwe_e2e::{CallSpec, Estimator, run_call};
//! use vnet_sim::{Rate, SimDuration};
//!
//! let link = CallSpec::bottleneck(
//!     Rate::from_kbps(1_000),
//!     SimDuration::from_millis(50),
//!     SimDuration::from_millis(300),
//! );
//! let result = run_call(&CallSpec::new(1, Estimator::OursSendSide, link))?;
//! println!("{}", result.trace.render());
//! let m = result.trace.metrics(SimDuration::from_secs(10), SimDuration::from_secs(20));
//! println!("{m}");
//! # Ok::<(), bwe_e2e::CallError>(())
//! ```

pub mod audio;
pub mod audio_model;
pub mod call;
pub mod capture;
pub mod encoder;
pub mod error;
pub mod estimator;
pub mod flow;
pub mod flow_metrics;
pub mod metrics;
pub mod multi;
mod pair;
pub mod recorder;
pub mod scenario;
pub mod target;
pub mod tcp;
pub mod video;

pub use audio::{AUDIO_SSRC, AudioSender};
pub use audio_model::{AudioConfig, AudioFrame, AudioModel, DtxConfig};
pub use call::{CallResult, CallSpec, run_call};
pub use capture::{CallCapture, CaptureError, PeerCapture, TappedPacket};
pub use encoder::{EncoderConfig, EncoderModel, Frame};
pub use error::CallError;
pub use estimator::{Endpoint, Estimator, Nack};
pub use flow::{Activity, Direction, FlowSpec, Media};
pub use flow_metrics::{ChangeResponse, FlowSet};
pub use metrics::{MIN_INTERVAL_PACKETS, Metrics};
pub use multi::{
    FlowResult, MultiCallResult, MultiCallSpec, flow_audio_ssrc, flow_ssrcs, run_multi_call,
};
pub use recorder::{LinkView, PacketSample, QueueDelaySource, Recorder, Sample, Trace, TraceRow};
pub use target::{EstimatorTap, FnTarget, TappedEstimator, TargetSource};
pub use tcp::{TcpResult, TcpSample, TcpSpec, TcpWorkload};
pub use video::VideoSender;
