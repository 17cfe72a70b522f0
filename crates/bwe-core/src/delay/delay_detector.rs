//! The whole delay-based signal path in one value: packets in, a [`BandwidthUsage`] out.
//!
//! `arrival groups → delay filter (Kalman | trendline) → over-use detector (adaptive threshold)`
//!
//! The filter is chosen by configuration and held in a private enum rather than behind
//! `Box<dyn Trait>`: there are exactly two, both known here, and an enum keeps the pipeline one
//! allocation-free value that can be cloned, inspected and reset. The Kalman filter is fed the
//! detector's previous verdict, which it uses to decide whether residuals are noise to learn from;
//! the trendline ignores it.
//!
//! The detector's threshold adapts over the *arrival* time of the group (the receiver's clock),
//! as in libwebrtc (`remote_bitrate_estimator_abs_send_time.cc` and `delay_based_bwe.cc` pass the
//! packet's arrival time). Using the local processing time instead was rejected: on the send side
//! feedback arrives in batches, so every group in a batch would see the same instant and the
//! threshold would adapt in 100 ms lurches.
//!
//! Not done here: libwebrtc restarts the delay path after 2 s without packets
//! (`kStreamTimeOut` in `delay_based_bwe.cc`, `kStreamTimeOutMs` in the abs-send-time
//! estimator). That decision needs a notion of stream liveness that the owning estimator has, so
//! it calls [`DelayDetector::reset`].

use super::arrival_group::{
    ArrivalGroupAccumulator, ArrivalGroupConfig, ArrivalGroupStats, GroupDelta,
};
use super::detector::{DetectorConfig, OveruseDetector};
use super::filter_output::FilterOutput;
use super::kalman::{KalmanConfig, KalmanFilter};
use super::trendline::{TrendlineConfig, TrendlineEstimator};
use crate::units::{DataSize, TimeDelta, Timestamp};
use crate::usage::BandwidthUsage;

/// Which delay filter the pipeline runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DelayFilterConfig {
    /// Kalman filter over delay variation and size (receive side, REMB).
    Kalman(KalmanConfig),
    /// Trendline regression over accumulated delay (send side, TWCC / RFC 8888).
    Trendline(TrendlineConfig),
}

/// Configuration of the whole delay path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DelayDetectorConfig {
    /// Packet grouping.
    pub arrival_group: ArrivalGroupConfig,
    /// The delay filter.
    pub filter: DelayFilterConfig,
    /// The over-use detector and its threshold.
    pub detector: DetectorConfig,
}

impl DelayDetectorConfig {
    /// The receive-side path: libwebrtc defaults with the Kalman filter.
    pub fn kalman() -> Self {
        Self {
            arrival_group: ArrivalGroupConfig::default(),
            filter: DelayFilterConfig::Kalman(KalmanConfig::default()),
            detector: DetectorConfig::default(),
        }
    }

    /// The send-side path: libwebrtc defaults with the trendline filter.
    pub fn trendline() -> Self {
        Self {
            arrival_group: ArrivalGroupConfig::default(),
            filter: DelayFilterConfig::Trendline(TrendlineConfig::default()),
            detector: DetectorConfig::default(),
        }
    }
}

impl Default for DelayDetectorConfig {
    /// The send-side path, [`DelayDetectorConfig::trendline`].
    fn default() -> Self {
        Self::trendline()
    }
}

/// What the delay path currently believes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DelayStats {
    /// The latest verdict.
    pub usage: BandwidthUsage,
    /// The filter's raw estimate (Kalman offset in ms, or trendline slope × gain); `None` until
    /// the first group delta.
    pub filter_estimate_ms: Option<f64>,
    /// The value last compared with the threshold; `None` until the first group delta.
    pub modified_offset_ms: Option<f64>,
    /// The current threshold γ, ms.
    pub threshold_ms: f64,
    /// Group deltas the filter has absorbed since its last reset.
    pub num_deltas: u32,
    /// Grouping counters.
    pub groups: ArrivalGroupStats,
}

#[expect(
    clippy::large_enum_variant,
    reason = "one filter lives for the pipeline's lifetime; boxing would only add an indirection"
)]
#[derive(Clone, Debug)]
enum Filter {
    Kalman(KalmanFilter),
    Trendline(TrendlineEstimator),
}

impl Filter {
    fn new(config: &DelayFilterConfig) -> Self {
        match config {
            DelayFilterConfig::Kalman(c) => Self::Kalman(KalmanFilter::new(*c)),
            DelayFilterConfig::Trendline(c) => Self::Trendline(TrendlineEstimator::new(*c)),
        }
    }

    fn update(&mut self, delta: &GroupDelta, usage: BandwidthUsage) -> FilterOutput {
        match self {
            Self::Kalman(k) => k.update(delta, usage),
            Self::Trendline(t) => t.update(delta),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Kalman(k) => k.reset(),
            Self::Trendline(t) => t.reset(),
        }
    }
}

/// The delay-based signal path. See the module docs.
#[derive(Clone, Debug)]
pub struct DelayDetector {
    groups: ArrivalGroupAccumulator,
    filter: Filter,
    detector: OveruseDetector,
    last_output: Option<FilterOutput>,
}

impl DelayDetector {
    /// A pipeline with no history. All memory it will ever use is allocated here.
    pub fn new(config: DelayDetectorConfig) -> Self {
        Self {
            groups: ArrivalGroupAccumulator::new(config.arrival_group),
            filter: Filter::new(&config.filter),
            detector: OveruseDetector::new(config.detector),
            last_output: None,
        }
    }

    /// Offers one packet (see [`ArrivalGroupAccumulator::on_packet`] for the clocks).
    ///
    /// Returns the detector's verdict when this packet completed a group and detection ran, and
    /// `None` otherwise.
    #[inline]
    pub fn on_packet(
        &mut self,
        now: Timestamp,
        send_time: Timestamp,
        arrival_time: Timestamp,
        size: DataSize,
    ) -> Option<BandwidthUsage> {
        let delta = self.groups.on_packet(now, send_time, arrival_time, size)?;
        Some(self.on_group(
            delta.send_delta,
            delta.arrival_delta,
            delta.size_delta,
            delta.arrival_time,
        ))
    }

    /// Filters and classifies one group delta; out of line, so that the per-packet path that
    /// only adds to a group stays small.
    ///
    /// The delta arrives as four scalars, in registers: as a struct it would be stored to the
    /// stack and loaded back, on the way from the packet to the verdict.
    #[inline(never)]
    fn on_group(
        &mut self,
        send_delta: TimeDelta,
        arrival_delta: TimeDelta,
        size_delta: i64,
        arrival_time: Timestamp,
    ) -> BandwidthUsage {
        let delta = &GroupDelta {
            send_delta,
            arrival_delta,
            size_delta,
            arrival_time,
        };
        let out = self.filter.update(delta, self.detector.usage());
        self.last_output = Some(out);
        self.detector
            .detect_finite(&out, delta.send_delta, delta.arrival_time)
    }

    /// The latest verdict.
    pub fn usage(&self) -> BandwidthUsage {
        self.detector.usage()
    }

    /// The latest modified trend (or offset), in ms; positive while the queue grows.
    pub fn modified_offset_ms(&self) -> Option<f64> {
        self.last_output.map(|o| o.modified_offset_ms)
    }

    /// A snapshot of the path's state.
    pub fn stats(&self) -> DelayStats {
        DelayStats {
            usage: self.detector.usage(),
            filter_estimate_ms: self.last_output.map(|o| o.raw_estimate_ms),
            modified_offset_ms: self.last_output.map(|o| o.modified_offset_ms),
            threshold_ms: self.detector.threshold_ms(),
            num_deltas: self.last_output.map_or(0, |o| o.num_deltas),
            groups: self.groups.stats(),
        }
    }

    /// Forgets all history: groups, filter state, threshold and verdict. Grouping counters are
    /// kept. No memory is freed or allocated.
    pub fn reset(&mut self) {
        self.groups.reset();
        self.filter.reset();
        self.detector.reset();
        self.last_output = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const GROUP_INTERVAL_US: i64 = 10_000;
    const PACKETS_PER_GROUP: i64 = 3;

    /// Drives `groups` frames of three packets, sent 1 ms apart every 10 ms, through `d`.
    /// `arrival_of(send_us, rng)` gives each packet's arrival in µs. Returns the verdict per
    /// completed group.
    fn drive(
        d: &mut DelayDetector,
        groups: i64,
        seed: u64,
        arrival_of: impl Fn(i64, &mut ChaCha8Rng) -> i64,
    ) -> Vec<BandwidthUsage> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut verdicts = Vec::new();
        for g in 0..groups {
            for p in 0..PACKETS_PER_GROUP {
                let send = g * GROUP_INTERVAL_US + p * 1_000;
                let arrival = arrival_of(send, &mut rng);
                let at = Timestamp::from_micros(arrival);
                if let Some(v) = d.on_packet(
                    at,
                    Timestamp::from_micros(send),
                    at,
                    DataSize::from_bytes(1200),
                ) {
                    verdicts.push(v);
                }
            }
        }
        verdicts
    }

    /// A queue that grows by 10 % of the send spacing: the textbook over-use.
    fn growing_queue(send_us: i64, _: &mut ChaCha8Rng) -> i64 {
        50_000 + send_us * 11 / 10
    }

    /// A constant path delay with ±1 ms of uniform jitter per packet.
    fn steady_with_jitter(send_us: i64, rng: &mut ChaCha8Rng) -> i64 {
        50_000 + send_us + rng.random_range(-1_000..=1_000)
    }

    fn first_overuse(verdicts: &[BandwidthUsage]) -> Option<usize> {
        verdicts
            .iter()
            .position(|&v| v == BandwidthUsage::Overusing)
    }

    /// The receive side must notice a growing queue within about half a second of groups.
    #[test]
    fn kalman_detects_a_growing_queue_within_bounded_groups() {
        let mut d = DelayDetector::new(DelayDetectorConfig::kalman());
        let verdicts = drive(&mut d, 200, 1, growing_queue);
        let at = first_overuse(&verdicts).expect("over-use detected");
        // Not instantly (the filter needs evidence) and not late.
        assert!(
            (30..=60).contains(&at),
            "first over-use at group delta {at}"
        );
    }

    /// The send side must notice a growing queue soon after its regression window fills.
    #[test]
    fn trendline_detects_a_growing_queue_within_bounded_groups() {
        let mut d = DelayDetector::new(DelayDetectorConfig::trendline());
        let verdicts = drive(&mut d, 200, 1, growing_queue);
        let at = first_overuse(&verdicts).expect("over-use detected");
        // The slope is held at zero until 20 deltas fill the window.
        assert!(
            (19..=30).contains(&at),
            "first over-use at group delta {at}"
        );
    }

    /// Jitter without queue growth must never cost the receive side a rate cut.
    #[test]
    fn kalman_stays_normal_on_a_steady_jittery_stream() {
        let mut d = DelayDetector::new(DelayDetectorConfig::kalman());
        let verdicts = drive(&mut d, 3_000, 7, steady_with_jitter);
        assert!(verdicts.len() > 2_900, "groups {}", verdicts.len());
        assert!(
            verdicts.iter().all(|&v| v == BandwidthUsage::Normal),
            "{:?}",
            d.stats()
        );
    }

    /// Jitter without queue growth must never cost the send side a rate cut.
    #[test]
    fn trendline_stays_normal_on_a_steady_jittery_stream() {
        let mut d = DelayDetector::new(DelayDetectorConfig::trendline());
        let verdicts = drive(&mut d, 3_000, 7, steady_with_jitter);
        assert!(verdicts.len() > 2_900, "groups {}", verdicts.len());
        assert!(
            verdicts.iter().all(|&v| v == BandwidthUsage::Normal),
            "{:?}",
            d.stats()
        );
    }

    /// A draining queue (arrivals packed tighter than sends) must be reported as under-use.
    #[test]
    fn draining_queue_is_underuse() {
        for config in [
            DelayDetectorConfig::kalman(),
            DelayDetectorConfig::trendline(),
        ] {
            let mut d = DelayDetector::new(config);
            let verdicts = drive(&mut d, 200, 1, |s, _| 500_000 + s * 9 / 10);
            assert!(verdicts.contains(&BandwidthUsage::Underusing), "{config:?}");
            assert!(!verdicts.contains(&BandwidthUsage::Overusing), "{config:?}");
        }
    }

    /// "Not computed yet" must read as `None`, never as a plausible zero.
    #[test]
    fn stats_are_none_before_the_first_group_delta() {
        let mut d = DelayDetector::new(DelayDetectorConfig::default());
        let s = d.stats();
        assert_eq!(
            (s.filter_estimate_ms, s.modified_offset_ms, s.num_deltas),
            (None, None, 0)
        );
        assert_eq!(s.threshold_ms, 12.5);
        let _ = drive(&mut d, 10, 1, growing_queue);
        let s = d.stats();
        assert!(s.filter_estimate_ms.is_some() && s.modified_offset_ms.is_some());
        assert_eq!(s.num_deltas, 8);
        assert_eq!(s.groups.packets, 30);
    }

    /// After a reset the pipeline must behave exactly like a new one.
    #[test]
    fn reset_makes_the_pipeline_behave_like_new() {
        for config in [
            DelayDetectorConfig::kalman(),
            DelayDetectorConfig::trendline(),
        ] {
            let mut used = DelayDetector::new(config);
            let _ = drive(&mut used, 100, 1, growing_queue);
            used.reset();
            assert_eq!(used.usage(), BandwidthUsage::Normal);
            let mut fresh = DelayDetector::new(config);
            let a = drive(&mut fresh, 100, 3, steady_with_jitter);
            let b = drive(&mut used, 100, 3, steady_with_jitter);
            assert_eq!(a, b);
            assert_eq!(
                fresh.stats().modified_offset_ms,
                used.stats().modified_offset_ms
            );
        }
    }

    /// Wild input (clock jumps both ways, duplicates, huge gaps, zero sizes) must neither panic
    /// nor produce a non-finite statistic.
    #[test]
    fn wild_input_keeps_every_output_finite() {
        // Send time mostly advances by a few ms; the path delay and the local-clock offset
        // mostly wander by a little. Each sometimes stalls, jumps far either way, or reads as a
        // one-off glitch at the end of its range.
        fn wander(v: &mut i64, step: (i64, i64), rng: &mut ChaCha8Rng) -> i64 {
            match rng.random_range(0..1000) {
                0 => return i64::MIN,
                1 => return i64::MAX,
                2 => return 0,
                3..=10 => *v = v.saturating_add(rng.random_range(-10_000_000_000..10_000_000_000)),
                11..=50 => {}
                _ => *v = v.saturating_add(rng.random_range(step.0..=step.1)),
            }
            *v
        }
        for config in [
            DelayDetectorConfig::kalman(),
            DelayDetectorConfig::trendline(),
        ] {
            let mut d = DelayDetector::new(config);
            let mut rng = ChaCha8Rng::seed_from_u64(99);
            let (mut send, mut delay, mut local_offset) = (0_i64, 50_000_i64, 0_i64);
            let mut verdicts = 0;
            for _ in 0..50_000 {
                let send_us = wander(&mut send, (0, 12_000), &mut rng);
                let delay_us = wander(&mut delay, (-2_000, 2_000), &mut rng);
                let offset_us = wander(&mut local_offset, (-100, 100), &mut rng);
                let arrival = send_us.saturating_add(delay_us);
                let now = arrival.saturating_add(offset_us);
                let size = match rng.random_range(0..50) {
                    0 => u64::MAX,
                    1 => 0,
                    _ => rng.random_range(1..2_000),
                };
                let at = Timestamp::from_micros;
                let verdict =
                    d.on_packet(at(now), at(send), at(arrival), DataSize::from_bytes(size));
                verdicts += usize::from(verdict.is_some());
                let s = d.stats();
                assert!(s.threshold_ms.is_finite());
                assert!(s.filter_estimate_ms.is_none_or(f64::is_finite));
                assert!(s.modified_offset_ms.is_none_or(f64::is_finite));
            }
            let s = d.stats();
            assert_eq!(s.groups.packets, 50_000);
            // The input must actually have exercised the filters and the fault paths.
            assert!(verdicts > 1_000, "verdicts {verdicts}");
            assert!(s.groups.reordered > 0 && s.groups.resets > 0, "{s:?}");
        }
    }
}
