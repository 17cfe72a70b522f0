//! NewReno's window policy: RFC 5681 congestion avoidance and halving.
//!
//! Congestion avoidance counts bytes, as RFC 5681 §3.1 recommends (after RFC 3465 §2.1): the
//! bytes newly acknowledged accumulate in `bytes_acked`, and each time they reach `cwnd` the
//! window grows by one MSS and `cwnd` is taken off the count. That is exactly one MSS per
//! window of data acknowledged, whatever the ACK pattern; the alternative, `cwnd += MSS²/cwnd`
//! per ACK (RFC 5681 equation 3), grows slower with stretch or lost ACKs and rounds in integer
//! bytes.
//!
//! On loss, RFC 5681 equation 4: `ssthresh = max(FlightSize / 2, 2·MSS)`.

/// NewReno's congestion-avoidance state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewReno {
    mss: u64,
    /// Bytes acknowledged in congestion avoidance and not yet turned into window.
    bytes_acked: u64,
}

impl NewReno {
    pub(crate) fn new(mss: u64) -> Self {
        Self {
            mss,
            bytes_acked: 0,
        }
    }

    /// One MSS per `cwnd` bytes acknowledged (RFC 5681 §3.1, byte counting).
    pub(crate) fn on_ack(&mut self, acked: u64, cwnd: u64) -> u64 {
        self.bytes_acked = self.bytes_acked.saturating_add(acked);
        if self.bytes_acked >= cwnd {
            self.bytes_acked -= cwnd;
            cwnd.saturating_add(self.mss)
        } else {
            cwnd
        }
    }

    /// RFC 5681 equation 4.
    pub(crate) fn on_congestion(&mut self, flight: u64) -> u64 {
        self.bytes_acked = 0;
        (flight / 2).max(2 * self.mss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reno's additive increase is one MSS per window: the textbook sawtooth's slope.
    #[test]
    fn a_window_of_acks_grows_cwnd_by_exactly_one_mss() {
        let mut reno = NewReno::new(1_000);
        let mut cwnd = 10_000;
        for _ in 0..10 {
            cwnd = reno.on_ack(1_000, cwnd);
        }
        assert_eq!(cwnd, 11_000);
        for _ in 0..10 {
            cwnd = reno.on_ack(1_000, cwnd);
        }
        assert_eq!(cwnd, 11_000, "the next MSS takes 11 segments");
        cwnd = reno.on_ack(1_000, cwnd);
        assert_eq!(cwnd, 12_000);
    }

    /// Halving, with a floor of two segments so that fast retransmit stays possible.
    #[test]
    fn loss_halves_the_flight_with_a_floor_of_two_segments() {
        let mut reno = NewReno::new(1_000);
        assert_eq!(reno.on_congestion(30_000), 15_000);
        assert_eq!(reno.on_congestion(3_000), 2_000);
    }
}
