//! # bwe-webrtc017
//!
//! bwe-core's estimators for the async webrtc-rs 0.17 line (`webrtc`, `interceptor`,
//! `webrtc-util` 0.17, on tokio). A 0.17 application depends on this crate and on one webrtc
//! line only: nothing here pulls in `rtc` or `webrtc` 0.21.
//!
//! ## What is here
//!
//! - **The send side over TWCC**: [`SendSideInterceptor`] (built by
//!   [`SendSideInterceptorBuilder`]) runs bwe-core's `SendSideController` — the GoogCC-style
//!   estimator and the pacer under one owner — in a 0.17 chain: it numbers each packet as it
//!   leaves the pacer (transport-wide sequence numbers, its own history), reads the remote's
//!   TWCC feedback, probes with padding on the media SSRC, paces 0.17's NACK resends under the
//!   target, and takes a REMB as a cap. The application reads the rate to encode at from a
//!   [`SendSideHandle`]. What 0.17's chain allows and what it does not is in [`send_side`].
//!   Behind 1 Mbit/s with a 300 ms queue, a sender that follows the target from 300 kbit/s
//!   has targets of 832–966 kbit/s (median 896) from 20 s on, 0.961 of the link used and no
//!   drop; on 1.0 → 0.5 → 1.5 Mbit/s the medians are 922, 450 and 1 371 kbit/s with a p95
//!   queue of 45 ms (`tests/send_side_twcc.rs`, on a paused clock).
//! - **REMB on the receive side**: [`RembInterceptor`] (built by [`RembInterceptorBuilder`])
//!   reads each inbound packet's abs-send-time (the id negotiated for
//!   [`ABS_SEND_TIME_URI`] in the stream's `StreamInfo`), feeds
//!   `bwe_core::receive_side::ReceiveSideEstimator` and sends a REMB for all live SSRCs once the
//!   estimate rests on a measurement, then every second ([`RembConfig::interval`]), at once on
//!   a drop of 3 % or more ([`RembConfig::drop_threshold`]) and at once on a probe result.
//!   Streams silent for 2 s leave the list. Malformed packets are counted and skipped; the
//!   application reads the estimate and the counters through a [`RembHandle`]. The logic lives
//!   in the tokio-free [`RembGenerator`], which the unit tests drive with instants they choose.
//! - **abs-send-time on the send side**: [`AbsSendTimeStamper`]. webrtc 0.17 stamps no send time
//!   by itself, so without it a 0.17 sender gives a receive-side estimator nothing to measure.
//! - **One call to set either up**: [`configure_send_side_bwe`] registers the transport-wide
//!   extension and `transport-cc` feedback and adds the send side, 0.17's TWCC receiver, NACK
//!   and RTCP reports; [`configure_remb_bwe`] registers abs-send-time and `goog-remb` and adds
//!   stamper, generator, NACK and RTCP reports.
//! - **Virtual-network helpers** ([`vnet`]): a router with a fixed latency, PeerConnections bound
//!   to its hosts, offer/answer with gathered candidates, waiting for a connection state, and a
//!   bottleneck ([`vnet::RateLimitedNic`]: a rate with a drop-tail queue in front of a host, on
//!   tokio's clock, with a [`vnet::RateControl`] for capacity schedules). Behind 1 Mbit/s with
//!   a 300 ms queue, a sender that follows the REMB from 300 kbit/s has REMBs of
//!   0.81–1.00 Mbit/s (median 0.88) from 20 s on (`tests/rate_limited_remb.rs`).
//!
//! ## Time
//!
//! 0.17 interceptors are tokio tasks that must read a clock; this crate reads tokio's
//! (`tokio::time::Instant`), in one place, and converts to bwe-core `Timestamp`s at the edge. On
//! a paused runtime (`#[tokio::test(start_paused = true)]`) the estimators, the REMB timer, the
//! stamper, the send side's pacer, and 0.17's ICE, DTLS and SCTP timers all follow virtual time, so a call with media
//! runs many times faster than real time. Two things do not: webrtc-util 0.17's router measures
//! its latency on `SystemTime` (a router with latency never delivers on a paused clock: tests
//! with latency run in real time), and 0.17's sender and receiver reports take NTP times and
//! RTT from `SystemTime`. `tests/paused_clock.rs` states both as tests.
//!
//! ## What 0.17 does not give
//!
//! - **No RTX**: 0.17 negotiates none and its NACK responder resends on the media SSRC. The
//!   send side recognises a resend (a number not newer than the newest sent) and paces it under
//!   its retransmission rules; probe padding goes on the media SSRC, with renumbering.
//! - **No RFC 8888 feedback**: 0.17 has no generator for it; the send side reads TWCC only.
//! - **REMB at a REMB-only sender**: 0.17 has no congestion control, so a 0.17 sender with
//!   the default chain receives REMB (readable with `RTCRtpSender::read_rtcp`) and nothing acts
//!   on it; with [`configure_send_side_bwe`] a REMB caps the target.
//! - **Unpaced retransmissions in the default chain**: 0.17's NACK responder resends whatever
//!   is asked. An application sending 1.5 Mbit/s into a 1 Mbit/s bottleneck with 0.17's default
//!   chain offered the link 177.6 MB in 20 s (47× the media; 98.8 % of 184 774 datagrams
//!   dropped); with [`configure_send_side_bwe`] and the same careless application, 2.76 MB
//!   (0.74× the media: the pacer shed stale packets and refused 106 309 resends), 8.2 %
//!   dropped (`tests/send_side_twcc.rs`).
//!
//! ## Where it sits in a chain
//!
//! 0.17's `Chain` wraps readers and writers in registry order, the first-registered next to the
//! transport. [`configure_remb_bwe`] adds the stamper and the generator first, so the stamper
//! also stamps NACK retransmissions and the generator sees arrivals before other interceptors;
//! [`configure_send_side_bwe`] adds the send side first, so its pacer is below the NACK
//! responder (resends are paced) and its RTCP reader sees feedback first (NACKs are translated
//! before the responder reads them). One [`RembHandle`] (or [`SendSideHandle`]) serves every PeerConnection built from the
//! registry's API and reads the most recently built one: use one `API` (or registry) per call
//! to read each call's estimate.

mod clock;
mod config;
pub mod epoch;
mod extension_id;
mod generator;
mod handle;
mod registry;
mod remb_interceptor;
pub mod send_side;
mod stamper;
mod stats;
mod task;
pub mod vnet;

pub use crate::config::{ConfigError, RembConfig};
pub use crate::extension_id::{ABS_SEND_TIME_URI, negotiated_id};
pub use crate::generator::RembGenerator;
pub use crate::handle::RembHandle;
pub use crate::registry::{
    SetupError, configure_remb_bwe, configure_remb_bwe_with, configure_send_side_bwe,
    configure_send_side_bwe_with,
};
pub use crate::remb_interceptor::{RembInterceptor, RembInterceptorBuilder};
pub use crate::send_side::{SendSideHandle, SendSideInterceptor, SendSideInterceptorBuilder};
pub use crate::stamper::{AbsSendTimeStamper, AbsSendTimeStamperBuilder};
pub use crate::stats::RembStats;
