//! What a TCP-model sender and receiver count, for a trace or a check.
//!
//! Both structs are `#[non_exhaustive]` so that a counter can be added without breaking a
//! caller, and a value that may not exist yet (SRTT before a sample, `ssthresh` before the
//! first loss) is an `Option`, so that "not yet" never reads as zero.

use crate::time::SimDuration;

/// A sender's state and totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpSenderStats {
    /// Congestion window, bytes (inflated during fast recovery, as RFC 5681 §3.2 has it).
    pub cwnd: u64,
    /// Slow-start threshold, bytes; `None` while it is still RFC 5681's "arbitrarily high".
    pub ssthresh: Option<u64>,
    /// Bytes sent and not yet acknowledged (`SND.NXT − SND.UNA`).
    pub flight: u64,
    /// Smoothed RTT; `None` before the first sample.
    pub srtt: Option<SimDuration>,
    /// RTT variation; `None` before the first sample.
    pub rttvar: Option<SimDuration>,
    /// The retransmission timeout now, backoff included.
    pub rto: SimDuration,
    /// Whether fast recovery is in progress.
    pub in_recovery: bool,
    /// Bytes acknowledged: the sender's view of goodput.
    pub bytes_acked: u64,
    /// Payload bytes sent, retransmissions included.
    pub bytes_sent: u64,
    /// Data segments sent, retransmissions included.
    pub segments_sent: u64,
    /// Data segments that carried bytes sent before (fast, partial-ACK and go-back-N).
    pub retransmissions: u64,
    /// Fast retransmits: entries into fast recovery.
    pub fast_retransmits: u64,
    /// Expiries of the retransmission timer.
    pub timeouts: u64,
}

/// A receiver's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpReceiverStats {
    /// Bytes delivered in order: goodput at the receiver.
    pub bytes_delivered: u64,
    /// Data segments received.
    pub segments_received: u64,
    /// Data segments that arrived beyond a hole.
    pub out_of_order_segments: u64,
    /// Data segments carrying nothing new.
    pub duplicate_segments: u64,
    /// Segments dropped because the out-of-order buffer was at its limit of ranges.
    pub dropped_segments: u64,
    /// ACKs sent.
    pub acks_sent: u64,
}
