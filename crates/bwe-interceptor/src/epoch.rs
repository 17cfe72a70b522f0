//! Converting rtc's `Instant`s to bwe-core's `Timestamp`s and back: bwe-core's [`Epoch`], here
//! under the name this crate has always given it.

pub use bwe_core::epoch::Epoch;
