//! # vnet-sim
//!
//! A seeded, deterministic network simulator for testing real-time media and congestion control:
//! the same seed gives the same run, packet for packet, in virtual time, inside `cargo test`.
//!
//! This crate is the **link model**: one direction of a path, as a pipeline of impairments.
//!
//! ```
//! use vnet_sim::{Link, LinkConfig, LossModel, Packet, QueueLimit, Rate, SimDuration, SimTime};
//!
//! let config = LinkConfig {
//!     capacity: Rate::from_mbps(1).into(),
//!     queue: QueueLimit::Time(SimDuration::from_millis(300)),
//!     delay: SimDuration::from_millis(40),
//!     loss: LossModel::Bernoulli { probability: 0.01 },
//!     ..LinkConfig::default()
//! };
//! let mut link = Link::new(&config, 7).expect("valid config");
//! link.handle_packet(SimTime::ZERO, Packet::new("hello", 1250));
//! // The event loop: jump to the next timeout, take what is due, repeat.
//! let mut delivered = Vec::new();
//! while let Some(now) = link.poll_timeout() {
//!     while let Some(d) = link.poll_delivery(now) {
//!         delivered.push(d);
//!     }
//! }
//! // 10 ms to serialise 1250 bytes at 1 Mbit/s, then 40 ms on the wire (unless lost: 1 %).
//! assert_eq!(delivered.len(), 1);
//! assert_eq!(delivered[0].packet.payload, "hello");
//! assert_eq!(delivered[0].at, SimTime::from_millis(50));
//! ```
//!
//! ## Sans-I/O, because time must be an input
//!
//! A [`Link`] never reads a clock, sleeps, spawns or touches a socket. Packets go in with
//! [`Link::handle_packet`]`(now, …)`, deliveries come out of [`Link::poll_delivery`]`(now)`, and
//! [`Link::poll_timeout`] says when something is next due. The caller owns time, so a simulation
//! can jump straight to the next event instead of waiting for it (an hour of video call runs in
//! seconds), and a test can step a link by hand. A runtime that moves datagrams between real
//! WebRTC peers builds on this same loop; the link itself knows nothing of WebRTC.
//!
//! ## Real PeerConnections in virtual time
//!
//! With the default `webrtc` feature, [`Sim`] is a topology (hosts, links, routes) whose
//! [`SimRuntime`] implements webrtc-rs 0.21's `Runtime`: unmodified PeerConnections run over the
//! links with ICE, DTLS and SRTP, and the clock jumps from event to event. The peer helpers
//! ([`peer`]) are the equivalents of Pion's vnet helpers: `sim.peer(host).build()` for
//! `NewVNetPeerConnection` (a [`peer::SimPeer`] with a seeded crypto provider), [`peer::connect`]
//! for `ConnectVNetPeers` (offer/answer with gathered candidates) and
//! [`peer::SimPeer::wait_for_state`] for `WaitForPeerConnectionState`, all with virtual-time
//! timeouts. `cargo run -p vnet-sim --example data_channel` opens a data channel over a 50 ms,
//! 1 % loss path. [`webrtc`] and [`rtc`] are re-exported so that an application uses the same
//! versions. The runtime binds one loopback address per host (`127.a.b.c`), which Linux routes
//! without set-up; see the README for other platforms.
//!
//! ## The model
//!
//! A link is a chain of [`Stage`]s, each a small wrapper around the next (see [`link`] for the
//! order a [`LinkConfig`] builds, and [`stage`] for the contract):
//!
//! - [`Bottleneck`]: a drop-tail queue ([`QueueLimit`] in bytes or in time at the current rate)
//!   in front of a capacity that follows a [`RateSchedule`]: constant, steps, or a mahimahi
//!   trace ([`MahimahiTrace`]) with mahimahi's byte accounting ([`server`]);
//! - [`Blackout`] windows, [`Loss`] (Bernoulli or Gilbert–Elliott by mean loss and mean burst,
//!   [`loss`]), [`Duplicate`], propagation [`Delay`] (constant or in steps, [`DelaySchedule`]),
//!   and [`Jitter`] with or without reordering.
//!
//! Every link counts what happens ([`LinkStats`]: packets and bytes in, delivered, dropped by
//! cause, duplicated, time in the bottleneck) and can keep a per-packet log ([`PacketRecord`]).
//! A [`Capture`] stage in front of a link writes every packet entering it to a pcap file stamped
//! with virtual time ([`pcap`]); the runtime puts one on every link when asked
//! (`SimBuilder::capture`).
//!
//! ## Seeds: one stream per stage
//!
//! Nothing draws from the operating system. A link's random stages each own a `ChaCha8` stream
//! derived from the link's seed and the stage's name with a hash written out in [`seed`] (not
//! `DefaultHasher`, which may change between Rust releases). Separate streams mean that turning on
//! jitter, or drawing once more in the loss stage, does not move any other stage's numbers: a
//! regression test that fixes a seed stays fixed when unrelated parts change. Sampling avoids
//! `rand`'s distributions and transcendental functions for the same reason: results must not
//! shift with a dependency's version or a platform's `libm`.
//!
//! ## Time
//!
//! [`SimTime`] and [`SimDuration`] are integer nanoseconds (see [`time`] for why not
//! microseconds or `std::time::Instant`); [`Rate`] is integer bits per second. All arithmetic
//! saturates, so no input can make the link panic.

/// The rtc crate under it (media engine, interceptors, RTP/RTCP types).
#[cfg(feature = "webrtc")]
pub use rtc;
/// The webrtc crate the runtime implements `Runtime` for and the peer helpers build with, so
/// that an application names the same version without guessing.
#[cfg(feature = "webrtc")]
pub use webrtc;

pub mod blackout;
pub mod capture;
pub mod config;
pub mod delay;
pub mod duplicate;
pub mod jitter;
pub mod link;
pub mod loss;
pub mod packet;
pub mod pcap;
#[cfg(feature = "webrtc")]
pub mod peer;
pub mod presets;
pub mod queue;
pub mod rate;
#[cfg(feature = "relay")]
pub mod relay;
#[cfg(feature = "webrtc")]
pub mod runtime;
pub mod schedule;
pub mod seed;
pub mod server;
#[cfg(feature = "webrtc")]
pub mod sim;
pub mod stage;
pub mod stats;
pub mod tcp;
pub mod time;
pub mod trace;

pub use blackout::{Blackout, Window};
pub use capture::{Capture, UdpFrame};
pub use config::{ConfigError, LinkConfig, LinkError};
pub use delay::{Delay, DelaySchedule};
pub use duplicate::Duplicate;
pub use jitter::{Jitter, JitterConfig, JitterDistribution};
pub use link::{Link, Pipeline, pipeline};
pub use loss::{Loss, LossModel};
pub use packet::{Delivered, InFlight, Packet, UDP_IPV4_OVERHEAD};
pub use pcap::{PcapError, PcapWriter, UdpRecord, read_udp};
pub use queue::{Bottleneck, QueueLimit};
pub use rate::Rate;
#[cfg(feature = "webrtc")]
pub use runtime::{
    HostId, LinkCapture, MessagePlan, NetworkStats, SimError, SimJoinHandle, SimRuntime, Sleep,
    TcpFlow, TcpFlowSnapshot, TcpFlowSpec, TcpTraffic,
};
pub use schedule::{RateSchedule, Steps};
#[cfg(feature = "webrtc")]
pub use sim::{Sim, SimBuilder};
pub use stage::{Control, Exit, Sink, Stage};
pub use stats::{Counter, DropCause, Fate, LinkStats, PacketRecord, QueueDelayStats};
pub use tcp::{TcpAlgorithm, TcpConfig, TcpPath, TcpReceiver, TcpSender};
pub use time::{SimDuration, SimTime};
pub use trace::{
    MahimahiTrace, OPPORTUNITY_BYTES, TraceErrorKind, TraceFileError, TraceParseError,
};
