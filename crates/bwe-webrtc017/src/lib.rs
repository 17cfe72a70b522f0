//! # bwe-webrtc017
//!
//! bwe-core's receive-side estimator for the async webrtc-rs 0.17 line (`webrtc`,
//! `interceptor`, `webrtc-util` 0.17, on tokio). A 0.17 application depends on this crate and
//! on one webrtc line only: nothing here pulls in `rtc` or `webrtc` 0.21.
//!
//! ## What is here
//!
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
//! - **One call to set it up**: [`configure_remb_bwe`] registers the extension and `goog-remb`
//!   on the `MediaEngine` and adds stamper, generator, NACK and RTCP reports to the `Registry`.
//! - **Virtual-network helpers** ([`vnet`]): a router with a fixed latency, PeerConnections bound
//!   to its hosts, offer/answer with gathered candidates, waiting for a connection state, and a
//!   bottleneck ([`vnet::RateLimitedNic`]: a rate with a drop-tail queue in front of a host, on
//!   tokio's clock). Behind 1 Mbit/s with a 300 ms queue, a sender that follows the REMB from
//!   300 kbit/s has REMBs of 0.81–1.00 Mbit/s (median 0.88) from 20 s on
//!   (`tests/rate_limited_remb.rs`, 40 s of media in 0.1 s on a paused clock).
//!
//! ## Time
//!
//! 0.17 interceptors are tokio tasks that must read a clock; this crate reads tokio's
//! (`tokio::time::Instant`), in one place, and converts to bwe-core `Timestamp`s at the edge. On
//! a paused runtime (`#[tokio::test(start_paused = true)]`) the estimator, the REMB timer, the
//! stamper, and 0.17's ICE, DTLS and SCTP timers all follow virtual time, so a call with media
//! runs many times faster than real time. Two things do not: webrtc-util 0.17's router measures
//! its latency on `SystemTime` (a router with latency never delivers on a paused clock: tests
//! with latency run in real time), and 0.17's sender and receiver reports take NTP times and
//! RTT from `SystemTime`. `tests/paused_clock.rs` states both as tests.
//!
//! ## What is not here yet
//!
//! - **The send-side estimator (TWCC)**. 0.17 has the pieces a send-side interceptor needs: its
//!   TWCC sender interceptor writes transport-wide sequence numbers on local streams (readable
//!   in a later `bind_local_stream` writer), its TWCC receiver sends feedback, and
//!   `bind_rtcp_reader` sees that feedback. Not built.
//! - **A pacer with probing**. 0.17's `RTPWriter::write` is awaited by the track, so an
//!   interceptor can hold packets back and pace them; but packets arrive already numbered by the
//!   packetizer, so probe padding cannot be inserted on the media SSRC without rewriting sequence
//!   numbers, and would have to go on a negotiated RTX stream. The encoder target can only reach
//!   the application through a handle. Not built or tried.
//! - **REMB on the send side**: 0.17 has no congestion control, so a 0.17 sender receives REMB
//!   (readable with `RTCRtpSender::read_rtcp`) and nothing acts on it; the application must
//!   apply it to its encoder.
//! - **Retransmissions are not paced**: 0.17's NACK responder resends whatever is asked for. A
//!   sender that pushed 1.5 Mbit/s into the 1 Mbit/s bottleneck above offered 8.4 Mbit/s of
//!   retransmissions and media to it (41 661 datagrams in 30 s, 37 657 dropped); without the
//!   responder, 0.5 Mbit/s. A send side with a pacer would bound them by the target.
//!
//! ## Where it sits in a chain
//!
//! 0.17's `Chain` wraps readers and writers in registry order, the first-registered next to the
//! transport. [`configure_remb_bwe`] adds the stamper and the generator first, so the stamper
//! also stamps NACK retransmissions and the generator sees arrivals before other interceptors.
//! One [`RembHandle`] serves every PeerConnection built from the registry's API and reads the
//! most recently built one: use one `API` (or registry) per call to read each call's estimate.

mod clock;
mod config;
pub mod epoch;
mod extension_id;
mod generator;
mod handle;
mod registry;
mod remb_interceptor;
mod stamper;
mod stats;
pub mod vnet;

pub use crate::config::{ConfigError, RembConfig};
pub use crate::extension_id::{ABS_SEND_TIME_URI, negotiated_id};
pub use crate::generator::RembGenerator;
pub use crate::handle::RembHandle;
pub use crate::registry::{SetupError, configure_remb_bwe, configure_remb_bwe_with};
pub use crate::remb_interceptor::{RembInterceptor, RembInterceptorBuilder};
pub use crate::stamper::{AbsSendTimeStamper, AbsSendTimeStamperBuilder};
pub use crate::stats::RembStats;
