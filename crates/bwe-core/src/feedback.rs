//! What the send side knows about each packet: when and how it was sent, and what the remote
//! later said about it.
//!
//! The joining of sent-packet records with feedback (TWCC sequence numbers, RFC 8888 per-SSRC
//! sequence numbers) is left to the caller — an interceptor already keeps that history — so the
//! estimator receives ready-made [`PacketResult`]s and keeps no per-packet map of its own.

use crate::units::{DataSize, Timestamp};

/// Marks a packet as part of a probe cluster, so its feedback can be attributed to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeInfo {
    /// The cluster's id, as given in [`crate::probe::controller::ProbeCluster`].
    pub cluster_id: u32,
    /// How many packets of the cluster must be acknowledged before a result is trusted.
    pub min_probes: u32,
    /// How many bytes of the cluster must be acknowledged before a result is trusted.
    pub min_bytes: DataSize,
}

/// One packet as it left this endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SentPacket {
    /// A per-sender sequence number that increases with send order and never wraps
    /// (e.g. an unwrapped transport-wide sequence number).
    pub sequence: u64,
    /// When the packet left this endpoint (after the pacer), on the local clock.
    pub send_time: Timestamp,
    /// Size on the wire, including headers.
    pub size: DataSize,
    /// Set when the packet belongs to a probe cluster.
    pub probe: Option<ProbeInfo>,
}

/// One packet's fate as reported by feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketResult {
    /// The packet as it was sent.
    pub sent: SentPacket,
    /// When it arrived, on the **remote** clock; `None` if reported lost.
    pub receive_time: Option<Timestamp>,
}

impl PacketResult {
    /// Whether the remote reported the packet as received.
    pub const fn is_received(&self) -> bool {
        self.receive_time.is_some()
    }
}

/// The sequence-number space a feedback range is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SequenceSpace {
    /// Transport-wide sequence numbers (TWCC).
    Transport,
    /// One RTP stream's own sequence numbers (RFC 8888 reports per SSRC).
    Stream(u32),
}

/// One feedback message's range: `count` sequence numbers from `begin` (wrapping), received at
/// `at` on the local clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CoveredRange {
    space: SequenceSpace,
    begin: u16,
    count: u16,
    at: Timestamp,
}

/// How many feedback ranges [`FeedbackCoverage`] remembers: at one TWCC message per 100 ms
/// (rtc and libwebrtc receivers) that is 12.8 s, and at several RFC 8888 blocks per message
/// still seconds, far longer than a packet waits for its report.
pub const COVERAGE_RANGES: usize = 128;

/// Which sequence numbers a feedback message has reported on, received or not.
///
/// A packet is **lost** only when feedback says so: a TWCC status "not received", an RFC 8888
/// block with the received bit clear. A packet no feedback ever mentioned — because the
/// message that would have covered it was itself lost, late or reordered — is **unknown**: it
/// counts neither as received nor as lost. Send-history joins (rtc-interceptor 0.21's included)
/// report both cases the same way, as "not arrived"; this record tells them apart. Each
/// feedback message's range is recorded as it arrives; a "not arrived" report is a real loss
/// iff a range received after the packet left covers its sequence number.
///
/// Fixed size, no allocation: a ring of the last [`COVERAGE_RANGES`] ranges.
#[derive(Debug, Clone)]
pub struct FeedbackCoverage {
    ranges: [Option<CoveredRange>; COVERAGE_RANGES],
    next: usize,
    recorded: u64,
}

impl Default for FeedbackCoverage {
    fn default() -> Self {
        Self::new()
    }
}

impl FeedbackCoverage {
    /// An empty record.
    pub const fn new() -> Self {
        Self {
            ranges: [None; COVERAGE_RANGES],
            next: 0,
            recorded: 0,
        }
    }

    /// A feedback message received at `at` reported on `count` sequence numbers from `begin`
    /// (wrapping) in `space`. An empty range is ignored.
    pub fn record(&mut self, space: SequenceSpace, begin: u16, count: u16, at: Timestamp) {
        if count == 0 {
            return;
        }
        self.ranges[self.next] = Some(CoveredRange {
            space,
            begin,
            count,
            at,
        });
        self.next = (self.next + 1) % COVERAGE_RANGES;
        self.recorded += 1;
    }

    /// Whether any range has been recorded: until then nothing can be told apart, and a caller
    /// without a source of ranges keeps counting "not arrived" as lost.
    pub const fn is_active(&self) -> bool {
        self.recorded > 0
    }

    /// Ranges recorded so far.
    pub const fn recorded(&self) -> u64 {
        self.recorded
    }

    /// Whether feedback received after `sent_at` reported on `sequence` in `space`.
    pub fn covers(&self, space: SequenceSpace, sequence: u16, sent_at: Timestamp) -> bool {
        self.ranges.iter().flatten().any(|r| {
            r.space == space && r.at >= sent_at && sequence.wrapping_sub(r.begin) < r.count
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    #[test]
    fn a_range_covers_its_sequence_numbers_for_packets_sent_before_it() {
        let mut c = FeedbackCoverage::new();
        assert!(!c.is_active());
        c.record(SequenceSpace::Transport, 100, 10, ms(500));
        assert!(c.is_active());
        assert!(c.covers(SequenceSpace::Transport, 100, ms(400)));
        assert!(c.covers(SequenceSpace::Transport, 109, ms(400)));
        assert!(!c.covers(SequenceSpace::Transport, 110, ms(400)));
        assert!(!c.covers(SequenceSpace::Transport, 99, ms(400)));
        // The same number sent after the feedback is a later packet (a wrap): not covered.
        assert!(!c.covers(SequenceSpace::Transport, 105, ms(600)));
        assert!(!c.covers(SequenceSpace::Stream(7), 105, ms(400)));
    }

    #[test]
    fn ranges_wrap_and_the_ring_forgets_the_oldest() {
        let mut c = FeedbackCoverage::new();
        c.record(SequenceSpace::Stream(7), 65_530, 10, ms(10));
        assert!(c.covers(SequenceSpace::Stream(7), 65_535, ms(0)));
        assert!(c.covers(SequenceSpace::Stream(7), 3, ms(0)));
        assert!(!c.covers(SequenceSpace::Stream(7), 4, ms(0)));
        for i in 0..COVERAGE_RANGES as u16 {
            c.record(SequenceSpace::Transport, i * 10, 10, ms(20));
        }
        assert!(!c.covers(SequenceSpace::Stream(7), 65_535, ms(0)));
        assert_eq!(c.recorded(), COVERAGE_RANGES as u64 + 1);
    }
}
