//! The over-use detector: turns the filter's estimate into a [`BandwidthUsage`] verdict.
//!
//! The modified offset `m` is compared with the adaptive threshold γ:
//! - `m < −γ`: under-use (the queue drains), at once;
//! - `−γ ≤ m ≤ γ`: normal, at once;
//! - `m > γ`: over-use, but only once `m` has stayed above γ for longer than `overuse_time`
//!   (measured in send time), over at least two consecutive samples, and while the raw estimate
//!   is not decreasing. Until then the previous verdict stands.
//!
//! The asymmetry is deliberate. Over-use makes the rate controller cut the rate by 15 %, so it
//! must not fire on a single delayed frame; a falling estimate means the queue is already
//! recovering (often because of the previous cut), and declaring over-use again would cut twice
//! for one event. Normal and under-use only hold or raise the rate, so they may be declared
//! immediately. The alternative of a symmetric hysteresis was rejected: it delays the resumption
//! of rate increase after every congestion episode for no safety gain.
//!
//! The over-use timer counts send-time deltas, not wall time, so that bursty feedback does not
//! stretch or shrink it. The first sample above γ counts half of its send delta: on average the
//! crossing happened midway since the previous sample.
//!
//! Source: libwebrtc `modules/remote_bitrate_estimator/overuse_detector.cc` and the detector
//! inside `modules/congestion_controller/goog_cc/trendline_estimator.cc` (`kOverUsingTimeThreshold`
//! 10 ms, at least two samples, fewer than two deltas always normal). Deviations: a negative send
//! delta adds nothing to the timer, and a non-finite estimate reads as zero.

use super::filter_output::FilterOutput;
use super::threshold::{AdaptiveThreshold, ThresholdConfig};
use crate::units::{TimeDelta, Timestamp};
use crate::usage::BandwidthUsage;

/// Detector parameters. The defaults are libwebrtc's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorConfig {
    /// How long (in send time) the offset must exceed γ before over-use is declared. Default 10 ms.
    pub overuse_time: TimeDelta,
    /// The adaptive threshold.
    pub threshold: ThresholdConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            overuse_time: TimeDelta::from_millis(10),
            threshold: ThresholdConfig::default(),
        }
    }
}

/// The over-use detector. See the module docs.
#[derive(Clone, Debug)]
pub struct OveruseDetector {
    config: DetectorConfig,
    threshold: AdaptiveThreshold,
    usage: BandwidthUsage,
    /// Send time spent above γ in the current episode; `None` while below.
    time_over_using: Option<TimeDelta>,
    samples_over: u32,
    prev_estimate_ms: f64,
}

impl OveruseDetector {
    /// A detector reporting [`BandwidthUsage::Normal`].
    pub fn new(config: DetectorConfig) -> Self {
        Self {
            config,
            threshold: AdaptiveThreshold::new(config.threshold),
            usage: BandwidthUsage::Normal,
            time_over_using: None,
            samples_over: 0,
            prev_estimate_ms: 0.0,
        }
    }

    /// Classifies one filter output.
    ///
    /// `send_delta` is the send-time span the sample covers; `now` is the time base for the
    /// threshold's adaptation (the pipeline passes the group's arrival time).
    #[inline]
    pub fn detect(
        &mut self,
        out: &FilterOutput,
        send_delta: TimeDelta,
        now: Timestamp,
    ) -> BandwidthUsage {
        // A non-finite value can only come from a hand-made output; it reads as zero.
        let finite_or_zero = |v: f64| if v.is_finite() { v } else { 0.0 };
        let out = FilterOutput {
            modified_offset_ms: finite_or_zero(out.modified_offset_ms),
            raw_estimate_ms: finite_or_zero(out.raw_estimate_ms),
            num_deltas: out.num_deltas,
        };
        self.detect_finite(&out, send_delta, now)
    }

    /// [`Self::detect`] for an output whose values are finite, as the filters make them
    /// ([`FilterOutput::from_estimate`] and the trendline's own path check): the checks would sit
    /// between the filter and the verdict.
    #[inline]
    pub(crate) fn detect_finite(
        &mut self,
        out: &FilterOutput,
        send_delta: TimeDelta,
        now: Timestamp,
    ) -> BandwidthUsage {
        if out.num_deltas < 2 {
            self.usage = BandwidthUsage::Normal;
            return self.usage;
        }
        let m = out.modified_offset_ms;
        let estimate = out.raw_estimate_ms;
        let gamma = self.threshold.threshold_ms();
        let step = send_delta.max(TimeDelta::ZERO);

        if m > gamma {
            let over = match self.time_over_using {
                None => step / 2,
                Some(t) => t + step,
            };
            self.time_over_using = Some(over);
            self.samples_over = self.samples_over.saturating_add(1);
            if over > self.config.overuse_time
                && self.samples_over > 1
                && estimate >= self.prev_estimate_ms
            {
                self.time_over_using = Some(TimeDelta::ZERO);
                self.samples_over = 0;
                self.usage = BandwidthUsage::Overusing;
            }
        } else {
            self.time_over_using = None;
            self.samples_over = 0;
            self.usage = if m < -gamma {
                BandwidthUsage::Underusing
            } else {
                BandwidthUsage::Normal
            };
        }
        self.prev_estimate_ms = estimate;
        self.threshold.update_finite(m, now);
        self.usage
    }

    /// The latest verdict.
    pub fn usage(&self) -> BandwidthUsage {
        self.usage
    }

    /// The current threshold γ, ms.
    pub fn threshold_ms(&self) -> f64 {
        self.threshold.threshold_ms()
    }

    /// Returns to the initial state: normal, initial threshold.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> OveruseDetector {
        OveruseDetector::new(DetectorConfig::default())
    }

    fn out(raw: f64) -> FilterOutput {
        FilterOutput::from_estimate(raw, 60)
    }

    /// Feeds `raws` at 10 ms intervals and returns the verdicts.
    fn run(
        d: &mut OveruseDetector,
        start_ms: i64,
        send_delta_ms: i64,
        raws: &[f64],
    ) -> Vec<BandwidthUsage> {
        raws.iter()
            .enumerate()
            .map(|(i, &r)| {
                let now = Timestamp::from_millis(start_ms + 10 * i as i64);
                d.detect(&out(r), TimeDelta::from_millis(send_delta_ms), now)
            })
            .collect()
    }

    use BandwidthUsage::{Normal, Overusing, Underusing};

    /// A single late frame must not trigger a 15 % rate cut.
    #[test]
    fn one_spike_is_not_overuse() {
        let mut d = detector();
        // 60 × 1.0 = 60 ms, far above γ = 12.5 ms, for one sample only.
        let verdicts = run(&mut d, 0, 30, &[0.0, 1.0, 0.0, 0.0]);
        assert_eq!(verdicts, [Normal, Normal, Normal, Normal]);
    }

    /// A queue that keeps growing is the one thing the detector exists to catch.
    #[test]
    fn steadily_growing_delay_is_overuse() {
        let mut d = detector();
        let verdicts = run(&mut d, 0, 10, &[0.1, 0.3, 0.4, 0.5, 0.6]);
        // 0.1 × 60 = 6 is below γ; from the second sample on: 5 ms, then 15 ms > 10 ms.
        assert_eq!(verdicts, [Normal, Normal, Overusing, Overusing, Overusing]);
    }

    /// The timer starts at half the first send delta: with 6 ms deltas over-use needs 3 samples.
    #[test]
    fn first_overusing_sample_counts_half_its_send_delta() {
        let mut d = detector();
        let verdicts = run(&mut d, 0, 6, &[0.5, 0.5, 0.5]);
        assert_eq!(verdicts, [Normal, Normal, Overusing]);
    }

    /// Two samples are needed even when one covers more than the over-use time.
    #[test]
    fn overuse_requires_two_consecutive_samples() {
        let mut d = detector();
        let verdicts = run(&mut d, 0, 100, &[0.5, 0.0, 0.5, 0.5]);
        assert_eq!(verdicts, [Normal, Normal, Normal, Overusing]);
    }

    /// A falling estimate means the queue is already recovering: do not cut twice.
    #[test]
    fn decreasing_estimate_does_not_trigger_overuse() {
        let mut d = detector();
        let verdicts = run(&mut d, 0, 10, &[0.9, 0.8, 0.7, 0.6, 0.6]);
        assert_eq!(verdicts, [Normal, Normal, Normal, Normal, Overusing]);
    }

    /// A draining queue must be reported at once, so the rate controller can hold.
    #[test]
    fn negative_offset_beyond_threshold_is_underuse() {
        let mut d = detector();
        let verdicts = run(&mut d, 0, 10, &[-0.5, -0.1, 0.0]);
        assert_eq!(verdicts, [Underusing, Normal, Normal]);
    }

    /// With fewer than two deltas the filter has no estimate; the verdict is normal.
    #[test]
    fn too_few_deltas_are_normal() {
        let mut d = detector();
        let first = FilterOutput::from_estimate(10.0, 1);
        for i in 0..5 {
            let v = d.detect(
                &first,
                TimeDelta::from_millis(50),
                Timestamp::from_millis(10 * i),
            );
            assert_eq!(v, Normal);
        }
        assert_eq!(d.threshold_ms(), 12.5);
    }

    /// Garbage in (NaN, negative send deltas) must not produce a verdict or a NaN threshold.
    #[test]
    fn non_finite_and_negative_inputs_are_harmless() {
        let mut d = detector();
        let nan = FilterOutput {
            modified_offset_ms: f64::NAN,
            raw_estimate_ms: f64::INFINITY,
            num_deltas: 60,
        };
        for i in 0..10 {
            let v = d.detect(&nan, TimeDelta::MIN, Timestamp::from_millis(10 * i));
            assert_eq!(v, Normal);
        }
        assert!(d.threshold_ms().is_finite());
        // Negative send deltas never accumulate towards over-use.
        let verdicts = run(&mut d, 1_000, -50, &[0.5, 0.5, 0.5, 0.5]);
        assert_eq!(verdicts, [Normal; 4]);
    }

    /// Reset returns to a normal verdict and the initial threshold.
    #[test]
    fn reset_restores_the_initial_state() {
        let mut d = detector();
        let _ = run(&mut d, 0, 10, &[0.5; 10]);
        assert_eq!(d.usage(), Overusing);
        d.reset();
        assert_eq!(d.usage(), Normal);
        assert_eq!(d.threshold_ms(), 12.5);
    }
}
