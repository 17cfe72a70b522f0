//! # bwe-interceptor
//!
//! [bwe-core](bwe_core)'s estimators inside webrtc-rs 0.21 interceptor chains (`rtc::interceptor`).
//!
//! - [`BweSendSide`] — the send-side estimator behind rtc's `BandwidthEstimator` seam: pass it to
//!   `configure_congestion_control` instead of `rtc::interceptor::Gcc`, with TWCC or RFC 8888
//!   feedback.
//! - [`RembInterceptor`] — receive-side estimation from abs-send-time, sending REMB for every
//!   live stream, for peers and SFUs that only speak REMB.
//! - [`RembSenderInterceptor`] — at a sender, reads REMB and receiver reports, runs the
//!   loss-based controller under the REMB cap and hands the result to rtc's pacer.
//! - [`ProbingPacer`] — puts on the wire what the send-side controller releases: media paced at
//!   2.5 × the target, probe clusters (padded when media is short), retransmissions within
//!   budget; it shares one `bwe_core::controller::SendSideController` with [`BweSendSide`]
//!   (made together by [`BweSendSide::with_pacer`]).
//! - [`AbsSendTimeInterceptor`] — writes abs-send-time at release, which rtc never does, so a
//!   webrtc-rs sender can be estimated by a REMB receiver.
//! - [`configure_send_side_bwe`], [`configure_remb_bwe`], [`configure_bwe`] — one call for a
//!   correct chain: estimation, feedback, NACK with RTX, RTCP reports.
//! - [`PacketTap`] — off unless asked for: records every RTP header and RTCP packet at the
//!   chain's wire end, in plaintext, for a capture SRTP would otherwise hide.
//! - [`BweHandle`] — how the application sees what the estimators inside a built chain decide:
//!   a cloneable handle with the latest snapshot, a change counter and an optional callback, with
//!   no async runtime behind it.
//!
//! Everything is sans-I/O like the chain itself: instants come in with packets and timeouts,
//! nothing reads a clock or sleeps. [`rtc`] is re-exported: it is the webrtc-rs crate these
//! chains are built for, so an application can name its types without guessing the version.
//! A whole call with the send-side chain, two real PeerConnections in virtual time:
//! `cargo run --release -p bwe-interceptor --example send_side_chain`.
//!
//! ```
//! use bwe_interceptor::configure_send_side_bwe;
//! use rtc::interceptor::Registry;
//! use rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback;
//! use rtc::peer_connection::configuration::media_engine::MediaEngine;
//!
//! let mut media_engine = MediaEngine::default();
//! // Codecs first: feedback is added to the codecs registered so far, and the default set
//! // pairs every video codec with RTX, which NACK needs to keep the estimate intact.
//! media_engine.register_default_codecs()?;
//! let (registry, bwe) =
//!     configure_send_side_bwe(Registry::new(), &mut media_engine, CongestionFeedback::Twcc)?;
//! // Hand `media_engine` and `registry` to `RTCPeerConnectionBuilder`; keep `bwe`.
//! bwe.set_on_change(|snapshot| {
//!     if let Some(target) = snapshot.target {
//!         // set the encoder's bitrate to `target`
//!         let _ = target;
//!     }
//! });
//! assert!(bwe.target().is_some(), "the start rate is published at once");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The rtc crate this one is built against (its interceptor, media engine and RTP/RTCP types),
/// so that an application names the same version without guessing.
pub use rtc;

pub mod chain;
pub mod controller;
pub mod epoch;
pub mod error;
pub mod events;
mod feedback_tap;
pub mod handle;
pub mod pacer;
pub mod remb;
mod rtcp_order;
pub use rtcp_order::{RTCP_ORDER_SLOT, RtcpOrder};
pub(crate) mod report_map;
pub use feedback_tap::{FEEDBACK_TAP_SLOT, FeedbackTap};
pub mod send_side;
pub mod tap;

pub use chain::{
    BweChainConfig, DEFAULT_FEEDBACK_INTERVAL, SendSideChain, configure_bwe, configure_remb_bwe,
    configure_send_side_bwe, register_remb, register_rtx_codec,
};
pub use controller::{PUBLISH_INTERVAL, SendSideView};
pub use error::{ChainError, ConfigError};
pub use handle::{BweHandle, BweSnapshot};
pub use pacer::{PACER_SLOT, PacerConfig, PacerStats, ProbingPacer};
pub use remb::extension_id::{ABS_CAPTURE_TIME_URI, ABS_SEND_TIME_URI};
pub use remb::receiver::{REMB_SLOT, RembConfig, RembInterceptor};
pub use remb::receiver_stats::RembReceiverStats;
pub use remb::sender::{REMB_SENDER_SLOT, RembSenderConfig, RembSenderInterceptor};
pub use remb::sender_stats::RembSenderStats;
pub use remb::stamper::{ABS_SEND_TIME_SLOT, AbsSendTimeInterceptor};
pub use send_side::{BweSendSide, BweSendSideStats};
pub use tap::{PacketTap, TAP_SLOT, TapDirection, TapHandle, TapKind, TapRecord};

/// The workspace README's Rust examples (bwe-core's and this crate's), compiled and run as
/// doctests so that they cannot go stale; here because this crate depends on both.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
