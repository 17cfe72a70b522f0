//! The [`Stage`] seam: every impairment is a small wrapper around the next stage.
//!
//! A link is a chain like `Bottleneck<Blackout<Loss<…<Exit>>>>`: each stage does one thing to
//! the packets it is handed and passes survivors to the stage it wraps, now or later. Stages
//! compose in any order and cost nothing when disabled; the chain is a concrete type, so the
//! compiler inlines it into straight-line code (the alternative, a `Vec<Box<dyn Stage>>`, costs
//! an indirect call per stage per packet and gains only run-time reordering, which no caller
//! needs: a configuration is fixed when the link is built).
//!
//! Time moves forward only. A stage is handed packets with non-decreasing `now`, and
//! [`Stage::advance`] releases, in time order, every packet due by `now`, each stamped with the
//! instant it leaves. Because every stage emits in time order, the stage after it also sees
//! non-decreasing times, and the link's deliveries come out in time order.

use std::collections::VecDeque;

use crate::blackout::Window;
use crate::delay::DelaySchedule;
use crate::packet::InFlight;
use crate::schedule::RateSchedule;
use crate::stats::{DropCause, Fate, LinkStats, PacketRecord};
use crate::time::SimTime;

/// One step of a link's pipeline, wrapping the next.
pub trait Stage<T> {
    /// A packet reaches this stage at `now`. Calls come with non-decreasing `now`, never earlier
    /// than the last [`advance`](Stage::advance).
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>);

    /// Passes on, in time order, everything this stage holds that is due at or before `now`,
    /// then advances the wrapped stage to `now`.
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>);

    /// The earliest instant at which this stage or one it wraps has something to pass on;
    /// `None` when nothing is pending.
    fn next_event(&self) -> Option<SimTime>;

    /// Applies `command` if this stage understands it, otherwise hands it to the wrapped stage.
    /// `true` when some stage applied it. The link has advanced to `now` before calling.
    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool;
}

/// A change to a link made while it runs, for fault injection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Control<'a> {
    /// Replace the bottleneck's rate schedule from `now` on.
    SetCapacity(&'a RateSchedule),
    /// Add a blackout window.
    AddBlackout(Window),
    /// End every blackout window at `now`: windows in force stop now, later ones are dropped.
    EndBlackouts,
    /// Replace the propagation delay's schedule from `now` on.
    SetDelay(&'a DelaySchedule),
}

/// Where packets end: delivered packets wait here for [`crate::Link::poll_delivery`]; drops and
/// deliveries are counted here.
#[derive(Debug)]
pub struct Sink<T> {
    delivered: VecDeque<(SimTime, InFlight<T>)>,
    stats: LinkStats,
    log: Option<Vec<PacketRecord>>,
}

impl<T> Sink<T> {
    pub(crate) fn new(record_log: bool) -> Self {
        Self {
            delivered: VecDeque::with_capacity(64),
            stats: LinkStats::default(),
            log: record_log.then(Vec::new),
        }
    }

    /// Delivers `packet` at the far end at `at`.
    #[inline]
    pub fn deliver(&mut self, at: SimTime, packet: InFlight<T>) {
        self.stats.delivered.add(packet.size());
        self.record(at, &packet, Fate::Delivered);
        self.delivered.push_back((at, packet));
    }

    /// Drops `packet` at `at` for `cause`.
    #[inline]
    pub fn drop_packet(&mut self, at: SimTime, packet: InFlight<T>, cause: DropCause) {
        self.stats.dropped_mut(cause).add(packet.size());
        self.record(at, &packet, Fate::Dropped(cause));
    }

    /// Totals so far.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut LinkStats {
        &mut self.stats
    }

    pub(crate) fn log(&self) -> &[PacketRecord] {
        self.log.as_deref().unwrap_or(&[])
    }

    pub(crate) fn take_log(&mut self) -> Vec<PacketRecord> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(crate) fn pop_delivered(&mut self) -> Option<(SimTime, InFlight<T>)> {
        self.delivered.pop_front()
    }

    pub(crate) fn has_delivered(&self) -> bool {
        !self.delivered.is_empty()
    }

    #[inline]
    fn record(&mut self, at: SimTime, p: &InFlight<T>, fate: Fate) {
        if let Some(log) = &mut self.log {
            log.push(PacketRecord {
                seq: p.seq,
                duplicate: p.duplicate,
                sent: p.sent,
                at,
                size: p.size(),
                queue_delay: p.queue_delay,
                fate,
                origin: p.packet.origin,
            });
        }
    }
}

/// The end of every chain: hands packets to the [`Sink`] as delivered.
#[derive(Clone, Copy, Debug, Default)]
pub struct Exit;

impl<T> Stage<T> for Exit {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        sink.deliver(now, packet);
    }

    #[inline]
    fn advance(&mut self, _now: SimTime, _sink: &mut Sink<T>) {}

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        None
    }

    fn control(&mut self, _now: SimTime, _command: &Control<'_>, _sink: &mut Sink<T>) -> bool {
        false
    }
}

/// The earlier of two optional instants.
#[inline]
pub(crate) fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
