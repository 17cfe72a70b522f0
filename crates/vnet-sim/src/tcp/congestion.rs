//! The seam between loss detection and window policy.
//!
//! [`crate::tcp::TcpSender`] owns everything RFC 5681, RFC 6582 and RFC 6298 say about detecting
//! and repairing loss: duplicate ACKs, fast retransmit, the recovery point, window inflation and
//! deflation, the timer. It also owns slow start, which NewReno and CUBIC share (RFC 9438 §4.10
//! keeps RFC 5681's). What differs between algorithms is three decisions, and only those cross
//! this seam: how far congestion avoidance grows the window per ACK, what `ssthresh` becomes on
//! a loss detected by duplicate ACKs, and what it becomes on a timeout.
//!
//! An enum rather than a trait object: the set is closed (the algorithms the model is validated
//! for), a `TcpConfig` stays a plain `Copy` value, and a run stays free of dynamic dispatch. A
//! third algorithm is a new variant, a new file beside `newreno.rs` and `cubic.rs`, and a case
//! in each method here.

use crate::tcp::config::TcpAlgorithm;
use crate::tcp::cubic::Cubic;
use crate::tcp::newreno::NewReno;
use crate::time::{SimDuration, SimTime};

/// The window policy a sender runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Controller {
    NewReno(NewReno),
    Cubic(Cubic),
}

impl Controller {
    pub(crate) fn new(algorithm: TcpAlgorithm, mss: u64) -> Self {
        match algorithm {
            TcpAlgorithm::NewReno => Self::NewReno(NewReno::new(mss)),
            TcpAlgorithm::Cubic(config) => Self::Cubic(Cubic::new(config, mss)),
        }
    }

    /// Congestion avoidance (`cwnd >= ssthresh`, not in recovery): an ACK acknowledged `acked`
    /// new bytes. Returns the new `cwnd`, never below the old one.
    pub(crate) fn on_ack(
        &mut self,
        now: SimTime,
        acked: u64,
        cwnd: u64,
        srtt: Option<SimDuration>,
    ) -> u64 {
        match self {
            Self::NewReno(c) => c.on_ack(acked, cwnd),
            Self::Cubic(c) => c.on_ack(now, acked, cwnd, srtt),
        }
    }

    /// Three duplicate ACKs: returns the new `ssthresh` given the window and the flight at
    /// detection.
    pub(crate) fn on_congestion(&mut self, cwnd: u64, flight: u64) -> u64 {
        match self {
            Self::NewReno(c) => c.on_congestion(flight),
            Self::Cubic(c) => c.on_congestion(cwnd, flight),
        }
    }

    /// The first expiry of the retransmission timer for a segment: returns the new `ssthresh`.
    pub(crate) fn on_timeout(&mut self, cwnd: u64, flight: u64) -> u64 {
        match self {
            Self::NewReno(c) => c.on_congestion(flight),
            Self::Cubic(c) => c.on_timeout(cwnd, flight),
        }
    }
}
