//! What the interceptors promise for whatever the network sends, as functions that panic when a
//! promise is broken.
//!
//! One definition serves two drivers: `tests/malformed_input_is_counted_never_fatal.rs`
//! (proptest, in `cargo test`) and the fuzz targets in `fuzz/` (libFuzzer, which include this
//! module by path). Every input goes through rtc's own parsers first, as on the wire: only what
//! rtc accepts reaches our interceptors.

#![allow(dead_code)] // each driver uses its own subset

pub mod input;
pub mod remb_packet;
pub mod remb_receiver;
pub mod rtcp_feedback;
