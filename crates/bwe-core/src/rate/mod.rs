//! Throughput measurements: what arrived (receive side) and what was acknowledged (send side).

pub mod acked_bitrate;
pub mod incoming_bitrate;

pub use acked_bitrate::{AckedBitrateConfig, AckedBitrateEstimator};
pub use incoming_bitrate::IncomingBitrate;
