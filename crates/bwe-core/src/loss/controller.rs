//! The loss-based rate controller (GoogCC "v1" thresholds).
//!
//! Delay-based control reacts to queues building up, but a link that drops packets before its
//! queue grows (a policer, a shallow buffer, a lossy radio) never shows a delay gradient. This
//! controller watches the fraction of packets the remote reports lost and turns it into a cap on
//! the target:
//!
//! | loss fraction `p`   | action                                                          |
//! |---------------------|-----------------------------------------------------------------|
//! | `p ≤ 2 %`           | increase: `1.08 · min(targets of the last 1 s) + 1 kbps`        |
//! | `2 % < p ≤ 10 %`    | hold                                                            |
//! | `p > 10 %`          | decrease: `target · (1 − p/2)`, at most once per `300 ms + RTT` |
//!
//! The result is never above the delay-based estimate (this controller only ever *limits* what
//! the delay path allows) and always within `[min, max]`; when the delay-based estimate is below
//! `min`, `min` wins.
//!
//! Why "the minimum of the last second" rather than compounding `1.08^Δt`: a sender that held a
//! steady rate for a second may step up 8 % as soon as a clean report arrives, instead of waiting
//! another second of compounding. The minimum is tracked with the usual monotonic
//! sliding-window queue, held in a fixed-size ring so no allocation happens after [`new`].
//!
//! During the first two seconds after the first loss report, while no loss has been seen, the
//! target follows the delay-based estimate upwards directly, so that start-up probing can lift the
//! rate faster than 8 %/s.
//!
//! Constants, all from libwebrtc `modules/congestion_controller/goog_cc/
//! send_side_bandwidth_estimation.cc` unless noted: `kDefaultLowLossThreshold` 0.02,
//! `kDefaultHighLossThreshold` 0.1, `kLimitNumPackets` 20, `kBweIncreaseInterval` 1 s,
//! `kBweDecreaseInterval` 300 ms, `kStartPhase` 2 s, feedback timeout `1.2 ×
//! kMaxRtcpFeedbackInterval` (5 s) = 6 s, increase factor 1.08 and the extra 1 kbps,
//! `kDefaultMaxBitrate` 1 Gbit/s; the 5 kbit/s floor is `kCongestionControllerMinBitrate`
//! (`modules/remote_bitrate_estimator/include/bwe_defines.h`); the 300 kbit/s start rate is
//! WebRTC's default start bitrate.
//!
//! Differences from libwebrtc: the loss fraction is kept exact rather than quantised to 1/256
//! (the Q8 format is an RTCP receiver-report artefact); the RTT-based back-off, the receiver
//! (REMB) limit and the experimental loss-based estimators live elsewhere or not at all.
//!
//! [`new`]: LossBasedController::new

use crate::units::{Bitrate, TimeDelta, Timestamp};

/// The lowest rate congestion control ever asks for (libwebrtc `kCongestionControllerMinBitrate`).
pub const CONGESTION_CONTROLLER_MIN: Bitrate = Bitrate::from_kbps(5);

/// The maximum used when none (zero or [`Bitrate::MAX`]) is configured (libwebrtc
/// `kDefaultMaxBitrate`).
pub const DEFAULT_MAX: Bitrate = Bitrate::from_mbps(1_000);

/// How many `(time, target)` pairs the min-history ring holds. At one update per 25 ms plus one
/// per feedback, a second of strictly rising targets needs about 60; when full, the newest two
/// entries merge conservatively (see [`MinHistory::push`]).
const MIN_HISTORY_CAPACITY: usize = 128;

/// Settings for [`LossBasedController`]. Defaults are libwebrtc's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossControllerConfig {
    /// At or below this loss fraction the target may increase. Default 0.02.
    pub low_loss: f64,
    /// Above this loss fraction the target decreases. Default 0.10.
    pub high_loss: f64,
    /// Lower bound of the target; raised to at least 5 kbit/s. Default 5 kbit/s.
    pub min: Bitrate,
    /// Upper bound of the target; zero or [`Bitrate::MAX`] mean 1 Gbit/s. Default 1 Gbit/s.
    pub max: Bitrate,
    /// The target before any feedback. Default 300 kbit/s.
    pub start: Bitrate,
    /// Packets that must be reported before a loss fraction is computed. Default 20.
    pub min_packets: u32,
    /// Minimum spacing of decreases, to which the RTT is added. Default 300 ms.
    pub decrease_interval: TimeDelta,
    /// Window over which the minimum target is taken for increases. Default 1 s.
    pub increase_interval: TimeDelta,
    /// Multiplier applied to the windowed minimum on increase. Default 1.08.
    pub increase_factor: f64,
    /// Added on every increase so low rates never get stuck. Default 1 kbit/s.
    pub increase_extra: Bitrate,
    /// After the first loss report, how long a loss-free sender follows the delay-based
    /// estimate directly. Default 2 s.
    pub start_phase: TimeDelta,
    /// A loss fraction older than this no longer moves the target. Default 6 s.
    pub feedback_timeout: TimeDelta,
}

impl Default for LossControllerConfig {
    fn default() -> Self {
        Self {
            low_loss: 0.02,
            high_loss: 0.10,
            min: CONGESTION_CONTROLLER_MIN,
            max: DEFAULT_MAX,
            start: Bitrate::from_kbps(300),
            min_packets: 20,
            decrease_interval: TimeDelta::from_millis(300),
            increase_interval: TimeDelta::from_secs(1),
            increase_factor: 1.08,
            increase_extra: Bitrate::from_kbps(1),
            start_phase: TimeDelta::from_secs(2),
            feedback_timeout: TimeDelta::from_secs(6),
        }
    }
}

/// A fixed-capacity monotonic queue of `(time, target)`: values rise from front to back, so the
/// front is the minimum over the retained window.
#[derive(Debug, Clone)]
struct MinHistory {
    entries: [(Timestamp, Bitrate); MIN_HISTORY_CAPACITY],
    head: usize,
    len: usize,
}

impl MinHistory {
    fn new() -> Self {
        Self {
            entries: [(Timestamp::ZERO, Bitrate::ZERO); MIN_HISTORY_CAPACITY],
            head: 0,
            len: 0,
        }
    }

    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    fn slot(&self, i: usize) -> usize {
        (self.head + i) % MIN_HISTORY_CAPACITY
    }

    fn front(&self) -> Option<(Timestamp, Bitrate)> {
        (self.len > 0).then(|| self.entries[self.head])
    }

    fn back(&self) -> Option<(Timestamp, Bitrate)> {
        (self.len > 0).then(|| self.entries[self.slot(self.len - 1)])
    }

    fn pop_front(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % MIN_HISTORY_CAPACITY;
            self.len -= 1;
        }
    }

    fn pop_back(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// Appends an entry. When the ring is full the back entry keeps its (smaller) value but takes
    /// the new time: the minimum is then remembered for slightly longer than exact, so the
    /// increase can only be slower than libwebrtc's, never faster.
    fn push(&mut self, at: Timestamp, rate: Bitrate) {
        if self.len == MIN_HISTORY_CAPACITY {
            let back = self.slot(self.len - 1);
            let (t, r) = self.entries[back];
            self.entries[back] = (t.max(at), r.min(rate));
            return;
        }
        let slot = self.slot(self.len);
        self.entries[slot] = (at, rate);
        self.len += 1;
    }
}

/// Caps the send rate from reported packet loss. See the module docs for the control law.
#[derive(Debug, Clone)]
pub struct LossBasedController {
    cfg: LossControllerConfig,
    min: Bitrate,
    max: Bitrate,
    target: Bitrate,
    delay_based_limit: Bitrate,
    acknowledged_rate: Option<Bitrate>,
    rtt: TimeDelta,
    lost_accumulated: u64,
    expected_accumulated: u64,
    loss_fraction: Option<f64>,
    /// Packets the latest loss fraction was computed over.
    fraction_packets: u64,
    decreased_since_last_fraction: bool,
    first_report: Option<Timestamp>,
    last_fraction_at: Option<Timestamp>,
    last_decrease: Option<Timestamp>,
    history: MinHistory,
}

impl LossBasedController {
    /// A controller at `cfg.start`, clamped into `[min, max]`.
    pub fn new(cfg: LossControllerConfig) -> Self {
        let (min, max) = sanitize_min_max(cfg.min, cfg.max);
        Self {
            cfg,
            min,
            max,
            target: cfg.start.clamp_to(min, max),
            delay_based_limit: Bitrate::MAX,
            acknowledged_rate: None,
            rtt: TimeDelta::ZERO,
            lost_accumulated: 0,
            expected_accumulated: 0,
            loss_fraction: None,
            fraction_packets: 0,
            decreased_since_last_fraction: false,
            first_report: None,
            last_fraction_at: None,
            last_decrease: None,
            history: MinHistory::new(),
        }
    }

    /// One feedback batch: `lost` of `total` packets were reported lost.
    ///
    /// Batches accumulate until at least `min_packets` are covered; then a loss fraction is
    /// computed, the accumulators restart and [`update`](Self::update) runs. `lost` above
    /// `total` counts as `total`; an empty batch is ignored.
    pub fn on_packet_results(&mut self, now: Timestamp, lost: u32, total: u32) {
        if self.first_report.is_none() {
            self.first_report = Some(now);
        }
        if total == 0 {
            return;
        }
        let expected = self.expected_accumulated + u64::from(total);
        let lost = self.lost_accumulated + u64::from(lost.min(total));
        if expected < u64::from(self.cfg.min_packets) {
            self.expected_accumulated = expected;
            self.lost_accumulated = lost;
            return;
        }
        self.loss_fraction = Some((lost as f64 / expected as f64).clamp(0.0, 1.0));
        self.fraction_packets = expected;
        self.decreased_since_last_fraction = false;
        self.lost_accumulated = 0;
        self.expected_accumulated = 0;
        self.last_fraction_at = Some(now);
        self.update(now);
    }

    /// The latest round-trip time; non-positive values are ignored.
    pub fn on_rtt(&mut self, rtt: TimeDelta) {
        if rtt.is_positive() {
            self.rtt = rtt;
        }
    }

    /// The delay-based estimate, which the target never exceeds. Zero means "no limit", as in
    /// libwebrtc.
    pub fn set_delay_based_limit(&mut self, limit: Bitrate) {
        self.delay_based_limit = if limit == Bitrate::ZERO {
            Bitrate::MAX
        } else {
            limit
        };
        self.apply_target(self.target);
    }

    /// The acknowledged (received) rate. The v1 control law does not use it; it is kept so the
    /// caller can read it back beside the loss figure.
    pub fn set_acknowledged_rate(&mut self, rate: Option<Bitrate>) {
        self.acknowledged_rate = rate;
    }

    /// The acknowledged rate last given to [`set_acknowledged_rate`](Self::set_acknowledged_rate).
    pub fn acknowledged_rate(&self) -> Option<Bitrate> {
        self.acknowledged_rate
    }

    /// Forces the target to `rate` (a probe result, a reset).
    ///
    /// As libwebrtc's `SetSendBitrate`, this lifts the delay-based limit and forgets the
    /// min-history so the new value is not capped by older, lower targets: pass the delay-based
    /// estimate again with [`set_delay_based_limit`](Self::set_delay_based_limit) afterwards.
    pub fn set_estimate(&mut self, now: Timestamp, rate: Bitrate) {
        let _ = now;
        self.delay_based_limit = Bitrate::MAX;
        self.apply_target(rate);
        self.history.clear();
    }

    /// New bounds for the target. `min` is raised to 5 kbit/s; a zero or unlimited `max` means
    /// 1 Gbit/s; `max` below `min` becomes `min`.
    pub fn set_min_max(&mut self, min: Bitrate, max: Bitrate) {
        (self.min, self.max) = sanitize_min_max(min, max);
        self.apply_target(self.target);
    }

    /// Runs the control law at `now` and returns the new target. Call it periodically (the
    /// increase is relative to the last second of targets, so calling more often does not ramp
    /// faster) and it is also run on every new loss fraction.
    pub fn update(&mut self, now: Timestamp) -> Bitrate {
        let no_loss_yet = self.loss_fraction.is_none_or(|p| p == 0.0);
        if no_loss_yet && self.in_start_phase(now) {
            let mut candidate = self.target;
            if self.delay_based_limit != Bitrate::MAX {
                candidate = candidate.max(self.delay_based_limit);
            }
            if candidate != self.target {
                self.history.clear();
                self.history.push(now, self.target);
                self.apply_target(candidate);
                return self.target;
            }
        }
        self.update_min_history(now);

        let (Some(loss), Some(at)) = (self.loss_fraction, self.last_fraction_at) else {
            self.apply_target(self.target);
            return self.target;
        };
        if now - at >= self.cfg.feedback_timeout {
            self.apply_target(self.target);
            return self.target;
        }

        if loss <= self.cfg.low_loss {
            let floor = self.history.front().map_or(self.target, |(_, r)| r);
            let raised = floor.mul_f64(self.cfg.increase_factor) + self.cfg.increase_extra;
            self.apply_target(raised);
        } else if loss > self.cfg.high_loss {
            let window = self.cfg.decrease_interval + self.rtt;
            let spaced = self.last_decrease.is_none_or(|t| now - t >= window);
            if !self.decreased_since_last_fraction && spaced {
                self.last_decrease = Some(now);
                self.decreased_since_last_fraction = true;
                self.apply_target(self.target.mul_f64(1.0 - 0.5 * loss));
            } else {
                self.apply_target(self.target);
            }
        } else {
            self.apply_target(self.target);
        }
        self.target
    }

    /// The current loss-based target.
    pub fn target(&self) -> Bitrate {
        self.target
    }

    /// How many packets the latest loss fraction was computed over (0 before the first).
    pub fn fraction_packets(&self) -> u64 {
        self.fraction_packets
    }

    /// The latest loss fraction in `[0, 1]`; `None` until `min_packets` have been reported.
    pub fn loss_fraction(&self) -> Option<f64> {
        self.loss_fraction
    }

    fn in_start_phase(&self, now: Timestamp) -> bool {
        self.first_report
            .is_none_or(|first| now - first < self.cfg.start_phase)
    }

    fn update_min_history(&mut self, now: Timestamp) {
        // History times are compared with 1 ms of slack so that an update arriving a hair
        // before the window closes still sees the older minimum expire (libwebrtc does the same).
        let slack = TimeDelta::from_millis(1);
        while let Some((t, _)) = self.history.front() {
            if now - t + slack > self.cfg.increase_interval {
                self.history.pop_front();
            } else {
                break;
            }
        }
        while let Some((_, r)) = self.history.back() {
            if self.target <= r {
                self.history.pop_back();
            } else {
                break;
            }
        }
        self.history.push(now, self.target);
    }

    /// Caps by the delay-based limit and `max`, then floors at `min` (the floor wins).
    fn apply_target(&mut self, rate: Bitrate) {
        let upper = self.delay_based_limit.min(self.max);
        self.target = rate.min(upper).max(self.min);
    }
}

fn sanitize_min_max(min: Bitrate, max: Bitrate) -> (Bitrate, Bitrate) {
    let min = min.max(CONGESTION_CONTROLLER_MIN);
    let max = if max == Bitrate::ZERO || max == Bitrate::MAX {
        DEFAULT_MAX
    } else {
        max
    };
    (min, max.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn kbps(v: u64) -> Bitrate {
        Bitrate::from_kbps(v)
    }

    /// A controller at 300 kbit/s that has left the start phase with one clean report.
    fn settled() -> LossBasedController {
        let mut c = LossBasedController::new(LossControllerConfig::default());
        c.on_packet_results(ms(0), 0, 100);
        c.update(ms(3_000));
        c.set_estimate(ms(3_000), kbps(300));
        c
    }

    fn assert_within(actual: Bitrate, lo: Bitrate, hi: Bitrate) {
        assert!(actual >= lo && actual <= hi, "{actual} not in [{lo}, {hi}]");
    }

    /// Loss at or below 2 % is noise, so the sender may grow by 8 % plus 1 kbit/s.
    #[test]
    fn loss_below_two_percent_allows_increase() {
        let mut c = settled();
        c.on_packet_results(ms(3_100), 1, 100);
        assert_within(c.target(), kbps(324), kbps(326));
    }

    /// Moderate loss neither grows nor shrinks the rate.
    #[test]
    fn loss_between_two_and_ten_percent_holds() {
        let mut c = settled();
        c.on_packet_results(ms(3_100), 5, 100);
        assert_within(c.target(), kbps(300), kbps(300));
        c.update(ms(3_500));
        assert_within(c.target(), kbps(300), kbps(300));
    }

    /// Heavy loss cuts the rate by half the loss fraction: 20 % loss gives 90 %.
    #[test]
    fn high_loss_decreases_by_half_the_loss_fraction() {
        let mut c = settled();
        c.on_packet_results(ms(3_100), 20, 100);
        assert_within(c.target(), kbps(269), kbps(271));
    }

    /// The effect of one decrease must be observed (one RTT) before the next.
    #[test]
    fn decrease_happens_at_most_once_per_rtt_window() {
        let mut c = settled();
        c.on_rtt(TimeDelta::from_millis(200));
        c.on_packet_results(ms(3_100), 20, 100);
        assert_within(c.target(), kbps(269), kbps(271));
        c.on_packet_results(ms(3_200), 20, 100);
        c.on_packet_results(ms(3_550), 20, 100);
        assert_within(c.target(), kbps(269), kbps(271));
        c.on_packet_results(ms(3_650), 20, 100);
        assert_within(c.target(), kbps(242), kbps(244));
    }

    /// One fraction justifies one decrease, however often `update` runs.
    #[test]
    fn one_loss_report_decreases_once() {
        let mut c = settled();
        c.on_packet_results(ms(3_100), 20, 100);
        c.update(ms(4_000));
        c.update(ms(5_000));
        assert_within(c.target(), kbps(269), kbps(271));
    }

    /// A handful of packets says nothing about loss; the figure waits for 20.
    #[test]
    fn no_loss_figure_until_enough_packets_are_reported() {
        let mut c = LossBasedController::new(LossControllerConfig::default());
        c.on_packet_results(ms(0), 5, 10);
        assert_eq!(c.loss_fraction(), None);
        c.on_packet_results(ms(50), 0, 9);
        assert_eq!(c.loss_fraction(), None);
        c.on_packet_results(ms(100), 1, 1);
        let p = c.loss_fraction().expect("20 packets reported");
        assert!((0.299..=0.301).contains(&p), "{p}");
    }

    /// The loss path only limits: it never lets the target exceed the delay-based estimate.
    #[test]
    fn target_never_exceeds_delay_based_limit() {
        let mut c = settled();
        c.set_delay_based_limit(kbps(250));
        for i in 1..=50 {
            c.on_packet_results(ms(3_000 + i * 100), 0, 50);
            assert_within(c.target(), kbps(249), kbps(250));
        }
    }

    /// Configured bounds hold whatever the feedback says; the minimum beats the delay limit.
    #[test]
    fn target_stays_within_min_and_max() {
        let mut c = LossBasedController::new(LossControllerConfig {
            min: kbps(100),
            max: kbps(400),
            ..LossControllerConfig::default()
        });
        for i in 0..200 {
            c.on_packet_results(ms(i * 100), 0, 100);
        }
        assert_within(c.target(), kbps(400), kbps(400));
        for i in 200..400 {
            c.on_packet_results(ms(i * 500), 100, 100);
        }
        assert_within(c.target(), kbps(100), kbps(100));
        c.set_delay_based_limit(kbps(50));
        assert_within(c.target(), kbps(100), kbps(100));
    }

    /// Frequent updates must not compound: growth stays near 8 % per second.
    #[test]
    fn increase_is_about_eight_percent_per_second() {
        let mut c = settled();
        c.on_packet_results(ms(3_000), 0, 100);
        for t in (3_000..=5_000).step_by(25) {
            c.update(ms(t));
        }
        // 300 → 325 at once, → ~352 after one second, → ~381 after two.
        assert_within(c.target(), kbps(375), kbps(385));
    }

    /// In the first two seconds without loss the delay-based estimate (probing) leads.
    #[test]
    fn start_phase_follows_delay_based_estimate() {
        let mut c = LossBasedController::new(LossControllerConfig::default());
        c.on_packet_results(ms(0), 0, 100);
        c.set_delay_based_limit(kbps(900));
        c.update(ms(500));
        assert_within(c.target(), kbps(900), kbps(900));
        // After the start phase, a higher delay-based estimate no longer pulls the target up.
        c.set_delay_based_limit(kbps(5_000));
        c.update(ms(2_500));
        assert_within(c.target(), kbps(900), kbps(1_000));
    }

    /// Old loss figures stop steering the rate: with no report for 6 s the target holds.
    #[test]
    fn stale_loss_figure_holds_the_target() {
        let mut c = settled();
        c.on_packet_results(ms(3_100), 0, 100);
        let before = c.target();
        c.update(ms(9_200));
        c.update(ms(10_500));
        assert_within(c.target(), before, before);
    }

    /// A flood of rising targets within one second overflows the ring without panicking, and
    /// the full ring can only remember a minimum for longer, never raise faster than the exact
    /// sliding minimum would.
    #[test]
    fn full_min_history_ring_stays_conservative() {
        let mut c = settled();
        c.set_delay_based_limit(kbps(200));
        c.on_packet_results(ms(3_000), 0, 100);
        for i in 0..1_000u64 {
            c.set_delay_based_limit(kbps(200) + Bitrate::from_bps(15 * i));
            c.update(Timestamp::from_micros(3_000_000 + i as i64 * 500));
        }
        c.set_delay_based_limit(Bitrate::MAX);
        c.update(ms(3_600));
        assert_within(c.target(), kbps(216), kbps(217));
        c.update(ms(4_200));
        // The exact minimum over (3.2 s, 4.2 s] is the 401st limit: 206.015 kbit/s.
        let exact = kbps(200) + Bitrate::from_bps(15 * 401);
        assert_within(c.target(), kbps(217), exact.mul_f64(1.08) + kbps(1));
    }

    proptest! {
        /// Arbitrary inputs, including time going backwards, never panic and keep the target
        /// within its bounds.
        #[test]
        fn arbitrary_inputs_keep_target_bounded(
            steps in proptest::collection::vec(
                (any::<i64>(), any::<u32>(), any::<u32>(), any::<u64>(), any::<i64>()), 1..60)
        ) {
            let mut c = LossBasedController::new(LossControllerConfig::default());
            for (t, lost, total, limit, rtt) in steps {
                let now = Timestamp::from_micros(t);
                c.on_rtt(TimeDelta::from_micros(rtt));
                c.set_delay_based_limit(Bitrate::from_bps(limit));
                c.on_packet_results(now, lost, total);
                let r = c.update(now);
                prop_assert!(r >= CONGESTION_CONTROLLER_MIN && r <= DEFAULT_MAX);
                if let Some(p) = c.loss_fraction() {
                    prop_assert!((0.0..=1.0).contains(&p));
                }
            }
        }
    }
}
