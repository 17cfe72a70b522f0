//! Additive-increase / multiplicative-decrease rate control driven by the delay detector.
//!
//! The detector says whether the bottleneck queue grows (over-use), drains (under-use) or holds
//! (normal); this controller turns that verdict and a throughput measurement into a target rate.
//!
//! - **Over-use → Decrease**: back off to β × the *measured* throughput (β = 0.85), not β × the
//!   old target: the throughput is what the link actually delivered, so landing just below it
//!   drains the queue we built. The rate never goes up on over-use. The throughput at that moment
//!   is a capacity sample for [`LinkCapacityEstimator`]. Decrease is transient: the same update
//!   moves to Hold, so that the queue can drain before probing upwards again.
//! - **Under-use → Hold**: the queue is draining; keep the rate until it is empty.
//! - **Normal → Increase** (from Hold): far from the capacity estimate (none yet, or the
//!   throughput left its ±3σ band upwards) grow multiplicatively, 8 % per second
//!   (1.08^min(Δt, 1 s), at least 1 kbit/s), to find a new bottleneck quickly. Near it, grow
//!   additively by about one packet per response time, so that the next over-use is small.
//! - The rate never *rises* above `max_throughput_factor` × throughput + `throughput_headroom`
//!   (1.5 × + 10 kbit/s): an encoder that does not use the rate gives no evidence the path can
//!   carry more. It may already be above that cap (after a probe); then it is held, not cut.
//! - Every returned rate is within `[min, max]`.
//!
//! A state machine keyed on the detector, rather than a rate law of the delay gradient, lets the
//! controller tell "the queue is draining, wait" from "the path is idle, probe".
//!
//! Constants and rules follow libwebrtc `modules/remote_bitrate_estimator/aimd_rate_control.cc`:
//! β 0.85 (`kDefaultBackoffFactor`), initial RTT 200 ms (`kDefaultRtt`), 1.08 per second with a
//! 1 kbit/s floor, additive rate = (frame at 30 fps split into ≤ 1200-byte packets) per
//! 2 × (RTT + 100 ms) with a 4 kbit/s-per-second floor, the 5 s initialisation from throughput,
//! the 1.5 × + 10 kbit/s cap, early reduction after RTT clamped to [10, 200] ms or when the
//! throughput halves, and the expected bandwidth period in [2 s, 50 s] (3 s before any decrease).
//! The 5 kbit/s minimum is `kCongestionControllerMinBitrate`, 30 Mbit/s the controller's initial
//! maximum there, and the 300 kbit/s start `kDefaultStartBitrateBps`
//! (`api/transport/bitrate_settings.h`).
//!
//! # ALR
//! While [`AimdRateControl::set_in_alr`] is on, an increase is also capped at
//! max(current estimate, measured throughput): the estimate does not grow on a link that the
//! application is not filling, unless the throughput itself already shows the higher rate.
//! libwebrtc's `WebRTC-DontIncreaseDelayBasedBweInAlr` freezes the estimate outright in ALR and is
//! off by default; the caller opts in here by reporting ALR at all.

use crate::link_capacity::LinkCapacityEstimator;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};
use crate::usage::BandwidthUsage;

/// Multiplicative back-off applied to the measured throughput on over-use.
const DEFAULT_BETA: f64 = 0.85;
/// Back-off applied when the over-use happened at the known link capacity (see
/// [`AimdConfig::beta_near_capacity`]).
const DEFAULT_BETA_NEAR_CAPACITY: f64 = 0.9;
/// Growth factor per second far from the capacity estimate.
const MULTIPLICATIVE_GROWTH_PER_SECOND: f64 = 1.08;
/// Smallest multiplicative step, so that very low rates still move.
const MIN_MULTIPLICATIVE_STEP: Bitrate = Bitrate::from_kbps(1);
/// Frame rate assumed when sizing the additive step (one frame's packets).
const ASSUMED_FPS: f64 = 30.0;
/// Largest packet assumed when splitting a frame into packets.
const ASSUMED_PACKET_SIZE: DataSize = DataSize::from_bytes(1200);
/// Approximate delay of the over-use detector, added to the RTT for the response time.
const DETECTOR_DELAY: TimeDelta = TimeDelta::from_millis(100);
/// libwebrtc doubles the response time (once tied to the adaptive-threshold experiment, now
/// unconditional).
const RESPONSE_TIME_FACTOR: i64 = 2;
/// Smallest additive growth rate, bits per second per second.
const MIN_NEAR_MAX_INCREASE_PER_SECOND: Bitrate = Bitrate::from_kbps(4);
/// Without an explicit start, the estimate adopts the throughput once it has been known this long.
const INITIALIZATION_TIME: TimeDelta = TimeDelta::from_secs(5);
/// Bounds of the RTT-based interval between early reductions.
const MIN_REDUCTION_INTERVAL: TimeDelta = TimeDelta::from_millis(10);
const MAX_REDUCTION_INTERVAL: TimeDelta = TimeDelta::from_millis(200);
/// A throughput below this fraction of the estimate justifies an immediate further reduction.
const REDUCE_FURTHER_FRACTION: f64 = 0.5;
/// Expected time between bandwidth drops: bounds, and the value before any decrease.
const MIN_EXPECTED_PERIOD: TimeDelta = TimeDelta::from_secs(2);
const DEFAULT_EXPECTED_PERIOD: TimeDelta = TimeDelta::from_secs(3);
const MAX_EXPECTED_PERIOD: TimeDelta = TimeDelta::from_secs(50);

/// Tuning of [`AimdRateControl`]; the defaults are libwebrtc's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AimdConfig {
    /// Lowest estimate ever returned (5 kbit/s).
    pub min: Bitrate,
    /// Highest estimate ever returned (30 Mbit/s).
    pub max: Bitrate,
    /// The estimate before anything is known (300 kbit/s).
    pub start: Bitrate,
    /// Back-off factor on over-use, in (0, 1); other values fall back to 0.85.
    pub beta: f64,
    /// Back-off factor on over-use when the throughput at over-use lies inside the link-capacity
    /// estimate's ±3σ band (0.9; values outside (0, 1) fall back to it).
    ///
    /// There the over-use is our own additive creep past a capacity we already know, the delay
    /// detector caught it within a few groups and the queue it built is small, so a back-off of
    /// 10 % drains it within a few hundred milliseconds while a 15 % one only wastes capacity:
    /// with β = 0.85 the steady-state sawtooth spans 0.85 × capacity to just above capacity. A
    /// throughput outside the band (a real capacity change) still backs off by `beta`.
    /// libwebrtc's back-off is a single 0.85 (its `WebRTC-BweBackOffFactor` trial varies it).
    pub beta_near_capacity: f64,
    /// RTT assumed until [`AimdRateControl::set_rtt`] is called (200 ms).
    pub initial_rtt: TimeDelta,
    /// An increase never takes the estimate above this × throughput + headroom (1.5).
    pub max_throughput_factor: f64,
    /// See `max_throughput_factor` (10 kbit/s); lets very low rates escape uneven encoders.
    pub throughput_headroom: Bitrate,
}

impl Default for AimdConfig {
    fn default() -> Self {
        Self {
            min: Bitrate::from_kbps(5),
            max: Bitrate::from_mbps(30),
            start: Bitrate::from_kbps(300),
            beta: DEFAULT_BETA,
            beta_near_capacity: DEFAULT_BETA_NEAR_CAPACITY,
            initial_rtt: TimeDelta::from_millis(200),
            max_throughput_factor: 1.5,
            throughput_headroom: Bitrate::from_kbps(10),
        }
    }
}

/// What the controller does with the rate on the next update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RateControlState {
    /// Keep the rate (waiting for a queue to drain, or not yet initialised).
    #[default]
    Hold,
    /// Raise the rate, multiplicatively or additively.
    Increase,
    /// Cut the rate; only ever seen within an update, which ends in Hold.
    Decrease,
}

/// AIMD rate control; see the module docs.
#[derive(Debug, Clone)]
pub struct AimdRateControl {
    config: AimdConfig,
    /// Only ever set through [`Self::set_current`], which keeps `reduce_further_below` in step.
    current: Bitrate,
    /// `current × REDUCE_FURTHER_FRACTION`: the receive side asks
    /// [`Self::time_to_reduce_further`] on every over-using packet, and the estimate changes far
    /// less often than that.
    reduce_further_below: Bitrate,
    /// The last throughput given to `update`; until then the start rate or the last
    /// [`Self::set_estimate`] (libwebrtc's `SetStartBitrate` seeds it the same way).
    latest_throughput: Bitrate,
    throughput_measured: bool,
    link_capacity: LinkCapacityEstimator,
    state: RateControlState,
    last_change: Option<Timestamp>,
    first_throughput_at: Option<Timestamp>,
    initialized: bool,
    rtt: TimeDelta,
    in_alr: bool,
    /// Size of the last over-use decrease, for [`Self::expected_bandwidth_period`].
    last_decrease: Option<Bitrate>,
    /// The last multiplicative growth factor and the time step it was computed for: `powf`
    /// takes longer than the rest of an update, and with feedback on a timer the step repeats.
    growth: (f64, f64),
}

impl AimdRateControl {
    /// A controller at `config.start` (clamped to `[min, max]`), without a valid estimate.
    pub fn new(config: AimdConfig) -> Self {
        let beta = if config.beta > 0.0 && config.beta < 1.0 {
            config.beta
        } else {
            DEFAULT_BETA
        };
        let beta_near_capacity =
            if config.beta_near_capacity > 0.0 && config.beta_near_capacity < 1.0 {
                config.beta_near_capacity
            } else {
                DEFAULT_BETA_NEAR_CAPACITY
            };
        let config = AimdConfig {
            beta,
            beta_near_capacity,
            ..config
        };
        let start = config.start.clamp_to(config.min, config.max);
        Self {
            config,
            current: start,
            reduce_further_below: start.mul_f64(REDUCE_FURTHER_FRACTION),
            latest_throughput: start,
            throughput_measured: false,
            link_capacity: LinkCapacityEstimator::new(),
            state: RateControlState::Hold,
            last_change: None,
            first_throughput_at: None,
            initialized: false,
            rtt: config.initial_rtt.max(TimeDelta::ZERO),
            in_alr: false,
            growth: (f64::NAN, 0.0),
            last_decrease: None,
        }
    }

    /// Applies the detector's verdict at `now`, with the throughput measured now if there is one,
    /// and returns the new estimate.
    ///
    /// Until the estimate is valid (see [`Self::valid_estimate`]) only over-use changes it; it
    /// becomes valid on the first over-use, on [`Self::set_estimate`], or by adopting the
    /// throughput once throughputs have been reported for more than 5 s.
    pub fn update(
        &mut self,
        now: Timestamp,
        usage: BandwidthUsage,
        estimated_throughput: Option<Bitrate>,
    ) -> Bitrate {
        if !self.initialized {
            match (self.first_throughput_at, estimated_throughput) {
                (None, Some(_)) => self.first_throughput_at = Some(now),
                (Some(first), Some(throughput)) if now - first > INITIALIZATION_TIME => {
                    self.set_current(throughput);
                    self.initialized = true;
                }
                _ => {}
            }
        }
        if let Some(throughput) = estimated_throughput {
            self.latest_throughput = throughput;
            self.throughput_measured = true;
        }
        let throughput = self.latest_throughput;
        if !self.initialized && usage != BandwidthUsage::Overusing {
            return self.current;
        }
        self.change_state(now, usage);
        let new = match self.state {
            RateControlState::Hold => None,
            RateControlState::Increase => self.increase(now, throughput),
            RateControlState::Decrease => self.decrease(now, throughput),
        };
        self.set_current(new.unwrap_or(self.current));
        self.current
    }

    /// Sets the estimate directly (a start rate, a probe result) and makes it valid.
    ///
    /// Until `update` has been given a throughput, the new estimate also stands in for it (for
    /// the back-off and the increase cap).
    pub fn set_estimate(&mut self, now: Timestamp, bitrate: Bitrate) {
        self.initialized = true;
        self.set_current(bitrate);
        self.last_change = Some(now);
        if !self.throughput_measured {
            self.latest_throughput = self.current;
        }
    }

    /// The round-trip time, which sets the additive step and the early-reduction interval.
    /// Negative values are taken as zero.
    pub fn set_rtt(&mut self, rtt: TimeDelta) {
        self.rtt = rtt.max(TimeDelta::ZERO);
    }

    /// Changes the bounds and clamps the estimate into them (`max` wins if `min > max`).
    pub fn set_min_max(&mut self, min: Bitrate, max: Bitrate) {
        self.config.min = min;
        self.config.max = max;
        self.set_current(self.current);
    }

    /// Whether the application is limiting the send rate; see "ALR" in the module docs.
    pub fn set_in_alr(&mut self, in_alr: bool) {
        self.in_alr = in_alr;
    }

    /// The current estimate, always within `[min, max]`.
    pub const fn estimate(&self) -> Bitrate {
        self.current
    }

    /// Whether the estimate rests on evidence (over-use, throughput or [`Self::set_estimate`])
    /// rather than the configured start rate.
    pub const fn valid_estimate(&self) -> bool {
        self.initialized
    }

    /// The state after the last update.
    pub const fn state(&self) -> RateControlState {
        self.state
    }

    /// The link capacity estimated from throughputs at over-use, if there is one.
    pub fn link_capacity(&self) -> Option<Bitrate> {
        self.link_capacity.estimate()
    }

    /// Whether a further reduction is due at `now` (for REMB): an RTT (clamped to [10, 200] ms)
    /// has passed since the last change, or the throughput has fallen below half the estimate.
    pub fn time_to_reduce_further(&self, now: Timestamp, estimated_throughput: Bitrate) -> bool {
        let interval = self
            .rtt
            .clamp_to(MIN_REDUCTION_INTERVAL, MAX_REDUCTION_INTERVAL);
        if self.last_change.is_none_or(|t| now - t >= interval) {
            return true;
        }
        self.initialized && estimated_throughput < self.reduce_further_below
    }

    /// The additive growth rate near capacity, in bits per second per second: the average packet
    /// of a 30 fps frame at the current rate, once per response time 2 × (RTT + 100 ms), at least
    /// 4 kbit/s per second.
    pub fn near_max_increase_rate(&self) -> Bitrate {
        // frame = bps / (8 · fps) bytes in ⌈frame / packet size⌉ packets; each carries
        // 8 · frame / packets bits = bps / (fps · packets), once per response time. Written with
        // one division before the rounding and one after: this runs on every update, and a
        // chain of divisions is slow to come out of.
        let bps = self.current.as_bps_f64();
        let frames_of_packets = bps / (8.0 * ASSUMED_FPS * ASSUMED_PACKET_SIZE.as_bytes_f64());
        let packets = ceil_non_negative(frames_of_packets).max(1.0);
        let response = (self.rtt + DETECTOR_DELAY) * RESPONSE_TIME_FACTOR;
        let rate = Bitrate::saturating_from_bps_f64(
            bps / (ASSUMED_FPS * packets * response.as_secs_f64()),
        );
        rate.max(MIN_NEAR_MAX_INCREASE_PER_SECOND)
    }

    /// How long the additive increase takes to win back the last decrease, clamped to
    /// [2 s, 50 s]; 3 s before any decrease. Callers use it as the expected time between drops.
    pub fn expected_bandwidth_period(&self) -> TimeDelta {
        let Some(decrease) = self.last_decrease else {
            return DEFAULT_EXPECTED_PERIOD;
        };
        let secs = decrease.as_bps_f64() / self.near_max_increase_rate().as_bps_f64();
        TimeDelta::try_from_secs_f64(secs)
            .unwrap_or(TimeDelta::MAX)
            .clamp_to(MIN_EXPECTED_PERIOD, MAX_EXPECTED_PERIOD)
    }

    /// Sets the estimate to `rate` clamped to the bounds.
    fn set_current(&mut self, rate: Bitrate) {
        self.current = self.clamp(rate);
        self.reduce_further_below = self.current.mul_f64(REDUCE_FURTHER_FRACTION);
    }

    fn clamp(&self, rate: Bitrate) -> Bitrate {
        rate.clamp_to(self.config.min, self.config.max)
    }

    fn change_state(&mut self, now: Timestamp, usage: BandwidthUsage) {
        match usage {
            BandwidthUsage::Normal => {
                if self.state == RateControlState::Hold {
                    self.last_change = Some(now);
                    self.state = RateControlState::Increase;
                }
            }
            BandwidthUsage::Overusing => self.state = RateControlState::Decrease,
            BandwidthUsage::Underusing => self.state = RateControlState::Hold,
        }
    }

    fn increase(&mut self, now: Timestamp, throughput: Bitrate) -> Option<Bitrate> {
        if throughput > self.link_capacity.upper_bound() {
            self.link_capacity.reset();
        }
        let mut limit =
            throughput.mul_f64(self.config.max_throughput_factor) + self.config.throughput_headroom;
        if self.in_alr {
            limit = limit.min(self.current.max(throughput));
        }
        let since_change = self
            .last_change
            .map_or(TimeDelta::ZERO, |t| (now - t).max(TimeDelta::ZERO));
        self.last_change = Some(now);
        if self.current >= limit {
            return None;
        }
        let step = if self.link_capacity.has_estimate() {
            // Near the known capacity: creep.
            self.near_max_increase_rate()
                .mul_f64(since_change.as_secs_f64())
        } else {
            // Capacity unknown: search.
            let seconds = since_change.as_secs_f64().min(1.0);
            if self.growth.0 != seconds {
                self.growth = (
                    seconds,
                    MULTIPLICATIVE_GROWTH_PER_SECOND.powf(seconds) - 1.0,
                );
            }
            let growth = self.growth.1;
            self.current.mul_f64(growth).max(MIN_MULTIPLICATIVE_STEP)
        };
        Some((self.current + step).min(limit))
    }

    fn decrease(&mut self, now: Timestamp, throughput: Bitrate) -> Option<Bitrate> {
        let at_known_capacity = self.link_capacity.has_estimate()
            && throughput >= self.link_capacity.lower_bound()
            && throughput <= self.link_capacity.upper_bound();
        let beta = if at_known_capacity {
            self.config.beta_near_capacity
        } else {
            self.config.beta
        };
        let mut decreased = throughput.mul_f64(beta);
        if decreased > self.current {
            if let Some(capacity) = self.link_capacity.estimate() {
                decreased = capacity.mul_f64(beta);
            }
        }
        let new = (decreased < self.current).then_some(decreased);
        if self.initialized && throughput < self.current {
            self.last_decrease = Some(self.current - new.unwrap_or(self.current));
        }
        if throughput < self.link_capacity.lower_bound() {
            // The link changed: start the capacity estimate afresh from this sample.
            self.link_capacity.reset();
        }
        self.link_capacity.on_overuse_detected(throughput);
        self.initialized = true;
        self.state = RateControlState::Hold;
        self.last_change = Some(now);
        new
    }
}

/// `x.ceil()` for `x ≥ 0` (−0 gives +0), without the library call `f64::ceil` is on baseline
/// x86-64: below 2⁵² the integer part is exact, and larger values (and NaN) take `ceil`.
fn ceil_non_negative(x: f64) -> f64 {
    if (0.0..4_503_599_627_370_496.0).contains(&x) {
        let whole = x as i64 as f64;
        if whole < x { whole + 1.0 } else { whole }
    } else {
        x.ceil()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BandwidthUsage::{Normal, Overusing, Underusing};
    use proptest::prelude::*;

    /// The fast ceiling agrees with `f64::ceil` on non-negative values, edges included (bit for
    /// bit, except that −0 comes out as +0).
    #[test]
    fn fast_ceiling_agrees_with_std() {
        for x in [
            0.0,
            -0.0,
            0.1,
            1.0,
            1.0 + f64::EPSILON,
            2.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            1e300,
            f64::INFINITY,
        ] {
            assert_eq!(ceil_non_negative(x), x.ceil(), "{x}");
            assert_eq!(
                ceil_non_negative(x).to_bits(),
                x.ceil().abs().to_bits(),
                "{x}"
            );
        }
        assert!(ceil_non_negative(f64::NAN).is_nan());
    }

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn kbps(k: u64) -> Bitrate {
        Bitrate::from_kbps(k)
    }

    /// A controller with a valid estimate `rate` at time 0.
    fn at(rate: Bitrate) -> AimdRateControl {
        let mut aimd = AimdRateControl::new(AimdConfig::default());
        aimd.set_estimate(ms(0), rate);
        aimd
    }

    /// Runs Normal updates every 100 ms over `[from, to]` ms with a fixed throughput.
    fn normal_until(aimd: &mut AimdRateControl, from: i64, to: i64, throughput: Bitrate) {
        for t in (from..=to).step_by(100) {
            aimd.update(ms(t), Normal, Some(throughput));
        }
    }

    /// Over-use at a capacity already measured is our own creep: a gentler back-off suffices,
    /// while a throughput outside the band (a real drop) still gets the full one.
    #[test]
    fn overuse_at_the_known_capacity_backs_off_gently() {
        let mut aimd = at(kbps(520));
        // First over-use: no capacity estimate yet, the full back-off applies.
        aimd.update(ms(1_000), Overusing, Some(kbps(500)));
        assert_eq!(aimd.estimate(), kbps(425));
        // Creep back up past capacity and over-use again at the same throughput.
        aimd.set_estimate(ms(2_000), kbps(520));
        aimd.update(ms(3_000), Overusing, Some(kbps(500)));
        assert_eq!(
            aimd.estimate(),
            kbps(450),
            "0.9 × 500 inside the capacity band"
        );
        // A throughput far below the band is a real capacity drop: full back-off again.
        aimd.set_estimate(ms(4_000), kbps(520));
        aimd.update(ms(5_000), Overusing, Some(kbps(250)));
        assert_eq!(aimd.estimate(), kbps(212) + Bitrate::from_bps(500));
    }

    /// Landing just below what the link delivered drains the queue we built.
    #[test]
    fn overuse_decreases_to_beta_times_throughput() {
        let mut aimd = at(kbps(1000));
        assert_eq!(aimd.update(ms(10), Overusing, Some(kbps(800))), kbps(680));
        assert_eq!(aimd.state(), RateControlState::Hold);
        assert_eq!(aimd.link_capacity(), Some(kbps(800)));
    }

    /// Over-use must never raise the rate, even if the throughput says it could.
    #[test]
    fn overuse_never_increases_the_estimate() {
        let mut aimd = at(kbps(500));
        assert_eq!(aimd.update(ms(10), Overusing, Some(kbps(1000))), kbps(500));
        // With a capacity estimate (1000) β × capacity = 850 is still above 500.
        assert_eq!(aimd.update(ms(20), Overusing, Some(kbps(1000))), kbps(500));
    }

    /// Without any throughput the back-off applies to the start (or explicitly set) rate.
    #[test]
    fn overuse_without_throughput_backs_off_from_the_start_rate() {
        let mut aimd = AimdRateControl::new(AimdConfig::default());
        assert!(!aimd.valid_estimate());
        assert_eq!(aimd.update(ms(0), Overusing, None), kbps(255));
        assert!(aimd.valid_estimate());
        let mut aimd = at(kbps(1000));
        assert_eq!(aimd.update(ms(0), Overusing, None), kbps(850));
    }

    /// Far from any known capacity the rate grows 8 % per second, to find the bottleneck fast.
    #[test]
    fn increase_is_multiplicative_far_from_capacity() {
        let mut aimd = at(kbps(1000));
        normal_until(&mut aimd, 0, 1000, kbps(1000));
        let growth = aimd.estimate().as_bps_f64() / 1e6 - 1.0;
        assert!((growth - 0.08).abs() < 0.01, "grew {growth}");
        assert_eq!(aimd.state(), RateControlState::Increase);
    }

    /// Near the known capacity the rate creeps up by about one packet per response time.
    #[test]
    fn increase_is_additive_near_capacity() {
        let mut aimd = at(kbps(1000));
        aimd.update(ms(0), Overusing, Some(kbps(1000)));
        assert_eq!(aimd.estimate(), kbps(850));
        // 850 kbit/s: 3541.7 B frames as 3 packets of 1180.6 B, per 2 × (200 + 100) ms.
        let rate = aimd.near_max_increase_rate().as_bps_f64();
        assert!((rate - 15_741.0).abs() < 2.0, "{rate}");
        normal_until(&mut aimd, 100, 1100, kbps(850));
        let grown = aimd.estimate().as_bps_f64() - 850_000.0;
        assert!((grown - 15_741.0).abs() < 500.0, "grew {grown} bps");
        assert_eq!(aimd.link_capacity(), Some(kbps(1000)));
    }

    /// A throughput above the capacity band means the link changed: search multiplicatively.
    #[test]
    fn throughput_above_the_capacity_band_resets_it() {
        let mut aimd = at(kbps(1000));
        aimd.update(ms(0), Overusing, Some(kbps(1000)));
        aimd.update(ms(100), Normal, Some(kbps(2000)));
        assert_eq!(aimd.link_capacity(), None);
    }

    /// An over-use far below the capacity band restarts the capacity estimate from that sample.
    #[test]
    fn overuse_below_the_capacity_band_restarts_it() {
        let mut aimd = at(kbps(1000));
        aimd.update(ms(0), Overusing, Some(kbps(1000)));
        aimd.update(ms(500), Overusing, Some(kbps(500)));
        assert_eq!(aimd.link_capacity(), Some(kbps(500)));
        assert_eq!(aimd.estimate(), kbps(425));
    }

    /// An unused rate is no evidence the path carries it: cap at 1.5 × throughput + 10 kbit/s.
    #[test]
    fn estimate_never_exceeds_one_and_a_half_times_throughput() {
        let mut aimd = at(kbps(100));
        for t in (0..30_000).step_by(100) {
            let e = aimd.update(ms(t), Normal, Some(kbps(100)));
            assert!(e <= kbps(160), "{e} at {t} ms");
        }
        assert_eq!(aimd.estimate(), kbps(160));
        // Already above the cap (e.g. after a probe): held, not cut.
        aimd.set_estimate(ms(30_000), kbps(400));
        normal_until(&mut aimd, 30_100, 31_000, kbps(100));
        assert_eq!(aimd.estimate(), kbps(400));
    }

    /// Under-use means the queue is draining: wait, and resume without a jump afterwards.
    #[test]
    fn underuse_holds_the_rate() {
        let mut aimd = at(kbps(500));
        normal_until(&mut aimd, 0, 500, kbps(500));
        let before = aimd.estimate();
        for t in (600..2600).step_by(100) {
            assert_eq!(aimd.update(ms(t), Underusing, Some(kbps(500))), before);
        }
        assert_eq!(aimd.state(), RateControlState::Hold);
        // The first Normal after Hold restarts the clock: only the 1 kbit/s minimum step.
        assert_eq!(
            aimd.update(ms(2600), Normal, Some(kbps(500))),
            before + kbps(1)
        );
    }

    /// Before evidence the start rate is held; after 5 s of throughput it is adopted.
    #[test]
    fn start_rate_is_held_until_throughput_has_been_seen_for_five_seconds() {
        let mut aimd = AimdRateControl::new(AimdConfig::default());
        normal_until(&mut aimd, 0, 5000, kbps(1000));
        assert_eq!(aimd.estimate(), kbps(300));
        assert!(!aimd.valid_estimate());
        aimd.update(ms(5001), Normal, Some(kbps(1000)));
        assert!(aimd.valid_estimate());
        // Adopted, then the same update's first increase step (the 1 kbit/s minimum).
        assert_eq!(aimd.estimate(), kbps(1001));
    }

    /// In ALR the estimate does not grow past what the throughput shows.
    #[test]
    fn alr_blocks_increase_unless_throughput_supports_it() {
        let mut aimd = at(kbps(1000));
        aimd.set_in_alr(true);
        normal_until(&mut aimd, 0, 3000, kbps(800));
        assert_eq!(aimd.estimate(), kbps(1000));
        normal_until(&mut aimd, 3100, 9000, kbps(1100));
        assert_eq!(aimd.estimate(), kbps(1100));
        aimd.set_in_alr(false);
        normal_until(&mut aimd, 9100, 10_000, kbps(1100));
        assert!(aimd.estimate() > kbps(1100));
    }

    /// REMB reduces again after an RTT, or at once when the throughput collapses.
    #[test]
    fn time_to_reduce_further_after_one_rtt_or_a_halved_throughput() {
        let mut aimd = at(kbps(1000));
        aimd.set_rtt(TimeDelta::from_millis(100));
        aimd.update(ms(1000), Overusing, Some(kbps(1000)));
        assert!(!aimd.time_to_reduce_further(ms(1050), kbps(800)));
        assert!(aimd.time_to_reduce_further(ms(1050), kbps(400)));
        assert!(aimd.time_to_reduce_further(ms(1100), kbps(800)));
    }

    /// The expected period is the time additive increase needs to win back the last decrease.
    #[test]
    fn expected_bandwidth_period_is_time_to_recover_the_last_decrease() {
        let mut aimd = at(kbps(1000));
        assert_eq!(aimd.expected_bandwidth_period(), TimeDelta::from_secs(3));
        aimd.update(ms(0), Overusing, Some(kbps(900)));
        // 235 kbit/s lost; at 765 kbit/s the additive rate is 8500 bit / 0.6 s.
        let secs = aimd.expected_bandwidth_period().as_secs_f64();
        assert!((secs - 235_000.0 / (8500.0 / 0.6)).abs() < 0.01, "{secs}");
        // A small decrease at a low rate is recovered fast: clamped to 2 s.
        aimd.set_estimate(ms(100), kbps(20));
        aimd.update(ms(200), Overusing, Some(kbps(19)));
        assert_eq!(aimd.expected_bandwidth_period(), TimeDelta::from_secs(2));
        // A collapse at a high rate would take ages: clamped to 50 s.
        aimd.set_estimate(ms(300), kbps(30_000));
        aimd.update(ms(400), Overusing, Some(kbps(10_000)));
        assert_eq!(aimd.expected_bandwidth_period(), TimeDelta::from_secs(50));
    }

    /// Changing the bounds moves the estimate into them at once.
    #[test]
    fn set_min_max_clamps_the_estimate() {
        let mut aimd = at(kbps(1000));
        aimd.set_min_max(kbps(50), kbps(400));
        assert_eq!(aimd.estimate(), kbps(400));
        aimd.set_min_max(kbps(2000), kbps(5000));
        assert_eq!(aimd.estimate(), kbps(2000));
    }

    /// A β outside (0, 1) would make back-off a no-op or an increase; it falls back to 0.85.
    #[test]
    fn beta_outside_the_unit_interval_falls_back_to_default() {
        for beta in [0.0, 1.0, 7.0, -1.0, f64::NAN] {
            let mut aimd = AimdRateControl::new(AimdConfig {
                beta,
                ..AimdConfig::default()
            });
            aimd.set_estimate(ms(0), kbps(1000));
            assert_eq!(aimd.update(ms(1), Overusing, Some(kbps(1000))), kbps(850));
        }
    }

    proptest! {
        /// Whatever the detector, throughput, clock or RTT do, the estimate stays in [min, max].
        #[test]
        fn estimate_stays_within_bounds(
            steps in prop::collection::vec(
                (
                    prop_oneof![Just(Normal), Just(Overusing), Just(Underusing)],
                    prop::option::of(0u64..=u64::MAX),
                    -2_000i64..120_000,
                    any::<bool>(),
                ),
                1..200,
            ),
            rtt_ms in -1_000i64..100_000,
        ) {
            let config = AimdConfig::default();
            let mut aimd = AimdRateControl::new(config);
            aimd.set_rtt(TimeDelta::from_millis(rtt_ms));
            let mut now = 0i64;
            for (usage, throughput, dt, alr) in steps {
                now = now.saturating_add(dt);
                aimd.set_in_alr(alr);
                let e = aimd.update(ms(now), usage, throughput.map(Bitrate::from_bps));
                prop_assert!(e >= config.min && e <= config.max, "{}", e);
                let _ = aimd.time_to_reduce_further(ms(now), Bitrate::ZERO);
                let p = aimd.expected_bandwidth_period();
                prop_assert!(p >= TimeDelta::from_secs(2) && p <= TimeDelta::from_secs(50));
            }
        }
    }
}
