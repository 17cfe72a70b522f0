//! What the probing pacer publishes to the [`BweHandle`](crate::BweHandle).

use bwe_core::{Bitrate, DataSize, TimeDelta};

/// The pacer's figures, refreshed on its timeouts (at most every
/// [`PacerConfig::publish_interval`](crate::PacerConfig::publish_interval)) and on every drop.
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
    /// NACKs rewritten from wire to application sequence numbers.
    pub nacks_translated: u64,
    /// Retransmissions (RTX or on the media SSRC) queued.
    pub retransmissions: u64,
    /// Retransmissions refused: the same packet was still queued or resent too recently, or
    /// new media had left too little of the target (see the pacer's module docs).
    pub retransmissions_refused: u64,
    /// The congestion window: (RTT + accepted queue) × target, at least 3 000 bytes; `None`
    /// until the estimator knows a round-trip time, or when the window is turned off.
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
    /// ratio (see the pacer's module docs); `None` while the ratio is 1. The handle's target is
    /// the lower of this and the estimator's.
    pub pushback_target: Option<Bitrate>,
}
