//! The send-side delay filter: the slope of a line fitted to the recent queuing delay.
//!
//! Each group delta's delay variation (`arrival_delta − send_delta`) is added to a running sum,
//! which is the queuing delay relative to the first group. That sum is smoothed exponentially and
//! the last `window_size` smoothed values, plotted against arrival time, are fitted with a
//! least-squares line. Its slope is the rate at which the queue grows, in ms of delay per ms of
//! time: 0 when the path keeps up, positive when the sender outpaces it, negative when the queue
//! drains. Multiplied by a gain and by `min(num_deltas, 60)`, it is compared with the threshold.
//!
//! Why a regression rather than the Kalman filter the receive side uses: with transport-wide
//! feedback, packets from every stream are mixed and their sizes say little about the bottleneck,
//! so the Kalman filter's size term has nothing to learn; and feedback arrives in batches, whose
//! timing noise a least-squares slope over a fixed window absorbs better than a per-sample filter.
//! This is also the choice libwebrtc's send-side estimator made.
//!
//! Why a fixed ring buffer: the window has a constant length, so the buffer is allocated once in
//! [`TrendlineEstimator::new`] and every update overwrites the oldest point. The regression runs
//! on running sums (O(1) per update) that are rebuilt exactly from the window once per window
//! length, so their rounding errors cannot accumulate over hours (see `Sums`).
//!
//! Source of the defaults: libwebrtc
//! `modules/congestion_controller/goog_cc/trendline_estimator.cc` (window 20, smoothing 0.9,
//! threshold gain 4, `kMinNumDeltas` 60, `kDeltaCounterMax` 1000; the slope is kept until the
//! window is full and when the fit is degenerate). Deviations: a window shorter than 2 points is
//! raised to 2 (no line fits a single point), and a non-finite state restarts the estimator.

use super::arrival_group::GroupDelta;
use super::filter_output::{FilterOutput, MAX_SCALING_DELTAS};
use crate::units::Timestamp;

/// The delta counter stops here (`kDeltaCounterMax` in libwebrtc `trendline_estimator.cc`).
const DELTA_COUNTER_MAX: u32 = 1000;

/// Trendline parameters. The defaults are libwebrtc's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrendlineConfig {
    /// How many points the line is fitted to. Default 20; values below 2 are raised to 2.
    pub window_size: usize,
    /// Weight of the previous smoothed delay in the exponential smoothing. Default 0.9.
    pub smoothing: f64,
    /// Multiplier applied to the slope before it is compared with the threshold. Default 4.
    pub threshold_gain: f64,
}

impl Default for TrendlineConfig {
    fn default() -> Self {
        Self {
            window_size: 20,
            smoothing: 0.9,
            threshold_gain: 4.0,
        }
    }
}

/// The send-side delay filter. See the module docs.
#[derive(Clone, Debug)]
pub struct TrendlineEstimator {
    config: TrendlineConfig,
    /// `(arrival time since the first delta in ms, smoothed delay in ms)`; fixed length.
    window: Vec<(f64, f64)>,
    len: usize,
    next: usize,
    num_deltas: u32,
    first_arrival: Option<Timestamp>,
    accumulated_ms: f64,
    smoothed_ms: f64,
    slope: f64,
    /// Running sums over the window for an O(1) fit, of points taken relative to `origin`.
    /// Recomputed from the window whenever `next` wraps, i.e. once per window length.
    sums: Sums,
    /// `min(num_deltas, 60)` as the detector's scale, kept rather than converted per group.
    scale: f64,
}

/// Σx, Σy, Σx², Σxy of the window's points relative to `origin`.
///
/// The regression runs on every group of every feedback, so it is kept incremental: each update
/// adds the new point and removes the one leaving the window. Every `window` updates the sums are
/// recomputed exactly around the newest point, so rounding cannot accumulate and the centred
/// values stay small (no cancellation in `n·Σx² − (Σx)²` however long the call lasts).
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    origin: (f64, f64),
    x: f64,
    y: f64,
    xx: f64,
    xy: f64,
}

impl Sums {
    fn add(&mut self, (x, y): (f64, f64), sign: f64) {
        let (x, y) = (x - self.origin.0, y - self.origin.1);
        self.x += sign * x;
        self.y += sign * y;
        self.xx += sign * x * x;
        self.xy += sign * x * y;
    }

    fn rebuild(points: &[(f64, f64)], origin: (f64, f64)) -> Self {
        let mut sums = Self {
            origin,
            ..Self::default()
        };
        for &p in points {
            sums.add(p, 1.0);
        }
        sums
    }
}

impl TrendlineEstimator {
    /// An estimator with an empty window. The only allocation this type ever makes is here.
    pub fn new(config: TrendlineConfig) -> Self {
        let capacity = config.window_size.max(2);
        Self {
            config,
            window: vec![(0.0, 0.0); capacity],
            len: 0,
            next: 0,
            num_deltas: 0,
            first_arrival: None,
            accumulated_ms: 0.0,
            smoothed_ms: 0.0,
            slope: 0.0,
            sums: Sums::default(),
            scale: 0.0,
        }
    }

    /// Absorbs one group delta.
    #[inline]
    pub fn update(&mut self, delta: &GroupDelta) -> FilterOutput {
        // Branches rather than `min`: after start-up they always go the same way, and a taken
        // branch costs less than the compare-and-select on every group.
        if self.num_deltas < DELTA_COUNTER_MAX {
            self.num_deltas += 1;
            if self.num_deltas <= MAX_SCALING_DELTAS {
                self.scale = f64::from(self.num_deltas);
            }
        }
        let first = *self.first_arrival.get_or_insert(delta.arrival_time);

        // The delay variation, subtracted in integer microseconds and converted once.
        let variation_ms = (delta.arrival_delta - delta.send_delta).as_millis_f64();
        // S ← s·S + (1 − s)·(D + v), with the part known before `v` summed first: the new
        // variation is then one multiply-add away from the smoothed delay.
        let s = self.config.smoothing;
        let carried = s * self.smoothed_ms + (1.0 - s) * self.accumulated_ms;
        self.accumulated_ms += variation_ms;
        self.smoothed_ms = carried + (1.0 - s) * variation_ms;

        let x = (delta.arrival_time - first).as_millis_f64();
        let point = (x, self.smoothed_ms);
        let capacity = self.window.len();
        if self.len == capacity {
            self.sums.add(self.window[self.next], -1.0);
        }
        self.window[self.next] = point;
        self.next += 1;
        if self.next == capacity {
            self.next = 0;
        }
        if self.len < capacity {
            self.len += 1;
        }
        let n = capacity as f64;
        // The covariance term of the fit, n·Σxy − Σx·Σy (meaningful once the window is full).
        let covariance = if self.next == 0 {
            self.sums = Sums::rebuild(&self.window[..self.len], point);
            n * self.sums.xy - self.sums.x * self.sums.y
        } else {
            let before = self.sums;
            self.sums.add(point, 1.0);
            // Expanded around the new point (x, y): n·(Σ′xy + x·y) − Σx·(Σ′y + y) =
            // (n·Σ′xy − Σx·Σ′y) + y·(n·x − Σx). Everything but y is known before the smoothed
            // delay is, so y is one multiply-add away from the covariance.
            let (x, y) = (point.0 - before.origin.0, point.1 - before.origin.1);
            (n * before.xy - self.sums.x * before.y) + y * (n * x - self.sums.x)
        };
        // A sum is finite only if both terms are (or it overflowed, which the exact test sorts
        // out): one test on the common path instead of two.
        let finite = (self.accumulated_ms + self.smoothed_ms).is_finite()
            || (self.accumulated_ms.is_finite() && self.smoothed_ms.is_finite());
        if !finite {
            self.reset();
            return self.output();
        }
        if self.len == capacity {
            // slope = cov / var. The variance depends on arrival times only and is ready long
            // before the covariance, which waits for the smoothed delay: dividing by it first
            // leaves one multiplication between the covariance and each output, where the
            // detector's verdict would otherwise wait for a division and two multiplications.
            let var = n * self.sums.xx - self.sums.x * self.sums.x;
            let cov = covariance;
            if var > 0.0 {
                let per_var = 1.0 / var;
                let gain = self.config.threshold_gain * per_var;
                let scale = self.scale;
                let slope = cov * per_var;
                let raw = cov * gain;
                let modified = cov * (gain * scale);
                // As above: one test of the sum, the exact tests only when it fails.
                if (slope + raw + modified).is_finite()
                    || (slope.is_finite() && modified.is_finite() && raw.is_finite())
                {
                    self.slope = slope;
                    return FilterOutput {
                        modified_offset_ms: modified,
                        raw_estimate_ms: raw,
                        num_deltas: self.num_deltas,
                    };
                }
                if slope.is_finite() {
                    self.slope = slope;
                }
            }
            // A degenerate fit keeps the previous slope.
        }
        self.output()
    }

    /// The current estimate, as the detector consumes it: `slope × gain`, scaled.
    pub fn output(&self) -> FilterOutput {
        FilterOutput::from_estimate(self.slope * self.config.threshold_gain, self.num_deltas)
    }

    /// Deltas absorbed since the last reset (saturates at 1000).
    pub fn num_deltas(&self) -> u32 {
        self.num_deltas
    }

    /// The fitted slope: ms of queuing delay gained per ms of arrival time.
    pub fn slope(&self) -> f64 {
        self.slope
    }

    /// Empties the window and forgets the accumulated delay. Keeps the buffer.
    ///
    /// Out of line and cold: the update calls it only when the state turned non-finite, and
    /// inlined there it made every update pay for building a fresh state.
    #[cold]
    #[inline(never)]
    pub fn reset(&mut self) {
        self.len = 0;
        self.next = 0;
        self.num_deltas = 0;
        self.scale = 0.0;
        self.first_arrival = None;
        self.accumulated_ms = 0.0;
        self.smoothed_ms = 0.0;
        self.slope = 0.0;
        self.sums = Sums::default();
    }
}

/// Least-squares slope of `y` over `x`, computed directly; the reference the running sums are
/// tested against. `None` when all `x` coincide or the result is not finite.
#[cfg(test)]
fn fit_slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let (sum_x, sum_y) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
    let (mean_x, mean_y) = (sum_x / n, sum_y / n);
    let (cov, var) = points.iter().fold((0.0, 0.0), |(c, v), &(x, y)| {
        let dx = x - mean_x;
        (c + dx * (y - mean_y), v + dx * dx)
    });
    let slope = cov / var;
    (var != 0.0 && slope.is_finite()).then_some(slope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::TimeDelta;

    /// The incremental fit must agree with a direct fit over the same window, even hours into a
    /// call when arrival times are large.
    #[test]
    fn running_sums_match_a_direct_fit_over_long_runs() {
        let mut t = TrendlineEstimator::new(TrendlineConfig::default());
        let mut at = 0i64;
        for i in 0..200_000i64 {
            // Irregular spacing and a delay that wanders up and down.
            let step = 5 + (i * 7919) % 11;
            at += step;
            let arrival = step + ((i / 50) % 3) - 1;
            t.update(&delta(at, step, arrival));
            if i >= 20 && (i % 9_973 == 0 || i == 199_999) {
                let direct = fit_slope(&t.window).expect("window spans time");
                assert!(
                    (t.slope() - direct).abs() <= 1e-9 * (1.0 + direct.abs()),
                    "at {i}: running {} vs direct {direct}",
                    t.slope()
                );
            }
        }
    }

    /// A delta for a group `step_ms` after the previous one whose arrival gap is `arrival_ms`.
    fn delta(at_ms: i64, send_ms: i64, arrival_ms: i64) -> GroupDelta {
        GroupDelta {
            send_delta: TimeDelta::from_millis(send_ms),
            arrival_delta: TimeDelta::from_millis(arrival_ms),
            size_delta: 0,
            arrival_time: Timestamp::from_millis(at_ms),
        }
    }

    /// The slope must equal the queue growth rate, or the threshold means nothing.
    #[test]
    fn trendline_slope_matches_a_linear_delay_ramp() {
        let mut t = TrendlineEstimator::new(TrendlineConfig::default());
        // Groups sent every 10 ms arrive every 11 ms: 1 ms of queue per 11 ms of arrival time.
        for i in 1..=200 {
            let _ = t.update(&delta(11 * i, 10, 11));
        }
        let expected = 1.0 / 11.0;
        assert!(
            (t.slope() - expected).abs() < 0.01 * expected,
            "slope {}",
            t.slope()
        );
        let out = t.output();
        assert!((out.modified_offset_ms - 60.0 * 4.0 * t.slope()).abs() < 1e-9);
    }

    /// A draining queue must give a negative slope, so the detector can report under-use.
    #[test]
    fn draining_queue_gives_a_negative_slope() {
        let mut t = TrendlineEstimator::new(TrendlineConfig::default());
        for i in 1..=100 {
            let _ = t.update(&delta(9 * i, 10, 9));
        }
        let expected = -1.0 / 9.0;
        assert!(
            (t.slope() - expected).abs() < 0.01 * expected.abs(),
            "slope {}",
            t.slope()
        );
    }

    /// Until the window is full there is no trend to report, only a prior of zero.
    #[test]
    fn slope_is_held_until_the_window_is_full() {
        let mut t = TrendlineEstimator::new(TrendlineConfig::default());
        for i in 1..20 {
            let out = t.update(&delta(11 * i, 10, 11));
            assert_eq!(out.raw_estimate_ms, 0.0);
        }
        let out = t.update(&delta(220, 10, 11));
        assert!(out.raw_estimate_ms > 0.0);
        assert_eq!(out.num_deltas, 20);
    }

    /// Feedback batches can report many groups at one arrival instant; the slope must hold.
    #[test]
    fn degenerate_window_keeps_the_previous_slope() {
        let config = TrendlineConfig {
            window_size: 2,
            ..TrendlineConfig::default()
        };
        let mut t = TrendlineEstimator::new(config);
        for i in 1..=40 {
            let _ = t.update(&delta(11 * i, 10, 11));
        }
        let before = t.slope();
        assert!(before > 0.0);
        // Same arrival instant as the previous group: every x in the window coincides.
        let _ = t.update(&delta(440, 10, 0));
        assert_eq!(t.slope(), before);
        // The next distinct instant gives a fit again, and it reflects the drop in delay.
        let _ = t.update(&delta(451, 10, 11));
        assert!(t.slope() < before, "{} vs {before}", t.slope());
    }

    /// A window smaller than two points would never fit a line; it is raised to two.
    #[test]
    fn tiny_window_is_raised_to_two_points() {
        let mut t = TrendlineEstimator::new(TrendlineConfig {
            window_size: 0,
            ..TrendlineConfig::default()
        });
        for i in 1..=50 {
            let _ = t.update(&delta(11 * i, 10, 11));
        }
        assert!(t.slope() > 0.05 && t.slope() < 0.15, "slope {}", t.slope());
    }

    /// Extreme input from a broken peer must leave every output finite.
    #[test]
    fn extreme_deltas_keep_outputs_finite() {
        let mut t = TrendlineEstimator::new(TrendlineConfig::default());
        let ds = [
            GroupDelta {
                send_delta: TimeDelta::MIN,
                arrival_delta: TimeDelta::MAX,
                size_delta: 0,
                arrival_time: Timestamp::MIN,
            },
            GroupDelta {
                send_delta: TimeDelta::MAX,
                arrival_delta: TimeDelta::MIN,
                size_delta: 0,
                arrival_time: Timestamp::MAX,
            },
        ];
        for d in ds.iter().cycle().take(500) {
            let out = t.update(d);
            assert!(out.modified_offset_ms.is_finite() && out.raw_estimate_ms.is_finite());
        }
        // Invalid configuration values must not leak NaN either.
        let mut t = TrendlineEstimator::new(TrendlineConfig {
            window_size: 3,
            smoothing: f64::NAN,
            threshold_gain: f64::INFINITY,
        });
        for i in 1..10 {
            let out = t.update(&delta(11 * i, 10, 11));
            assert!(out.modified_offset_ms.is_finite());
        }
    }

    /// After a reset the estimator must behave exactly like a new one.
    #[test]
    fn reset_restores_the_initial_state() {
        let mut fresh = TrendlineEstimator::new(TrendlineConfig::default());
        let mut used = TrendlineEstimator::new(TrendlineConfig::default());
        for i in 1..=30 {
            let _ = used.update(&delta(13 * i, 10, 13));
        }
        used.reset();
        for i in 1..=30 {
            let a = fresh.update(&delta(1000 + 11 * i, 10, 11));
            let b = used.update(&delta(1000 + 11 * i, 10, 11));
            assert_eq!(a, b);
        }
    }
}
