//! The send-side estimator: sent packets and per-packet feedback in; target, pacing rate and
//! probe requests out.
//!
//! Composition follows libwebrtc's `GoogCcNetworkController`
//! (`modules/congestion_controller/goog_cc/goog_cc_network_control.cc`):
//!
//! ```text
//! feedback ─┬─▶ acked bitrate ───────────────┐
//!           ├─▶ delay detector (trendline) ──┼─▶ AIMD ─▶ delay-based limit ─┐
//!           ├─▶ probe result ────────────────┘                             ├─▶ target
//!           └─▶ lost / total ─────────────────────▶ loss-based controller ─┘
//! sent packets ─▶ ALR detector ─▶ probe controller (initial, raise, ALR probes)
//! ```
//!
//! The target is the loss-based controller's output, which is itself capped by the delay-based
//! limit: whichever signal is more pessimistic wins. A probe result moves both controllers at
//! once, which is what makes start-up and capacity raises fast.
//!
//! Feedback is expected in send order, already joined with the sent-packet records; results whose
//! sequence number is not above the highest one seen are duplicates or stale and are skipped (and
//! counted), so a replayed feedback message cannot double-count throughput.
//!
//! # Without transport feedback: the receiver's estimate
//!
//! A peer that only speaks REMB runs the delay-based half of GCC itself (on abs-send-time) and
//! sends the result. [`SendSideEstimator::on_receiver_estimate`] takes it and
//! [`SendSideEstimator::on_loss_report`] takes the loss figures of its receiver reports. With
//! transport feedback the receiver's estimate only caps the target, as libwebrtc's
//! `SendSideBandwidthEstimation::UpdateReceiverEstimate` does. Until transport feedback has
//! arrived, it *is* the delay-based estimate: AIMD is set to it, and when it rises while the
//! reported loss is at most `loss.low_loss` the loss-based controller follows it at once, as it
//! follows a probe result here. libwebrtc instead lets the loss-based controller climb towards
//! it at 8 %/s, which is why REMB-only senders there take tens of seconds to use a raised link
//! even after the receiver measured it with a probe (the deviation and its measured effect are
//! in `docs/algorithm.md`). The probe controller runs as with feedback (start-up, ALR and
//! capacity probes); the receiver measures the clusters from abs-send-time, and its estimate
//! comes back in the next REMB. The rate the pacer sent (over 250 ms) stands in for the
//! acknowledged rate there: it gates capacity probes and sets the application-limited cap, which
//! is refreshed every 100 ms while it applies.

use crate::aimd::{AimdConfig, AimdRateControl};
use crate::alr::{AlrDetector, AlrDetectorConfig};
use crate::delay::{DelayDetector, DelayDetectorConfig};
use crate::feedback::{PacketResult, SentPacket};
use crate::loss::{
    LossBasedController, LossControllerConfig, LossModel, LossModelConfig, LossState,
};
use crate::probe::{ProbeCluster, ProbeController, ProbeControllerConfig, ProbeResultEstimator};
use crate::rate::{AckedBitrateConfig, AckedBitrateEstimator, IncomingBitrate};
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};
use crate::usage::BandwidthUsage;

/// Settings for [`SendSideEstimator`]. Defaults are libwebrtc's.
#[derive(Debug, Clone)]
pub struct SendSideConfig {
    /// Lowest target ever produced.
    pub min: Bitrate,
    /// Highest target ever produced.
    pub max: Bitrate,
    /// Target before any feedback.
    pub start: Bitrate,
    /// Pacing rate = target × this (libwebrtc `kDefaultPaceMultiplier` = 2.5), so that the pacer
    /// drains encoder bursts quickly without building a queue of its own.
    pub pacing_factor: f64,
    /// The delay path (trendline by default).
    pub delay: DelayDetectorConfig,
    /// The threshold loss controller; its bounds and start are overwritten from the fields
    /// above. It decides alone when [`loss_model`](Self::loss_model) is `None`, and until the
    /// model is ready otherwise (its start phase lets probes lift the target).
    pub loss: LossControllerConfig,
    /// The loss model ([`crate::loss::model`]), which tells random loss from congestion;
    /// `None` leaves loss to the threshold controller alone (GoogCC's old rules).
    pub loss_model: Option<LossModelConfig>,
    /// Whether a sender without transport feedback feeds receiver reports to the loss model
    /// (off by default). One report a second makes a slow model: on 2 Mbit/s with 10 % random
    /// loss the REMB sender's utilisation rose from 0.06 to 0.75 with it, but on the LTE uplink
    /// trace its p95 queuing delay went from 0.78 s to 1.3 s and on the key-frame case from 87
    /// to 109 ms, where the threshold controller's cut on a loss burst is what drains the queue.
    pub loss_model_from_receiver_reports: bool,
    /// The probe controller (periodic ALR probing on by default).
    pub probe: ProbeControllerConfig,
    /// The ALR detector.
    pub alr: AlrDetectorConfig,
    /// The acknowledged-bitrate estimator.
    pub acked: AckedBitrateConfig,
    /// While the sender is application-limited, the target handed out is at most this × the
    /// acknowledged rate (1.5); `None` disables the cap.
    ///
    /// An application that sends 500 kbit/s on a 2.5 Mbit/s path learns the path's capacity from
    /// probes, but handing it a 2.5 Mbit/s target invites a 5× jump the moment its encoder wakes
    /// (a key frame, a screen share): the capacity was measured, the queue behaviour at that rate
    /// was not. With the cap the encoder may grow by half per acknowledged-rate update (a few
    /// hundred milliseconds), and once it sends more than the ALR detector's share of the
    /// estimate the cap is gone and the target is the probe-confirmed estimate, which periodic
    /// ALR probes keep fresh. libwebrtc has no such cap (its target stays at the estimate in
    /// ALR).
    pub alr_target_cap: Option<f64>,
}

impl Default for SendSideConfig {
    fn default() -> Self {
        Self {
            min: Bitrate::from_kbps(30),
            max: Bitrate::from_mbps(30),
            start: Bitrate::from_kbps(300),
            pacing_factor: 2.5,
            delay: DelayDetectorConfig::trendline(),
            loss: LossControllerConfig::default(),
            loss_model: Some(LossModelConfig::default()),
            loss_model_from_receiver_reports: false,
            // libwebrtc leaves periodic ALR probing to a field trial; an application-limited
            // sender here finds capacity through it when it wants more.
            probe: ProbeControllerConfig {
                periodic_alr_probing: true,
                ..ProbeControllerConfig::default()
            },
            alr: AlrDetectorConfig::default(),
            acked: AckedBitrateConfig::default(),
            alr_target_cap: Some(1.5),
        }
    }
}

/// What the send-side estimator can say about itself.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct SendSideStats {
    /// The target handed to the encoder.
    pub target: Option<Bitrate>,
    /// The delay-based limit (AIMD output).
    pub delay_based: Option<Bitrate>,
    /// The loss-based controller's output.
    pub loss_based: Option<Bitrate>,
    /// The acknowledged bitrate.
    pub acked_bitrate: Option<Bitrate>,
    /// The last probe result, if a probe has completed.
    pub probe_result: Option<Bitrate>,
    /// The loss fraction over the threshold loss controller's last window.
    pub loss_fraction: Option<f64>,
    /// What limits the estimate according to the loss model (`None` without one, or before it
    /// is ready).
    pub loss_state: Option<LossState>,
    /// The loss model's weighted average loss (by bytes) over its window.
    pub average_loss: Option<f64>,
    /// The loss model's inherent (random) loss estimate.
    pub inherent_loss: Option<f64>,
    /// The most recent round-trip time.
    pub rtt: Option<TimeDelta>,
    /// The delay detector's verdict.
    pub usage: Option<BandwidthUsage>,
    /// The trendline's modified trend, compared against the threshold, in ms.
    pub delay_trend_ms: Option<f64>,
    /// The adaptive threshold γ, in ms.
    pub threshold_ms: Option<f64>,
    /// Whether the sender is application-limited.
    pub in_alr: Option<bool>,
    /// The link capacity estimate used by AIMD.
    pub link_capacity: Option<Bitrate>,
    /// The estimate before the application-limited cap: what the path is believed to carry.
    pub estimate: Option<Bitrate>,
    /// Feedback entries processed.
    pub feedback_packets: u64,
    /// Feedback entries skipped as duplicates or stale.
    pub duplicate_feedback: u64,
    /// Packets skipped as out of order by the arrival grouping.
    pub reordered: u64,
    /// The receiver's latest estimate (REMB), if one arrived.
    pub receiver_estimate: Option<Bitrate>,
    /// Receiver estimates taken.
    pub receiver_estimates: u64,
    /// Receiver-report loss figures taken (senders without transport feedback).
    pub loss_reports: u64,
    /// What the pacer sent over the last second, as last measured (senders without transport
    /// feedback, where it stands in for the acknowledged rate in probing decisions).
    pub sent_rate: Option<Bitrate>,
}

/// Estimates the available bandwidth from transport feedback, GoogCC-style.
#[derive(Debug)]
pub struct SendSideEstimator {
    config: SendSideConfig,
    delay: DelayDetector,
    aimd: AimdRateControl,
    acked: AckedBitrateEstimator,
    loss: LossBasedController,
    loss_model: Option<LossModel>,
    probe: ProbeController,
    probe_results: ProbeResultEstimator,
    alr: AlrDetector,
    /// The combined delay- and loss-based estimate.
    estimate: Bitrate,
    /// `estimate`, capped while application-limited; what the encoder is given.
    target: Bitrate,
    rtt: Option<TimeDelta>,
    last_probe_result: Option<Bitrate>,
    highest_sequence: Option<u64>,
    network_available: bool,
    was_in_alr: bool,
    /// When the latest loss fraction last was a burst (see `update_target`).
    last_burst: Option<Timestamp>,
    /// The encoder target after the pacer's congestion-window pushback, if pushed back.
    pushback: Option<Bitrate>,
    last_now: Timestamp,
    feedback_packets: u64,
    duplicate_feedback: u64,
    /// The receiver's own estimate (REMB), which caps the target.
    receiver_limit: Option<Bitrate>,
    /// What the pacer sent over the last second, for a sender without transport feedback.
    sent_rate: IncomingBitrate,
    last_sent_rate: Option<Bitrate>,
    /// When the target was last computed.
    last_target_update: Timestamp,
    receiver_estimates: u64,
    loss_reports: u64,
    /// Bytes and packets sent since the last receiver report (senders without transport
    /// feedback), and when that report came.
    sent_since_report: (u64, u64),
    last_loss_report: Option<Timestamp>,
}

/// A loss burst counts as the sender overrunning the path when its excess over the average
/// loss is at least this many standard deviations of random loss (see `update_target`).
const BURST_SIGMAS: f64 = 3.0;
/// After a loss burst the threshold rules keep applying (cut above 10 %, hold above 2 %) for
/// this long before the threshold controller follows the model again: a capacity drop's loss
/// lasts several feedback intervals, and re-syncing between its fractions undid the cuts.
const BURST_MEMORY: TimeDelta = TimeDelta::from_secs(2);
/// A capacity probe's result above the estimate is taken only from this multiple of it up.
const CAPACITY_PROBE_MIN_GAIN: f64 = 1.2;
/// A probe result this soon after a capacity probe counts as that probe's (follow-ups
/// included).
const CAPACITY_PROBE_RESULT_WINDOW: TimeDelta = TimeDelta::from_secs(2);
/// Window of the sent rate that stands in for the acknowledged rate without transport feedback
/// (the acknowledged-rate estimator's settled window is 150 ms; sent packets are paced, so a
/// short window is already smooth).
const SENT_RATE_WINDOW: TimeDelta = TimeDelta::from_millis(250);
/// How often, without transport feedback, the target follows the sent rate while the
/// application-limited cap applies (the feedback interval of a TWCC sender).
pub const TARGET_REFRESH_INTERVAL: TimeDelta = TimeDelta::from_millis(100);
/// A receiver estimate below this fraction of the previous one is the receiver backing off on
/// over-use (its AIMD cuts to 0.85–0.9 × the incoming rate), which holds capacity probes off.
const REMB_CONGESTION_FRACTION: f64 = 0.97;

impl SendSideEstimator {
    /// A fresh estimator at `config.start`.
    pub fn new(config: SendSideConfig) -> Self {
        let start = config.start.clamp_to(config.min, config.max);
        let mut aimd = AimdRateControl::new(AimdConfig {
            min: config.min,
            max: config.max,
            start,
            ..AimdConfig::default()
        });
        aimd.set_estimate(Timestamp::MIN, start);
        let loss = LossBasedController::new(LossControllerConfig {
            min: config.min,
            max: config.max,
            start,
            ..config.loss
        });
        let mut alr = AlrDetector::new(config.alr);
        alr.set_estimated_bitrate(start);
        Self {
            delay: DelayDetector::new(config.delay),
            aimd,
            acked: AckedBitrateEstimator::new(config.acked),
            loss,
            loss_model: config
                .loss_model
                .map(|cfg| LossModel::new(cfg, config.min, config.max)),
            probe: ProbeController::new(config.probe),
            probe_results: ProbeResultEstimator::new(),
            alr,
            estimate: start,
            target: start,
            rtt: None,
            last_probe_result: None,
            highest_sequence: None,
            network_available: false,
            was_in_alr: false,
            last_burst: None,
            pushback: None,
            last_now: Timestamp::MIN,
            feedback_packets: 0,
            duplicate_feedback: 0,
            receiver_limit: None,
            sent_rate: IncomingBitrate::new(SENT_RATE_WINDOW),
            last_sent_rate: None,
            last_target_update: Timestamp::MIN,
            receiver_estimates: 0,
            loss_reports: 0,
            sent_since_report: (0, 0),
            last_loss_report: None,
            config,
        }
    }

    /// Whether transport feedback has ever been processed; until then a receiver's estimate
    /// drives the delay-based estimate (see the module docs).
    fn has_transport_feedback(&self) -> bool {
        self.feedback_packets > 0
    }

    /// The receiver's estimate of the path (REMB) arrived at `now`; see the module docs for
    /// what it does with and without transport feedback.
    pub fn on_receiver_estimate(&mut self, now: Timestamp, estimate: Bitrate) {
        self.observe(now);
        self.receiver_estimates += 1;
        let estimate = estimate.clamp_to(self.config.min, self.config.max);
        self.receiver_limit = Some(estimate);
        if !self.has_transport_feedback() {
            let previous = self.aimd.estimate();
            self.aimd.set_estimate(now, estimate);
            let low_loss = self
                .loss
                .loss_fraction()
                .is_none_or(|f| f <= self.config.loss.low_loss);
            if estimate > self.loss.target() && low_loss {
                self.loss.set_estimate(now, estimate);
            }
            if estimate < previous.mul_f64(REMB_CONGESTION_FRACTION) {
                // The receiver backed off: its delay path saw over-use.
                self.probe.on_congestion(now);
            }
        }
        let acked = self.rate_for_probing(now);
        self.update_target(now, acked);
    }

    /// A receiver report's loss figures: `lost` of `total` packets since the previous report.
    /// For a sender without transport feedback only: with it, feedback already reports every
    /// loss, and counting a receiver report as well would count it twice.
    pub fn on_loss_report(&mut self, now: Timestamp, lost: u32, total: u32) {
        self.observe(now);
        if total == 0 {
            return;
        }
        self.loss_reports += 1;
        self.on_losses(now, lost, total);
        self.observe_report(now, lost.min(total), total);
        let acked = self.rate_for_probing(now);
        self.update_target(now, acked);
    }

    /// A receiver report as one observation of the loss model (senders without transport
    /// feedback): what the pacer sent since the previous report, at the rate it sent it, with
    /// the report's loss fraction. Receiver reports count packets; the sent bytes give them a
    /// size, so the model weighs them as it weighs transport feedback.
    fn observe_report(&mut self, now: Timestamp, lost: u32, total: u32) {
        let (bytes, packets) = self.sent_since_report;
        self.sent_since_report = (0, 0);
        let since = self.last_loss_report.replace(now);
        let with_feedback =
            self.has_transport_feedback() || !self.config.loss_model_from_receiver_reports;
        let (in_alr, delay_based) = (self.alr.in_alr(), self.aimd.estimate());
        let (Some(model), Some(since)) = (&mut self.loss_model, since) else {
            return;
        };
        let span = now - since;
        if packets == 0 || !span.is_positive() || with_feedback {
            return;
        }
        let size = bytes as f64 / packets as f64;
        let Some(rate) = Bitrate::try_from_bps_f64(bytes as f64 * 8.0 / span.as_secs_f64()) else {
            return;
        };
        let delivered = 1.0 - f64::from(lost) / f64::from(total);
        model.set_acknowledged_rate(Some(rate.mul_f64(delivered)));
        model.set_delay_based(delay_based);
        model.set_in_alr(in_alr);
        model.add_observation(
            now,
            DataSize::from_bytes((f64::from(total) * size) as u64),
            DataSize::from_bytes((f64::from(lost) * size) as u64),
            rate,
            u64::from(total),
        );
    }

    /// Feeds `lost` of `total` to the loss-based controller; loss above its increase threshold
    /// is congestion to the probe controller (capacity probes wait).
    fn on_losses(&mut self, now: Timestamp, lost: u32, total: u32) {
        self.loss.on_packet_results(now, lost, total);
        // With the loss model in charge of transport feedback, random loss is not congestion:
        // a loss burst is, and so is the model's decreasing state (see `on_feedback`). A
        // receiver report's loss (a second of packets at once) still holds capacity probes off:
        // measured, probing into a reported loss burst doubled the REMB key-frame case's p95
        // queuing delay.
        let model_decides = self.has_transport_feedback()
            && self.loss_model.as_ref().is_some_and(LossModel::is_ready);
        let congested = if model_decides {
            self.loss_burst()
        } else {
            self.loss
                .loss_fraction()
                .is_some_and(|f| f > self.config.loss.low_loss)
        };
        if congested {
            self.probe.on_congestion(now);
        }
    }

    /// Whether the threshold controller's latest loss fraction is a burst above what the loss
    /// model's window has seen (see `update_target`); false without a ready model.
    fn loss_burst(&self) -> bool {
        let Some(model) = self.loss_model.as_ref().filter(|m| m.is_ready()) else {
            return false;
        };
        self.loss.loss_fraction().is_some_and(|fraction| {
            let average = model.average_loss();
            let packets = self.loss.fraction_packets().max(1) as f64;
            let sigma = (average * (1.0 - average) / packets).sqrt();
            fraction - average > self.config.loss.high_loss.max(BURST_SIGMAS * sigma)
        })
    }

    /// The acknowledged rate, or without transport feedback the rate the pacer sent.
    fn rate_for_probing(&mut self, now: Timestamp) -> Option<Bitrate> {
        if self.has_transport_feedback() {
            self.acked.bitrate()
        } else {
            self.last_sent_rate = self.sent_rate.rate(now);
            self.last_sent_rate
        }
    }

    /// The transport is up: schedules the initial probe clusters (3× and 6× the start rate).
    pub fn on_network_available(&mut self, now: Timestamp) {
        self.observe(now);
        if self.network_available {
            return;
        }
        self.network_available = true;
        self.probe
            .set_bitrates(now, self.config.min, self.target, self.config.max);
        self.probe.on_network_available(now);
    }

    /// Changes the bounds (e.g. the application raised its maximum); a raised maximum may probe.
    pub fn set_min_max(&mut self, now: Timestamp, min: Bitrate, max: Bitrate) {
        self.observe(now);
        self.config.min = min;
        self.config.max = max;
        self.aimd.set_min_max(min, max);
        self.loss.set_min_max(min, max);
        if let Some(model) = &mut self.loss_model {
            model.set_min_max(min, max);
        }
        self.probe.set_bitrates(now, min, self.estimate, max);
        self.estimate = self.estimate.clamp_to(min, max);
        self.target = self.target.clamp_to(min, max);
    }

    /// A packet left this endpoint (after the pacer).
    pub fn on_sent(&mut self, now: Timestamp, packet: &SentPacket) {
        self.observe(now);
        self.alr.on_bytes_sent(packet.size, packet.send_time);
        if !self.has_transport_feedback() {
            self.sent_rate.update(packet.send_time, packet.size);
            self.sent_since_report.0 += packet.size.bytes();
            self.sent_since_report.1 += 1;
        }
    }

    /// The pacer pushed the encoder target back to `target` because its congestion window is
    /// filling (`None`: no pushback). The ALR detector then measures the sender against that
    /// rate: an encoder sending what it was told is not application-limited, and treating it as
    /// such would cap the target at the acknowledged rate, which the pushback itself lowered,
    /// and hold both down after the window has drained.
    pub fn set_pushback_target(&mut self, target: Option<Bitrate>) {
        self.pushback = target;
    }

    /// A round-trip time measurement (from feedback timing or RTCP).
    pub fn on_rtt(&mut self, now: Timestamp, rtt: TimeDelta) {
        self.observe(now);
        if rtt.is_negative() {
            return;
        }
        self.rtt = Some(rtt);
        self.aimd.set_rtt(rtt);
        self.loss.on_rtt(rtt);
    }

    /// Feedback for a batch of packets, in send order, received at `now`.
    pub fn on_feedback(&mut self, now: Timestamp, results: &[PacketResult]) {
        self.observe(now);
        let in_alr = self.alr.in_alr();
        // The sequence filter and the counters run in locals and are written back once: the
        // calls in the loop cannot touch them, but the compiler cannot know that.
        let mut highest = self.highest_sequence;
        let mut fresh = 0u64;
        let mut duplicates = 0u64;
        let mut lost = 0u32;
        for result in results {
            let seq = result.sent.sequence;
            if highest.is_some_and(|h| seq <= h) {
                duplicates += 1;
                continue;
            }
            highest = Some(seq);
            fresh += 1;
            if let Some(model) = &mut self.loss_model {
                model.add_packet(
                    result.sent.send_time,
                    result.sent.size,
                    !result.is_received(),
                );
            }
            let Some(receive_time) = result.receive_time else {
                lost = lost.saturating_add(1);
                continue;
            };
            self.acked.on_packet_result(result, in_alr);
            if result.sent.probe.is_some()
                && let Some(rate) = self.probe_results.on_probe_feedback(now, result)
            {
                self.last_probe_result = Some(rate);
            }
            self.delay
                .on_packet(now, result.sent.send_time, receive_time, result.sent.size);
        }
        self.highest_sequence = highest;
        self.feedback_packets += fresh;
        self.duplicate_feedback += duplicates;
        if fresh == 0 {
            return;
        }
        let total = u32::try_from(fresh).unwrap_or(u32::MAX);

        let acked = self.acked.bitrate();
        let usage = self.delay.usage();
        if usage == BandwidthUsage::Overusing {
            self.probe.on_congestion(now);
        }
        self.probe
            .set_queue_growing(self.delay.modified_offset_ms().is_some_and(|t| t > 0.0));
        let probe = self.probe_results.fetch_and_reset_last_estimate();
        self.probe.set_results_expected(true);
        if probe.is_some() {
            self.probe.on_probe_result();
        }
        match (usage, probe) {
            // A probe result is only taken while the delay signal does not object (libwebrtc
            // `DelayBasedBwe::MaybeUpdateEstimate`): over-use wins over a probe. As there, a
            // result below the estimate is taken too: what a burst got through is a
            // measurement of the path, and on a link whose capacity swings (cellular traces)
            // it pulls an estimate that ran ahead back down within a round trip.
            (BandwidthUsage::Overusing, _) | (_, None) => {
                self.aimd.update(now, usage, acked);
            }
            // A capacity probe (sent while the link is full) whose result is not well above
            // the estimate says the link is about as full as the estimate has it: AIMD covers
            // that ground. On a bottleneck shared with other flows such a result is also
            // inflated (a burst measures how fast the link drains it, not the room left for
            // this flow), and taking it every second let the flow that probed take the room.
            (_, Some(rate))
                if self
                    .probe
                    .last_capacity_probe()
                    .is_some_and(|t| now - t <= CAPACITY_PROBE_RESULT_WINDOW)
                    && rate > self.aimd.estimate()
                    && rate < self.aimd.estimate().mul_f64(CAPACITY_PROBE_MIN_GAIN) =>
            {
                self.aimd.update(now, usage, acked);
            }
            (_, Some(rate)) => {
                self.aimd.set_estimate(now, rate);
                if rate > self.loss.target() {
                    self.loss.set_estimate(now, rate);
                }
            }
        }

        self.on_losses(now, lost, total);
        if let Some(model) = &mut self.loss_model {
            model.set_acknowledged_rate(acked);
            model.set_delay_based(self.aimd.estimate());
            model.set_in_alr(in_alr);
            if model.end_feedback(now) && model.state() == LossState::Decreasing {
                self.probe.on_congestion(now);
            }
        }
        self.update_target(now, acked);
    }

    /// Combines the controllers into the target and feeds it back to ALR and probing.
    fn update_target(&mut self, now: Timestamp, acked: Option<Bitrate>) {
        self.loss.set_delay_based_limit(self.aimd.estimate());
        self.loss.set_acknowledged_rate(acked);
        let threshold = self.loss.update(now);
        let loss_based = match &self.loss_model {
            Some(model) if model.is_ready() => {
                let modelled = match model.state() {
                    LossState::DelayBased => self.aimd.estimate(),
                    _ => model.estimate().unwrap_or(threshold),
                };
                // A burst of loss well above the loss the model's window has seen — the
                // threshold controller's latest fraction (≥ 20 packets, fresher than a 250 ms
                // observation) above the model's average by more than the threshold rule's
                // 10 % and by more than three standard deviations of random loss at that
                // average — is the sender overrunning the path (a capacity drop): for
                // `BURST_MEMORY` the threshold rules apply on top, as their cut by half the
                // loss drains the queue faster than the model, whose average of 15
                // observations moves by a fraction per burst. Otherwise the threshold
                // controller follows the model, so it carries no ratchet of its own.
                if self.loss_burst() {
                    self.last_burst = Some(now);
                }
                let burst_recent = self.last_burst.is_some_and(|t| now - t < BURST_MEMORY);
                if burst_recent {
                    modelled.min(threshold)
                } else {
                    if threshold != modelled {
                        self.loss.set_estimate(now, modelled);
                        self.loss.set_delay_based_limit(self.aimd.estimate());
                    }
                    modelled
                }
            }
            _ => threshold,
        };
        self.estimate = loss_based
            .min(self.aimd.estimate())
            .min(self.receiver_limit.unwrap_or(Bitrate::MAX))
            .clamp_to(self.config.min, self.config.max);
        // Without transport feedback the rate the pacer sent stands in for the acknowledged
        // rate: while application-limited the two are the application's rate.
        self.last_target_update = now;
        let cap = match (self.was_in_alr, self.config.alr_target_cap, acked) {
            (true, Some(factor), Some(acked)) => acked.mul_f64(factor).max(self.config.min),
            _ => Bitrate::MAX,
        };
        self.target = self.estimate.min(cap);
        // The ALR detector measures the application against the path's estimate (as in
        // libwebrtc); the cap follows the acknowledged rate, so an application that wakes up
        // climbs by the cap factor per acknowledged-rate update until it leaves ALR.
        let asked = self
            .pushback
            .map_or(self.estimate, |p| p.min(self.estimate));
        self.alr.set_estimated_bitrate(asked);
        self.sync_alr(now);
        self.probe.set_acknowledged_rate(acked);
        self.probe.set_estimate(now, self.estimate);
    }

    /// Tells AIMD, the probe controller and the acknowledged-rate estimator whether the sender is
    /// application-limited, and when ALR ends (so the next throughput change is expected to be
    /// fast and a probe may follow).
    fn sync_alr(&mut self, now: Timestamp) {
        let alr_start = self.alr.alr_start_time();
        if self.was_in_alr && alr_start.is_none() {
            self.probe.set_alr_ended(now);
            self.acked.set_alr_ended(now);
        }
        self.was_in_alr = alr_start.is_some();
        self.aimd.set_in_alr(alr_start.is_some());
        self.probe.set_alr_start_time(alr_start);
    }

    /// The next probe cluster the pacer should send, if any.
    pub fn poll_probe(&mut self) -> Option<ProbeCluster> {
        self.probe.poll_probe()
    }

    /// When the estimator next wants [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let probe = self.probe.poll_timeout();
        let due = match (probe, self.target_refresh_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        due.map(|t| t.max(self.last_now + TimeDelta::from_micros(1)))
    }

    /// Periodic work: ALR probes and probe-state timeouts; without transport feedback, the
    /// application-limited cap follows the sent rate (see [`TARGET_REFRESH_INTERVAL`]).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.observe(now);
        self.sync_alr(now);
        self.probe.process(now);
        if self.target_refresh_due().is_some_and(|t| now >= t) {
            let sent = self.rate_for_probing(now);
            self.update_target(now, sent);
        }
    }

    /// Without transport feedback nothing arrives between REMBs and receiver reports (about
    /// one a second) to move the application-limited cap, which follows the sent rate; so while
    /// application-limited, or while the cap holds the target under the estimate, the target is
    /// recomputed every [`TARGET_REFRESH_INTERVAL`].
    fn target_refresh_due(&self) -> Option<Timestamp> {
        let capped = self.was_in_alr || self.target < self.estimate;
        (!self.has_transport_feedback() && self.receiver_estimates > 0 && capped)
            .then(|| self.last_target_update + TARGET_REFRESH_INTERVAL)
    }

    /// The target bitrate for the encoder(s).
    pub fn target(&self) -> Bitrate {
        self.target
    }

    /// The rate the pacer should drain its queue at.
    pub fn pacing_rate(&self) -> Bitrate {
        self.target.mul_f64(self.config.pacing_factor)
    }

    /// Current figures.
    pub fn stats(&self) -> SendSideStats {
        let delay = self.delay.stats();
        SendSideStats {
            target: Some(self.target),
            delay_based: Some(self.aimd.estimate()),
            loss_based: Some(self.loss.target()),
            acked_bitrate: self.acked.bitrate(),
            probe_result: self.last_probe_result,
            loss_fraction: self.loss.loss_fraction(),
            loss_state: self
                .loss_model
                .as_ref()
                .filter(|m| m.is_ready())
                .map(LossModel::state),
            average_loss: self
                .loss_model
                .as_ref()
                .filter(|m| m.is_ready())
                .map(LossModel::average_loss),
            inherent_loss: self.loss_model.as_ref().and_then(LossModel::inherent_loss),
            rtt: self.rtt,
            usage: Some(self.delay.usage()),
            delay_trend_ms: delay.modified_offset_ms,
            threshold_ms: Some(delay.threshold_ms),
            in_alr: Some(self.alr.in_alr()),
            link_capacity: self.aimd.link_capacity(),
            estimate: Some(self.estimate),
            feedback_packets: self.feedback_packets,
            duplicate_feedback: self.duplicate_feedback,
            reordered: delay.groups.reordered,
            receiver_estimate: self.receiver_limit,
            receiver_estimates: self.receiver_estimates,
            loss_reports: self.loss_reports,
            sent_rate: self.last_sent_rate,
        }
    }

    fn observe(&mut self, now: Timestamp) {
        self.last_now = self.last_now.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::ProbeInfo;
    use crate::units::DataSize;

    fn sent(sequence: u64, send_ms: i64, probe: Option<ProbeInfo>) -> SentPacket {
        SentPacket {
            sequence,
            send_time: Timestamp::from_millis(send_ms),
            size: DataSize::from_bytes(1200),
            probe,
        }
    }

    fn received(p: SentPacket, delay_ms: i64) -> PacketResult {
        PacketResult {
            sent: p,
            receive_time: Some(p.send_time + TimeDelta::from_millis(delay_ms)),
        }
    }

    /// Start-up probing is what makes the first seconds fast: 3× and 6× the start rate.
    #[test]
    fn network_available_requests_the_initial_probes_once() {
        let mut est = SendSideEstimator::new(SendSideConfig::default());
        assert_eq!(est.poll_probe(), None);
        est.on_network_available(Timestamp::ZERO);
        est.on_network_available(Timestamp::from_millis(1));
        let first = est.poll_probe().expect("first probe");
        let second = est.poll_probe().expect("second probe");
        assert_eq!(first.target, Bitrate::from_kbps(900));
        assert_eq!(second.target, Bitrate::from_kbps(1800));
        assert_eq!(est.poll_probe(), None);
    }

    /// The pacer drains at 2.5 × the target so encoder bursts leave quickly.
    #[test]
    fn pacing_rate_is_two_and_a_half_times_the_target() {
        let est = SendSideEstimator::new(SendSideConfig::default());
        assert_eq!(est.target(), Bitrate::from_kbps(300));
        assert_eq!(est.pacing_rate(), Bitrate::from_kbps(750));
    }

    /// A replayed feedback message must not count its packets twice.
    #[test]
    fn duplicate_feedback_is_skipped_and_counted() {
        let mut est = SendSideEstimator::new(SendSideConfig::default());
        let batch: Vec<PacketResult> = (0..10)
            .map(|i| received(sent(i, i as i64 * 10, None), 30))
            .collect();
        est.on_feedback(Timestamp::from_millis(200), &batch);
        est.on_feedback(Timestamp::from_millis(250), &batch);
        let stats = est.stats();
        assert_eq!(stats.feedback_packets, 10);
        assert_eq!(stats.duplicate_feedback, 10);
    }

    /// A completed probe that shows more capacity lifts the target at once.
    #[test]
    fn probe_result_raises_the_target() {
        let mut est = SendSideEstimator::new(SendSideConfig::default());
        est.on_network_available(Timestamp::ZERO);
        let cluster = est.poll_probe().expect("initial probe");
        let info = ProbeInfo {
            cluster_id: cluster.id,
            min_probes: cluster.min_probes,
            min_bytes: cluster.min_bytes,
        };
        // 10 probe packets of 1200 B sent 4 ms apart (2.4 Mbit/s), received 8 ms apart
        // (1.2 Mbit/s): the path has at least ~1.1 Mbit/s.
        let batch: Vec<PacketResult> = (0..10)
            .map(|i| {
                let p = sent(i, i as i64 * 4, Some(info));
                PacketResult {
                    sent: p,
                    receive_time: Some(Timestamp::from_millis(30 + i as i64 * 8)),
                }
            })
            .collect();
        est.on_feedback(Timestamp::from_millis(150), &batch);
        let target = est.target();
        assert!(
            target >= Bitrate::from_kbps(1000) && target <= Bitrate::from_kbps(1250),
            "target {target} should follow the probe result"
        );
        assert!(est.stats().probe_result.is_some());
    }

    /// Heavy loss reported in feedback pulls the target down, with the threshold controller and
    /// with the loss model. The sender sends what it is told (a closed loop: the loss model's
    /// floor is the acknowledged rate, so an open-loop sender would hold it up) and loses a
    /// third of it.
    #[test]
    fn heavy_loss_lowers_the_target() {
        for model in [None, Some(LossModelConfig::default())] {
            let mut est = SendSideEstimator::new(SendSideConfig {
                start: Bitrate::from_kbps(1000),
                loss_model: model,
                ..SendSideConfig::default()
            });
            let mut seq = 0u64;
            for b in 0..40i64 {
                // The batch's 100 ms at the target, in 1 200-byte packets.
                let n = (est.target().bps() / 8 / 10 / 1_200).max(1);
                let batch: Vec<PacketResult> = (0..n)
                    .map(|i| {
                        let p = sent(seq + i, b * 100 + (i * 100 / n) as i64, None);
                        if (seq + i) % 3 == 0 {
                            PacketResult {
                                sent: p,
                                receive_time: None,
                            }
                        } else {
                            received(p, 30)
                        }
                    })
                    .collect();
                seq += n;
                est.on_feedback(Timestamp::from_millis(b * 100 + 150), &batch);
            }
            let stats = est.stats();
            let loss = stats
                .loss_fraction
                .expect("enough packets for a loss figure");
            assert!((0.3..0.4).contains(&loss), "loss {loss}");
            assert!(
                est.target() < Bitrate::from_kbps(700),
                "target {} ({model:?})",
                est.target()
            );
            assert!(est.target() >= Bitrate::from_kbps(30));
        }
    }

    /// Feeds `kbps` of 1 200-byte packets as sent from `from` to `to` ms, running timeouts
    /// every 10 ms.
    fn send_at(est: &mut SendSideEstimator, seq: &mut u64, from: i64, to: i64, kbps: u64) {
        let gap_us = 1_200 * 8 * 1_000 / kbps as i64;
        let mut t_us = from * 1_000;
        let mut next_timeout = from;
        while t_us < to * 1_000 {
            let now = Timestamp::from_micros(t_us);
            est.on_sent(now, &sent(*seq, 0, None).with_send_time(now));
            *seq += 1;
            while next_timeout * 1_000 <= t_us {
                est.handle_timeout(Timestamp::from_millis(next_timeout));
                next_timeout += 10;
            }
            t_us += gap_us;
        }
    }

    trait WithSendTime {
        fn with_send_time(self, t: Timestamp) -> Self;
    }

    impl WithSendTime for SentPacket {
        fn with_send_time(mut self, t: Timestamp) -> Self {
            self.send_time = t;
            self
        }
    }

    /// Without transport feedback a REMB is the delay-based estimate: the target follows it up
    /// at once and down at once; heavy reported loss still cuts under it.
    #[test]
    fn without_transport_feedback_the_remb_drives_the_target() {
        let mut est = SendSideEstimator::new(SendSideConfig::default());
        est.on_network_available(Timestamp::ZERO);
        let mut seq = 0;
        send_at(&mut est, &mut seq, 0, 1_000, 300);
        est.on_receiver_estimate(Timestamp::from_millis(1_000), Bitrate::from_kbps(1_800));
        assert_eq!(est.target(), Bitrate::from_kbps(1_800));
        est.on_receiver_estimate(Timestamp::from_millis(1_100), Bitrate::from_kbps(900));
        assert_eq!(est.target(), Bitrate::from_kbps(900));
        for i in 0..5 {
            est.on_loss_report(Timestamp::from_millis(2_000 + i * 1_000), 30, 100);
        }
        let target = est.target();
        assert!(
            target < Bitrate::from_kbps(700) && target >= Bitrate::from_kbps(30),
            "{target}"
        );
        assert_eq!(est.stats().receiver_estimates, 2);
        assert_eq!(est.stats().loss_reports, 5);
    }

    /// With transport feedback the REMB only caps.
    #[test]
    fn with_transport_feedback_the_remb_only_caps() {
        let mut est = SendSideEstimator::new(SendSideConfig::default());
        let batch: Vec<PacketResult> = (0..10)
            .map(|i| received(sent(i, i as i64 * 10, None), 30))
            .collect();
        est.on_feedback(Timestamp::from_millis(200), &batch);
        let before = est.target();
        est.on_receiver_estimate(Timestamp::from_millis(250), Bitrate::from_mbps(5));
        assert_eq!(est.target(), before, "a higher REMB does not raise");
        est.on_receiver_estimate(Timestamp::from_millis(300), Bitrate::from_kbps(100));
        assert_eq!(est.target(), Bitrate::from_kbps(100), "a lower one caps");
    }

    /// Without transport feedback, an application sending 500 kbit/s under a 2 Mbit/s REMB is
    /// given at most 1.5 × what it sends (the 250 ms sent rate reads 500–540 kbit/s of 1 200-byte
    /// packets every 19.2 ms), and the cap follows it up once it sends more.
    #[test]
    fn without_transport_feedback_the_alr_cap_follows_the_sent_rate() {
        let mut est = SendSideEstimator::new(SendSideConfig::default());
        est.on_network_available(Timestamp::ZERO);
        let mut seq = 0;
        send_at(&mut est, &mut seq, 0, 500, 500);
        est.on_receiver_estimate(Timestamp::from_millis(500), Bitrate::from_mbps(2));
        send_at(&mut est, &mut seq, 500, 5_000, 500);
        assert_eq!(est.stats().in_alr, Some(true));
        let limited = est.target();
        assert!(
            limited >= Bitrate::from_kbps(700) && limited <= Bitrate::from_kbps(850),
            "{limited} while sending 500 kbit/s"
        );
        // The application sends at whatever it is given, from 5 s.
        let mut t = 5_000;
        while t < 8_000 {
            let rate = est.target().bps() / 1_000;
            send_at(&mut est, &mut seq, t, t + 100, rate);
            t += 100;
        }
        assert_eq!(est.target(), Bitrate::from_mbps(2), "the cap is gone");
    }

    /// Without transport feedback, receiver reports of 12 % random loss: the threshold
    /// controller (the default there) cuts towards the floor; with
    /// `loss_model_from_receiver_reports` the model keeps the rate, as with transport feedback.
    #[test]
    fn receiver_reports_feed_the_loss_model_when_asked() {
        let run = |from_reports: bool| {
            let mut est = SendSideEstimator::new(SendSideConfig {
                loss_model_from_receiver_reports: from_reports,
                ..SendSideConfig::default()
            });
            est.on_network_available(Timestamp::ZERO);
            let mut seq = 0;
            let mut t = 0;
            while t < 30_000 {
                let rate = (est.target().bps() / 1_000).max(30);
                send_at(&mut est, &mut seq, t, t + 1_000, rate);
                t += 1_000;
                est.on_receiver_estimate(Timestamp::from_millis(t), Bitrate::from_mbps(2));
                est.on_loss_report(Timestamp::from_millis(t), 12, 100);
            }
            est.target()
        };
        let threshold = run(false);
        let model = run(true);
        assert!(
            threshold < Bitrate::from_kbps(400),
            "threshold: {threshold}"
        );
        assert!(
            model >= Bitrate::from_kbps(800) && model <= Bitrate::from_mbps(2),
            "model: {model}"
        );
    }

    /// Steady random loss is not a burst, however long it lasts; half of a batch lost on top
    /// of it is, and the threshold rule then cuts under the loss model's estimate for 2 s.
    #[test]
    fn a_loss_burst_stands_out_from_steady_random_loss() {
        let mut est = SendSideEstimator::new(SendSideConfig {
            start: Bitrate::from_kbps(1_000),
            ..SendSideConfig::default()
        });
        let batch = |b: i64, lost: &dyn Fn(u64) -> bool| -> Vec<PacketResult> {
            (0..20u64)
                .map(|i| {
                    let p = sent(b as u64 * 20 + i, b * 100 + i as i64 * 5, None);
                    if lost(i) {
                        PacketResult {
                            sent: p,
                            receive_time: None,
                        }
                    } else {
                        received(p, 30)
                    }
                })
                .collect()
        };
        for b in 0..60 {
            est.on_feedback(
                Timestamp::from_millis(b * 100 + 150),
                &batch(b, &|i| i % 10 == 0),
            );
            assert!(
                !est.loss_burst(),
                "10 % steady loss read as a burst at batch {b}"
            );
        }
        assert!(est.stats().loss_state.is_some(), "the model is in use");
        let before = est.target();
        est.on_feedback(Timestamp::from_millis(6_150), &batch(60, &|i| i % 2 == 0));
        assert!(est.loss_burst(), "half of a batch lost");
        assert!(
            est.target() < before.mul_f64(0.8),
            "{} after {before}",
            est.target()
        );
    }
}
