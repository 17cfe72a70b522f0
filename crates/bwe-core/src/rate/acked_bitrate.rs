//! The rate at which the remote end received our packets, from acknowledgements.
//!
//! On the send side the throughput that rate control trusts is what feedback says *arrived*, not
//! what we sent: a queue between the two hides the difference until it overflows. Raw window
//! averages of arrivals are noisy (feedback batches, pacing bursts, cross traffic), so this
//! estimator filters them with a one-dimensional Bayesian (Kalman-like) update whose sample
//! variance grows with the sample's distance from the current estimate. A sample that agrees
//! moves the estimate quickly; an outlier barely moves it, unless outliers keep coming, in which
//! case the estimate's own variance (raised by a constant each update) lets it follow.
//!
//! # Algorithm (libwebrtc `modules/congestion_controller/goog_cc/bitrate_estimator.cc`)
//! Arrivals are summed into consecutive windows: 500 ms until the first estimate exists
//! (`kInitialRateWindowMs`, a steadier first sample), 150 ms afterwards (`kRateWindowMs`). Each
//! closed window yields a sample `s` (kbit/s). The first sample becomes the estimate `e`; then
//!
//! ```text
//! u   = scale · |e − s| / (e + min(s, symmetry_cap))      scale = 10
//! σ²s = u²
//! σ²p = σ²e + 5                                           (σ²e starts at 50)
//! e   ← (σ²s · e + σ²p · s) / (σ²s + σ²p),  at least floor (0 kbit/s)
//! σ²e ← σ²s · σ²p / (σ²s + σ²p)
//! ```
//!
//! A sample below the estimate uses `uncertainty_scale_in_alr` when the packet that closed its
//! window is flagged `in_alr`, and `small_sample_uncertainty_scale` when the window held fewer
//! than `small_sample_threshold` bytes (10, 10 and 0 B by default: both off). [`AckedBitrateEstimator::expect_fast_rate_change`] adds 200 to
//! σ²e so that the next few samples are believed; libwebrtc's
//! `acknowledged_bitrate_estimator.cc` calls it for the first packet sent after ALR ended, which
//! [`AckedBitrateEstimator::set_alr_ended`] with
//! [`AckedBitrateEstimator::on_packet_result`] reproduces.
//!
//! # Time
//! `at` is the packet's arrival time as reported by feedback, on the **remote** clock: the rate of
//! arrival is what measures the path, and only differences of these instants are used. Windows
//! are accounted in microseconds (libwebrtc truncates to milliseconds). An arrival earlier than
//! the previous one restarts the current window (libwebrtc does the same); a silence longer than a
//! window discards the partial sum, so a resumed flow is not averaged with the gap.
//!
//! libwebrtc also adds `prior_unacked_data` (bytes sent on streams without feedback) to each
//! packet; callers that have such data add it to `size`.

use crate::feedback::PacketResult;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// Initial variance of the estimate, (kbit/s)².
const INITIAL_ESTIMATE_VARIANCE: f64 = 50.0;
/// Variance added to the estimate before each update: the rate is expected to drift.
const PROCESS_NOISE_VARIANCE: f64 = 5.0;
/// Variance added by [`AckedBitrateEstimator::expect_fast_rate_change`].
const FAST_CHANGE_VARIANCE: f64 = 200.0;

/// Tuning of [`AckedBitrateEstimator`]; the defaults are libwebrtc's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AckedBitrateConfig {
    /// Window used until the first estimate exists (libwebrtc `kInitialRateWindowMs`, 500 ms).
    pub initial_window: TimeDelta,
    /// Window used afterwards (libwebrtc `kRateWindowMs`, 150 ms).
    pub window: TimeDelta,
    /// How strongly a sample's distance from the estimate counts as uncertainty (10).
    pub uncertainty_scale: f64,
    /// The scale for samples below the estimate taken in ALR (10, i.e. no special treatment).
    pub uncertainty_scale_in_alr: f64,
    /// The scale for samples below the estimate from windows smaller than
    /// `small_sample_threshold` (10, i.e. no special treatment).
    pub small_sample_uncertainty_scale: f64,
    /// Windows with fewer bytes than this are "small" (0 B: none are).
    pub small_sample_threshold: DataSize,
    /// Caps the sample's share of the uncertainty denominator (0: increases are judged relative
    /// to the estimate alone, which makes them more uncertain than decreases of the same size).
    pub uncertainty_symmetry_cap: Bitrate,
    /// The estimate never falls below this (0 kbit/s).
    pub estimate_floor: Bitrate,
}

impl Default for AckedBitrateConfig {
    fn default() -> Self {
        Self {
            initial_window: TimeDelta::from_millis(500),
            window: TimeDelta::from_millis(150),
            uncertainty_scale: 10.0,
            uncertainty_scale_in_alr: 10.0,
            small_sample_uncertainty_scale: 10.0,
            small_sample_threshold: DataSize::ZERO,
            uncertainty_symmetry_cap: Bitrate::ZERO,
            estimate_floor: Bitrate::ZERO,
        }
    }
}

/// A Bayesian estimate of the acknowledged (received-at-remote) bitrate.
#[derive(Debug, Clone)]
pub struct AckedBitrateEstimator {
    config: AckedBitrateConfig,
    /// Bytes in the window being filled (excluding the packet that closed the previous one).
    sum: DataSize,
    /// Arrival time of the packet that opened the window being filled; how much of the window
    /// has elapsed is the latest arrival minus this (the gaps between arrivals, summed).
    window_start: Timestamp,
    /// The window in force: `initial_window` until the first estimate, `window` after.
    window: TimeDelta,
    /// Arrival time of the previous packet; `None` before the first.
    prev_arrival: Option<Timestamp>,
    /// The estimate in kbit/s; `None` until the first window closes.
    estimate_kbps: Option<f64>,
    /// Its variance, (kbit/s)².
    variance: f64,
    /// Local send-clock instant at which ALR last ended, until a later-sent packet is acked.
    alr_ended: Option<Timestamp>,
}

impl Default for AckedBitrateEstimator {
    fn default() -> Self {
        Self::new(AckedBitrateConfig::default())
    }
}

impl AckedBitrateEstimator {
    /// An estimator with no estimate yet. Windows are raised to at least 1 ms.
    pub fn new(config: AckedBitrateConfig) -> Self {
        let min = TimeDelta::from_millis(1);
        let config = AckedBitrateConfig {
            initial_window: config.initial_window.max(min),
            window: config.window.max(min),
            ..config
        };
        Self {
            config,
            sum: DataSize::ZERO,
            window_start: Timestamp::ZERO,
            window: config.initial_window,
            prev_arrival: None,
            estimate_kbps: None,
            variance: INITIAL_ESTIMATE_VARIANCE,
            alr_ended: None,
        }
    }

    /// Feeds one acknowledged packet of `size` that arrived at `at` (remote clock), sent while
    /// the application was limited (`in_alr`) or not.
    #[inline]
    pub fn on_packet(&mut self, at: Timestamp, size: DataSize, in_alr: bool) {
        let Some((sample_kbps, is_small)) = self.close_window(at, size, self.window) else {
            return;
        };
        self.absorb_sample(sample_kbps, is_small, in_alr);
    }

    /// Folds one closed window's rate into the estimate. Out of line: it runs once per window,
    /// the accounting above once per packet.
    #[inline(never)]
    fn absorb_sample(&mut self, sample_kbps: f64, is_small: bool, in_alr: bool) {
        let Some(estimate) = self.estimate_kbps.filter(|e| *e > 0.0) else {
            // The first sample (or one after an estimate of exactly zero, which carries no scale
            // for the uncertainty) is taken as is.
            self.estimate_kbps = Some(sample_kbps.max(self.floor_kbps()));
            self.window = self.config.window;
            return;
        };
        let below = sample_kbps < estimate;
        let scale = if is_small && below {
            self.config.small_sample_uncertainty_scale
        } else if in_alr && below {
            self.config.uncertainty_scale_in_alr
        } else {
            self.config.uncertainty_scale
        };
        let cap_kbps = self.config.uncertainty_symmetry_cap.as_kbps_f64();
        let uncertainty =
            scale * (estimate - sample_kbps).abs() / (estimate + sample_kbps.min(cap_kbps));
        let sample_var = uncertainty * uncertainty;
        let predicted_var = self.variance + PROCESS_NOISE_VARIANCE;
        let total = sample_var + predicted_var;
        let updated = (sample_var * estimate + predicted_var * sample_kbps) / total;
        let updated_var = sample_var * predicted_var / total;
        // Guard against a non-finite configuration (e.g. an infinite scale): keep the old state.
        if updated.is_finite() && updated_var.is_finite() {
            self.estimate_kbps = Some(updated.max(self.floor_kbps()));
            self.variance = updated_var;
        }
    }

    /// Feeds one feedback result: a received packet is counted at its arrival time, a lost one
    /// is ignored. If ALR ended (see [`Self::set_alr_ended`]) before this packet was sent, the
    /// estimate is first told to expect a fast change, once.
    #[inline]
    pub fn on_packet_result(&mut self, result: &PacketResult, in_alr: bool) {
        let Some(arrival) = result.receive_time else {
            return;
        };
        if let Some(ended) = self.alr_ended {
            if result.sent.send_time > ended {
                self.expect_fast_rate_change();
                self.alr_ended = None;
            }
        }
        self.on_packet(arrival, result.sent.size, in_alr);
    }

    /// The filtered estimate, once the first window has closed.
    pub fn bitrate(&self) -> Option<Bitrate> {
        self.estimate_kbps
            .map(|kbps| Bitrate::saturating_from_bps_f64(kbps * 1e3))
    }

    /// The raw rate of the window being filled, if any of it has elapsed: a quick, noisy reading
    /// for callers that cannot wait for a window to close (e.g. during start-up).
    pub fn peek_rate(&self) -> Option<Bitrate> {
        let elapsed = self
            .prev_arrival
            .map_or(TimeDelta::ZERO, |at| at - self.window_start);
        self.sum.rate_over(elapsed)
    }

    /// Raises the estimate's variance so that the next few samples are believed; for when the
    /// caller knows the rate is about to change (e.g. the application leaves ALR).
    pub fn expect_fast_rate_change(&mut self) {
        self.variance += FAST_CHANGE_VARIANCE;
    }

    /// Records that ALR ended at `at` (local send clock). The first packet sent after `at` and
    /// passed to [`Self::on_packet_result`] triggers [`Self::expect_fast_rate_change`].
    pub fn set_alr_ended(&mut self, at: Timestamp) {
        self.alr_ended = Some(at);
    }

    fn floor_kbps(&self) -> f64 {
        self.config.estimate_floor.as_kbps_f64()
    }

    /// Accounts the packet and, if it closes a window, returns that window's rate (kbit/s) and
    /// whether the window was small. The closing packet starts the next window.
    fn close_window(
        &mut self,
        at: Timestamp,
        size: DataSize,
        window: TimeDelta,
    ) -> Option<(f64, bool)> {
        match self.prev_arrival {
            // Silence longer than a window: the partial sum is stale; this packet starts a new
            // window. Time going backwards restarts it too.
            Some(prev) if at >= prev && at - prev <= window => {}
            _ => {
                self.sum = DataSize::ZERO;
                self.window_start = at;
            }
        }
        self.prev_arrival = Some(at);
        let elapsed = at - self.window_start;
        let mut sample = None;
        if elapsed >= window {
            // The window ends on this arrival and its rate is taken over the span it really
            // covered. libwebrtc divides by the nominal window and carries the excess over, which
            // aliases by ±1 packet per window: at 500 kbit/s in 1200-byte packets a 150 ms window
            // holds 7 or 8 packets, so its samples jump between 448 and 512 kbit/s. Measured over
            // the true span, a constant stream reads exactly its rate.
            let is_small = self.sum < self.config.small_sample_threshold;
            let kbps = self.sum.as_bits_f64() / elapsed.as_millis_f64();
            sample = Some((kbps, is_small));
            self.window_start = at;
            self.sum = DataSize::ZERO;
        }
        self.sum += size;
        sample
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::SentPacket;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    /// Feeds `bytes` every millisecond over `[from, to)` ms.
    fn feed(est: &mut AckedBitrateEstimator, from: i64, to: i64, bytes: u64) {
        for t in from..to {
            est.on_packet(ms(t), DataSize::from_bytes(bytes), false);
        }
    }

    fn kbps(est: &AckedBitrateEstimator) -> f64 {
        est.bitrate().expect("estimate").as_kbps_f64()
    }

    /// The first estimate needs a full 500 ms window, so start-up is judged on a steady sample.
    #[test]
    fn acked_rate_uses_500ms_window_until_first_estimate() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 500, 125);
        assert_eq!(est.bitrate(), None, "499 ms elapsed");
        est.on_packet(ms(500), DataSize::from_bytes(125), false);
        assert_eq!(est.bitrate(), Some(Bitrate::from_mbps(1)));
    }

    /// After the first estimate, windows are 150 ms, so the estimate reacts within ~150 ms.
    #[test]
    fn acked_rate_uses_150ms_window_after_first_estimate() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 501, 125);
        let first = est.bitrate();
        assert_eq!(first, Some(Bitrate::from_mbps(1)));
        feed(&mut est, 501, 650, 250);
        assert_eq!(est.bitrate(), first, "149 ms into the window");
        est.on_packet(ms(650), DataSize::from_bytes(250), false);
        assert!(est.bitrate() > first, "the window closed after 150 ms");
    }

    /// A constant stream is estimated exactly: the filter adds no bias.
    #[test]
    fn acked_rate_of_constant_stream_is_exact() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 3000, 250);
        assert_eq!(est.bitrate(), Some(Bitrate::from_mbps(2)));
    }

    /// A sustained step is followed: within 2 s of halving, the estimate is within 5 % of it.
    #[test]
    fn acked_rate_follows_a_sustained_step() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 2000, 250);
        feed(&mut est, 2000, 4000, 125);
        let k = kbps(&est);
        assert!((k - 1000.0).abs() < 50.0, "{k}");
    }

    /// One outlier window moves the estimate far less than a plain average would.
    #[test]
    fn acked_rate_discounts_a_single_outlier() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 2000, 125);
        // One 150 ms window at 4× the rate.
        feed(&mut est, 2000, 2150, 500);
        feed(&mut est, 2150, 2151, 125);
        let k = kbps(&est);
        assert!(k > 1000.0 && k < 1100.0, "{k}");
    }

    /// Raising the variance lets the next sample pull the estimate much further.
    #[test]
    fn expect_fast_rate_change_speeds_up_the_next_update() {
        let run = |fast: bool| {
            let mut est = AckedBitrateEstimator::default();
            // The packet at 2000 ms closes a window; the next closes at 2150 ms.
            feed(&mut est, 0, 2001, 125);
            if fast {
                est.expect_fast_rate_change();
            }
            feed(&mut est, 2001, 2151, 250);
            kbps(&est)
        };
        let (slow, fast) = (run(false), run(true));
        assert!(fast > slow + 50.0, "slow {slow} fast {fast}");
        assert!(fast <= 2000.0, "never past the sample");
    }

    /// Only the first packet sent after ALR ended triggers the fast change, and only once.
    #[test]
    fn alr_end_triggers_fast_change_for_later_sent_packets_once() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 1000, 125);
        let v0 = est.variance;
        est.set_alr_ended(ms(5000));
        let result = |send: i64, recv: i64| PacketResult {
            sent: SentPacket {
                sequence: 0,
                send_time: ms(send),
                size: DataSize::from_bytes(125),
                probe: None,
            },
            receive_time: Some(ms(recv)),
        };
        est.on_packet_result(&result(4999, 1000), false);
        assert_eq!(est.variance, v0, "sent before ALR ended");
        est.on_packet_result(&result(5001, 1001), false);
        assert_eq!(est.variance, v0 + FAST_CHANGE_VARIANCE);
        est.on_packet_result(&result(5002, 1002), false);
        assert_eq!(est.variance, v0 + FAST_CHANGE_VARIANCE);
        // Lost packets are not counted.
        let sum = est.sum;
        est.on_packet_result(
            &PacketResult {
                receive_time: None,
                ..result(5003, 0)
            },
            false,
        );
        assert_eq!(est.sum, sum);
    }

    /// A lower ALR scale makes low samples in ALR count more; without ALR the default applies.
    #[test]
    fn alr_scale_applies_only_to_low_samples_in_alr() {
        let run = |in_alr: bool| {
            let mut est = AckedBitrateEstimator::new(AckedBitrateConfig {
                uncertainty_scale_in_alr: 1.0,
                ..AckedBitrateConfig::default()
            });
            for t in 0..2000 {
                est.on_packet(ms(t), DataSize::from_bytes(125), in_alr);
            }
            for t in 2000..2151 {
                est.on_packet(ms(t), DataSize::from_bytes(60), in_alr);
            }
            kbps(&est)
        };
        let (normal, alr) = (run(false), run(true));
        assert!(alr < normal - 20.0, "normal {normal} alr {alr}");
    }

    /// The raw window rate is available as soon as the window has any length.
    #[test]
    fn peek_rate_reports_the_partial_window() {
        let mut est = AckedBitrateEstimator::default();
        assert_eq!(est.peek_rate(), None);
        est.on_packet(ms(0), DataSize::from_bytes(1000), false);
        assert_eq!(est.peek_rate(), None, "no time elapsed");
        est.on_packet(ms(100), DataSize::from_bytes(1000), false);
        // 2000 B over 100 ms.
        assert_eq!(est.peek_rate(), Some(Bitrate::from_kbps(160)));
    }

    /// Time going backwards restarts the window instead of producing a bogus sample.
    #[test]
    fn time_going_backwards_restarts_the_window() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 1000, 1400, 125);
        est.on_packet(ms(10), DataSize::from_bytes(125), false);
        assert_eq!(est.peek_rate(), None);
        feed(&mut est, 11, 511, 125);
        assert_eq!(est.bitrate(), Some(Bitrate::from_mbps(1)));
    }

    /// A silence longer than the window drops the partial sum rather than averaging the gap in.
    #[test]
    fn silence_longer_than_a_window_discards_the_partial_sum() {
        let mut est = AckedBitrateEstimator::default();
        feed(&mut est, 0, 300, 125);
        feed(&mut est, 10_000, 10_501, 125);
        assert_eq!(est.bitrate(), Some(Bitrate::from_mbps(1)));
    }

    /// Extreme inputs neither panic nor produce NaN; the floor holds.
    #[test]
    fn extreme_inputs_keep_the_estimate_finite() {
        let mut est = AckedBitrateEstimator::new(AckedBitrateConfig {
            initial_window: TimeDelta::MIN,
            window: TimeDelta::ZERO,
            estimate_floor: Bitrate::from_kbps(50),
            uncertainty_scale: f64::INFINITY,
            ..AckedBitrateConfig::default()
        });
        est.on_packet(Timestamp::MIN, DataSize::from_bytes(u64::MAX), true);
        est.on_packet(Timestamp::ZERO, DataSize::ZERO, false);
        est.on_packet(Timestamp::MAX, DataSize::from_bytes(u64::MAX), false);
        est.on_packet(Timestamp::MAX, DataSize::ZERO, false);
        for t in 0..100 {
            est.on_packet(ms(t), DataSize::ZERO, false);
        }
        let b = est.bitrate().expect("estimate");
        assert!(b >= Bitrate::from_kbps(50));
        let _ = est.peek_rate();
    }
}
