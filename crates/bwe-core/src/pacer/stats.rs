//! [`PacerStats`]: the pacer's figures, for the application and for tests.

use crate::units::{Bitrate, DataSize, TimeDelta};

/// What the pacer has done and holds. Counters are totals since construction.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct PacerStats {
    /// The rate media is paced at: the target × the pacing factor, raised when the queue would
    /// otherwise take longer than `max_queue_time` to drain.
    pub pacing_rate: Option<Bitrate>,
    /// How long the oldest queued packet has waited (zero when the queue is empty).
    pub queue_delay: Option<TimeDelta>,
    /// Packets waiting.
    pub queued_packets: u64,
    /// Bytes waiting.
    pub queued_bytes: DataSize,
    /// Packets refused because the queue was full.
    pub dropped_packets: u64,
    /// Media packets dropped because they had waited longer than the queue time limit.
    pub stale_packets: u64,
    /// Bytes of those packets.
    pub stale_bytes: DataSize,
    /// Media packets released.
    pub media_packets: u64,
    /// Padding packets generated to fill probe clusters.
    pub padding_packets: u64,
    /// Bytes of padding packets on the wire (headers included).
    pub padding_bytes: DataSize,
    /// Probe clusters sent in full.
    pub clusters_sent: u64,
    /// Probe clusters abandoned: no stream to pad on and no media to send.
    pub clusters_skipped: u64,
    /// NACKs rewritten from wire to application sequence numbers (counted by the adapter that
    /// renumbers).
    pub nacks_translated: u64,
    /// Retransmissions queued.
    pub retransmissions: u64,
    /// Retransmissions refused: the same packet was still queued or resent too recently, its
    /// original is too old, or new media had left too little of the target.
    pub retransmissions_refused: u64,
    /// The congestion window: (RTT + accepted queue) × target, at least 3 000 bytes; `None`
    /// until a round-trip time is known, or when the window is turned off.
    pub congestion_window: Option<DataSize>,
    /// Bytes released and not yet resolved by feedback.
    pub in_flight: DataSize,
    /// How often the window became full (media, padding and probes held).
    pub congestion_window_full_count: u64,
    /// How long the window has been full in all (the current spell included up to the last
    /// refresh).
    pub congestion_window_full_time: TimeDelta,
    /// Packets let through a full window because nothing had left for the keep-alive interval.
    pub keepalive_packets: u64,
    /// Probe clusters abandoned part-way because the window became full.
    pub clusters_interrupted: u64,
    /// The encoder target pushed back because the window is filling: the target × the pushback
    /// ratio; `None` while the ratio is 1.
    pub pushback_target: Option<Bitrate>,
}
