//! # vnet-sim
//!
//! A seeded, deterministic network simulator for testing real-time media and congestion control:
//! the same seed gives the same run, packet for packet, in virtual time.
//!
//! Virtual time is [`SimTime`] and [`SimDuration`], integer nanoseconds; rates are [`Rate`],
//! integer bits per second. Randomness comes only from per-stage streams derived in [`seed`].

pub mod rate;
pub mod seed;
pub mod time;

pub use rate::Rate;
pub use time::{SimDuration, SimTime};
