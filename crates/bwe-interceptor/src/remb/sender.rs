//! REMB at the sender: the remote's cap, the loss-based target under it, and rtc's pacer.
//!
//! A REMB is the receiver's delay-based estimate. On its own it is not a safe send rate: a full
//! drop-tail queue has a flat delay gradient, so only loss can see it (`docs/algorithm.md`,
//! "REMB and loss"). As libwebrtc does, a sender without send-side estimation runs the loss-based
//! controller (`bwe_core::loss::LossBasedController`) fed by the receiver reports, with the REMB
//! as its delay-based limit; the target is the smaller of the two. A sender that also runs
//! [`BweSendSide`](crate::BweSendSide) already has a loss controller, so there the REMB only caps
//! ([`RembSenderConfig::loss_control`] off): with our pacer, the chain helpers give this
//! interceptor the shared controller and the REMB caps its target, so the pacing rate and the
//! probes stay under it too (libwebrtc's `UpdateReceiverEstimate`).
//!
//! # Reaching rtc's pacer
//!
//! Mirrors `CongestionControlInterceptor`: the rate rides the **inbound** RTCP packet that changed
//! it as `Attribute::TargetBitrateChanged`, and rtc's pacer (`Slot::Pacer`, 3 000) reads it as the
//! packet goes past. So this interceptor sits wire-ward of the pacer, at [`REMB_SENDER_SLOT`]
//! (2 500), where it also sees every estimate the congestion controller (1 000) attaches — and
//! lowers it to the REMB cap when it is higher. On the write leg it only notes when each sender
//! report left, for the round-trip time (see `sr_rtt`).
//!
//! Nothing is generated and nothing is held: every packet passes on unchanged except for the
//! attribute.
//!
//! # With our pacer
//!
//! [`configure_bwe`](crate::configure_bwe) builds REMB-only senders on the same send-side
//! controller as the send-side chain ([`RembSenderConfig::pacer`]): this interceptor then hands
//! the REMB, the receiver reports' loss figures and the round-trip time to that controller
//! (`SendSideController::on_receiver_estimate`, `on_loss_report`, `on_rtt`), and the
//! [`ProbingPacer`](crate::ProbingPacer) sends what it decides — paced at 2.5 × the target,
//! with start-up, capacity and ALR probe clusters the receiver measures from abs-send-time,
//! retransmissions throttled, stale media dropped. Our pacer reads the controller, not the
//! chain; the controller's encoder target still rides the RTCP packet that changed it as
//! `Attribute::TargetBitrateChanged`, for the interceptors application-ward.

use std::collections::VecDeque;
use std::time::Instant;

use bwe_core::loss::{LossBasedController, LossControllerConfig};
use bwe_core::{Bitrate, TimeDelta};
use rtc::interceptor::{Attribute, Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::rtcp::compound_packet::CompoundPacket;
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use crate::controller::SharedController;
use crate::epoch::Epoch;
use crate::handle::BweHandle;
use crate::pacer::PacerConfig;
use crate::remb::packet;
use crate::remb::report_loss::ReportLoss;
use crate::remb::sender_stats::RembSenderStats;
use crate::remb::sr_rtt::SrHistory;

/// Where [`RembSenderInterceptor`] goes: between the TWCC sender (2 000) and the pacer (3 000).
/// Wire-ward of the pacer, so the pacer reads what it attaches; application-ward of the
/// congestion controller (1 000), so it sees — and caps — what that attaches.
pub const REMB_SENDER_SLOT: Slot = Slot::Custom(2_500);

/// Settings for [`RembSenderInterceptor`].
#[derive(Debug, Clone)]
pub struct RembSenderConfig {
    /// Run the loss-based controller under the REMB cap, fed by receiver reports. On for a
    /// REMB-only sender (the default); off when a send-side estimator already runs one.
    pub loss_control: bool,
    /// The loss-based controller (its `start` is the target before any report).
    pub loss: LossControllerConfig,
    /// For a REMB-only sender with loss control: our pacer, driven by a send-side controller
    /// that takes the REMB as its delay-based estimate (see the module docs). `None` keeps
    /// rtc's pacer, which paces at the target, cannot probe and does not limit
    /// retransmissions: on RFC 8867 §5.1 its NACK responder filled the link with
    /// retransmissions after the drop at 60 s for the rest of the call, so the receiver,
    /// seeing almost no stamped media, froze its estimate at 367 kbit/s for 40 s.
    ///
    /// The default is our pacer with probing and without a congestion window (which needs
    /// transport feedback to count bytes in flight).
    pub pacer: Option<PacerConfig>,
}

impl Default for RembSenderConfig {
    fn default() -> Self {
        Self {
            loss_control: true,
            loss: LossControllerConfig::default(),
            pacer: Some(PacerConfig {
                accepted_queue: None,
                ..PacerConfig::default()
            }),
        }
    }
}

/// Reads inbound REMB and receiver reports; publishes the cap and the target; tells rtc's pacer.
pub struct RembSenderInterceptor {
    loss: Option<LossBasedController>,
    epoch: Epoch,
    report_loss: ReportLoss,
    sender_reports: SrHistory,
    /// The congestion controller's latest estimate seen going past, before capping.
    controller_target: Option<Bitrate>,
    /// The send-side controller this sender feeds, when there is one of ours in the chain.
    shared: Option<SharedController>,
    /// Whether that controller runs on this sender's inputs alone (REMB only: REMB, receiver
    /// report loss and RTT) or has transport feedback of its own (the REMB only caps it).
    drives: bool,
    stats: RembSenderStats,
    handle: BweHandle,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl Default for RembSenderInterceptor {
    fn default() -> Self {
        Self::new(RembSenderConfig::default())
    }
}

impl RembSenderInterceptor {
    /// A reader with `config`, publishing to a fresh [`BweHandle`].
    pub fn new(config: RembSenderConfig) -> Self {
        let loss = config
            .loss_control
            .then(|| LossBasedController::new(config.loss));
        let stats = RembSenderStats {
            loss_target: loss.as_ref().map(LossBasedController::target),
            ..RembSenderStats::default()
        };
        Self {
            loss,
            epoch: Epoch::new(),
            report_loss: ReportLoss::new(),
            sender_reports: SrHistory::new(),
            controller_target: None,
            shared: None,
            drives: false,
            stats,
            handle: BweHandle::new(),
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    /// Publishes to `handle` instead (to share one handle across a chain).
    pub fn with_handle(mut self, handle: BweHandle) -> Self {
        if let Some(shared) = &self.shared {
            let mut core = shared.lock();
            core.handle = handle.clone();
            core.publish_estimator();
        }
        self.handle = handle;
        self.publish();
        self
    }

    /// A REMB-only sender on our pacer: this interceptor (at [`REMB_SENDER_SLOT`]) and the
    /// [`ProbingPacer`](crate::ProbingPacer) (at [`PACER_SLOT`](crate::PACER_SLOT)) share one
    /// send-side controller built from `controller` (see "With our pacer" in the module docs).
    /// `config.pacer` is ignored; `controller.pacer` is used.
    pub fn with_pacer(
        config: RembSenderConfig,
        controller: bwe_core::controller::ControllerConfig,
    ) -> (Self, crate::ProbingPacer) {
        let shared = SharedController::new(controller, true);
        let pacer = crate::ProbingPacer::reporting_sent(shared.clone());
        (Self::new(config).with_controller(shared), pacer)
    }

    /// Drives `shared` instead of running a loss controller of its own (see "With our pacer"
    /// in the module docs).
    pub(crate) fn with_controller(mut self, shared: SharedController) -> Self {
        self.loss = None;
        self.stats.loss_target = None;
        {
            let mut core = shared.lock();
            core.handle = self.handle.clone();
            core.publish_estimator();
        }
        self.shared = Some(shared);
        self.drives = true;
        self
    }

    /// Caps `shared`, a send-side controller with transport feedback of its own, at the REMB:
    /// its target, pacing rate and probes stay under the remote's limit (libwebrtc's
    /// `UpdateReceiverEstimate`). Receiver reports are not passed on: feedback already reports
    /// every loss and the round trip.
    pub(crate) fn capping(mut self, shared: SharedController) -> Self {
        self.shared = Some(shared);
        self.drives = false;
        self
    }

    /// A clone of the handle this reader publishes to.
    pub fn handle(&self) -> BweHandle {
        self.handle.clone()
    }

    /// The current figures.
    pub fn stats(&self) -> RembSenderStats {
        self.stats
    }

    fn publish(&self) {
        let stats = self.stats;
        self.handle.update(|s| s.remb_sender = Some(stats));
    }

    /// What rtc's pacer should run at: the congestion controller's estimate last seen going
    /// past, or the loss-based target, capped by the REMB. (The handle is the application's:
    /// nothing in the chain reads it back. Our probing pacer takes its target from the send-side
    /// controller it shares with the estimator and ignores this attribute; the REMB cap reaches
    /// the encoder through the handle's target.)
    fn pacer_target(&self) -> Option<Bitrate> {
        let base = self.controller_target.or(self.stats.loss_target);
        match (base, self.stats.remb_cap) {
            (Some(base), Some(cap)) => Some(base.min(cap)),
            (base, cap) => base.or(cap),
        }
    }

    /// Takes a REMB's cap; returns whether it was a valid one.
    fn on_remb(&mut self, now: Instant, remb: &ReceiverEstimatedMaximumBitrate) -> bool {
        let Some(cap) = packet::bitrate(remb) else {
            self.stats.invalid_rembs += 1;
            tracing::debug!(target: "bwe::remb", bitrate = remb.bitrate, "ignored REMB");
            self.publish();
            return false;
        };
        tracing::debug!(
            target: "bwe::remb",
            cap = %cap,
            previous = ?self.stats.remb_cap,
            ssrcs = ?remb.ssrcs,
            "REMB received"
        );
        self.stats.remb_cap = Some(cap);
        self.stats.rembs_received += 1;
        if let Some(shared) = &self.shared {
            let mut core = shared.lock();
            let now_ts = core.epoch.timestamp(now);
            core.controller.on_receiver_estimate(now_ts, cap);
            core.publish_changes(now, false);
        }
        self.run_loss_control(now);
        true
    }

    fn on_report_blocks(&mut self, now: Instant, blocks: &[ReceptionReport]) {
        let now_ts = self.epoch.timestamp(now);
        let mut core = self
            .shared
            .as_ref()
            .filter(|_| self.drives)
            .map(SharedController::lock);
        for block in blocks {
            if let Some(rtt) = self
                .sender_reports
                .rtt(block.last_sender_report, block.delay, now)
                .and_then(|d| TimeDelta::try_from(d).ok())
            {
                self.stats.rtt = Some(rtt);
                if let Some(loss) = &mut self.loss {
                    loss.on_rtt(rtt);
                }
                if let Some(core) = &mut core {
                    let at = core.epoch.timestamp(now);
                    core.controller.on_rtt(at, rtt);
                }
            }
            if let Some((lost, total)) = self.report_loss.on_block(block) {
                self.stats.report_blocks += 1;
                if let Some(loss) = &mut self.loss {
                    loss.on_packet_results(now_ts, lost, total);
                }
                if let Some(core) = &mut core {
                    let at = core.epoch.timestamp(now);
                    core.controller.on_loss_report(at, lost, total);
                    self.stats.loss_fraction = core.controller.estimator_stats().loss_fraction;
                }
            }
        }
        if let Some(core) = &mut core {
            core.publish_changes(now, false);
        }
        drop(core);
        self.run_loss_control(now);
    }

    /// Runs the loss-based controller under the current cap and records its target.
    fn run_loss_control(&mut self, now: Instant) {
        let now_ts = self.epoch.timestamp(now);
        let Some(loss) = &mut self.loss else {
            return;
        };
        if let Some(cap) = self.stats.remb_cap {
            loss.set_delay_based_limit(cap);
        }
        let target = loss.update(now_ts);
        if self.stats.loss_target != Some(target)
            || self.stats.loss_fraction != loss.loss_fraction()
        {
            tracing::debug!(
                target: "bwe::loss",
                from = ?self.stats.loss_target,
                to = %target,
                loss_fraction = ?loss.loss_fraction(),
                cap = ?self.stats.remb_cap,
                "loss-based target under REMB changed"
            );
        }
        self.stats.loss_target = Some(target);
        self.stats.loss_fraction = loss.loss_fraction();
    }

    /// Feeds the REMB, RR and SR parts of an inbound RTCP packet; returns whether any mattered.
    fn on_rtcp(&mut self, now: Instant, packets: &[Box<dyn rtc::rtcp::packet::Packet>]) -> bool {
        let mut any = false;
        for p in packets {
            let any_packet = p.as_any();
            if let Some(remb) = any_packet.downcast_ref::<ReceiverEstimatedMaximumBitrate>() {
                any |= self.on_remb(now, remb);
            } else if let Some(rr) = any_packet.downcast_ref::<ReceiverReport>() {
                self.on_report_blocks(now, &rr.reports);
                any = true;
            } else if let Some(sr) = any_packet.downcast_ref::<SenderReport>() {
                self.on_report_blocks(now, &sr.reports);
                any = true;
            } else if let Some(compound) = any_packet.downcast_ref::<CompoundPacket>() {
                any |= self.on_rtcp(now, &compound.0);
            }
        }
        any
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RembSenderInterceptor {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        let relevant = match &msg.message.packet {
            Packet::Rtcp(packets) => self.on_rtcp(msg.now, packets),
            _ => false,
        };
        let cap = self.stats.remb_cap;
        let carried = msg.message.attributes.iter_mut().find_map(|a| match a {
            Attribute::TargetBitrateChanged { bits_per_second } => Some(bits_per_second),
            _ => None,
        });
        if let Some(shared) = self.shared.as_ref().filter(|_| self.drives) {
            // Our pacer reads the controller. The attribute is a courtesy to the interceptors
            // application-ward (as `BweSendSide` attaches its target): the encoder target,
            // when it changed.
            if relevant {
                let target = shared.lock().controller.output().encoder_target;
                if self.stats.pacer_target != Some(target) {
                    self.stats.pacer_target = Some(target);
                    msg.message.add(Attribute::TargetBitrateChanged {
                        bits_per_second: target.as_bps_f64(),
                    });
                }
            }
        } else if let Some(bits_per_second) = carried {
            // The congestion controller's estimate, going to the pacer: remember it, cap it.
            self.controller_target = Bitrate::try_from_bps_f64(*bits_per_second);
            if let Some(cap) = cap {
                *bits_per_second = bits_per_second.min(cap.as_bps_f64());
            }
            self.stats.pacer_target = Bitrate::try_from_bps_f64(*bits_per_second);
        } else if relevant
            && let Some(target) = self.pacer_target()
            && self.stats.pacer_target != Some(target)
        {
            tracing::debug!(
                target: "bwe::target",
                from = ?self.stats.pacer_target,
                to = %target,
                "pacer target from REMB"
            );
            self.stats.pacer_target = Some(target);
            msg.message.add(Attribute::TargetBitrateChanged {
                bits_per_second: target.as_bps_f64(),
            });
        }
        if relevant {
            self.publish();
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            for p in packets {
                if let Some(sr) = p.as_any().downcast_ref::<SenderReport>() {
                    self.sender_reports.on_sender_report(sr.ntp_time, msg.now);
                }
            }
        }
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }
}

impl Interceptor for RembSenderInterceptor {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::AttributedPacket;
    use rtc::shared::TransportContext;
    use std::time::Duration;

    fn inbound(now: Instant, packets: Vec<Box<dyn rtc::rtcp::packet::Packet>>) -> TaggedPacket {
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(packets)),
        }
    }

    fn remb(bps: f32) -> Box<dyn rtc::rtcp::packet::Packet> {
        Box::new(ReceiverEstimatedMaximumBitrate {
            sender_ssrc: 1,
            bitrate: bps,
            ssrcs: vec![42],
        })
    }

    fn rr(highest: u32, lost: u32, lsr: u32, dlsr: u32) -> Box<dyn rtc::rtcp::packet::Packet> {
        Box::new(ReceiverReport {
            ssrc: 1,
            reports: vec![ReceptionReport {
                ssrc: 42,
                last_sequence_number: highest,
                total_lost: lost,
                last_sender_report: lsr,
                delay: dlsr,
                ..ReceptionReport::default()
            }],
            ..ReceiverReport::default()
        })
    }

    fn pacer_rate(msg: &TaggedPacket) -> Option<f64> {
        match msg.message.get(&Attribute::TargetBitrateChanged {
            bits_per_second: 0.0,
        }) {
            Some(Attribute::TargetBitrateChanged { bits_per_second }) => Some(*bits_per_second),
            _ => None,
        }
    }

    /// The cap must reach the application and rtc's pacer on the packet that brought it.
    #[test]
    fn remb_is_published_and_attached_for_the_pacer() {
        let mut sender = RembSenderInterceptor::new(RembSenderConfig {
            loss: LossControllerConfig {
                start: Bitrate::from_kbps(800),
                ..LossControllerConfig::default()
            },
            ..RembSenderConfig::default()
        });
        let handle = sender.handle();
        let now = Instant::now();
        sender
            .handle_read(inbound(now, vec![remb(500_000.0)]))
            .expect("read");
        let out = sender.poll_read().expect("passed on");
        assert_eq!(pacer_rate(&out), Some(500_000.0));
        let snap = handle.snapshot();
        assert_eq!(snap.target, Some(Bitrate::from_kbps(500)));
        let stats = snap.remb_sender.expect("published");
        assert_eq!(stats.remb_cap, Some(Bitrate::from_kbps(500)));
        assert_eq!(stats.rembs_received, 1);
    }

    /// REMB alone cannot see a full drop-tail queue; reported loss must pull the target under
    /// the cap ("REMB and loss").
    #[test]
    fn reported_loss_lowers_the_target_under_the_cap() {
        let mut sender = RembSenderInterceptor::new(RembSenderConfig {
            loss: LossControllerConfig {
                start: Bitrate::from_kbps(1_000),
                ..LossControllerConfig::default()
            },
            ..RembSenderConfig::default()
        });
        let base = Instant::now();
        sender
            .handle_read(inbound(base, vec![remb(1_000_000.0)]))
            .expect("read");
        // Receiver reports every second: 100 packets each, 30 of them lost.
        for i in 0..4u32 {
            let at = base + Duration::from_secs(u64::from(i) + 1);
            sender
                .handle_read(inbound(at, vec![rr(100 * (i + 1), 30 * (i + 1), 0, 0)]))
                .expect("read");
            sender
                .handle_read(inbound(at, vec![remb(1_000_000.0)]))
                .expect("read");
        }
        let mut last_rate = None;
        while let Some(out) = sender.poll_read() {
            last_rate = pacer_rate(&out).or(last_rate);
        }
        let stats = sender.stats();
        let target = stats.loss_target.expect("loss control runs").bps();
        assert!((300_000..=700_000).contains(&target), "{target}");
        let p = stats.loss_fraction.expect("a loss figure");
        assert!((0.29..=0.31).contains(&p), "{p}");
        assert_eq!(last_rate, Some(target as f64), "the pacer follows");
        assert_eq!(sender.handle().target(), Some(Bitrate::from_bps(target)));
    }

    /// With a send-side estimator in the chain, its estimate still reaches the pacer — no
    /// higher than the REMB allows.
    #[test]
    fn controller_estimates_going_past_are_capped() {
        let mut sender = RembSenderInterceptor::new(RembSenderConfig {
            loss_control: false,
            ..RembSenderConfig::default()
        });
        let now = Instant::now();
        sender
            .handle_read(inbound(now, vec![remb(400_000.0)]))
            .expect("read");
        let mut feedback = inbound(now, vec![]);
        feedback.message.add(Attribute::TargetBitrateChanged {
            bits_per_second: 900_000.0,
        });
        sender.handle_read(feedback).expect("read");
        let rates: Vec<_> = std::iter::from_fn(|| sender.poll_read())
            .map(|m| pacer_rate(&m))
            .collect();
        assert_eq!(rates, vec![Some(400_000.0), Some(400_000.0)]);
        // A higher cap lets the controller's estimate through again.
        sender
            .handle_read(inbound(now, vec![remb(2_000_000.0)]))
            .expect("read");
        let out = sender.poll_read().expect("passed on");
        assert_eq!(pacer_rate(&out), Some(900_000.0));
    }

    /// The round trip comes from our own send instant of the SR, not from any wall clock.
    #[test]
    fn rtt_comes_from_sender_report_replies() {
        let mut sender = RembSenderInterceptor::default();
        let base = Instant::now();
        let ntp = 0xAAAA_BBBB_CCCC_DDDDu64;
        let sr: Box<dyn rtc::rtcp::packet::Packet> = Box::new(SenderReport {
            ssrc: 42,
            ntp_time: ntp,
            ..SenderReport::default()
        });
        sender.handle_write(inbound(base, vec![sr])).expect("write");
        assert!(sender.poll_write().is_some());
        let lsr = (ntp >> 16) as u32;
        sender
            .handle_read(inbound(
                base + Duration::from_millis(150),
                vec![rr(10, 0, lsr, 3_277)],
            ))
            .expect("read");
        let rtt = sender.stats().rtt.expect("rtt").as_millis();
        assert!((99..=101).contains(&rtt), "{rtt} ms");
    }

    /// A REMB that is not a rate changes nothing and is counted.
    #[test]
    fn invalid_remb_is_ignored_and_counted() {
        let mut sender = RembSenderInterceptor::default();
        sender
            .handle_read(inbound(Instant::now(), vec![remb(f32::NAN)]))
            .expect("read");
        let out = sender.poll_read().expect("passed on");
        assert_eq!(pacer_rate(&out), None);
        assert_eq!(sender.stats().invalid_rembs, 1);
        assert_eq!(sender.stats().remb_cap, None);
    }
}
