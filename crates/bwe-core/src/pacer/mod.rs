//! Sans-I/O pacing: when each packet leaves, probe clusters, the congestion window and its
//! encoder pushback, the retransmission budget and the queue time limit.
//!
//! The pacer holds the caller's packets (any type `P`) with their size and kind, and hands them
//! back through [`Pacer::poll_release`] when they may leave. Time is an input, as everywhere in
//! this crate, and nothing allocates per packet: the queue and every table are sized at
//! construction (or when a stream is added).
//!
//! It is owned, with the estimator, by [`crate::controller::SendSideController`], which tells
//! it the target, the probe clusters and what feedback resolved; it never decides the target.

mod config;
mod feedback_gaps;
pub mod filler;
pub mod flight;
mod pacing;
pub mod prober;
pub mod retransmit;
pub mod sequence_map;
mod stats;
pub mod window;

pub use config::PacerConfig;
pub use pacing::{Pacer, PacketKind, Refusal, Release};
pub use sequence_map::SequenceMap;
pub use stats::PacerStats;

#[cfg(test)]
mod tests;
