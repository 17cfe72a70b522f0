//! bwe-core's send-side controller behind rtc's `BandwidthEstimator` seam.
//!
//! rtc's `CongestionControlInterceptor` records departures, joins TWCC or RFC 8888 feedback with
//! them and hands the estimator ready-made `PacketReport`s; whatever `target_bitrate` says after
//! each batch rides to rtc's pacer as `Attribute::TargetBitrateChanged`. [`BweSendSide`] fills
//! that seam, so `configure_congestion_control(registry, BweSendSide::default(), …)` replaces
//! `rtc::interceptor::Gcc` with no other change.
//!
//! With our pacer ([`BweSendSide::with_pacer`], what the chain helpers build) both adapters share
//! one [`SendSideController`](bwe_core::controller::SendSideController) (see
//! [`crate::controller`]): this one feeds it feedback, the pacer feeds it packets and drives its
//! timers, and the controller decides the target, the pushback, the probes and every release.
//! `Attribute::TargetBitrateChanged` is then only a courtesy to other interceptors; our pacer
//! does not read it.
//!
//! What the seam does not carry, and how this adapter copes:
//!
//! - **Sent packets.** There is no per-departure hook, so each report's departure is given to
//!   the estimator (`on_sent`) when its feedback arrives. Only the ALR detector uses it, and it
//!   works on the packets' own send times, so ALR state lags by one feedback round trip.
//! - **Round-trip time.** Not passed either; the youngest acknowledged packet of each batch gives
//!   `now − departure`, the round trip plus the remote's reporting delay (≤ one feedback interval,
//!   100 ms for rtc's TWCC receiver). It only sets AIMD's response time and the loss controller's
//!   decrease spacing, where an overestimate errs on the slow side.
//! - **Probe attribution.** Each report is looked up in the controller's attribution table by
//!   SSRC, wire sequence number and departure, which the pacer recorded when it released the
//!   probe packet.
//! - **Pacing rate.** `target_bitrate` returns the target, as the seam specifies; rtc's own pacer
//!   (used when there is no probing pacer) paces at the target itself.
//!
//! The adapter publishes its figures to a [`BweHandle`] and emits `tracing` events for every
//! change of the detector, AIMD, the loss controller and the target (see [`crate::events`]).

use std::time::Instant;

use bwe_core::controller::ControllerConfig;
use bwe_core::send_side::{SendSideConfig, SendSideStats};
use bwe_core::{Bitrate, TimeDelta};
use rtc::interceptor::{BandwidthEstimator, EstimatorStats, PacketReport};

use crate::controller::SharedController;
use crate::events;
use crate::feedback_tap::FeedbackTap;
use crate::handle::BweHandle;
use crate::pacer::ProbingPacer;
use crate::report_map::{ReportMapper, SCRATCH_CAPACITY};

/// The send-side figures a [`BweHandle`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct BweSendSideStats {
    /// bwe-core's own figures (target, delay- and loss-based limits, detector state, RTT, …).
    pub core: SendSideStats,
    /// The rate the encoder should produce: the target, lowered while the pacer's congestion
    /// window pushes back (equal to the target without our pacer).
    pub encoder_target: Option<Bitrate>,
    /// Feedback batches received (non-empty `on_reports` calls).
    pub feedback_batches: u64,
    /// Packet reports received.
    pub reports: u64,
    /// Reports that said "arrived" without a usable arrival time; left out of the estimate.
    pub reports_without_arrival_time: u64,
    /// Reports from RFC 8888 feedback, whose arrival times were rebuilt (see `report_map`).
    pub rfc8888_reports: u64,
    /// Reports "not arrived" that no feedback message reported on (the message covering them
    /// was lost or late): unknown, left out of the estimate (see [`crate::FeedbackTap`]).
    pub reports_unknown: u64,
}

/// `bwe_core`'s send-side controller as an `rtc::interceptor::BandwidthEstimator`: a drop-in
/// for `rtc::interceptor::Gcc`. See the module docs for what the seam does and does not carry.
#[derive(Debug)]
pub struct BweSendSide {
    shared: SharedController,
    mapper: ReportMapper,
}

impl Default for BweSendSide {
    fn default() -> Self {
        Self::new(SendSideConfig::default())
    }
}

impl BweSendSide {
    /// An estimator with `config` for rtc's own pacer (no probing: that pacer cannot send
    /// clusters), publishing to a fresh [`BweHandle`].
    pub fn new(config: SendSideConfig) -> Self {
        Self::from_shared(SharedController::new(
            ControllerConfig {
                estimator: config,
                ..ControllerConfig::default()
            },
            false,
        ))
    }

    /// An estimator and our pacer sharing one controller (see [`crate::controller`]): put the
    /// estimator in rtc's `CongestionControlInterceptor` and the pacer at
    /// [`PACER_SLOT`](crate::PACER_SLOT).
    pub fn with_pacer(config: ControllerConfig) -> (Self, ProbingPacer) {
        let shared = SharedController::new(config, true);
        (Self::from_shared(shared.clone()), ProbingPacer::new(shared))
    }

    /// The interceptor that lets this estimator tell a lost packet from a packet whose feedback
    /// was lost: put it at [`FEEDBACK_TAP_SLOT`](crate::FEEDBACK_TAP_SLOT) of the same chain
    /// (the chain helpers do). Without it every packet rtc's history reports "not arrived" is
    /// counted lost, including those no feedback ever mentioned.
    pub fn feedback_tap(&self) -> FeedbackTap {
        FeedbackTap::new(self.shared.clone())
    }

    /// The controller this estimator shares with its pacer.
    pub(crate) fn shared(&self) -> SharedController {
        self.shared.clone()
    }

    fn from_shared(shared: SharedController) -> Self {
        shared.lock().publish_estimator();
        Self {
            shared,
            mapper: ReportMapper::new(),
        }
    }

    /// Publishes to `handle` instead (to share one handle across the components of a chain);
    /// the paired pacer publishes there too.
    pub fn with_handle(self, handle: BweHandle) -> Self {
        {
            let mut core = self.shared.lock();
            core.handle = handle;
            core.publish_estimator();
        }
        self
    }

    /// A clone of the handle this estimator publishes to; keep it before moving the estimator
    /// into a chain.
    pub fn handle(&self) -> BweHandle {
        self.shared.lock().handle.clone()
    }

    /// The figures last published.
    pub fn bwe_stats(&self) -> BweSendSideStats {
        self.shared.lock().stats
    }
}

impl BandwidthEstimator for BweSendSide {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        if reports.is_empty() {
            return;
        }
        let mut core = self.shared.lock();
        let core = &mut *core;
        let now_ts = core.epoch.timestamp(now);
        let before = core.stats.core;

        let summary = ReportMapper::summarize(now, reports);
        let unknown_before = core.stats.reports_unknown;
        if let Some(rtt) = summary.rtt {
            core.controller.on_rtt(now_ts, rtt);
        }
        for report in reports {
            let sent = crate::report_map::sent_packet(&mut core.epoch, report);
            core.controller.on_sent(now_ts, &sent);
        }
        for chunk in reports.chunks(SCRATCH_CAPACITY) {
            // The epoch is set by now, so a copy converts exactly as the original does.
            let epoch = core.epoch;
            let controller = &core.controller;
            let probe_of = |r: &PacketReport| {
                let departure = { epoch }.timestamp(r.departure);
                controller.probe_of(r.ssrc, r.rtp_sequence_number, departure)
            };
            let coverage = core.coverage.is_active().then_some(&core.coverage);
            let results = self.mapper.map_chunk(
                &mut core.epoch,
                now_ts,
                chunk,
                coverage,
                &mut core.stats.reports_unknown,
                &probe_of,
            );
            if !results.is_empty() {
                core.controller.on_feedback(now_ts, results);
            }
        }
        let through = reports
            .iter()
            .map(|r| r.departure)
            .max()
            .map(|d| core.epoch.timestamp(d));
        core.controller
            .on_unreported(now_ts, core.stats.reports_unknown - unknown_before);
        core.controller.feedback_done(now_ts, through);

        core.stats.feedback_batches += 1;
        core.stats.reports += reports.len() as u64;
        core.stats.reports_without_arrival_time += summary.without_arrival_time;
        core.stats.rfc8888_reports += summary.rfc8888;
        let after = core.controller.estimator_stats();
        events::send_side_changes(now_ts, &before, &after);
        core.publish_estimator();
        core.publish_pacer(now, false);
    }

    fn target_bitrate(&self) -> f64 {
        self.shared.lock().controller.output().target.as_bps_f64()
    }

    fn handle_timeout(&mut self, now: Instant) {
        let mut core = self.shared.lock();
        if core.paced {
            // The pacer drives the controller's timers.
            return;
        }
        let now_ts = core.epoch.timestamp(now);
        core.controller.handle_timeout(now_ts);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let core = self.shared.lock();
        if core.paced {
            return None;
        }
        core.controller
            .estimator()
            .poll_timeout()
            .and_then(|t| core.epoch.instant(t))
    }

    fn stats(&self) -> EstimatorStats {
        let core = &self.shared.lock().stats.core;
        let mut stats = EstimatorStats::default();
        stats.delay_based_bitrate = core.delay_based.map(|b| b.as_bps_f64());
        stats.loss_based_bitrate = core.loss_based.map(|b| b.as_bps_f64());
        stats.packet_loss = core.loss_fraction;
        stats.round_trip_time = core.rtt.and_then(|r: TimeDelta| r.try_into().ok());
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bwe_core::Bitrate;
    use rtc::interceptor::Gcc;
    use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;
    use std::time::Duration;

    const PACKET_BYTES: usize = 1200;

    /// A fluid bottleneck: packets sent every `spacing` from `base`, served at `capacity` with a
    /// fixed 20 ms propagation delay; feedback every 100 ms covering what has arrived.
    struct Scenario {
        base: Instant,
        next_id: u64,
        busy_until_us: u64,
        pending: Vec<PacketReport>,
    }

    impl Scenario {
        fn new() -> Self {
            Self {
                base: Instant::now(),
                next_id: 0,
                busy_until_us: 0,
                pending: Vec::new(),
            }
        }

        /// Sends packets over `[from_ms, to_ms)` at `rate` through `capacity`, and hands every
        /// 100 ms batch of arrived reports to `sink` at its feedback instant.
        fn run(
            &mut self,
            from_ms: u64,
            to_ms: u64,
            rate: Bitrate,
            capacity: Bitrate,
            mut sink: impl FnMut(Instant, &[PacketReport]),
        ) {
            let spacing_us = PACKET_BYTES as u64 * 8 * 1_000_000 / rate.bps();
            let service_us = PACKET_BYTES as u64 * 8 * 1_000_000 / capacity.bps();
            let mut send_us = from_ms * 1000;
            let mut next_feedback_us = (from_ms / 100 + 1) * 100_000;
            while send_us < to_ms * 1000 {
                while send_us >= next_feedback_us {
                    self.flush(next_feedback_us, &mut sink);
                    next_feedback_us += 100_000;
                }
                let start = self.busy_until_us.max(send_us);
                self.busy_until_us = start + service_us;
                let arrival_us = self.busy_until_us + 20_000;
                self.pending.push(PacketReport {
                    ssrc: 1,
                    id: self.next_id,
                    rtp_sequence_number: self.next_id as u16,
                    is_twcc: true,
                    twcc_sequence_number: self.next_id as u16,
                    size: PACKET_BYTES,
                    arrived: true,
                    departure: self.base + Duration::from_micros(send_us),
                    arrival: Some(Duration::from_micros(arrival_us)),
                    ecn: Ecn::NotEct,
                });
                self.next_id += 1;
                send_us += spacing_us;
            }
            self.flush(next_feedback_us, &mut sink);
        }

        /// Reports everything that arrived by `at_us`, received back 20 ms later.
        fn flush(&mut self, at_us: u64, sink: &mut impl FnMut(Instant, &[PacketReport])) {
            let arrived_by =
                |r: &PacketReport| r.arrival.is_some_and(|a| a <= Duration::from_micros(at_us));
            let split = self.pending.iter().take_while(|r| arrived_by(r)).count();
            if split == 0 {
                return;
            }
            let batch: Vec<PacketReport> = self.pending.drain(..split).collect();
            sink(self.base + Duration::from_micros(at_us + 20_000), &batch);
        }
    }

    fn kbps(bps: f64) -> f64 {
        bps / 1000.0
    }

    /// The property the adapter exists for: a queue that keeps growing must bring the target
    /// down to around the bottleneck rate, and not below the floor of sanity.
    #[test]
    fn growing_queue_drops_the_target_to_near_capacity() {
        let config = SendSideConfig {
            start: Bitrate::from_kbps(1000),
            ..SendSideConfig::default()
        };
        let mut ours = BweSendSide::new(config);
        let mut gcc = Gcc::new(1_000_000.0, 100_000.0, 100_000_000.0);
        let mut scenario = Scenario::new();
        let rate = Bitrate::from_kbps(1000);

        // 3 s with room to spare, then the bottleneck halves while the sender keeps going.
        scenario.run(0, 3_000, rate, Bitrate::from_kbps(5_000), |now, batch| {
            ours.on_reports(now, batch);
            gcc.on_reports(now, batch);
        });
        let before = ours.target_bitrate();
        scenario.run(3_000, 5_000, rate, Bitrate::from_kbps(500), |now, batch| {
            ours.on_reports(now, batch);
            gcc.on_reports(now, batch);
        });
        let after = ours.target_bitrate();
        let gcc_after = gcc.target_bitrate();
        println!(
            "ours {:.0} -> {:.0} kbit/s, rtc Gcc {:.0} kbit/s",
            kbps(before),
            kbps(after),
            kbps(gcc_after)
        );
        assert!(
            (900_000.0..=1_400_000.0).contains(&before),
            "before: {before}"
        );
        assert!(
            (300_000.0..=600_000.0).contains(&after),
            "after 2 s of a growing queue at 500 kbit/s the target should sit near it: {after}"
        );
        let usage = ours.bwe_stats().core.usage;
        assert!(usage.is_some());
    }

    /// `EstimatorStats` must carry every half of the estimate, so the rtc stats API can show why
    /// the target is where it is.
    #[test]
    fn stats_fill_delay_loss_packet_loss_and_rtt() {
        let mut ours = BweSendSide::default();
        let mut scenario = Scenario::new();
        scenario.run(
            0,
            2_000,
            Bitrate::from_kbps(500),
            Bitrate::from_kbps(2_000),
            |now, batch| ours.on_reports(now, batch),
        );
        let stats = ours.stats();
        let delay = stats.delay_based_bitrate.expect("delay-based");
        let loss = stats.loss_based_bitrate.expect("loss-based");
        assert!((100_000.0..=2_000_000.0).contains(&delay), "{delay}");
        assert!((100_000.0..=2_000_000.0).contains(&loss), "{loss}");
        let p = stats.packet_loss.expect("enough packets for a loss figure");
        assert!((0.0..=0.01).contains(&p), "{p}");
        let rtt = stats.round_trip_time.expect("rtt from feedback");
        // 20 ms each way plus up to one 100 ms reporting interval.
        assert!(
            rtt >= Duration::from_millis(40) && rtt <= Duration::from_millis(150),
            "{rtt:?}"
        );
        let bwe = ours.bwe_stats();
        assert_eq!(bwe.feedback_batches, 20);
        assert!(bwe.reports >= 100 && bwe.reports <= 110, "{}", bwe.reports);
    }

    /// An empty batch is "no news" per the seam's contract.
    #[test]
    fn empty_reports_change_nothing() {
        let mut ours = BweSendSide::default();
        let before = ours.target_bitrate();
        ours.on_reports(Instant::now(), &[]);
        assert_eq!(ours.target_bitrate(), before);
        assert_eq!(ours.bwe_stats().feedback_batches, 0);
        assert_eq!(ours.poll_timeout(), None, "idle without probing");
    }
}
