//! Application-limited region (ALR) detection.
//!
//! When the encoder sends well below the estimate (a static screen, a paused camera, an audio
//! call on a fast link), feedback only confirms the rate actually sent: the estimate is no
//! longer being tested. Other components need to know: the probe controller probes periodically
//! and after drops, and the acknowledged-rate estimator treats the end of ALR specially.
//!
//! The detector keeps an interval budget refilled at 65 % of the estimate and drained by every
//! sent byte, capped at ±500 ms worth of that rate. Unused budget accumulates (the budget is
//! built to record under-use), so the fill level says how far below 65 % of the estimate the
//! sender has been over the last half second. ALR starts when more than 80 % of the budget is
//! unused and ends when less than 50 % is: the gap between the two is hysteresis, so a sender
//! hovering near the line does not flap.
//!
//! Why a budget rather than comparing a windowed send rate with the estimate: the budget needs
//! no per-packet history (constant memory, no allocation) and reacts to bursts and gaps in
//! proportion to their size.
//!
//! Constants: `bandwidth_usage_ratio` 0.65, `start_budget_level_ratio` 0.80,
//! `stop_budget_level_ratio` 0.50 from libwebrtc `modules/congestion_controller/goog_cc/
//! alr_detector.h`; the 500 ms window and the under-use build-up from
//! `modules/pacing/interval_budget.cc` (`kWindowMs`, `can_build_up_underuse` = true as set in
//! `alr_detector.cc`).
//!
//! Differences from libwebrtc: the ALR start time is the send time of the packet that tipped the
//! balance (libwebrtc reads its wall clock at that moment, which this crate never does); the
//! budget is kept in bytes at microsecond resolution instead of whole kbit/s and milliseconds;
//! send times that go backwards add no budget instead of removing some.

use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// Settings for [`AlrDetector`]. Defaults are libwebrtc's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlrDetectorConfig {
    /// The budget refills at this fraction of the estimate. Default 0.65.
    pub bandwidth_usage_ratio: f64,
    /// ALR starts when the unused share of the budget rises above this. Default 0.80.
    pub start_budget_level_ratio: f64,
    /// ALR ends when the unused share of the budget falls below this. Default 0.50.
    pub stop_budget_level_ratio: f64,
}

impl Default for AlrDetectorConfig {
    fn default() -> Self {
        Self {
            bandwidth_usage_ratio: 0.65,
            start_budget_level_ratio: 0.80,
            stop_budget_level_ratio: 0.50,
        }
    }
}

/// A byte budget refilled at a target rate, holding at most one window of that rate and owing
/// at most one window (libwebrtc `IntervalBudget`).
#[derive(Debug, Clone, Copy)]
struct IntervalBudget {
    target: Bitrate,
    max_bytes: i64,
    remaining: i64,
    can_build_up_underuse: bool,
}

impl IntervalBudget {
    const WINDOW: TimeDelta = TimeDelta::from_millis(500);

    fn new(target: Bitrate, can_build_up_underuse: bool) -> Self {
        let mut budget = Self {
            target: Bitrate::ZERO,
            max_bytes: 0,
            remaining: 0,
            can_build_up_underuse,
        };
        budget.set_target(target);
        budget
    }

    fn set_target(&mut self, target: Bitrate) {
        self.target = target;
        self.max_bytes = bytes_i64(target.over(Self::WINDOW));
        self.remaining = self.remaining.clamp(-self.max_bytes, self.max_bytes);
    }

    fn increase(&mut self, elapsed: TimeDelta) {
        let bytes = bytes_i64(self.target.over(elapsed));
        self.remaining = if self.remaining < 0 || self.can_build_up_underuse {
            self.remaining.saturating_add(bytes).min(self.max_bytes)
        } else {
            // Under-use of the previous interval is forfeited.
            bytes.min(self.max_bytes)
        };
    }

    fn use_budget(&mut self, size: DataSize) {
        self.remaining = self
            .remaining
            .saturating_sub(bytes_i64(size))
            .max(-self.max_bytes);
    }

    /// Unused share of the budget, in `[-1, 1]`; zero when the budget is empty by construction.
    fn ratio(&self) -> f64 {
        if self.max_bytes == 0 {
            0.0
        } else {
            self.remaining as f64 / self.max_bytes as f64
        }
    }
}

fn bytes_i64(size: DataSize) -> i64 {
    i64::try_from(size.bytes()).unwrap_or(i64::MAX)
}

/// Detects when the sender uses much less than the estimate. See the module docs.
#[derive(Debug, Clone)]
pub struct AlrDetector {
    cfg: AlrDetectorConfig,
    budget: IntervalBudget,
    last_send_time: Option<Timestamp>,
    alr_start: Option<Timestamp>,
}

impl AlrDetector {
    /// A detector with no estimate yet (never in ALR until one is set).
    pub fn new(cfg: AlrDetectorConfig) -> Self {
        Self {
            cfg,
            budget: IntervalBudget::new(Bitrate::ZERO, true),
            last_send_time: None,
            alr_start: None,
        }
    }

    /// A packet of `size` left at `send_time`. The first packet only starts the clock: the time
    /// it took to send is unknown.
    pub fn on_bytes_sent(&mut self, size: DataSize, send_time: Timestamp) {
        let Some(last) = self.last_send_time else {
            self.last_send_time = Some(send_time);
            return;
        };
        let elapsed = (send_time - last).max(TimeDelta::ZERO);
        self.last_send_time = Some(last.max(send_time));

        self.budget.use_budget(size);
        self.budget.increase(elapsed);
        let ratio = self.budget.ratio();
        if self.alr_start.is_none() && ratio > self.cfg.start_budget_level_ratio {
            self.alr_start = Some(send_time);
        } else if self.alr_start.is_some() && ratio < self.cfg.stop_budget_level_ratio {
            self.alr_start = None;
        }
    }

    /// The current estimate; the budget refills at `bandwidth_usage_ratio` of it.
    pub fn set_estimated_bitrate(&mut self, estimate: Bitrate) {
        let target = estimate.mul_f64(self.cfg.bandwidth_usage_ratio);
        self.budget.set_target(target);
    }

    /// When the current application-limited period began, if the sender is in one.
    pub fn alr_start_time(&self) -> Option<Timestamp> {
        self.alr_start
    }

    /// Whether the sender is application-limited now.
    pub fn in_alr(&self) -> bool {
        self.alr_start.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Sends 1250-byte packets at `rate` from `from` for `span`; returns the time after.
    fn send_at(d: &mut AlrDetector, from: Timestamp, span: TimeDelta, rate: Bitrate) -> Timestamp {
        let size = DataSize::from_bytes(1_250);
        let gap =
            TimeDelta::from_micros((size.bits() as f64 / rate.as_bps_f64() * 1e6).round() as i64);
        let mut t = from;
        while t - from < span {
            d.on_bytes_sent(size, t);
            t += gap;
        }
        t
    }

    /// ALR must flag a sender far below its estimate (so probing can test the estimate) and clear
    /// once it sends at the estimate again.
    #[test]
    fn alr_entered_when_sending_far_below_estimate_and_left_when_sending_at_it() {
        let mut d = AlrDetector::new(AlrDetectorConfig::default());
        d.set_estimated_bitrate(Bitrate::from_mbps(1));
        let mut t = Timestamp::from_secs(10);
        t = send_at(
            &mut d,
            t,
            TimeDelta::from_millis(400),
            Bitrate::from_kbps(1_000),
        );
        assert!(
            !d.in_alr(),
            "sending at the estimate is not application-limited"
        );
        // Sending at the estimate overdrew the 650 kbit/s budget (40 625 B max) by ~43 %. At
        // 100 kbit/s it refills by ~68.75 kB/s, so it passes 80 % after ~0.73 s (the eighth
        // packet, 100 ms apart).
        let start = t;
        t = send_at(
            &mut d,
            t,
            TimeDelta::from_millis(1_000),
            Bitrate::from_kbps(100),
        );
        let entered = d.alr_start_time().expect("in ALR after a second at 10 %");
        let delay = entered - start;
        assert!(
            delay >= TimeDelta::from_millis(650) && delay <= TimeDelta::from_millis(900),
            "{delay}"
        );
        // Back at 1 Mbit/s the budget drains by ~43.75 kB/s from full: < 50 % after ~0.46 s.
        let resumed = t;
        let mut left = None;
        for _ in 0..100 {
            t = send_at(
                &mut d,
                t,
                TimeDelta::from_millis(10),
                Bitrate::from_kbps(1_000),
            );
            if !d.in_alr() {
                left = Some(t - resumed);
                break;
            }
        }
        let left = left.expect("left ALR");
        assert!(
            left >= TimeDelta::from_millis(350) && left <= TimeDelta::from_millis(600),
            "{left}"
        );
    }

    /// Without an estimate there is nothing to be limited relative to.
    #[test]
    fn no_alr_before_an_estimate() {
        let mut d = AlrDetector::new(AlrDetectorConfig::default());
        send_at(
            &mut d,
            Timestamp::ZERO,
            TimeDelta::from_secs(2),
            Bitrate::from_kbps(10),
        );
        assert!(!d.in_alr());
    }

    /// Hysteresis: a fill level between 50 % and 80 % keeps whatever state the sender was in.
    #[test]
    fn between_thresholds_the_state_is_kept() {
        let mut d = AlrDetector::new(AlrDetectorConfig::default());
        d.set_estimated_bitrate(Bitrate::from_mbps(1));
        let t = send_at(
            &mut d,
            Timestamp::ZERO,
            TimeDelta::from_secs(1),
            Bitrate::from_kbps(100),
        );
        assert!(d.in_alr());
        // 200 ms at 1 Mbit/s drains the full budget to roughly 78 %: below the start level,
        // above the stop level, so still in ALR.
        let t = send_at(
            &mut d,
            t,
            TimeDelta::from_millis(200),
            Bitrate::from_mbps(1),
        );
        let level = d.budget.ratio();
        assert!((0.6..0.8).contains(&level), "{level}");
        assert!(d.in_alr());
        // Sending at exactly the refill rate (650 kbit/s) holds the level, and the state.
        send_at(&mut d, t, TimeDelta::from_secs(2), Bitrate::from_kbps(650));
        let level = d.budget.ratio();
        assert!((0.6..0.8).contains(&level), "{level}");
        assert!(d.in_alr());
    }

    /// The budget holds at most half a second of the target rate and owes at most as much.
    #[test]
    fn budget_is_bounded_by_half_a_second() {
        let mut b = IntervalBudget::new(Bitrate::from_kbps(800), true);
        b.increase(TimeDelta::from_secs(10));
        assert_eq!(b.remaining, 50_000);
        assert_eq!(b.ratio(), 1.0);
        b.use_budget(DataSize::from_bytes(1_000_000));
        assert_eq!(b.remaining, -50_000);
        assert_eq!(b.ratio(), -1.0);
        // Without build-up, unused budget is forfeited at the next refill.
        let mut b = IntervalBudget::new(Bitrate::from_kbps(800), false);
        b.increase(TimeDelta::from_millis(100));
        b.increase(TimeDelta::from_millis(100));
        assert_eq!(b.remaining, 10_000);
    }

    proptest! {
        /// Backwards times, huge sizes and rates never panic, and the ALR start is always one of
        /// the send times given.
        #[test]
        fn absurd_inputs_never_panic(
            steps in proptest::collection::vec((any::<i64>(), any::<u64>(), any::<u64>()), 1..100)
        ) {
            let mut d = AlrDetector::new(AlrDetectorConfig::default());
            let mut seen = Vec::new();
            for (t, size, rate) in steps {
                d.set_estimated_bitrate(Bitrate::from_bps(rate));
                d.on_bytes_sent(DataSize::from_bytes(size >> (size % 64)), Timestamp::from_micros(t));
                seen.push(Timestamp::from_micros(t));
                if let Some(start) = d.alr_start_time() {
                    prop_assert!(seen.contains(&start));
                }
                prop_assert!((-1.0..=1.0).contains(&d.budget.ratio()));
            }
        }
    }
}
