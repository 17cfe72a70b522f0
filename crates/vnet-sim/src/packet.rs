//! Packets as a link sees them: an opaque payload, a size and an origin tag.
//!
//! The link never looks inside the payload; it is generic so that a test can send `u64` ids and a
//! runtime can send datagrams through the same code. The size is given separately because it is
//! what the link's capacity and queue act on, and a payload's in-memory size (a `Vec`, an id)
//! need not be its size on the wire (headers).
//!
//! The origin is a plain number the link copies into its per-packet log and never acts on. A
//! runtime that lets several senders share one link (a bottleneck behind a router) sets it to
//! the sending host, so the shared link's log can be split per flow; reading it out of the
//! payload instead would make the log generic over the payload type, or the link look inside it.

use crate::time::{SimDuration, SimTime};

/// Bytes a wire carries on top of a UDP payload over IPv4: a 20-byte IP header and an 8-byte UDP
/// header. Link-layer framing is not counted, as in mahimahi and ns-3's point-to-point default.
pub const UDP_IPV4_OVERHEAD: u32 = 28;

/// A packet handed to a link: payload, size on the wire, and the tag of where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet<T> {
    /// Carried through untouched.
    pub payload: T,
    /// Size on the wire, bytes: what serialisation and queue limits count.
    pub size: u32,
    /// Who sent it, as the caller numbers senders; copied into [`crate::PacketRecord::origin`]
    /// and otherwise ignored. The simulation runtime writes the sending host's
    /// [`crate::HostId::index`]; a packet built with [`Packet::new`] has origin 0.
    pub origin: u32,
}

impl<T> Packet<T> {
    /// A packet of `size` bytes carrying `payload`, from origin 0.
    pub fn new(payload: T, size: u32) -> Self {
        Self {
            payload,
            size,
            origin: 0,
        }
    }

    /// The same packet tagged with `origin`.
    #[must_use]
    pub fn with_origin(self, origin: u32) -> Self {
        Self { origin, ..self }
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
