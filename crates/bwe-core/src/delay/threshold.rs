//! The adaptive over-use threshold γ.
//!
//! A fixed threshold fails in both directions: too low and jitter on a busy Wi-Fi link reads as
//! over-use, so the sender starves; too high and a competing TCP flow fills the queue long before
//! the detector reacts, so delay-based control loses to loss-based control. So γ follows the
//! magnitude of the filter's output:
//!
//! `γ ← γ + Δt · k · (|m| − γ)`, with `k = k_down` when `|m| < γ` and `k_up` otherwise,
//!
//! where `m` is the modified offset and Δt the time since the previous update in ms, capped at
//! 100 ms so that a pause in traffic does not swing γ in one step. γ is clamped to
//! `[min_ms, max_ms]`. Samples with `|m| > γ + max_adapt_offset_ms` leave γ alone: a sudden
//! capacity drop must be detected, not absorbed into a higher threshold. Since `k_down > k_up`,
//! γ falls back quickly after noise subsides and rises only slowly.
//!
//! Source of the defaults: libwebrtc `modules/remote_bitrate_estimator/overuse_detector.cc` and
//! `modules/congestion_controller/goog_cc/trendline_estimator.cc` (k_up 0.0087, k_down 0.039,
//! initial 12.5 ms, clamp 6–600 ms, `kMaxAdaptOffsetMs` 15, `kMaxTimeDeltaMs` 100). Deviations:
//! Δt is fractional milliseconds (libwebrtc uses whole ms), a negative Δt (time going backwards)
//! counts as zero, and a non-finite `m` is ignored.

use crate::float::{at_least, at_most};
use crate::units::{TimeDelta, Timestamp};

/// The longest time step a single threshold update may integrate (`kMaxTimeDeltaMs` in
/// libwebrtc `overuse_detector.cc`).
pub const MAX_ADAPT_STEP: TimeDelta = TimeDelta::from_millis(100);

/// Threshold adaptation parameters. The defaults are libwebrtc's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdConfig {
    /// Adaptation rate per ms while `|m| ≥ γ`. Default 0.0087.
    pub k_up: f64,
    /// Adaptation rate per ms while `|m| < γ`. Default 0.039.
    pub k_down: f64,
    /// γ before the first update, ms. Default 12.5.
    pub initial_ms: f64,
    /// Lower clamp, ms. Default 6.
    pub min_ms: f64,
    /// Upper clamp, ms. Default 600.
    pub max_ms: f64,
    /// Samples with `|m|` more than this above γ do not adapt it, ms. Default 15.
    pub max_adapt_offset_ms: f64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        Self {
            k_up: 0.0087,
            k_down: 0.039,
            initial_ms: 12.5,
            min_ms: 6.0,
            max_ms: 600.0,
            max_adapt_offset_ms: 15.0,
        }
    }
}

/// The adaptive threshold γ. See the module docs.
#[derive(Clone, Debug)]
pub struct AdaptiveThreshold {
    config: ThresholdConfig,
    threshold_ms: f64,
    /// The previous update's instant; `Timestamp::MAX` before the first, which makes the first
    /// step's Δt negative and so clamped to zero, as an `Option` would, without its test.
    last_update: Timestamp,
}

impl AdaptiveThreshold {
    /// A threshold at its initial value.
    pub fn new(config: ThresholdConfig) -> Self {
        // Bounds that are not finite numbers fall back to the defaults: a finite pair keeps
        // every clamped update finite with no test after it.
        let defaults = ThresholdConfig::default();
        let config = ThresholdConfig {
            min_ms: if config.min_ms.is_finite() {
                config.min_ms
            } else {
                defaults.min_ms
            },
            max_ms: if config.max_ms.is_finite() {
                config.max_ms
            } else {
                defaults.max_ms
            },
            ..config
        };
        Self {
            config,
            threshold_ms: config.initial_ms,
            last_update: Timestamp::MAX,
        }
    }

    /// Adapts γ towards `|modified_offset_ms|` for the time elapsed since the previous update.
    #[inline]
    pub fn update(&mut self, modified_offset_ms: f64, now: Timestamp) {
        if modified_offset_ms.is_finite() {
            self.update_finite(modified_offset_ms, now);
        }
    }

    /// [`Self::update`] for a finite `modified_offset_ms`, as the detector passes it.
    #[inline]
    pub(crate) fn update_finite(&mut self, modified_offset_ms: f64, now: Timestamp) {
        let last = std::mem::replace(&mut self.last_update, now);
        let magnitude = modified_offset_ms.abs();
        if magnitude > self.threshold_ms + self.config.max_adapt_offset_ms {
            return;
        }
        let k = if magnitude < self.threshold_ms {
            self.config.k_down
        } else {
            self.config.k_up
        };
        // Clamped after the conversion, where the bounds are one instruction each; the
        // converted bounds are the values the clamped integers would convert to.
        let dt_ms = at_most(
            at_least((now - last).as_millis_f64(), 0.0),
            MAX_ADAPT_STEP.as_millis_f64(),
        );
        let next = self.threshold_ms + dt_ms * k * (magnitude - self.threshold_ms);
        // `max` then `min` rather than `f64::clamp`, which panics on a misordered range.
        // Finite whatever `next` was (NaN included), since the bounds are: see `new`.
        self.threshold_ms = at_most(at_least(next, self.config.min_ms), self.config.max_ms);
    }

    /// The current threshold γ, ms.
    pub fn threshold_ms(&self) -> f64 {
        self.threshold_ms
    }

    /// Returns to the initial value.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn threshold() -> AdaptiveThreshold {
        AdaptiveThreshold::new(ThresholdConfig::default())
    }

    /// γ outside its clamp would make the detector either deaf or hair-triggered.
    #[test]
    fn threshold_stays_within_clamp() {
        let mut t = threshold();
        for i in 0..1000 {
            t.update(0.0, at(10 * i));
            assert!(t.threshold_ms() >= 6.0);
        }
        assert_eq!(t.threshold_ms(), 6.0);
        // Creep upwards with samples just inside the adaptation band.
        for i in 1000..10_000 {
            let m = t.threshold_ms() + 10.0;
            t.update(m, at(10 * i));
            assert!(t.threshold_ms() <= 600.0);
        }
        assert_eq!(t.threshold_ms(), 600.0);
    }

    /// A latency spike from a capacity drop must be detected, not absorbed into γ.
    #[test]
    fn threshold_does_not_adapt_on_outliers() {
        let mut t = threshold();
        t.update(0.0, at(0));
        t.update(12.5 + 15.1, at(10));
        assert_eq!(t.threshold_ms(), 12.5);
        t.update(12.5 + 14.9, at(20));
        let expected = 12.5 + 10.0 * 0.0087 * 14.9;
        assert!(
            (t.threshold_ms() - expected).abs() < 1e-9,
            "{}",
            t.threshold_ms()
        );
    }

    /// After noise subsides γ must come down quickly, and rise only slowly when noise grows.
    #[test]
    fn threshold_moves_down_faster_than_up() {
        let mut up = threshold();
        let mut down = threshold();
        up.update(0.0, at(0));
        down.update(0.0, at(0));
        up.update(12.5 + 5.0, at(10));
        down.update(12.5 - 5.0, at(10));
        let rise = up.threshold_ms() - 12.5;
        let fall = 12.5 - down.threshold_ms();
        assert!((rise - 10.0 * 0.0087 * 5.0).abs() < 1e-9, "rise {rise}");
        assert!((fall - 10.0 * 0.039 * 5.0).abs() < 1e-9, "fall {fall}");
    }

    /// A long pause in traffic must not swing γ further than a 100 ms step would.
    #[test]
    fn adaptation_step_is_capped_at_100_ms() {
        let mut capped = threshold();
        let mut reference = threshold();
        capped.update(14.0, at(0));
        reference.update(14.0, at(0));
        capped.update(20.0, at(60_000));
        reference.update(20.0, at(100));
        assert_eq!(capped.threshold_ms(), reference.threshold_ms());
        assert!(capped.threshold_ms() > 12.5);
    }

    /// Time going backwards must not move γ in the opposite direction.
    #[test]
    fn time_going_backwards_does_not_adapt() {
        let mut t = threshold();
        t.update(0.0, at(1_000));
        t.update(20.0, at(900));
        assert_eq!(t.threshold_ms(), 12.5);
        t.update(f64::NAN, at(1_000));
        assert_eq!(t.threshold_ms(), 12.5);
    }

    /// The first update has no elapsed time to integrate; γ stays at its initial value.
    #[test]
    fn first_update_only_starts_the_clock() {
        let mut t = threshold();
        t.update(0.0, at(5_000));
        assert_eq!(t.threshold_ms(), 12.5);
        t.update(0.0, at(5_010));
        assert!(t.threshold_ms() < 12.5);
        t.reset();
        assert_eq!(t.threshold_ms(), 12.5);
    }
}
