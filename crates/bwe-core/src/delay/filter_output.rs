//! What a delay filter hands to the over-use detector.
//!
//! Both filters (Kalman for the receive side, trendline for the send side) reduce a stream of
//! [`GroupDelta`](super::GroupDelta)s to one number, the estimate of how fast the queue is
//! growing, and the detector compares a scaled copy of it with the adaptive threshold. A shared
//! output type keeps the detector ignorant of which filter runs; the alternative, a trait with a
//! `modified_offset()` method, would have meant dynamic dispatch or a generic detector for no gain.
//!
//! The scaling by `min(num_deltas, 60)` is the same in both libwebrtc paths
//! (`kMinNumDeltas` in `modules/congestion_controller/goog_cc/trendline_estimator.cc`,
//! `kMaxNumDeltas` in `modules/remote_bitrate_estimator/overuse_detector.cc`). It keeps the
//! detector quiet while the filter has seen few samples and makes the estimate comparable to a
//! threshold expressed in milliseconds.

/// The number of deltas above which the estimate is no longer scaled up further.
pub const MAX_SCALING_DELTAS: u32 = 60;

/// One filter step's result, as the detector consumes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FilterOutput {
    /// The value compared with the threshold: `min(num_deltas, 60) × raw_estimate_ms`.
    pub modified_offset_ms: f64,
    /// The filter's estimate before scaling: the Kalman offset in ms, or the trendline slope
    /// multiplied by its threshold gain. The detector only declares over-use while this value is
    /// not decreasing.
    pub raw_estimate_ms: f64,
    /// How many group deltas the filter has absorbed since its last reset (saturating).
    pub num_deltas: u32,
}

impl FilterOutput {
    /// The output for a raw estimate after `num_deltas` samples.
    ///
    /// A non-finite estimate is reported as zero: "no evidence of a trend" is the safe reading of
    /// a number that is not a number.
    pub fn from_estimate(raw_estimate_ms: f64, num_deltas: u32) -> Self {
        let raw = if raw_estimate_ms.is_finite() {
            raw_estimate_ms
        } else {
            0.0
        };
        let modified = f64::from(num_deltas.min(MAX_SCALING_DELTAS)) * raw;
        Self {
            modified_offset_ms: if modified.is_finite() { modified } else { 0.0 },
            raw_estimate_ms: raw,
            num_deltas,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scaling stops at 60 samples, so a long-running filter is not ever more sensitive.
    #[test]
    fn scaling_saturates_at_sixty_deltas() {
        assert_eq!(FilterOutput::from_estimate(0.5, 10).modified_offset_ms, 5.0);
        assert_eq!(
            FilterOutput::from_estimate(0.5, 60).modified_offset_ms,
            30.0
        );
        assert_eq!(
            FilterOutput::from_estimate(0.5, 1000).modified_offset_ms,
            30.0
        );
    }

    /// A NaN or infinite estimate never reaches the detector.
    #[test]
    fn non_finite_estimates_read_as_zero() {
        let out = FilterOutput::from_estimate(f64::NAN, 5);
        assert_eq!((out.raw_estimate_ms, out.modified_offset_ms), (0.0, 0.0));
        let out = FilterOutput::from_estimate(f64::MAX, 60);
        assert!(out.modified_offset_ms.is_finite());
    }
}
