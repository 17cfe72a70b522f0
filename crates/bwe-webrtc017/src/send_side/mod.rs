//! Send-side bandwidth estimation for webrtc-rs 0.17: bwe-core's
//! [`SendSideController`](bwe_core::controller::SendSideController) (estimator and pacer under
//! one owner) over transport-wide congestion control feedback.
//!
//! # What 0.17's chain allows, and what this does with it
//!
//! - **Numbering and history.** The interceptor writes the transport-wide sequence number
//!   itself, as each packet leaves the pacer, and keeps what it sent under that number
//!   ([`SendHistory`]), so a number always means the packet that left with it, at the instant
//!   it left. 0.17's own TWCC sender interceptor is not used (it numbers packets as they enter
//!   the chain, before any pacing); the remote's TWCC receiver (0.17's, libwebrtc's) reports on
//!   the numbers as usual.
//! - **Feedback.** `bind_rtcp_reader` sees inbound RTCP first (the interceptor is registered
//!   first, next to the transport): TWCC feedback feeds the estimator (a packet is lost only
//!   when a message says so; packets no message arrived for are *unreported*, neither lost nor
//!   received), REMB caps the target, and NACKs are translated for the responder.
//! - **Pacing.** 0.17's `RTPWriter::write` is awaited by the track, but the writer returns as
//!   soon as the packet is queued and a task releases it on the pacer's schedule, so the
//!   application's frame writes are never blocked for the pacing delay.
//! - **Retransmissions are paced.** Registered first, the pacer sits below 0.17's NACK
//!   responder, whose resends (same SSRC, the packet's first number) pass through it and obey
//!   its retransmission rules and budget instead of going to the wire unbounded.
//! - **Probing.** Padding-only packets on the media SSRC, with room made in its sequence
//!   numbers by renumbering ([`bwe_core::pacer::SequenceMap`]); see [`stream`] for why not RTX
//!   (0.17 has none).
//! - **The target reaches the application only through [`SendSideHandle`]**: 0.17 has no
//!   encoder-rate callback; an application reads [`SendSideHandle::encoder_target`] (e.g. once
//!   per frame) and sets its encoder.
//! - **Not done**: 0.17's sender reports count packets as they enter the chain, above the
//!   pacer, so their packet and octet counts leave out padding; RFC 8888 feedback (0.17 has no
//!   generator for it).

mod core;
mod handle;
mod history;
mod interceptor;
pub mod stream;
mod twcc;

pub use self::core::{Pending, SendSideCore, SendSideStats017};
pub use self::handle::SendSideHandle;
pub use self::history::{HISTORY_LEN, SendHistory};
pub use self::interceptor::{SendSideInterceptor, SendSideInterceptorBuilder};
pub use self::stream::TRANSPORT_CC_URI;
pub use self::twcc::{Status, for_each_status};
