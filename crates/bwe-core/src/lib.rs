//! # bwe-core
//!
//! A GoogCC-grade bandwidth estimator for WebRTC, written sans-I/O: every input carries the
//! instant it happened at, nothing reads a clock, spawns, locks or allocates per packet. Drive it
//! from an interceptor, an SFU or a simulator with packets and instants.
//!
//! Two estimators share one delay pipeline:
//!
//! - [`ReceiveSideEstimator`](receive_side::ReceiveSideEstimator) — for REMB. Feed it every received packet's abs-send-time and size;
//!   it groups packets, filters the delay gradient (trendline by default, Kalman selectable),
//!   detects over-use, runs AIMD rate control against the incoming bitrate and takes the
//!   sender's probe clusters, found from their send spacing.
//! - [`SendSideEstimator`](send_side::SendSideEstimator) — for TWCC / RFC 8888. Feed it sent packets and per-packet feedback; it
//!   runs the trendline delay filter, AIMD against the acknowledged bitrate, the loss-based
//!   controller, probing and ALR, and yields the target, pacing rate and probe requests.
//! - [`controller::SendSideController`] — the send side with its pacer ([`pacer::Pacer`]) under
//!   one owner: packets in, what leaves now out, and one output per call (the encoder target
//!   after the congestion-window pushback, the target, the pacing rate). Use it when you pace
//!   yourself; [`SendSideEstimator`](send_side::SendSideEstimator) alone when something else paces.
//!
//! `docs/algorithm.md` in the repository gives the equations, the source of every constant and
//! every deliberate deviation from libwebrtc.

pub mod aimd;
pub mod alr;
pub mod controller;
pub mod delay;
pub mod epoch;
pub mod feedback;
mod float;
pub mod link_capacity;
pub mod loss;
pub mod pacer;
pub mod probe;
pub mod rate;
pub mod receive_side;
pub mod rtp_ext;
pub mod send_side;
pub mod units;
pub mod usage;

pub use feedback::{FeedbackCoverage, PacketResult, ProbeInfo, SentPacket, SequenceSpace};
pub use units::{Bitrate, DataSize, TimeDelta, Timestamp, UnitError};
pub use usage::BandwidthUsage;
