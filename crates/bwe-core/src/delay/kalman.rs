//! The receive-side delay filter: a two-state Kalman filter over group deltas.
//!
//! Model: the delay variation between two groups is
//! `d = arrival_delta − send_delta = slope · size_delta + offset + noise`,
//! where `slope` (ms per byte) is the inverse of the bottleneck capacity, seen through how much
//! longer a bigger group takes to drain, and `offset` (ms) is the queue growth per group that is
//! *not* explained by size. The offset is the over-use signal. The state is tracked with a scalar
//! observation `h = [size_delta, 1]`; the measurement-noise variance is itself estimated online,
//! with residuals clamped at 3σ so that key frames and late packets do not inflate it, and only
//! while the detector reports `Normal` (in over-use the residuals are signal, not noise).
//!
//! Why a Kalman filter on the receive side and a trendline on the send side: this is the filter
//! libwebrtc's abs-send-time REMB estimator still runs (the trendline was introduced with the
//! send-side path), so receivers built on it match deployed REMB senders' expectations. A plain
//! moving average was rejected: it cannot separate the size-dependent part of the delay, so every
//! key frame would look like over-use.
//!
//! Source of every default: libwebrtc `modules/remote_bitrate_estimator/overuse_estimator.cc` and
//! `overuse_estimator.h` (initial slope 8/512, offset 0, covariance diag(100, 0.1), process noise
//! (1e-13, 1e-3), noise mean 0 and variance 50, 3σ outlier clamp, variance floor 1, smoothing
//! α = 0.01 for the first 300 deltas then 0.002, scaled for 30 groups per second over the
//! smallest of the last 60 send deltas, ×10 offset process noise when the offset moves against
//! the current hypothesis, delta counter capped at 1000).
//!
//! Deviations: deltas enter in fractional milliseconds (libwebrtc truncates the arrival delta to
//! whole ms); a negative send delta is treated as zero in the noise smoothing exponent, where
//! libwebrtc would raise the smoothing factor above one; and a state that became non-finite
//! restarts the filter instead of propagating NaN.

use super::arrival_group::GroupDelta;
use super::filter_output::FilterOutput;
use crate::usage::BandwidthUsage;

/// The number of recent send deltas whose minimum sets the noise-smoothing time step
/// (`kMinFramePeriodHistoryLength` in libwebrtc `overuse_estimator.cc`).
const SEND_DELTA_HISTORY: usize = 60;

/// The delta counter stops here (`kDeltaCounterMax` in libwebrtc `overuse_estimator.cc`).
const DELTA_COUNTER_MAX: u32 = 1000;

/// Kalman filter parameters. The defaults are libwebrtc's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KalmanConfig {
    /// Initial inverse capacity, ms per byte. Default 8/512 (512 kbit/s).
    pub initial_slope: f64,
    /// Initial offset, ms. Default 0.
    pub initial_offset_ms: f64,
    /// Initial state covariance `[[slope, cross], [cross, offset]]`. Default diag(100, 0.1).
    pub initial_covariance: [[f64; 2]; 2],
    /// Process noise added to the diagonal each step, `[slope, offset]`. Default (1e-13, 1e-3).
    pub process_noise: [f64; 2],
    /// Initial mean of the measurement residual, ms. Default 0.
    pub initial_avg_noise_ms: f64,
    /// Initial variance of the measurement residual, ms². Default 50.
    pub initial_var_noise: f64,
    /// Residuals beyond this many standard deviations are clamped before they update the noise
    /// estimate. Default 3.
    pub outlier_sigmas: f64,
    /// Floor of the measurement-noise variance, ms². Default 1.
    pub min_var_noise: f64,
    /// Noise smoothing factor per reference period while the filter is young. Default 0.01.
    pub noise_alpha_startup: f64,
    /// Noise smoothing factor per reference period afterwards. Default 0.002.
    pub noise_alpha: f64,
    /// How many deltas count as "young". Default 300 (10 s at 30 groups per second).
    pub startup_deltas: u32,
    /// The group rate the smoothing factors were tuned for, per second. Default 30.
    pub noise_reference_rate_hz: f64,
    /// Multiple of the offset process noise added when the offset moves against the current
    /// hypothesis (falls during over-use or rises during under-use), so the filter follows the
    /// turn faster. Default 10.
    pub reversal_noise_factor: f64,
}

impl Default for KalmanConfig {
    fn default() -> Self {
        Self {
            initial_slope: 8.0 / 512.0,
            initial_offset_ms: 0.0,
            initial_covariance: [[100.0, 0.0], [0.0, 1e-1]],
            process_noise: [1e-13, 1e-3],
            initial_avg_noise_ms: 0.0,
            initial_var_noise: 50.0,
            outlier_sigmas: 3.0,
            min_var_noise: 1.0,
            noise_alpha_startup: 0.01,
            noise_alpha: 0.002,
            startup_deltas: 300,
            noise_reference_rate_hz: 30.0,
            reversal_noise_factor: 10.0,
        }
    }
}

/// The receive-side delay filter. See the module docs.
#[derive(Clone, Debug)]
pub struct KalmanFilter {
    config: KalmanConfig,
    slope: f64,
    offset: f64,
    prev_offset: f64,
    covariance: [[f64; 2]; 2],
    avg_noise: f64,
    var_noise: f64,
    num_deltas: u32,
    send_deltas: [f64; SEND_DELTA_HISTORY],
    send_deltas_len: usize,
    send_deltas_next: usize,
    /// The smallest value in `send_deltas`.
    send_delta_min: f64,
    /// `(alpha, periods)` of the cached `noise_beta`.
    noise_beta_key: (f64, f64),
    noise_beta: f64,
    /// (1 − β)·β², the weight of the squared gap between the old mean and the residual.
    noise_deviation_weight: f64,
}

impl KalmanFilter {
    /// A filter in its initial state.
    pub fn new(config: KalmanConfig) -> Self {
        Self {
            config,
            slope: config.initial_slope,
            offset: config.initial_offset_ms,
            prev_offset: config.initial_offset_ms,
            covariance: config.initial_covariance,
            avg_noise: config.initial_avg_noise_ms,
            var_noise: config.initial_var_noise,
            num_deltas: 0,
            send_deltas: [0.0; SEND_DELTA_HISTORY],
            send_deltas_len: 0,
            send_deltas_next: 0,
            send_delta_min: f64::INFINITY,
            noise_beta_key: (f64::NAN, f64::NAN),
            noise_beta: 1.0,
            noise_deviation_weight: 0.0,
        }
    }

    /// Absorbs one group delta. `current_usage` is the detector's verdict *before* this delta.
    #[inline]
    pub fn update(&mut self, delta: &GroupDelta, current_usage: BandwidthUsage) -> FilterOutput {
        let send_delta_ms = delta.send_delta.as_millis_f64();
        let gradient_ms = delta.arrival_delta.as_millis_f64() - send_delta_ms;
        let size = delta.size_delta as f64;
        let min_send_delta_ms = self.record_send_delta(send_delta_ms);
        self.num_deltas = (self.num_deltas + 1).min(DELTA_COUNTER_MAX);

        // Predict: the state is a random walk.
        let q = self.config.process_noise;
        let mut e = self.covariance;
        e[0][0] += q[0];
        e[1][1] += q[1];
        let turning = match current_usage {
            BandwidthUsage::Overusing => self.offset < self.prev_offset,
            BandwidthUsage::Underusing => self.offset > self.prev_offset,
            BandwidthUsage::Normal => false,
        };
        if turning {
            e[1][1] += self.config.reversal_noise_factor * q[1];
        }

        // Observation vector h = [size, 1]: E·h, hᵀ·E and hᵀ·E·h are formed before the noise
        // update, which they do not depend on.
        let eh = [e[0][0] * size + e[0][1], e[1][0] * size + e[1][1]];
        let he = [size * e[0][0] + e[1][0], size * e[0][1] + e[1][1]];
        let h_e_h = size * eh[0] + eh[1];

        let residual = gradient_ms - self.slope * size - self.offset;
        // Gain K = E·h / (hᵀ·E·h + σ²). The chain from one group's offset to the next runs
        // residual → noise update → σ² → this sum → the division → the offset, so each step is
        // arranged to wait as little as possible:
        // - a residual inside 3σ and a variance above its floor (the usual cases) are tested by
        //   branches, which the predictor takes, rather than by selects the data must flow
        //   through;
        // - hᵀ·E·h is added to the decayed old variance before the new squared deviation
        //   arrives;
        // - the state moves by K·r, formed as (E·h·r) / (…), so that the products with the
        //   residual are ready when the division is.
        let innovation_var = if current_usage == BandwidthUsage::Normal {
            let limit = self.config.outlier_sigmas * self.var_noise.sqrt();
            let clamped = if residual.abs() < limit {
                residual
            } else {
                clamp_outlier(limit, residual)
            };
            self.update_noise(clamped, min_send_delta_ms, h_e_h)
        } else {
            self.var_noise + h_e_h
        };
        let gain = [eh[0] / innovation_var, eh[1] / innovation_var];
        let step = [
            eh[0] * residual / innovation_var,
            eh[1] * residual / innovation_var,
        ];

        // Correct: E ← (I − K·hᵀ)·E = E − K·(hᵀ·E).
        self.covariance = [
            [e[0][0] - gain[0] * he[0], e[0][1] - gain[0] * he[1]],
            [e[1][0] - gain[1] * he[0], e[1][1] - gain[1] * he[1]],
        ];
        self.slope += step[0];
        self.prev_offset = self.offset;
        self.offset += step[1];

        if !self.is_finite() {
            self.reset();
        }
        self.output()
    }

    /// The current estimate, as the detector consumes it.
    pub fn output(&self) -> FilterOutput {
        FilterOutput::from_estimate(self.offset, self.num_deltas)
    }

    /// Deltas absorbed since the last reset (saturates at 1000).
    pub fn num_deltas(&self) -> u32 {
        self.num_deltas
    }

    /// The estimated queue growth per group not explained by group size, in ms.
    pub fn offset_ms(&self) -> f64 {
        self.offset
    }

    /// The estimated inverse capacity, in ms per byte.
    pub fn slope_ms_per_byte(&self) -> f64 {
        self.slope
    }

    /// The estimated measurement-noise variance, in ms².
    pub fn var_noise(&self) -> f64 {
        self.var_noise
    }

    /// Returns to the initial state.
    ///
    /// Out of line and cold: the update calls it only when the state turned non-finite, and
    /// inlined there it made every update pay for building a fresh state.
    #[cold]
    #[inline(never)]
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// Records a send delta and returns the smallest of the recent ones, this one included.
    ///
    /// The minimum is kept incrementally and the window rescanned only when the value leaving
    /// it was the minimum: this runs once per group, on the receive path's hot loop.
    fn record_send_delta(&mut self, send_delta_ms: f64) -> f64 {
        let full = self.send_deltas_len == SEND_DELTA_HISTORY;
        let evicted = self.send_deltas[self.send_deltas_next];
        self.send_deltas[self.send_deltas_next] = send_delta_ms;
        self.send_deltas_next += 1;
        if self.send_deltas_next == SEND_DELTA_HISTORY {
            self.send_deltas_next = 0;
        }
        self.send_deltas_len = (self.send_deltas_len + 1).min(SEND_DELTA_HISTORY);
        if send_delta_ms <= self.send_delta_min {
            self.send_delta_min = send_delta_ms;
        } else if full && evicted <= self.send_delta_min {
            self.send_delta_min = self.send_deltas[..self.send_deltas_len]
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min);
        }
        self.send_delta_min
    }

    /// Exponentially smoothed mean and variance of the residual, with a time step of
    /// `period_ms` relative to the reference group rate. Returns the new variance plus `h_e_h`,
    /// the innovation variance.
    #[inline]
    fn update_noise(&mut self, residual: f64, period_ms: f64, h_e_h: f64) -> f64 {
        let alpha = if self.num_deltas > self.config.startup_deltas {
            self.config.noise_alpha
        } else {
            self.config.noise_alpha_startup
        };
        let periods = period_ms.max(0.0) * self.config.noise_reference_rate_hz / 1000.0;
        // `powf` costs as much as the rest of the filter; its inputs change only when the
        // minimum send delta or the start-up phase does.
        if self.noise_beta_key != (alpha, periods) {
            self.noise_beta_key = (alpha, periods);
            self.noise_beta = (1.0 - alpha).powf(periods);
            self.noise_deviation_weight =
                (1.0 - self.noise_beta) * self.noise_beta * self.noise_beta;
        }
        let beta = self.noise_beta;
        // The deviation from the new mean, μ′ − r, equals β·(μ − r): taken from the old mean it
        // does not wait for the new one, and (1 − β)·dev² becomes a cached weight times (μ − r)².
        let gap = self.avg_noise - residual;
        self.avg_noise = beta * self.avg_noise + (1.0 - beta) * residual;
        let decayed = beta * self.var_noise;
        let spread = self.noise_deviation_weight * gap * gap;
        let var_noise = decayed + spread;
        if var_noise >= self.config.min_var_noise {
            self.var_noise = var_noise;
            (decayed + h_e_h) + spread
        } else {
            self.floor_var_noise(h_e_h)
        }
    }

    /// The noise variance at its floor (also when it came out NaN).
    #[cold]
    #[inline(never)]
    fn floor_var_noise(&mut self, h_e_h: f64) -> f64 {
        self.var_noise = self.config.min_var_noise;
        self.var_noise + h_e_h
    }

    fn is_finite(&self) -> bool {
        let [[a, b], [c, d]] = self.covariance;
        // `x · 0` is ±0 for finite `x` and NaN for an infinity or NaN, and NaN survives the sum:
        // one branch-free test instead of eight.
        let zeros = [
            self.slope,
            self.offset,
            self.avg_noise,
            self.var_noise,
            a,
            b,
            c,
            d,
        ]
        .iter()
        .fold(0.0, |sum, x| sum + x * 0.0);
        zeros == 0.0
    }
}

/// A residual beyond `limit` (3σ) counts as `limit` with its sign: a late key frame is not noise.
#[cold]
#[inline(never)]
fn clamp_outlier(limit: f64, residual: f64) -> f64 {
    limit.copysign(residual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{TimeDelta, Timestamp};

    fn delta(send_ms: f64, arrival_ms: f64, size_delta: i64) -> GroupDelta {
        GroupDelta {
            send_delta: TimeDelta::try_from_millis_f64(send_ms).expect("finite"),
            arrival_delta: TimeDelta::try_from_millis_f64(arrival_ms).expect("finite"),
            size_delta,
            arrival_time: Timestamp::ZERO,
        }
    }

    /// Capacity is read from how size differences stretch arrival gaps; the filter must find it.
    #[test]
    fn kalman_tracks_a_constant_slope() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        // 1 Mbit/s: 125 bytes per ms, slope 0.008 ms per byte. Groups alternate ±2000 bytes.
        let true_slope = 0.008;
        for i in 0..300 {
            let size = if i % 2 == 0 { 2000 } else { -2000 };
            let _ = k.update(
                &delta(20.0, 20.0 + true_slope * size as f64, size),
                BandwidthUsage::Normal,
            );
        }
        let slope = k.slope_ms_per_byte();
        assert!((slope - true_slope).abs() < 0.0005, "slope {slope}");
        assert!(k.offset_ms().abs() < 0.2, "offset {}", k.offset_ms());
    }

    /// A queue growing by a fixed amount per group must show up as that offset.
    #[test]
    fn kalman_offset_converges_to_a_constant_delay_gradient() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        let mut out = k.output();
        for _ in 0..500 {
            out = k.update(&delta(20.0, 22.0, 0), BandwidthUsage::Normal);
        }
        assert!(
            (k.offset_ms() - 2.0).abs() < 0.2,
            "offset {}",
            k.offset_ms()
        );
        assert_eq!(out.num_deltas, 500);
        assert!((out.modified_offset_ms - 60.0 * k.offset_ms()).abs() < 1e-9);
    }

    /// A stream with no queue growth must not drift into a spurious offset.
    #[test]
    fn kalman_offset_stays_near_zero_without_queue_growth() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        for i in 0..500 {
            let jitter = if i % 2 == 0 { 1.0 } else { -1.0 };
            let _ = k.update(&delta(20.0, 20.0 + jitter, 0), BandwidthUsage::Normal);
        }
        assert!(k.offset_ms().abs() < 0.1, "offset {}", k.offset_ms());
        assert!(
            k.var_noise() >= 1.0 && k.var_noise() < 10.0,
            "var {}",
            k.var_noise()
        );
    }

    /// A single key-frame-sized outlier must not blow up the noise estimate.
    #[test]
    fn outliers_are_clamped_in_the_noise_estimate() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        for _ in 0..100 {
            let _ = k.update(&delta(20.0, 20.0, 0), BandwidthUsage::Normal);
        }
        let before = k.var_noise();
        let _ = k.update(&delta(20.0, 1020.0, 0), BandwidthUsage::Normal);
        // Residual clamped at 3σ: the variance can grow by at most (1-β)·(3σ)² plus rounding.
        assert!(
            k.var_noise() < before * 1.2,
            "{before} -> {}",
            k.var_noise()
        );
        assert!(k.var_noise() > before, "{before} -> {}", k.var_noise());
    }

    /// In over-use the residuals are the signal: the noise estimate must hold still.
    #[test]
    fn noise_is_not_learned_outside_normal() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        let var = k.var_noise();
        let _ = k.update(&delta(20.0, 30.0, 0), BandwidthUsage::Overusing);
        assert_eq!(k.var_noise(), var);
        let _ = k.update(&delta(20.0, 30.0, 0), BandwidthUsage::Normal);
        assert_ne!(k.var_noise(), var);
    }

    /// The counter feeds the detector's scaling; it must stop rather than overflow.
    #[test]
    fn delta_counter_saturates_at_one_thousand() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        for _ in 0..1200 {
            let _ = k.update(&delta(10.0, 10.0, 0), BandwidthUsage::Normal);
        }
        assert_eq!(k.num_deltas(), 1000);
    }

    /// Extreme input from a broken peer must leave every output finite.
    #[test]
    fn extreme_deltas_keep_outputs_finite() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        let extremes = [
            GroupDelta {
                send_delta: TimeDelta::MAX,
                arrival_delta: TimeDelta::MIN,
                size_delta: i64::MIN,
                arrival_time: Timestamp::MAX,
            },
            GroupDelta {
                send_delta: TimeDelta::MIN,
                arrival_delta: TimeDelta::MAX,
                size_delta: i64::MAX,
                arrival_time: Timestamp::MIN,
            },
            GroupDelta {
                send_delta: TimeDelta::ZERO,
                arrival_delta: TimeDelta::ZERO,
                size_delta: 0,
                arrival_time: Timestamp::ZERO,
            },
        ];
        for usage in [
            BandwidthUsage::Normal,
            BandwidthUsage::Overusing,
            BandwidthUsage::Underusing,
        ] {
            for d in extremes.iter().cycle().take(30) {
                let out = k.update(d, usage);
                assert!(out.modified_offset_ms.is_finite() && out.raw_estimate_ms.is_finite());
                assert!(k.is_finite());
            }
        }
    }

    /// After a reset the filter must behave exactly like a new one.
    #[test]
    fn reset_restores_the_initial_state() {
        let mut k = KalmanFilter::new(KalmanConfig::default());
        for _ in 0..50 {
            let _ = k.update(&delta(20.0, 25.0, 100), BandwidthUsage::Normal);
        }
        k.reset();
        assert_eq!(k.num_deltas(), 0);
        assert_eq!(k.offset_ms(), 0.0);
        assert_eq!(k.slope_ms_per_byte(), 8.0 / 512.0);
        assert_eq!(k.var_noise(), 50.0);
    }
}
