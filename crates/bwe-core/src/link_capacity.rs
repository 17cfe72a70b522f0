//! What the link carried the last few times it filled up.
//!
//! Rate control needs to know whether it is far below the bottleneck (ramp up fast, by a factor)
//! or close to it (creep up slowly, so the next over-use costs little queueing). The throughput
//! measured at the moment the delay detector says "over-using" is a sample of the bottleneck
//! capacity; this module keeps an exponentially smoothed average of those samples together with a
//! spread, and so answers "is this throughput plausibly the same link as before?" with
//! [`LinkCapacityEstimator::lower_bound`] and [`LinkCapacityEstimator::upper_bound`] (mean ± 3σ).
//!
//! The spread is a *normalised* variance: the squared error divided by the estimate (both in
//! kbit/s), clamped to [0.4, 2.5]. Normalising makes σ = √(var · estimate) grow with the square
//! root of the rate (σ between 14 and 35 kbit/s at 500 kbit/s), so one pair of clamps serves
//! links from tens of kbit/s to hundreds of Mbit/s. A plain variance would need
//! rate-dependent clamps; a fixed relative band would be too tight at low rates and too loose at
//! high rates.
//!
//! Constants follow libwebrtc `modules/congestion_controller/goog_cc/link_capacity_estimator.cc`:
//! smoothing 0.05 per over-use sample, 0.5 per probe sample, initial normalised variance 0.4,
//! clamp [0.4, 2.5], bounds at 3σ, normalisation floor 1 kbit/s.

use crate::units::Bitrate;

/// Smoothing factor applied to a throughput sample taken at over-use.
const OVERUSE_ALPHA: f64 = 0.05;
/// Smoothing factor applied to a probe result, which measures the link more directly.
const PROBE_ALPHA: f64 = 0.5;
/// Lower clamp of the normalised variance (kbit/s); also its initial value.
const MIN_NORMALIZED_VARIANCE: f64 = 0.4;
/// Upper clamp of the normalised variance (kbit/s).
const MAX_NORMALIZED_VARIANCE: f64 = 2.5;
/// Width of the plausibility band, in standard deviations.
const BOUND_SIGMAS: f64 = 3.0;
/// Floor of the estimate used to normalise the variance (kbit/s), so that a near-zero estimate
/// cannot blow the variance up.
const NORMALIZATION_FLOOR_KBPS: f64 = 1.0;

/// An exponentially smoothed estimate of the bottleneck capacity, with a spread.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkCapacityEstimator {
    /// Smoothed capacity in kbit/s; `None` until the first sample or after [`Self::reset`].
    estimate_kbps: Option<f64>,
    /// Variance of the samples divided by the estimate (kbit/s).
    normalized_variance: f64,
}

impl Default for LinkCapacityEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl LinkCapacityEstimator {
    /// An estimator with no estimate yet.
    pub const fn new() -> Self {
        Self {
            estimate_kbps: None,
            normalized_variance: MIN_NORMALIZED_VARIANCE,
        }
    }

    /// Feeds the throughput measured when the delay detector signalled over-use.
    pub fn on_overuse_detected(&mut self, throughput: Bitrate) {
        self.update(throughput, OVERUSE_ALPHA);
    }

    /// Feeds the rate a probe cluster was delivered at; weighted heavily, as a probe fills the link
    /// on purpose.
    pub fn on_probe_rate(&mut self, rate: Bitrate) {
        self.update(rate, PROBE_ALPHA);
    }

    /// Forgets the estimate (the spread is kept), so that the next sample starts a new one.
    ///
    /// Rate control calls this when the measured throughput leaves the band: the link has changed
    /// and the old average would only slow the new one down.
    pub fn reset(&mut self) {
        self.estimate_kbps = None;
    }

    /// Whether there is an estimate.
    pub const fn has_estimate(&self) -> bool {
        self.estimate_kbps.is_some()
    }

    /// The smoothed capacity, if any.
    pub fn estimate(&self) -> Option<Bitrate> {
        self.estimate_kbps.map(kbps_to_bitrate)
    }

    /// Estimate + 3σ; [`Bitrate::MAX`] without an estimate (nothing is implausibly high then).
    pub fn upper_bound(&self) -> Bitrate {
        match self.estimate_kbps {
            Some(e) => kbps_to_bitrate(e + BOUND_SIGMAS * self.deviation_kbps(e)),
            None => Bitrate::MAX,
        }
    }

    /// Estimate − 3σ, at least zero; [`Bitrate::ZERO`] without an estimate.
    pub fn lower_bound(&self) -> Bitrate {
        match self.estimate_kbps {
            Some(e) => kbps_to_bitrate((e - BOUND_SIGMAS * self.deviation_kbps(e)).max(0.0)),
            None => Bitrate::ZERO,
        }
    }

    fn update(&mut self, sample: Bitrate, alpha: f64) {
        let sample_kbps = sample.as_kbps_f64();
        let estimate = match self.estimate_kbps {
            None => sample_kbps,
            Some(e) => (1.0 - alpha) * e + alpha * sample_kbps,
        };
        self.estimate_kbps = Some(estimate);
        let error = estimate - sample_kbps;
        let norm = estimate.max(NORMALIZATION_FLOOR_KBPS);
        let variance = (1.0 - alpha) * self.normalized_variance + alpha * error * error / norm;
        // `clamp` passes NaN through; the inputs are finite (u64 rates), but keep the invariant
        // explicit so the bounds can never become NaN.
        self.normalized_variance = if variance.is_nan() {
            MAX_NORMALIZED_VARIANCE
        } else {
            variance.clamp(MIN_NORMALIZED_VARIANCE, MAX_NORMALIZED_VARIANCE)
        };
    }

    /// σ in kbit/s for the estimate `estimate_kbps`.
    fn deviation_kbps(&self, estimate_kbps: f64) -> f64 {
        (self.normalized_variance * estimate_kbps.max(0.0)).sqrt()
    }
}

fn kbps_to_bitrate(kbps: f64) -> Bitrate {
    Bitrate::saturating_from_bps_f64(kbps * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kbps(k: u64) -> Bitrate {
        Bitrate::from_kbps(k)
    }

    /// Without a sample there is no estimate, and the band excludes nothing.
    #[test]
    fn no_estimate_means_an_unbounded_band() {
        let lc = LinkCapacityEstimator::new();
        assert!(!lc.has_estimate());
        assert_eq!(lc.estimate(), None);
        assert_eq!(lc.upper_bound(), Bitrate::MAX);
        assert_eq!(lc.lower_bound(), Bitrate::ZERO);
    }

    /// The first over-use sample is taken as is; later ones move the mean by 5 % of the error.
    #[test]
    fn overuse_samples_are_smoothed_with_alpha_five_percent() {
        let mut lc = LinkCapacityEstimator::new();
        lc.on_overuse_detected(kbps(1000));
        assert_eq!(lc.estimate(), Some(kbps(1000)));
        lc.on_overuse_detected(kbps(2000));
        assert_eq!(lc.estimate(), Some(kbps(1050)));
    }

    /// A probe result pulls the mean half way, because a probe measures the link directly.
    #[test]
    fn probe_samples_are_smoothed_with_alpha_one_half() {
        let mut lc = LinkCapacityEstimator::new();
        lc.on_probe_rate(kbps(1000));
        lc.on_probe_rate(kbps(2000));
        assert_eq!(lc.estimate(), Some(kbps(1500)));
    }

    /// With steady samples the band is the narrowest allowed: ±3·√(0.4·500) ≈ ±42.4 kbit/s at 500.
    #[test]
    fn steady_samples_give_the_minimum_band() {
        let mut lc = LinkCapacityEstimator::new();
        for _ in 0..50 {
            lc.on_overuse_detected(kbps(500));
        }
        let up = lc.upper_bound().as_kbps_f64();
        let lo = lc.lower_bound().as_kbps_f64();
        assert!((up - 542.43).abs() < 0.1, "upper {up}");
        assert!((lo - 457.57).abs() < 0.1, "lower {lo}");
    }

    /// Scattered samples widen the band, but never past the 2.5 clamp: ±3·√(2.5·e).
    #[test]
    fn scattered_samples_widen_the_band_up_to_the_clamp() {
        let mut lc = LinkCapacityEstimator::new();
        for i in 0..200 {
            lc.on_overuse_detected(if i % 2 == 0 { kbps(200) } else { kbps(800) });
        }
        let e = lc.estimate().expect("sampled").as_kbps_f64();
        let half_width = lc.upper_bound().as_kbps_f64() - e;
        let max_half_width = 3.0 * (2.5 * e).sqrt();
        assert!((half_width - max_half_width).abs() < 0.1, "{half_width}");
    }

    /// Reset forgets the mean, so the next sample is adopted as is.
    #[test]
    fn reset_restarts_from_the_next_sample() {
        let mut lc = LinkCapacityEstimator::new();
        lc.on_overuse_detected(kbps(1000));
        lc.reset();
        assert!(!lc.has_estimate());
        lc.on_overuse_detected(kbps(300));
        assert_eq!(lc.estimate(), Some(kbps(300)));
    }

    /// Extreme samples (zero, the largest rate) keep every output finite and ordered.
    #[test]
    fn extreme_samples_keep_the_bounds_ordered() {
        let mut lc = LinkCapacityEstimator::new();
        lc.on_overuse_detected(Bitrate::ZERO);
        assert_eq!(lc.lower_bound(), Bitrate::ZERO);
        lc.on_overuse_detected(Bitrate::MAX);
        lc.on_probe_rate(Bitrate::ZERO);
        let (lo, e, up) = (
            lc.lower_bound(),
            lc.estimate().expect("sampled"),
            lc.upper_bound(),
        );
        assert!(lo <= e && e <= up, "{lo} {e} {up}");
    }
}
