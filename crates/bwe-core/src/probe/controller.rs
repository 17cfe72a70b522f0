//! When to probe, and how hard.
//!
//! The delay and loss paths only learn about capacity the sender actually uses, and they climb
//! by about 8 % per second. A probe cluster — a short burst paced at a chosen rate — measures
//! spare capacity in one round trip instead. This controller decides when bursts are worth their
//! risk:
//!
//! - **Start-up**: once the network is available and a start rate is known, two clusters at 3×
//!   and 6× the start rate.
//! - **Exponential follow-up**: while waiting for results (at most 1 s), every estimate above
//!   70 % of the highest rate just probed asks for another cluster at 2× that estimate. A probe
//!   result far below its target means the burst hit the bottleneck, so probing stops.
//! - **Max raised**: when the application lifts its maximum above the estimate after start-up,
//!   one cluster at the new maximum.
//! - **Application-limited (ALR)**: the encoder sends less than the estimate, so nothing tests
//!   it; with periodic ALR probing on, a cluster at 2× the estimate every 5 s.
//! - **Capacity probing** (opt-in, not in libwebrtc, see below): while the sender fills its
//!   estimate (acknowledged rate ≥ 90 % of it, not application-limited), the trend shows no
//!   growing queue, and neither over-use nor loss above 2 % was seen for
//!   `capacity_probing_interval`, a cluster at 1.5× the estimate every such interval, with the
//!   same exponential follow-ups as start-up. Without it a link whose capacity grows is only
//!   found by the additive/multiplicative increase (about 8 %/s: 12 s from 1.0 to 2.5 Mbit/s).
//!   The send side takes a capacity probe's result above the estimate only from 1.2× up: on a
//!   bottleneck shared with other flows a burst measures how fast the link drains it, not the
//!   room left for this flow (see `docs/algorithm.md` for what that costs and what else was
//!   tried).
//! - **Recovery after a large drop**: when the estimate fell below 66 % of its previous value and
//!   the delay path has recovered within 5 s, while in ALR or within 3 s of leaving it, one
//!   cluster at 85 % of the pre-drop rate (at most once per 5 s).
//!
//! No cluster ever exceeds the maximum (5 Mbit/s when the application gave none).
//!
//! Clusters wait in a fixed-size queue for [`ProbeController::poll_probe`]; no allocation happens
//! after construction.
//!
//! Every constant and default is libwebrtc's (`modules/congestion_controller/goog_cc/
//! probe_controller.cc`); each item names its upstream counterpart. Cluster ids start at 1 there
//! too.
//!
//! Differences from libwebrtc: capacity probing is this crate's (libwebrtc probes a sender
//! that fills its estimate only through field-trial network-state probing); no allocation-based or network-state-estimate probing;
//! start-up probing is repeated (within 5 s) only when it produced no result at all; and no suppression by a "bandwidth limited cause" (those serve field trials or
//! inputs this crate does not have); the waiting-for-result timeout is also checked in
//! [`ProbeController::set_estimate`], so a driver that runs [`ProbeController::process`] only at
//! [`ProbeController::poll_timeout`] sees the same behaviour as one that polls every 25 ms.

use super::cluster::ClusterQueue;
pub use super::cluster::ProbeCluster;
use crate::units::{Bitrate, TimeDelta, Timestamp};

/// Probing ceiling when the application sets no maximum (`kDefaultMaxProbingBitrate`).
const DEFAULT_MAX_PROBING: Bitrate = Bitrate::from_mbps(5);
/// An estimate below this fraction of the previous one is a large drop (`kBitrateDropThreshold`).
const DROP_THRESHOLD: f64 = 0.66;
/// A drop older than this no longer justifies a recovery probe (`kBitrateDropTimeout`).
const DROP_TIMEOUT: TimeDelta = TimeDelta::from_secs(5);
/// A recovery probe targets this fraction of the pre-drop rate (`kProbeFractionAfterDrop`).
const PROBE_FRACTION_AFTER_DROP: f64 = 0.85;
/// Leaving ALR this recently still counts as application-limited (`kAlrEndedTimeout`).
const ALR_ENDED_TIMEOUT: TimeDelta = TimeDelta::from_secs(3);
/// Minimum spacing of recovery probes (`kMinTimeBetweenAlrProbes`).
const MIN_TIME_BETWEEN_DROP_PROBES: TimeDelta = TimeDelta::from_secs(5);
/// Capacity probes wait for the acknowledged rate to reach this fraction of the estimate.
const CAPACITY_PROBE_FILL: f64 = 0.9;
/// Expected error of a probe result; smaller gains are not probed for (`kProbeUncertainty`).
const PROBE_UNCERTAINTY: f64 = 0.05;

/// The capacity-probing interval `bwe-interceptor`'s default chain uses (see
/// [`ProbeControllerConfig::capacity_probing_interval`]).
pub const CAPACITY_PROBING_INTERVAL: TimeDelta = TimeDelta::from_secs(1);

/// Settings for [`ProbeController`]. Defaults are libwebrtc's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeControllerConfig {
    /// First start-up cluster, as a multiple of the start rate (`p1`). Default 3.0.
    pub first_exponential_probe_scale: f64,
    /// Second start-up cluster, as a multiple of the start rate; zero or less disables it
    /// (`p2`). Default 6.0.
    pub second_exponential_probe_scale: f64,
    /// Follow-up cluster, as a multiple of the estimate that triggered it (`step_size`).
    /// Default 2.0.
    pub further_probe_scale: f64,
    /// An estimate above this fraction of the last probed rate triggers a follow-up
    /// (`further_probe_threshold`). Default 0.7.
    pub further_probe_threshold: f64,
    /// Spacing of periodic probes while application-limited (`alr_interval`). Default 5 s.
    pub alr_probing_interval: TimeDelta,
    /// Periodic ALR cluster, as a multiple of the estimate (`alr_scale`). Default 2.0.
    pub alr_probe_scale: f64,
    /// Whether raising the maximum after start-up probes at the new maximum (as `SetBitrates`).
    /// Default true.
    pub probe_on_max_raise: bool,
    /// Duration each cluster should last, which sets its minimum size (`min_probe_duration`).
    /// Default 15 ms.
    pub min_probe_duration: TimeDelta,
    /// Packets each cluster should contain at least (`min_probe_packets_sent`). Default 5.
    pub min_probe_packets: u32,
    /// How long follow-up probing waits for a result before giving up
    /// (`kMaxWaitingTimeForProbingResult`). Default 1 s.
    pub max_waiting_for_probe_result: TimeDelta,
    /// For this long after the network became available, start-up probing is repeated each
    /// time the wait for a result runs out without any probe result (a sender with transport
    /// feedback only; see [`ProbeController::set_results_expected`]). Default 5 s; zero turns
    /// it off.
    ///
    /// A start-up cluster is 15 ms of packets, so one lost feedback message can take both
    /// clusters' results with it. Without a result the estimate climbs at AIMD's 8 %/s: with
    /// 30 % of the feedback lost, one seed of `loss-feedback-30` spent 15 s getting from 300 to
    /// 900 kbit/s on a 1 Mbit/s link. (libwebrtc has a repeated-initial-probing option of its
    /// own; this rule repeats only when nothing came back.)
    pub initial_probe_retry_window: TimeDelta,
    /// Whether to probe every `alr_probing_interval` while application-limited. libwebrtc
    /// (`EnablePeriodicAlrProbing`) enables this only for streams that ask (screen sharing).
    /// Default false.
    pub periodic_alr_probing: bool,
    /// Spacing of capacity probes while the sender is not application-limited and the path is
    /// calm (no over-use, no loss above 2 %, for this long); `None` (the default, as in
    /// libwebrtc) disables them. [`CAPACITY_PROBING_INTERVAL`] is the setting
    /// `bwe-interceptor`'s default chain uses: a raised capacity is found within about a
    /// second, and a cluster (15 ms, 5 packets) costs a full link a few milliseconds of queue.
    /// Off by default because, with a sender that jumps to the probe result at once (this
    /// crate's closed-loop model), a result at 95 % of a link that is already full led to
    /// over-use and a cut to 0.85 × the acknowledged rate every few seconds; an encoder that
    /// follows its target with some lag does not.
    pub capacity_probing_interval: Option<TimeDelta>,
    /// Capacity cluster, as a multiple of the estimate. Default 1.5: the link is usually
    /// full when it is sent, so every byte above capacity queues; half the estimate again
    /// costs a full link about 5 ms of queue per cluster, and a result near the cluster's
    /// rate still follows up at `further_probe_scale`.
    pub capacity_probe_scale: f64,
}

impl Default for ProbeControllerConfig {
    fn default() -> Self {
        Self {
            first_exponential_probe_scale: 3.0,
            second_exponential_probe_scale: 6.0,
            further_probe_scale: 2.0,
            further_probe_threshold: 0.7,
            alr_probing_interval: TimeDelta::from_secs(5),
            alr_probe_scale: 2.0,
            probe_on_max_raise: true,
            min_probe_duration: TimeDelta::from_millis(15),
            min_probe_packets: 5,
            max_waiting_for_probe_result: TimeDelta::from_secs(1),
            initial_probe_retry_window: TimeDelta::from_secs(5),
            periodic_alr_probing: false,
            capacity_probing_interval: None,
            capacity_probe_scale: 1.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Start-up probing has not happened yet.
    Init,
    /// Clusters were sent that may lead to follow-ups.
    WaitingForResult,
    /// Nothing outstanding.
    Complete,
}

/// Decides when to send probe clusters. See the module docs for the triggers.
#[derive(Debug, Clone)]
pub struct ProbeController {
    cfg: ProbeControllerConfig,
    state: State,
    network_available: bool,
    start: Bitrate,
    max: Bitrate,
    estimate: Bitrate,
    min_to_probe_further: Option<Bitrate>,
    last_probe_initiated: Option<Timestamp>,
    /// Until when failed start-up probing is repeated (see
    /// `ProbeControllerConfig::initial_probe_retry_window`).
    initial_retry_until: Option<Timestamp>,
    /// Whether any probe result has arrived.
    got_result: bool,
    /// Whether probe results can arrive (transport feedback).
    results_expected: bool,
    alr_start: Option<Timestamp>,
    alr_end: Option<Timestamp>,
    last_large_drop: Option<Timestamp>,
    rate_before_large_drop: Bitrate,
    last_drop_probe: Option<Timestamp>,
    last_overuse: Option<Timestamp>,
    acknowledged: Option<Bitrate>,
    queue_growing: bool,
    last_capacity_probe: Option<Timestamp>,
    next_id: u32,
    last_now: Option<Timestamp>,
    queue: ClusterQueue,
}

impl ProbeController {
    /// A controller that waits for [`set_bitrates`](Self::set_bitrates) and
    /// [`on_network_available`](Self::on_network_available).
    pub fn new(cfg: ProbeControllerConfig) -> Self {
        Self {
            cfg,
            state: State::Init,
            network_available: false,
            start: Bitrate::ZERO,
            max: DEFAULT_MAX_PROBING,
            estimate: Bitrate::ZERO,
            min_to_probe_further: None,
            last_probe_initiated: None,
            initial_retry_until: None,
            got_result: false,
            results_expected: false,
            alr_start: None,
            alr_end: None,
            last_large_drop: None,
            rate_before_large_drop: Bitrate::ZERO,
            last_drop_probe: None,
            last_overuse: None,
            acknowledged: None,
            queue_growing: false,
            last_capacity_probe: None,
            next_id: 1,
            last_now: None,
            queue: ClusterQueue::new(),
        }
    }

    /// The application's bounds. A non-zero `start` becomes the start rate and the estimate;
    /// with no start rate yet, `min` stands in. A zero or unlimited `max` caps probing at
    /// 5 Mbit/s. Before start-up probing this may trigger it; afterwards, raising `max` above
    /// both its old value and the estimate probes at the new `max`.
    pub fn set_bitrates(&mut self, now: Timestamp, min: Bitrate, start: Bitrate, max: Bitrate) {
        self.observe(now);
        if start > Bitrate::ZERO {
            self.start = start;
            self.estimate = start;
        } else if self.start == Bitrate::ZERO {
            self.start = min;
        }
        let old_max = self.max;
        self.max = if max == Bitrate::ZERO || max == Bitrate::MAX {
            DEFAULT_MAX_PROBING
        } else {
            max
        };
        match self.state {
            State::Init => {
                if self.network_available {
                    self.initiate_exponential_probing(now);
                }
            }
            State::WaitingForResult => {}
            State::Complete => {
                if self.cfg.probe_on_max_raise
                    && self.estimate > Bitrate::ZERO
                    && old_max < self.max
                    && self.estimate < self.max
                {
                    let max = self.max;
                    self.initiate_probing(now, &[max], false);
                }
            }
        }
    }

    /// The network became usable: start-up probing happens now if a start rate is known (or
    /// as soon as one is). Only the first call has an effect until [`reset`](Self::reset).
    pub fn on_network_available(&mut self, now: Timestamp) {
        self.observe(now);
        self.network_available = true;
        if self.state == State::Init {
            self.initiate_exponential_probing(now);
        }
    }

    /// A probe result arrived (whatever its value): start-up probing worked.
    pub fn on_probe_result(&mut self) {
        self.got_result = true;
    }

    /// Whether probe results can come back to this controller (the sender has transport
    /// feedback). Only then is start-up probing that produced nothing repeated.
    pub fn set_results_expected(&mut self, expected: bool) {
        self.results_expected = expected;
    }

    /// The current target estimate. Records large drops for [`request_probe`](Self::request_probe)
    /// and, while waiting for probe results, asks for a follow-up cluster when the estimate
    /// exceeds the further-probe threshold.
    pub fn set_estimate(&mut self, now: Timestamp, estimate: Bitrate) {
        self.observe(now);
        self.expire_waiting(now);
        if estimate < self.estimate.mul_f64(DROP_THRESHOLD) {
            self.last_large_drop = Some(now);
            self.rate_before_large_drop = self.estimate;
        }
        self.estimate = estimate;
        if self.state == State::WaitingForResult
            && self.min_to_probe_further.is_some_and(|min| estimate > min)
        {
            let next = estimate.mul_f64(self.cfg.further_probe_scale);
            self.initiate_probing(now, &[next], true);
        }
    }

    /// When the current application-limited period began (from the ALR detector), or `None`
    /// when not application-limited.
    pub fn set_alr_start_time(&mut self, start: Option<Timestamp>) {
        self.alr_start = start;
    }

    /// The path signalled congestion at `now` (delay over-use, or loss above the loss
    /// controller's increase threshold): capacity probing waits a full interval from here.
    pub fn on_congestion(&mut self, now: Timestamp) {
        self.observe(now);
        self.last_overuse = Some(now);
    }

    /// The acknowledged rate: capacity probes wait until it reaches 90 % of the estimate, so
    /// that a sender still climbing to its estimate (an encoder catching up after start-up
    /// probing) is not probed past it.
    pub fn set_acknowledged_rate(&mut self, rate: Option<Bitrate>) {
        self.acknowledged = rate;
    }

    /// Whether the delay path's trend says the queue is growing: capacity probes wait while
    /// it is, since a growing queue means the link is already full and a probe would only add
    /// to it; a queue that drains (as when capacity rises) lets the next one go.
    pub fn set_queue_growing(&mut self, growing: bool) {
        self.queue_growing = growing;
    }

    /// The application-limited period ended at `now`.
    pub fn set_alr_ended(&mut self, now: Timestamp) {
        self.observe(now);
        self.alr_end = Some(now);
    }

    /// Call when the delay path has recovered from over-use. If the estimate dropped sharply in
    /// the last 5 s while application-limited (or just after), probes at 85 % of the pre-drop
    /// rate — a drop seen while not filling the link may be a measurement artefact.
    pub fn request_probe(&mut self, now: Timestamp) {
        self.observe(now);
        let in_alr = self.alr_start.is_some();
        let alr_ended_recently = self.alr_end.is_some_and(|t| now - t < ALR_ENDED_TIMEOUT);
        if !(in_alr || alr_ended_recently) || self.state != State::Complete {
            return;
        }
        let suggested = self
            .rate_before_large_drop
            .mul_f64(PROBE_FRACTION_AFTER_DROP);
        let min_expected = suggested.mul_f64(1.0 - PROBE_UNCERTAINTY);
        let drop_recent = self.last_large_drop.is_some_and(|t| now - t < DROP_TIMEOUT);
        let probe_spaced = self
            .last_drop_probe
            .is_none_or(|t| now - t > MIN_TIME_BETWEEN_DROP_PROBES);
        if min_expected > self.estimate && drop_recent && probe_spaced {
            self.last_drop_probe = Some(now);
            self.initiate_probing(now, &[suggested], false);
        }
    }

    /// Timers: gives up waiting for follow-up results after `max_waiting_for_probe_result`, and
    /// sends the periodic ALR cluster when due.
    pub fn process(&mut self, now: Timestamp) {
        self.observe(now);
        self.expire_waiting(now);
        if self.estimate == Bitrate::ZERO || self.state != State::Complete {
            return;
        }
        if self.alr_probe_due().is_some_and(|due| now >= due) {
            let rate = self.estimate.mul_f64(self.cfg.alr_probe_scale);
            self.initiate_probing(now, &[rate], true);
        } else if self.capacity_probe_due().is_some_and(|due| now >= due) {
            let rate = self.estimate.mul_f64(self.cfg.capacity_probe_scale);
            self.last_capacity_probe = Some(now);
            self.initiate_probing(now, &[rate], true);
        }
    }

    /// When the latest capacity probe was sent, if any.
    pub fn last_capacity_probe(&self) -> Option<Timestamp> {
        self.last_capacity_probe
    }

    /// The next queued cluster, oldest first.
    pub fn poll_probe(&mut self) -> Option<ProbeCluster> {
        self.queue.pop()
    }

    /// When [`process`](Self::process) next has something to do; always later than the latest
    /// instant given to this controller.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let deadline = match self.state {
            State::Init => None,
            State::WaitingForResult => self
                .last_probe_initiated
                .map(|t| t + self.cfg.max_waiting_for_probe_result + TimeDelta::from_micros(1)),
            State::Complete if self.estimate > Bitrate::ZERO => {
                match (self.alr_probe_due(), self.capacity_probe_due()) {
                    (Some(a), Some(c)) => Some(a.min(c)),
                    (a, c) => a.or(c),
                }
            }
            State::Complete => None,
        }?;
        Some(match self.last_now {
            Some(last) => deadline.max(last + TimeDelta::from_micros(1)),
            None => deadline,
        })
    }

    /// Back to the start-up state (e.g. a new network route): pending clusters are dropped and
    /// the next [`set_bitrates`](Self::set_bitrates) with a start rate probes afresh. Cluster ids
    /// keep increasing.
    pub fn reset(&mut self, now: Timestamp) {
        self.observe(now);
        *self = Self {
            network_available: self.network_available,
            alr_start: self.alr_start,
            last_drop_probe: Some(now),
            last_large_drop: Some(now),
            next_id: self.next_id,
            last_now: self.last_now,
            ..Self::new(self.cfg)
        };
    }

    fn observe(&mut self, now: Timestamp) {
        self.last_now = Some(self.last_now.map_or(now, |last| last.max(now)));
    }

    fn expire_waiting(&mut self, now: Timestamp) {
        if self.state != State::WaitingForResult {
            return;
        }
        let timed_out = self
            .last_probe_initiated
            .is_none_or(|t| now - t > self.cfg.max_waiting_for_probe_result);
        if timed_out {
            self.state = State::Complete;
            self.min_to_probe_further = None;
            let retry = self.results_expected
                && !self.got_result
                && self.initial_retry_until.is_some_and(|until| now < until);
            if retry {
                let base = self.estimate.max(self.start);
                let first = base.mul_f64(self.cfg.first_exponential_probe_scale);
                let second = base.mul_f64(self.cfg.second_exponential_probe_scale);
                let count = if second > Bitrate::ZERO { 2 } else { 1 };
                self.initiate_probing(now, &[first, second][..count], true);
            }
        }
    }

    fn alr_probe_due(&self) -> Option<Timestamp> {
        if !self.cfg.periodic_alr_probing {
            return None;
        }
        let alr_start = self.alr_start?;
        let since = self
            .last_probe_initiated
            .map_or(alr_start, |t| t.max(alr_start));
        Some(since + self.cfg.alr_probing_interval)
    }

    /// When the next capacity probe is due: an interval after the later of the last probe
    /// and the last over-use, unless application-limited or already at the maximum.
    fn capacity_probe_due(&self) -> Option<Timestamp> {
        let interval = self.cfg.capacity_probing_interval?;
        let filling = self
            .acknowledged
            .is_some_and(|acked| acked >= self.estimate.mul_f64(CAPACITY_PROBE_FILL));
        if self.alr_start.is_some() || self.estimate >= self.max || !filling || self.queue_growing {
            return None;
        }
        let since = match (self.last_probe_initiated, self.last_overuse) {
            (Some(p), Some(o)) => p.max(o),
            (p, o) => p.or(o)?,
        };
        // A queue that drained on its own, not right after a congestion signal (when it is the
        // senders' back-off draining it) and since the last probe: room appeared.
        Some(since + interval)
    }

    fn initiate_exponential_probing(&mut self, now: Timestamp) {
        if self.start == Bitrate::ZERO {
            return;
        }
        if self.initial_retry_until.is_none() && self.cfg.initial_probe_retry_window.is_positive() {
            self.initial_retry_until = Some(now + self.cfg.initial_probe_retry_window);
        }
        let first = self.start.mul_f64(self.cfg.first_exponential_probe_scale);
        let second = self.start.mul_f64(self.cfg.second_exponential_probe_scale);
        let count = if second > Bitrate::ZERO { 2 } else { 1 };
        self.initiate_probing(now, &[first, second][..count], true);
    }

    fn initiate_probing(&mut self, now: Timestamp, rates: &[Bitrate], mut probe_further: bool) {
        for &requested in rates {
            let mut rate = requested;
            if rate > self.max {
                rate = self.max;
                probe_further = false;
            }
            if rate > Bitrate::ZERO {
                self.enqueue(now, rate);
            }
        }
        self.last_probe_initiated = Some(now);
        match rates.last() {
            Some(&last) if probe_further => {
                self.state = State::WaitingForResult;
                self.min_to_probe_further = Some(last.mul_f64(self.cfg.further_probe_threshold));
            }
            _ => {
                self.state = State::Complete;
                self.min_to_probe_further = None;
            }
        }
    }

    fn enqueue(&mut self, now: Timestamp, target: Bitrate) {
        let cluster = ProbeCluster {
            id: self.next_id,
            target,
            min_probes: self.cfg.min_probe_packets,
            min_bytes: target.over(self.cfg.min_probe_duration),
            duration: self.cfg.min_probe_duration,
            created_at: now,
        };
        // Ids are u32 as in the pacing info; wrapping takes 2^32 clusters (centuries at the
        // rates above).
        self.next_id = self.next_id.wrapping_add(1);
        self.queue.push(cluster);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::DataSize;
    use proptest::prelude::any;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn kbps(v: u64) -> Bitrate {
        Bitrate::from_kbps(v)
    }

    fn drain(c: &mut ProbeController) -> Vec<ProbeCluster> {
        std::iter::from_fn(|| c.poll_probe()).collect()
    }

    fn targets(c: &mut ProbeController) -> Vec<Bitrate> {
        drain(c).into_iter().map(|p| p.target).collect()
    }

    /// A controller that has just sent its start-up clusters (900 and 1800 kbit/s) at 0 ms.
    fn started(cfg: ProbeControllerConfig) -> ProbeController {
        let mut c = ProbeController::new(cfg);
        c.set_bitrates(ms(0), kbps(30), kbps(300), kbps(10_000));
        c.on_network_available(ms(0));
        drain(&mut c);
        c
    }

    /// A controller past start-up with nothing outstanding.
    fn after_startup(cfg: ProbeControllerConfig) -> ProbeController {
        let mut c = started(cfg);
        c.process(ms(1_100));
        c
    }

    /// The defaults without capacity probing, to test the other triggers alone.
    fn quiet() -> ProbeControllerConfig {
        ProbeControllerConfig {
            capacity_probing_interval: None,
            ..ProbeControllerConfig::default()
        }
    }

    fn with_capacity_probing() -> ProbeControllerConfig {
        ProbeControllerConfig {
            capacity_probing_interval: Some(CAPACITY_PROBING_INTERVAL),
            ..ProbeControllerConfig::default()
        }
    }

    fn with_alr_probing() -> ProbeControllerConfig {
        ProbeControllerConfig {
            periodic_alr_probing: true,
            ..quiet()
        }
    }

    /// A sender that fills its estimate gets a cluster at 1.5× the estimate once per interval
    /// of calm, so a link whose capacity grew is found within about a second.
    #[test]
    fn capacity_probe_every_interval_while_calm_and_not_application_limited() {
        let mut c = started(with_capacity_probing());
        c.process(ms(1_100));
        assert_eq!(c.poll_probe(), None, "nothing acknowledged yet");
        c.set_acknowledged_rate(Some(kbps(280)));
        c.process(ms(1_100));
        assert_eq!(targets(&mut c), vec![kbps(450)], "due 1 s after start-up");
        assert_eq!(c.last_capacity_probe(), Some(ms(1_100)));
        // Its result near its rate follows up as start-up does.
        c.set_estimate(ms(1_200), kbps(1_000));
        assert_eq!(targets(&mut c), vec![kbps(2_000)]);
        c.set_acknowledged_rate(Some(kbps(880)));
        c.process(ms(2_201));
        assert_eq!(c.poll_probe(), None, "not filling 1 Mbit/s yet");
        c.set_acknowledged_rate(Some(kbps(950)));
        c.process(ms(2_201));
        assert_eq!(targets(&mut c), vec![kbps(1_500)], "1 s after the last one");
        // Over-use postpones the next one by a full interval from the over-use, and a growing
        // queue holds it.
        c.on_congestion(ms(3_250));
        c.process(ms(3_300));
        assert_eq!(c.poll_probe(), None);
        assert_eq!(c.poll_timeout(), Some(ms(4_250)));
        c.set_queue_growing(true);
        c.process(ms(4_250));
        assert_eq!(c.poll_probe(), None, "the queue is growing");
        c.set_queue_growing(false);
        c.process(ms(4_250));
        assert_eq!(targets(&mut c), vec![kbps(1_500)]);
    }

    /// Capacity probes stop while application-limited (ALR probing has that case) and at the
    /// maximum, and can be turned off.
    #[test]
    fn no_capacity_probe_in_alr_at_the_maximum_or_when_disabled() {
        let mut c = after_startup(with_capacity_probing());
        c.set_acknowledged_rate(Some(kbps(300)));
        c.set_alr_start_time(Some(ms(2_200)));
        c.process(ms(10_000));
        assert_eq!(c.poll_probe(), None, "application-limited");
        c.set_alr_start_time(None);
        c.set_estimate(ms(10_000), kbps(10_000));
        c.process(ms(20_000));
        assert_eq!(c.poll_probe(), None, "at the maximum");
        let mut c = after_startup(quiet());
        c.set_acknowledged_rate(Some(kbps(300)));
        c.process(ms(20_000));
        assert_eq!(c.poll_probe(), None, "disabled");
    }

    /// Start-up learns capacity in one RTT by probing well above the start rate, once.
    /// Start-up probing that produced no result (its feedback lost) is repeated each time the
    /// wait runs out, for 5 s, only where results can come back; a result ends it.
    #[test]
    fn start_up_probing_without_a_result_is_repeated_for_five_seconds() {
        let run = |expected: bool, result_at: Option<i64>| {
            let mut c = ProbeController::new(ProbeControllerConfig::default());
            c.set_bitrates(ms(0), kbps(30), kbps(300), kbps(10_000));
            c.set_results_expected(expected);
            c.on_network_available(ms(0));
            let mut clusters = drain(&mut c).len();
            let mut t = 0;
            while t <= 8_000 {
                if result_at == Some(t) {
                    c.on_probe_result();
                }
                c.process(ms(t));
                clusters += drain(&mut c).len();
                t += 10;
            }
            clusters
        };
        // At 0 s, then after each 1 s wait that ends before 5 s: 1.0, 2.0, 3.0, 4.0 s.
        assert_eq!(run(true, None), 10);
        assert_eq!(run(true, Some(500)), 2, "a result ends the repeats");
        assert_eq!(run(false, None), 2, "no repeats without transport feedback");
    }

    #[test]
    fn initial_probes_are_three_and_six_times_start() {
        let mut c = ProbeController::new(ProbeControllerConfig::default());
        c.set_bitrates(ms(0), kbps(30), kbps(300), kbps(10_000));
        assert_eq!(c.poll_probe(), None, "no probing before the network is up");
        c.on_network_available(ms(10));
        let p = drain(&mut c);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].target, p[1].target), (kbps(900), kbps(1_800)));
        // 15 ms at 900 kbit/s is 1687 bytes; 5 packets at least.
        assert_eq!(p[0].min_bytes, DataSize::from_bytes(1_687));
        assert_eq!(
            (p[0].min_probes, p[0].duration),
            (5, TimeDelta::from_millis(15))
        );
        assert_eq!(p[0].created_at, ms(10));
        c.on_network_available(ms(20));
        c.set_bitrates(ms(30), kbps(30), kbps(300), kbps(10_000));
        assert_eq!(c.poll_probe(), None, "start-up probing happens once");
    }

    /// A higher maximum may reveal capacity the estimate never tried; one probe checks it.
    #[test]
    fn raising_max_triggers_a_probe() {
        let mut c = after_startup(quiet());
        c.set_estimate(ms(1_200), kbps(800));
        c.set_bitrates(ms(1_300), kbps(30), Bitrate::ZERO, kbps(10_000));
        assert_eq!(c.poll_probe(), None, "same max, no probe");
        c.set_bitrates(ms(1_400), kbps(30), Bitrate::ZERO, kbps(12_000));
        assert_eq!(targets(&mut c), vec![kbps(12_000)]);
        let mut c = after_startup(ProbeControllerConfig {
            probe_on_max_raise: false,
            ..quiet()
        });
        c.set_bitrates(ms(1_400), kbps(30), Bitrate::ZERO, kbps(12_000));
        assert_eq!(c.poll_probe(), None, "disabled by config");
    }

    /// An estimate close to the probed rate means the link had room: probe twice as high.
    #[test]
    fn estimate_near_probe_rate_probes_further() {
        let mut c = started(ProbeControllerConfig::default());
        // Threshold is 0.7 × 1800 = 1260 kbit/s.
        c.set_estimate(ms(200), kbps(1_200));
        assert_eq!(c.poll_probe(), None);
        c.set_estimate(ms(300), kbps(1_300));
        assert_eq!(targets(&mut c), vec![kbps(2_600)]);
        c.set_estimate(ms(500), kbps(1_900));
        assert_eq!(targets(&mut c), vec![kbps(3_800)]);
    }

    /// Results arriving after the waiting window are too late to chain follow-ups on.
    #[test]
    fn follow_up_probing_stops_after_waiting_window() {
        let mut c = started(ProbeControllerConfig::default());
        assert_eq!(c.poll_timeout(), Some(Timestamp::from_micros(1_000_001)));
        c.set_estimate(ms(1_001), kbps(1_500));
        assert_eq!(c.poll_probe(), None);
    }

    /// While application-limited the estimate is untested; probe it every 5 s.
    #[test]
    fn alr_probe_every_five_seconds_while_application_limited() {
        let mut c = after_startup(with_alr_probing());
        c.set_estimate(ms(1_200), kbps(1_000));
        c.set_alr_start_time(Some(ms(2_000)));
        assert_eq!(c.poll_timeout(), Some(ms(7_000)));
        c.process(ms(6_999));
        assert_eq!(c.poll_probe(), None);
        c.process(ms(7_000));
        assert_eq!(targets(&mut c), vec![kbps(2_000)]);
        // Waiting for its result for 1 s, then the next one 5 s after this one.
        c.process(ms(8_100));
        assert_eq!(c.poll_timeout(), Some(ms(12_000)));
        c.process(ms(11_999));
        assert_eq!(c.poll_probe(), None);
        c.process(ms(12_000));
        assert_eq!(targets(&mut c), vec![kbps(2_000)]);
        // Leaving ALR stops it.
        c.process(ms(13_100));
        c.set_alr_start_time(None);
        c.process(ms(20_000));
        assert_eq!(c.poll_probe(), None);
    }

    /// Periodic ALR probing is opt-in, as in libwebrtc.
    #[test]
    fn no_alr_probe_unless_enabled() {
        let mut c = after_startup(quiet());
        c.set_alr_start_time(Some(ms(2_000)));
        c.process(ms(30_000));
        assert_eq!(c.poll_probe(), None);
        assert_eq!(c.poll_timeout(), None);
    }

    /// The maximum is an operator's promise; probes are clipped to it and stop following up.
    #[test]
    fn probes_never_exceed_max() {
        let mut c = ProbeController::new(ProbeControllerConfig::default());
        c.set_bitrates(ms(0), kbps(30), kbps(300), kbps(1_000));
        c.on_network_available(ms(0));
        assert_eq!(targets(&mut c), vec![kbps(900), kbps(1_000)]);
        c.set_estimate(ms(100), kbps(990));
        assert_eq!(c.poll_probe(), None, "capped probing does not follow up");
        let mut c = ProbeController::new(ProbeControllerConfig::default());
        c.set_bitrates(ms(0), kbps(30), kbps(1_000), Bitrate::MAX);
        c.on_network_available(ms(0));
        assert_eq!(targets(&mut c), vec![kbps(3_000), kbps(5_000)]);
    }

    /// Feedback is matched to clusters by id, so ids must never repeat.
    #[test]
    fn cluster_ids_increase_monotonically() {
        let mut c = after_startup(with_alr_probing());
        c.set_estimate(ms(1_200), kbps(1_000));
        c.set_alr_start_time(Some(ms(1_200)));
        let mut ids = Vec::new();
        for t in (1_200..60_000).step_by(100) {
            c.process(ms(t));
            ids.extend(drain(&mut c).into_iter().map(|p| p.id));
        }
        c.reset(ms(60_000));
        c.set_bitrates(ms(60_000), kbps(30), kbps(300), kbps(10_000));
        ids.extend(drain(&mut c).into_iter().map(|p| p.id));
        assert!(ids.len() >= 12, "{ids:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert!(ids[0] > 2, "start-up clusters took ids 1 and 2");
    }

    /// A sharp drop seen while application-limited may be an artefact; one probe near the old
    /// rate checks before the sender settles for less.
    #[test]
    fn large_drop_in_alr_requests_probe_at_most_every_five_seconds() {
        let mut c = after_startup(quiet());
        c.set_estimate(ms(10_000), kbps(1_000));
        c.set_estimate(ms(10_100), kbps(500));
        c.request_probe(ms(10_200));
        assert_eq!(c.poll_probe(), None, "not application-limited");
        c.set_alr_start_time(Some(ms(9_000)));
        c.request_probe(ms(10_300));
        assert_eq!(targets(&mut c), vec![kbps(850)]);
        c.request_probe(ms(10_400));
        assert_eq!(c.poll_probe(), None, "spaced by 5 s");
        c.set_alr_start_time(None);
        c.set_alr_ended(ms(15_000));
        c.set_estimate(ms(15_100), kbps(300));
        c.request_probe(ms(15_400));
        assert_eq!(targets(&mut c), vec![kbps(425)]);
    }

    /// The driver's wake-up is never in the past, even when a deadline was missed.
    #[test]
    fn poll_timeout_is_after_latest_now() {
        let mut c = after_startup(with_alr_probing());
        c.set_estimate(ms(50_000), kbps(1_000));
        c.set_alr_start_time(Some(ms(1_000)));
        let t = c.poll_timeout().expect("ALR probe pending");
        assert!(t > ms(50_000) && t <= ms(50_001), "{t:?}");
    }

    proptest::proptest! {
        /// Time going backwards and absurd rates never panic, and every cluster has a rate in
        /// (0, max].
        #[test]
        fn absurd_inputs_never_panic(
            steps in proptest::collection::vec((0u8..8, any::<i64>(), any::<u64>()), 1..80)
        ) {
            let mut c = ProbeController::new(with_alr_probing());
            let mut max = DEFAULT_MAX_PROBING;
            for (op, t, r) in steps {
                let (now, rate) = (Timestamp::from_micros(t), Bitrate::from_bps(r));
                match op {
                    0 => {
                        c.set_bitrates(now, rate, rate, rate);
                        max = if r == 0 || r == u64::MAX { DEFAULT_MAX_PROBING } else { rate };
                    }
                    1 => c.on_network_available(now),
                    2 => c.set_estimate(now, rate),
                    3 => c.set_alr_start_time((r % 2 == 0).then_some(now)),
                    4 => c.request_probe(now),
                    5 => c.set_alr_ended(now),
                    6 => c.process(now),
                    _ => { c.reset(now); max = DEFAULT_MAX_PROBING; }
                }
                let _ = c.poll_timeout();
                for p in drain(&mut c) {
                    proptest::prop_assert!(p.target > Bitrate::ZERO && p.target <= max);
                }
            }
        }
    }
}
