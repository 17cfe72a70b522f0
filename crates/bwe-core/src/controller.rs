//! [`SendSideController`]: one owner for the send side's decisions.
//!
//! The estimator decides the target; the pacer decides when each packet leaves and pushes the
//! encoder back while its congestion window is full. Both need what the other knows: the pacer
//! paces at the target and sends the estimator's probe clusters; the estimator needs to know
//! which packets were probes, when media started, and how far the pacer pushed the encoder back
//! (so that a sender held down by its own window is not taken for an application-limited one).
//! Kept apart, each of those is a message on a side channel, and a change to one path silently
//! changes another. Here one struct holds both and every call returns with both in step, as
//! libwebrtc's `GoogCcNetworkController` returns one `NetworkControlUpdate` that its pacing
//! controller obeys.
//!
//! ```text
//!  enqueue ──▶ pacer queue ──▶ poll_release ──▶ the wire
//!                ▲   │ probe packets        │
//!       target,  │   └──▶ attribution ◀─────┘ (ssrc, seq, departure)
//!       clusters │              │
//!  feedback ──▶ estimator ◀─────┘ probe of each result
//!                 │
//!                 └──▶ output(): encoder target (after pushback), pacing rate
//! ```
//!
//! Everything is sans-I/O: each call takes `now`, [`SendSideController::poll_timeout`] says
//! when to call [`SendSideController::handle_timeout`], and nothing allocates per packet.

use crate::feedback::{PacketResult, ProbeInfo, SentPacket};
use crate::pacer::{Pacer, PacerConfig, PacerStats, PacketKind, Refusal, Release};
use crate::probe::ProbeAttribution;
use crate::send_side::{SendSideConfig, SendSideEstimator, SendSideStats};
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// Settings for [`SendSideController`].
#[derive(Debug, Clone, Default)]
pub struct ControllerConfig {
    /// The estimator.
    pub estimator: SendSideConfig,
    /// The pacer; its `start` and `pacing_factor` are taken from `estimator`.
    pub pacer: PacerConfig,
}

/// What the controller decided, as of the last call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerOutput {
    /// The rate the encoder should produce: the target, lowered while the congestion window
    /// pushes back.
    pub encoder_target: Bitrate,
    /// The estimator's target.
    pub target: Bitrate,
    /// The rate the pacer releases media at (raised while its queue is too long).
    pub pacing_rate: Bitrate,
}

/// The estimator and the pacer under one owner; see the module docs.
#[derive(Debug)]
pub struct SendSideController<P> {
    estimator: SendSideEstimator,
    pacer: Pacer<P>,
    attribution: ProbeAttribution,
    network_available: bool,
    last_now: Option<Timestamp>,
}

impl<P> SendSideController<P> {
    /// A controller with `config`.
    pub fn new(config: ControllerConfig) -> Self {
        let pacer = PacerConfig {
            start: config.estimator.start,
            pacing_factor: config.estimator.pacing_factor,
            ..config.pacer
        };
        Self {
            estimator: SendSideEstimator::new(config.estimator),
            pacer: Pacer::new(pacer),
            attribution: ProbeAttribution::new(),
            network_available: false,
            last_now: None,
        }
    }

    fn observe(&mut self, now: Timestamp) {
        if self.last_now.is_none_or(|last| now > last) {
            self.last_now = Some(now);
        }
    }

    /// The estimator, to read.
    pub fn estimator(&self) -> &SendSideEstimator {
        &self.estimator
    }

    /// The estimator's figures.
    pub fn estimator_stats(&self) -> SendSideStats {
        self.estimator.stats()
    }

    /// The pacer's figures as of `now`.
    pub fn pacer_stats(&mut self, now: Timestamp) -> PacerStats {
        self.pacer.stats(now)
    }

    /// The pacer's settings.
    pub fn pacer_config(&self) -> &PacerConfig {
        self.pacer.config()
    }

    /// Counts a NACK the caller rewrote for its renumbering (a figure only).
    pub fn count_nack_translated(&mut self) {
        self.pacer.count_nack_translated();
    }

    /// A media stream the pacer keeps a retransmission history for.
    pub fn add_stream(&mut self, ssrc: u32) {
        self.pacer.add_stream(ssrc);
    }

    /// Forgets a stream.
    pub fn remove_stream(&mut self, ssrc: u32) {
        self.pacer.remove_stream(ssrc);
    }

    /// Whether `ssrc` is a stream added with [`add_stream`](Self::add_stream).
    pub fn has_stream(&self, ssrc: u32) -> bool {
        self.pacer.has_stream(ssrc)
    }

    /// Offers a packet to the pacer. The first media of a known stream tells the estimator the
    /// network is up, which schedules the initial probe clusters.
    pub fn enqueue(
        &mut self,
        now: Timestamp,
        payload: P,
        size: DataSize,
        kind: PacketKind,
    ) -> Result<(), Refusal> {
        self.observe(now);
        if !self.network_available
            && let PacketKind::Media { ssrc, .. } | PacketKind::Retransmission { ssrc, .. } = kind
            && self.pacer.has_stream(ssrc)
        {
            self.network_available = true;
            self.estimator.on_network_available(now);
            self.exchange(now);
        }
        self.pacer.enqueue(now, payload, size, kind)
    }

    /// The next packet due at `now`; see [`Pacer::poll_release`].
    pub fn poll_release(
        &mut self,
        now: Timestamp,
        pad: impl FnMut(DataSize) -> Option<(P, DataSize)>,
    ) -> Option<Release<P>> {
        self.observe(now);
        self.pacer.poll_release(now, pad)
    }

    /// A probe packet left as `(ssrc, sequence)` at `departure` (its wire identity, which
    /// feedback will name).
    pub fn record_probe(
        &mut self,
        ssrc: u32,
        sequence: u16,
        departure: Timestamp,
        probe: ProbeInfo,
    ) {
        self.attribution.record(ssrc, sequence, departure, probe);
    }

    /// The cluster the packet `(ssrc, sequence)` sent at `departure` belonged to.
    pub fn probe_of(&self, ssrc: u32, sequence: u16, departure: Timestamp) -> Option<ProbeInfo> {
        self.attribution.probe_of(ssrc, sequence, departure)
    }

    /// A round-trip time measurement.
    pub fn on_rtt(&mut self, now: Timestamp, rtt: TimeDelta) {
        self.observe(now);
        self.estimator.on_rtt(now, rtt);
    }

    /// A packet reported by feedback left at its send time (for the ALR detector).
    pub fn on_sent(&mut self, now: Timestamp, packet: &SentPacket) {
        self.observe(now);
        self.estimator.on_sent(now, packet);
    }

    /// Results of one feedback message, in send order (may be called several times per
    /// message; finish with [`feedback_done`](Self::feedback_done)).
    pub fn on_feedback(&mut self, now: Timestamp, results: &[PacketResult]) {
        self.observe(now);
        self.estimator
            .set_pushback_target(self.pacer.pushback_target());
        self.pacer.count_reports(results.len() as u64, 0);
        self.estimator.on_feedback(now, results);
    }

    /// `count` packets of the feedback message being processed had no report: no feedback
    /// message covered them (see [`crate::FeedbackCoverage`]), so they are neither received nor
    /// lost. Call before [`feedback_done`](Self::feedback_done); the congestion window learns
    /// from it how often feedback is lost.
    pub fn on_unreported(&mut self, now: Timestamp, count: u64) {
        self.observe(now);
        self.pacer.count_reports(0, count);
    }

    /// The feedback message is done: it reported packets sent up to `through`. The pacer
    /// learns the target, what is no longer in flight and the round-trip time; new clusters
    /// go to it.
    pub fn feedback_done(&mut self, now: Timestamp, through: Option<Timestamp>) {
        self.observe(now);
        self.exchange(now);
        self.pacer.set_target(self.estimator.target());
        self.pacer
            .on_feedback(now, through, self.estimator.stats().rtt);
    }

    /// Hands the estimator's clusters to the pacer.
    /// The receiver's estimate (REMB) arrived at `now`: a cap with transport feedback, the
    /// delay-based estimate without it (see [`SendSideEstimator::on_receiver_estimate`]). The
    /// pacer follows the new target, and any probe cluster it triggered is queued.
    pub fn on_receiver_estimate(&mut self, now: Timestamp, estimate: Bitrate) {
        self.observe(now);
        self.estimator.on_receiver_estimate(now, estimate);
        self.exchange(now);
        self.pacer.set_target(self.estimator.target());
    }

    /// A receiver report's loss figures, for a sender without transport feedback (see
    /// [`SendSideEstimator::on_loss_report`]).
    pub fn on_loss_report(&mut self, now: Timestamp, lost: u32, total: u32) {
        self.observe(now);
        self.estimator.on_loss_report(now, lost, total);
        self.exchange(now);
        self.pacer.set_target(self.estimator.target());
    }

    fn exchange(&mut self, _now: Timestamp) {
        while let Some(cluster) = self.estimator.poll_probe() {
            self.pacer.push_cluster(cluster);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) or
    /// [`poll_release`](Self::poll_release) next has work.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match (self.estimator.poll_timeout(), self.pacer.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Timer work of the estimator (probes, ALR); then call
    /// [`poll_release`](Self::poll_release).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.observe(now);
        self.exchange(now);
        if self.estimator.poll_timeout().is_some_and(|t| t <= now) {
            self.estimator.handle_timeout(now);
            self.exchange(now);
        }
        self.pacer.set_target(self.estimator.target());
        self.pacer.handle_timeout(now);
    }

    /// What the controller decided.
    pub fn output(&self) -> ControllerOutput {
        let target = self.estimator.target();
        let now = self.last_now.unwrap_or(Timestamp::ZERO);
        ControllerOutput {
            encoder_target: self
                .pacer
                .pushback_target()
                .map_or(target, |p| p.min(target)),
            target,
            pacing_rate: self.pacer.pacing_rate(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::SentPacket;

    const SSRC: u32 = 7;
    const PACKET: u64 = 1_200;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    /// A sender, a 2 Mbit/s bottleneck with 25 ms each way, and feedback every 100 ms; the
    /// payload of each packet is the instant it was queued, so the test can see its age when it
    /// leaves. `blackout` drops every packet leaving the bottleneck inside it, and no feedback
    /// comes back while it lasts (the receiver hears nothing).
    struct Loop {
        c: SendSideController<Timestamp>,
        seq: u16,
        sent: u64,
        busy_until: Timestamp,
        /// Released packets not yet reported, with their arrival (`None`: lost).
        pending: Vec<PacketResult>,
        next_frame: Timestamp,
        next_feedback: Timestamp,
        blackout: (Timestamp, Timestamp),
        /// The oldest age of any media packet released in each phase.
        max_age: TimeDelta,
    }

    impl Loop {
        fn new(blackout: (Timestamp, Timestamp)) -> Self {
            let mut c = SendSideController::new(ControllerConfig {
                estimator: SendSideConfig {
                    start: Bitrate::from_kbps(1_500),
                    ..SendSideConfig::default()
                },
                pacer: PacerConfig {
                    probing: false,
                    ..PacerConfig::default()
                },
            });
            c.add_stream(SSRC);
            Self {
                c,
                seq: 0,
                sent: 0,
                busy_until: Timestamp::ZERO,
                pending: Vec::new(),
                next_frame: Timestamp::ZERO,
                next_feedback: ms(100),
                blackout,
                max_age: TimeDelta::ZERO,
            }
        }

        fn in_blackout(&self, t: Timestamp) -> bool {
            t >= self.blackout.0 && t < self.blackout.1
        }

        /// Runs in 1 ms steps up to `until`, calling `each` every step.
        fn run(&mut self, until: Timestamp, mut each: impl FnMut(&mut Self, Timestamp)) {
            let mut now = self.next_frame.min(self.next_feedback);
            while now < until {
                if now >= self.next_frame {
                    // A 30 fps encoder at the encoder target, in full-size packets.
                    let frame = self.c.output().encoder_target.bps() / 30 / 8;
                    for _ in 0..frame.div_ceil(PACKET).max(1) {
                        let kind = PacketKind::Media {
                            ssrc: SSRC,
                            seq: self.seq,
                        };
                        self.seq = self.seq.wrapping_add(1);
                        let _ = self.c.enqueue(now, now, DataSize::from_bytes(PACKET), kind);
                    }
                    self.next_frame += TimeDelta::from_micros(33_333);
                }
                self.c.handle_timeout(now);
                while let Some(r) = self.c.poll_release(now, |_| None) {
                    self.max_age = self.max_age.max(now - r.payload);
                    let size = r.size.bytes();
                    let start = self.busy_until.max(now);
                    self.busy_until = start + TimeDelta::from_micros((size * 8_000 / 2_000) as i64);
                    let lost = self.in_blackout(self.busy_until);
                    let arrival = (!lost).then(|| self.busy_until + TimeDelta::from_millis(25));
                    self.pending.push(PacketResult {
                        sent: SentPacket {
                            sequence: self.sent,
                            send_time: now,
                            size: r.size,
                            probe: r.probe,
                        },
                        receive_time: arrival,
                    });
                    self.sent += 1;
                }
                if now >= self.next_feedback {
                    self.feedback(now);
                    self.next_feedback += TimeDelta::from_millis(100);
                }
                each(self, now);
                now += TimeDelta::from_millis(1);
            }
        }

        /// Reports every packet that arrived 25 ms or more ago, and every loss before it.
        fn feedback(&mut self, now: Timestamp) {
            if self.in_blackout(now - TimeDelta::from_millis(25)) {
                return;
            }
            let horizon = now - TimeDelta::from_millis(25);
            let Some(last) = self
                .pending
                .iter()
                .rposition(|p| p.receive_time.is_some_and(|a| a <= horizon))
            else {
                return;
            };
            let results: Vec<PacketResult> = self.pending.drain(..=last).collect();
            let through = results.last().map(|r| r.sent.send_time);
            if let Some(r) = results.last() {
                self.c.on_rtt(now, now - r.sent.send_time);
            }
            for r in &results {
                self.c.on_sent(now, &r.sent);
            }
            self.c.on_feedback(now, &results);
            self.c.feedback_done(now, through);
        }
    }

    /// An outage must not make the sender queue seconds of media and burst it into the link
    /// when it returns: the encoder comes down to its floor within about two seconds although
    /// no feedback arrives (one second before feedback counts as overdue, one of timer steps), nothing older than the queue time limit is ever sent, and the target
    /// the encoder sees is back within a second of the return.
    #[test]
    fn an_outage_brings_the_encoder_down_and_sends_no_stale_media_after_it() {
        let mut l = Loop::new((ms(5_000), ms(9_000)));
        l.run(ms(5_000), |_, _| {});
        let before = l.c.output();
        assert!(
            (1_200..=2_100).contains(&(before.target.bps() / 1_000)),
            "{before:?}"
        );
        assert!(l.max_age < TimeDelta::from_millis(200), "{:?}", l.max_age);
        let mut floor_at = None;
        l.run(ms(9_000), |l, now| {
            if floor_at.is_none() && l.c.output().encoder_target <= Bitrate::from_kbps(30) {
                floor_at = Some(now);
            }
        });
        let floor_at = floor_at.expect("the encoder is pushed to its floor");
        assert!(
            floor_at - ms(5_000) <= TimeDelta::from_millis(2_500),
            "floor reached at {floor_at:?}"
        );
        let stats = l.c.pacer_stats(ms(9_000));
        assert!(stats.stale_packets > 0, "{stats:?}");
        assert!(
            stats
                .queue_delay
                .is_some_and(|d| d <= TimeDelta::from_millis(1_040)),
            "{stats:?}"
        );
        l.max_age = TimeDelta::ZERO;
        let mut back_at = None;
        l.run(ms(12_000), |l, now| {
            if back_at.is_none() && l.c.output().encoder_target >= Bitrate::from_kbps(1_000) {
                back_at = Some(now);
            }
        });
        assert!(
            l.max_age <= TimeDelta::from_millis(1_040),
            "after the return nothing older than the limit leaves: {:?}",
            l.max_age
        );
        let back_at = back_at.expect("the encoder target returns");
        assert!(
            back_at - ms(9_000) <= TimeDelta::from_millis(1_000),
            "back at {back_at:?}"
        );
        let after = l.c.output();
        assert!(
            (1_000..=2_100).contains(&(after.target.bps() / 1_000)),
            "{after:?}"
        );
    }

    /// One output per call: after feedback the pacer paces at 2.5 × the estimator's target, and
    /// the encoder target is the target itself while nothing pushes back.
    #[test]
    fn the_pacer_follows_the_target_within_the_same_call() {
        let mut l = Loop::new((ms(60_000), ms(60_001)));
        l.run(ms(3_000), |_, _| {});
        let out = l.c.output();
        assert_eq!(out.encoder_target, out.target);
        let paced = out.target.mul_f64(2.5).bps() as f64;
        let ratio = out.pacing_rate.bps() as f64 / paced;
        assert!((0.999..=1.5).contains(&ratio), "{out:?}");
    }

    /// The first media of a known stream is what announces the network: the initial probe
    /// clusters (3× and 6× the start rate) go out with it, padded when media is short.
    #[test]
    fn the_first_media_starts_the_initial_probes() {
        let mut c: SendSideController<u32> = SendSideController::new(ControllerConfig::default());
        c.add_stream(SSRC);
        let now = ms(0);
        assert!(c.poll_release(now, |_| None).is_none());
        c.enqueue(
            now,
            1,
            DataSize::from_bytes(PACKET),
            PacketKind::Media { ssrc: SSRC, seq: 0 },
        )
        .expect("queued");
        let mut probes = 0;
        let mut padding = 0;
        let mut t = now;
        while t < ms(200) {
            c.handle_timeout(t);
            while let Some(r) = c.poll_release(t, |size| Some((0, size))) {
                probes += u32::from(r.probe.is_some());
                padding += u32::from(r.padding);
            }
            t += TimeDelta::from_millis(1);
        }
        assert!((10..=40).contains(&probes), "{probes} probe packets");
        assert!(padding + 1 >= probes, "{padding} padding of {probes}");
    }
}
