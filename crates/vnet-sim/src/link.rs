//! [`Link`]: one direction of a simulated path, driven sans-I/O.
//!
//! The loop is the same as every sans-I/O component's: hand packets in with
//! [`Link::handle_packet`], take deliveries out with [`Link::poll_delivery`], and ask
//! [`Link::poll_timeout`] when to come back. Time is an argument, never read from a clock, and
//! may jump: a caller can advance straight to the next timeout.
//!
//! # Stage order
//!
//! A link built from a [`LinkConfig`] chains its stages as a router and a wire would:
//!
//! 1. **bottleneck** — the drop-tail queue and the capacity that drains it;
//! 2. **blackout** — the wire is cut: what leaves the queue in a window is lost;
//! 3. **loss** — random loss on the path, after the bottleneck, so lost packets have used
//!    capacity (as on a lossy last hop). libwebrtc's `SimulatedNetwork` drops at enqueue
//!    instead, which frees capacity for the survivors and flatters a loss-based controller;
//! 4. **duplication**;
//! 5. **propagation delay**, constant or changing in steps; a decrease lets packets overtake
//!    only when the link allows reordering;
//! 6. **jitter** — last, so that without reordering it never lets a packet overtake.
//!
//! Other orders can be assembled by hand from the stage types and [`Link::from_stages`].

use crate::blackout::{Blackout, Window};
use crate::config::{ConfigError, LinkConfig, LinkError};
use crate::delay::{Delay, DelaySchedule};
use crate::duplicate::Duplicate;
use crate::jitter::Jitter;
use crate::loss::Loss;
use crate::packet::{Delivered, InFlight, Packet};
use crate::queue::Bottleneck;
use crate::schedule::RateSchedule;
use crate::seed::stream;
use crate::stage::{Control, Exit, Sink, Stage};
use crate::stats::{LinkStats, PacketRecord};
use crate::time::SimTime;

/// The chain a [`LinkConfig`] builds; see the module docs for the order.
pub type Pipeline<T> = Bottleneck<T, Blackout<Loss<Duplicate<Delay<T, Jitter<T, Exit>>>>>>;

/// Labels of the random streams a [`LinkConfig`] link draws from, one per stage: stage `label`
/// draws from [`crate::seed::stream`]`(seed, label)`.
pub const STREAM_LABELS: [&str; 3] = ["loss", "duplicate", "jitter"];

/// One direction of a simulated path: a chain of stages `S` carrying payloads `T`.
#[derive(Debug)]
pub struct Link<T, S = Pipeline<T>> {
    stages: S,
    sink: Sink<T>,
    /// The latest `now` seen; earlier ones are taken as this.
    now: SimTime,
    next_seq: u64,
}

/// The chain of stages `config` describes, for wrapping in a stage of one's own (a
/// [`crate::Capture`], say) before [`Link::from_stages`]. Its random stages draw from streams
/// derived from `seed` and their names ([`STREAM_LABELS`]).
pub fn pipeline<T: Clone>(config: &LinkConfig, seed: u64) -> Result<Pipeline<T>, ConfigError> {
    config.validate()?;
    let [loss_label, duplicate_label, jitter_label] = STREAM_LABELS;
    let jitter = Jitter::new(config.jitter, stream(seed, jitter_label), Exit);
    let delay = Delay::with_schedule(config.delay_schedule(), config.jitter.reorder, jitter);
    let duplicate = Duplicate::new(config.duplicate, stream(seed, duplicate_label), delay)?;
    let loss = Loss::new(config.loss, stream(seed, loss_label), duplicate)?;
    let blackout = Blackout::new(config.blackouts.iter().copied(), loss);
    Ok(Bottleneck::new(&config.capacity, config.queue, blackout))
}

impl<T: Clone> Link<T> {
    /// Builds the link `config` describes. Its random stages draw from streams derived from
    /// `seed` and their names ([`STREAM_LABELS`]), so a link's numbers depend only on its own
    /// seed and configuration.
    pub fn new(config: &LinkConfig, seed: u64) -> Result<Self, ConfigError> {
        Ok(Self::from_stages(
            pipeline(config, seed)?,
            config.record_log,
        ))
    }
}

impl<T, S: Stage<T>> Link<T, S> {
    /// A link running `stages`, assembled by hand; `record_log` keeps a per-packet log.
    pub fn from_stages(stages: S, record_log: bool) -> Self {
        Self {
            stages,
            sink: Sink::new(record_log),
            now: SimTime::ZERO,
            next_seq: 0,
        }
    }

    /// Hands `packet` to the link at `now`.
    pub fn handle_packet(&mut self, now: SimTime, packet: Packet<T>) {
        let now = self.clock(now);
        self.sink.stats_mut().sent.add(packet.size);
        let packet = InFlight {
            packet,
            seq: self.next_seq,
            sent: now,
            duplicate: false,
            queue_delay: None,
        };
        self.next_seq += 1;
        self.stages.handle(now, packet, &mut self.sink);
    }

    /// The next packet delivered at the far end by `now`, in time order; `None` when there is
    /// none yet. Call until `None`.
    pub fn poll_delivery(&mut self, now: SimTime) -> Option<Delivered<T>> {
        let now = self.clock(now);
        if !self.sink.has_delivered() {
            self.stages.advance(now, &mut self.sink);
        }
        self.sink
            .pop_delivered()
            .map(|(at, packet)| Delivered::new(at, packet))
    }

    /// When to call [`poll_delivery`](Self::poll_delivery) next: the next instant something
    /// inside the link is due to move (a packet leaving the queue, the wire, the jitter buffer),
    /// never earlier than the latest `now` given. A delivery need not be due then: stages pass
    /// packets on lazily, so that a change made in between (a blackout, a new capacity) still
    /// applies to them. `None` when nothing is in flight (or what is will never arrive).
    pub fn poll_timeout(&self) -> Option<SimTime> {
        if self.sink.has_delivered() {
            return Some(self.now);
        }
        self.stages.next_event().map(|t| t.max(self.now))
    }

    /// Replaces the bottleneck's capacity from `now` on (a [`crate::Rate`] converts). The
    /// schedule's offsets count from `now`; the packet in service keeps the bytes already sent.
    pub fn set_capacity(
        &mut self,
        now: SimTime,
        schedule: impl Into<RateSchedule>,
    ) -> Result<(), LinkError> {
        let schedule = schedule.into();
        self.control(now, &Control::SetCapacity(&schedule), "bottleneck")
    }

    /// Replaces the propagation delay from `now` on (a [`crate::SimDuration`] converts). The
    /// schedule's offsets count from `now`; packets on the wire keep the delay they were sent
    /// with.
    pub fn set_delay(
        &mut self,
        now: SimTime,
        schedule: impl Into<DelaySchedule>,
    ) -> Result<(), LinkError> {
        let schedule = schedule.into();
        self.control(now, &Control::SetDelay(&schedule), "delay")
    }

    /// Adds a blackout window (in absolute time; the part before `now` has no effect).
    pub fn add_blackout(&mut self, now: SimTime, window: Window) -> Result<(), LinkError> {
        self.control(now, &Control::AddBlackout(window), "blackout")
    }

    /// Ends every blackout window at `now` (one in force stops, later ones never start): the
    /// wire is mended.
    pub fn end_blackouts(&mut self, now: SimTime) -> Result<(), LinkError> {
        self.control(now, &Control::EndBlackouts, "blackout")
    }

    /// Totals since the link was built.
    pub fn stats(&self) -> &LinkStats {
        self.sink.stats()
    }

    /// The per-packet log so far (empty unless [`LinkConfig::record_log`] is on), in the order
    /// packets met their fate. Packets still in flight are not in it yet.
    pub fn log(&self) -> &[PacketRecord] {
        self.sink.log()
    }

    /// Takes the per-packet log so far, leaving it empty, for callers that stream it out.
    pub fn take_log(&mut self) -> Vec<PacketRecord> {
        self.sink.take_log()
    }

    /// The latest `now` the link has been given.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The chain of stages, to read a stage's own state (a [`crate::Capture`]'s records).
    pub fn stages(&self) -> &S {
        &self.stages
    }

    /// The chain of stages, to take what a stage collected ([`crate::Capture::take_pcap`]).
    pub fn stages_mut(&mut self) -> &mut S {
        &mut self.stages
    }

    fn control(
        &mut self,
        now: SimTime,
        command: &Control<'_>,
        stage: &'static str,
    ) -> Result<(), LinkError> {
        let now = self.clock(now);
        self.stages.advance(now, &mut self.sink);
        if self.stages.control(now, command, &mut self.sink) {
            Ok(())
        } else {
            Err(LinkError::NoSuchStage { stage })
        }
    }

    /// Time only moves forward: an earlier `now` is taken as the latest one seen.
    #[inline]
    fn clock(&mut self, now: SimTime) -> SimTime {
        self.now = self.now.max(now);
        self.now
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jitter::{JitterConfig, JitterDistribution};
    use crate::loss::LossModel;
    use crate::queue::QueueLimit;
    use crate::rate::Rate;
    use crate::time::SimDuration;

    /// Every delivery due by `until`.
    pub(crate) fn drain<T, S: Stage<T>>(
        link: &mut Link<T, S>,
        until: SimTime,
    ) -> Vec<Delivered<T>> {
        std::iter::from_fn(|| link.poll_delivery(until)).collect()
    }

    fn impaired(seed: u64, reorder: bool, capacity: RateSchedule) -> Link<u64> {
        let config = LinkConfig {
            capacity,
            queue: QueueLimit::Time(SimDuration::from_millis(80)),
            blackouts: vec![Window::new(
                SimTime::from_millis(700),
                SimTime::from_millis(750),
            )],
            loss: LossModel::GilbertElliott {
                mean_loss: 0.03,
                mean_burst: 2.0,
            },
            duplicate: 0.01,
            delay: SimDuration::from_millis(20),
            delay_steps: vec![(SimDuration::from_millis(400), SimDuration::from_millis(5))],
            jitter: JitterConfig {
                distribution: JitterDistribution::Uniform {
                    max: SimDuration::from_millis(8),
                },
                reorder,
            },
            record_log: true,
        };
        Link::new(&config, seed).expect("valid config")
    }

    /// A varied load: bursts of 20 every 20 ms, mixed sizes, 6 Mbit/s on average.
    fn send_times() -> impl Iterator<Item = (SimTime, u32)> {
        (0..6_000u64).map(|i| {
            let burst = i / 20;
            let t = SimTime::from_micros(burst * 20_000 + (i % 20) * 50);
            (t, 100 + ((i * 7_919) % 1_300) as u32)
        })
    }

    /// A shared link's log is split per sender by the origin tag, so the link must copy it
    /// unchanged, and untagged packets must read as origin 0.
    #[test]
    fn the_log_carries_each_packets_origin() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(5),
            record_log: true,
            ..LinkConfig::default()
        };
        let mut link: Link<u64> = Link::new(&config, 1).expect("valid config");
        link.handle_packet(SimTime::ZERO, Packet::new(1, 100).with_origin(7));
        link.handle_packet(SimTime::ZERO, Packet::new(2, 100));
        let delivered = drain(&mut link, SimTime::from_millis(5));
        let origins: Vec<u32> = delivered.iter().map(|d| d.packet.origin).collect();
        assert_eq!(origins, vec![7, 0]);
        let logged: Vec<u32> = link.log().iter().map(|r| r.origin).collect();
        assert_eq!(logged, vec![7, 0]);
    }

    /// Runs `link` event by event, checking the sans-I/O contract at every step.
    fn drive(link: &mut Link<u64>) -> Vec<Delivered<u64>> {
        let mut sends = send_times().peekable();
        let mut out: Vec<Delivered<u64>> = Vec::new();
        let mut now = SimTime::ZERO;
        let mut id = 0;
        loop {
            let timeout = link.poll_timeout();
            if let Some(t) = timeout {
                assert!(t >= now, "timeout {t} before now {now}");
            }
            let next = match (sends.peek().map(|s| s.0), timeout) {
                (Some(s), Some(t)) => s.min(t),
                (Some(s), None) => s,
                (None, Some(t)) => t,
                (None, None) => break,
            };
            now = next;
            while let Some((_, size)) = sends.next_if(|s| s.0 <= now) {
                link.handle_packet(now, Packet::new(id, size));
                id += 1;
            }
            while let Some(d) = link.poll_delivery(now) {
                assert!(d.at <= now && d.at >= d.sent, "{d:?} at {now}");
                if let Some(prev) = out.last() {
                    assert!(prev.at <= d.at, "{prev:?} then {d:?}");
                }
                out.push(d);
            }
        }
        out
    }

    fn trace_5mbps() -> RateSchedule {
        // Opportunities at 1, 3, 3, 7 and 12 ms of a 12 ms period: 5 × 1500 B per 12 ms.
        RateSchedule::from_mahimahi("1\n3\n3\n7\n12\n").expect("valid trace")
    }

    /// The whole simulator rests on the loop contract: timeouts never in the past, deliveries in
    /// time order, whatever the stages do.
    #[test]
    fn poll_timeout_never_precedes_now_and_deliveries_come_in_time_order() {
        for reorder in [false, true] {
            for capacity in [Rate::from_mbps(5).into(), trace_5mbps()] {
                let mut link = impaired(1, reorder, capacity);
                let got = drive(&mut link);
                assert!(got.len() > 4_000, "{}", got.len());
                assert_eq!(link.poll_timeout(), None);
            }
        }
    }

    /// Same seed, same run: the property every regression test and bug report relies on.
    #[test]
    fn the_same_seed_gives_an_identical_packet_log() {
        let mut a = impaired(42, true, trace_5mbps());
        let mut b = impaired(42, true, trace_5mbps());
        let (da, db) = (drive(&mut a), drive(&mut b));
        assert_eq!(da, db);
        assert_eq!(a.log(), b.log());
        assert_eq!(a.log().len(), 6_000 + a.stats().duplicated.packets as usize);
        assert!(a.stats().dropped_loss.packets > 0 && a.stats().dropped_queue_full.packets > 0);
    }

    /// A seed must matter: different seeds must give different loss and jitter.
    #[test]
    fn different_seeds_give_different_packet_logs() {
        let mut a = impaired(42, true, trace_5mbps());
        let mut b = impaired(43, true, trace_5mbps());
        drive(&mut a);
        drive(&mut b);
        assert_ne!(a.log(), b.log());
        let fates = |l: &Link<u64>| l.log().iter().map(|r| (r.seq, r.fate)).collect::<Vec<_>>();
        assert_ne!(fates(&a), fates(&b));
    }

    /// Every packet must be accounted for: none vanish, none appear from nowhere.
    #[test]
    fn every_packet_is_delivered_or_dropped_exactly_once() {
        let mut link = impaired(5, false, Rate::from_mbps(3).into());
        let got = drive(&mut link);
        let s = *link.stats();
        assert_eq!(s.sent.packets, 6_000);
        assert_eq!(
            s.sent.packets + s.duplicated.packets,
            s.delivered.packets + s.dropped_total().packets
        );
        assert_eq!(
            s.sent.bytes + s.duplicated.bytes,
            s.delivered.bytes + s.dropped_total().bytes
        );
        assert_eq!(got.len() as u64, s.delivered.packets);
        assert!(s.dropped_blackout.packets > 0);
    }

    /// Stages compose in any order: loss in front of the queue (libwebrtc's order) must spare the
    /// queue, fault hooks must reach a stage wherever it sits, and a missing stage is an error.
    #[test]
    fn stages_assembled_in_another_order_compose() {
        use crate::loss::Loss;
        use crate::queue::Bottleneck;
        let stages = Loss::new(
            LossModel::Bernoulli { probability: 0.5 },
            stream(1, "loss"),
            Bottleneck::new(
                &Rate::from_mbps(1).into(),
                QueueLimit::Unlimited,
                Delay::new(SimDuration::from_millis(5), Exit),
            ),
        )
        .expect("valid model");
        let mut link = Link::from_stages(stages, true);
        for i in 0..1_000u32 {
            link.handle_packet(SimTime::ZERO, Packet::new(i, 125)); // 1 ms each
        }
        link.set_capacity(SimTime::ZERO, Rate::from_mbps(2))
            .expect("the bottleneck is reachable behind the loss stage");
        assert_eq!(
            link.add_blackout(SimTime::ZERO, Window::new(SimTime::ZERO, SimTime::MAX)),
            Err(LinkError::NoSuchStage { stage: "blackout" })
        );
        let got = drain(&mut link, SimTime::from_secs(10));
        let s = link.stats();
        // Lost packets never reached the queue, so survivors leave back to back at 0.5 ms each.
        assert_eq!(s.queue_delay.count, s.delivered.packets);
        assert!((450..550).contains(&got.len()), "{}", got.len());
        let last = got.last().map(|d| d.at);
        let want = SimTime::from_micros(500 * got.len() as u64 + 5_000);
        assert_eq!(last, Some(want));
    }

    /// A caller's clock going backwards must not panic or reorder; it is taken as "now".
    #[test]
    fn an_earlier_now_is_treated_as_the_latest() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(10),
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 0).expect("valid config");
        link.handle_packet(SimTime::from_millis(50), Packet::new(1u8, 10));
        link.handle_packet(SimTime::from_millis(20), Packet::new(2u8, 10));
        let got = drain(&mut link, SimTime::from_millis(60));
        assert_eq!(
            got.iter().map(|d| d.sent).collect::<Vec<_>>(),
            [SimTime::from_millis(50), SimTime::from_millis(50)]
        );
        assert_eq!(link.poll_delivery(SimTime::ZERO), None);
    }
}
