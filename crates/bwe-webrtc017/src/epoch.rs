//! Converting tokio-clock `Instant`s to bwe-core's `Timestamp`s and back: bwe-core's [`Epoch`].

pub use bwe_core::epoch::Epoch;
