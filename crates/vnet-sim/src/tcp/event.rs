//! [`TcpEvent`]: what a sender reports as it happens, for a driver's trace.
//!
//! Events rather than callbacks, for the sans-I/O loop: the sender queues them and the caller
//! drains [`crate::tcp::TcpSender::poll_event`] when it likes. The window reductions are events
//! too, with the window before and the threshold after, because a sawtooth is what a
//! congestion-control researcher checks first and sampling `cwnd` at a fixed interval misses the
//! peaks.

use crate::time::{SimDuration, SimTime};

/// A message's number in its flow: 0 for the first [`crate::tcp::TcpSender::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// A message fully acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageDone {
    /// Which message.
    pub id: MessageId,
    /// Its length, bytes.
    pub bytes: u64,
    /// When the application wrote it.
    pub started: SimTime,
    /// When the ACK of its last byte reached the sender.
    pub completed: SimTime,
}

impl MessageDone {
    /// From write to acknowledgement: the message's completion time.
    pub fn duration(&self) -> SimDuration {
        self.completed - self.started
    }
}

/// Something a sender did that a trace should show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TcpEvent {
    /// A message was fully acknowledged.
    MessageDone(MessageDone),
    /// Three duplicate ACKs: the segment at `seq` was retransmitted and fast recovery began
    /// (RFC 5681 §3.2, RFC 6582 §3.2).
    FastRetransmit {
        /// When.
        at: SimTime,
        /// The first unacknowledged byte, retransmitted.
        seq: u64,
        /// The window before the reduction, bytes.
        cwnd_before: u64,
        /// The new slow-start threshold, bytes: the window recovery aims at.
        ssthresh: u64,
    },
    /// An ACK covered the recovery point: fast recovery ended.
    RecoveryDone {
        /// When.
        at: SimTime,
        /// The window after deflation, bytes.
        cwnd: u64,
    },
    /// The retransmission timer expired (RFC 6298 §5.4–§5.7).
    Timeout {
        /// When.
        at: SimTime,
        /// The first unacknowledged byte, from which everything is sent again.
        seq: u64,
        /// The window before the timeout, bytes.
        cwnd_before: u64,
        /// The slow-start threshold after it, bytes.
        ssthresh: u64,
        /// The RTO that expired.
        rto: SimDuration,
        /// The RTO now running, after backoff.
        next_rto: SimDuration,
    },
}
