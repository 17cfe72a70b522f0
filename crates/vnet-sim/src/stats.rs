//! What a link counts: [`LinkStats`] totals, and an optional per-packet log of [`PacketRecord`]s.
//!
//! Totals are always kept (a few additions per packet). The per-packet log costs an allocation
//! now and then and memory per packet, so it is off unless [`crate::LinkConfig::record_log`] asks
//! for it; it is what determinism tests compare and what a harness turns into one-way-delay plots.

use crate::time::{SimDuration, SimTime};

/// Why a link dropped a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropCause {
    /// The bottleneck queue was full when the packet arrived (drop-tail).
    QueueFull,
    /// Random loss (Bernoulli or Gilbert–Elliott).
    Loss,
    /// The packet met a blackout window.
    Blackout,
}

/// What became of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Delivered at the far end of the link.
    Delivered,
    /// Dropped inside the link.
    Dropped(DropCause),
}

/// One packet's passage through a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketRecord {
    /// The packet's sequence number on this link: 0 for the first packet handed to it.
    pub seq: u64,
    /// A copy made by the duplication stage (it shares `seq` with the original).
    pub duplicate: bool,
    /// When the packet entered the link.
    pub sent: SimTime,
    /// When it was delivered or dropped.
    pub at: SimTime,
    /// Its size, bytes.
    pub size: u32,
    /// Time it spent in the bottleneck, waiting and serialising; `None` if it never left one
    /// (dropped at or before it, or the link has none).
    pub queue_delay: Option<SimDuration>,
    /// Delivered, or dropped and why.
    pub fate: Fate,
    /// The packet's [`crate::Packet::origin`]: in a simulation, the [`crate::HostId::index`] of
    /// the host that sent it, kept across every hop, so a link several hosts send through can
    /// be split per sender.
    pub origin: u32,
}

/// A count of packets and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counter {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Counter {
    #[inline]
    pub(crate) fn add(&mut self, size: u32) {
        self.packets += 1;
        self.bytes += u64::from(size);
    }
}

/// Time packets spent in the bottleneck: from arriving at the queue to the last bit leaving it
/// (waiting plus their own serialisation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueDelayStats {
    /// Packets that left the bottleneck.
    pub count: u64,
    /// The sum of their delays.
    pub sum: SimDuration,
    /// The longest delay; `None` before any packet has left.
    pub max: Option<SimDuration>,
}

impl QueueDelayStats {
    #[inline]
    pub(crate) fn add(&mut self, delay: SimDuration) {
        self.count += 1;
        self.sum += delay;
        self.max = Some(self.max.map_or(delay, |m| m.max(delay)));
    }

    /// The mean delay; `None` before any packet has left.
    pub fn mean(&self) -> Option<SimDuration> {
        (self.count > 0).then(|| SimDuration::from_nanos(self.sum.as_nanos() / self.count))
    }
}

/// Totals for one link since it was built.
///
/// Duplicates count in `duplicated` when made and then like any packet (delivered or dropped);
/// so `packets_in + duplicated = delivered + dropped + in flight`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LinkStats {
    /// Packets handed to the link.
    pub sent: Counter,
    /// Packets delivered at the far end, duplicates included.
    pub delivered: Counter,
    /// Dropped because the queue was full.
    pub dropped_queue_full: Counter,
    /// Dropped by random loss.
    pub dropped_loss: Counter,
    /// Dropped in a blackout window.
    pub dropped_blackout: Counter,
    /// Copies made by the duplication stage.
    pub duplicated: Counter,
    /// Time spent in the bottleneck by each packet that left it.
    pub queue_delay: QueueDelayStats,
}

impl LinkStats {
    /// The drops for one cause.
    pub fn dropped(&self, cause: DropCause) -> Counter {
        match cause {
            DropCause::QueueFull => self.dropped_queue_full,
            DropCause::Loss => self.dropped_loss,
            DropCause::Blackout => self.dropped_blackout,
        }
    }

    /// All drops, whatever the cause.
    pub fn dropped_total(&self) -> Counter {
        let parts = [
            self.dropped_queue_full,
            self.dropped_loss,
            self.dropped_blackout,
        ];
        Counter {
            packets: parts.iter().map(|c| c.packets).sum(),
            bytes: parts.iter().map(|c| c.bytes).sum(),
        }
    }

    pub(crate) fn dropped_mut(&mut self, cause: DropCause) -> &mut Counter {
        match cause {
            DropCause::QueueFull => &mut self.dropped_queue_full,
            DropCause::Loss => &mut self.dropped_loss,
            DropCause::Blackout => &mut self.dropped_blackout,
        }
    }
}
