//! Packets as a link sees them: an opaque payload and a size.
//!
//! The link never looks inside the payload; it is generic so that a test can send `u64` ids and a
//! runtime can send datagrams through the same code. The size is given separately because it is
//! what the link's capacity and queue act on, and a payload's in-memory size (a `Vec`, an id)
//! need not be its size on the wire (headers).

use crate::time::{SimDuration, SimTime};

/// A packet handed to a link: payload and size on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet<T> {
    /// Carried through untouched.
    pub payload: T,
    /// Size on the wire, bytes: what serialisation and queue limits count.
    pub size: u32,
}

impl<T> Packet<T> {
    /// A packet of `size` bytes carrying `payload`.
    pub fn new(payload: T, size: u32) -> Self {
        Self { payload, size }
    }
}

/// A packet inside a link, with what the link knows about it.
///
/// Stages receive and pass these on; only the link creates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight<T> {
    pub(crate) packet: Packet<T>,
    pub(crate) seq: u64,
    pub(crate) sent: SimTime,
    pub(crate) duplicate: bool,
    pub(crate) queue_delay: Option<SimDuration>,
}

impl<T> InFlight<T> {
    /// Size on the wire, bytes.
    #[inline]
    pub fn size(&self) -> u32 {
        self.packet.size
    }

    /// The packet's sequence number on its link (duplicates share the original's).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When the packet entered the link.
    pub fn sent(&self) -> SimTime {
        self.sent
    }

    /// Whether this is a copy made by the duplication stage.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate
    }

    /// The packet itself.
    pub fn packet(&self) -> &Packet<T> {
        &self.packet
    }

    /// Time spent in the bottleneck, waiting and serialising; `None` until it has left one.
    pub fn queue_delay(&self) -> Option<SimDuration> {
        self.queue_delay
    }
}

/// A packet delivered at the far end of a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered<T> {
    /// The packet as it was sent.
    pub packet: Packet<T>,
    /// Its sequence number on the link: 0 for the first packet handed to it.
    pub seq: u64,
    /// When it entered the link.
    pub sent: SimTime,
    /// When it arrived at the far end.
    pub at: SimTime,
    /// A copy made by the duplication stage.
    pub duplicate: bool,
    /// Time spent in the bottleneck, waiting and serialising; `None` if the link has none.
    pub queue_delay: Option<SimDuration>,
}

impl<T> Delivered<T> {
    pub(crate) fn new(at: SimTime, p: InFlight<T>) -> Self {
        Self {
            packet: p.packet,
            seq: p.seq,
            sent: p.sent,
            at,
            duplicate: p.duplicate,
            queue_delay: p.queue_delay,
        }
    }
}
