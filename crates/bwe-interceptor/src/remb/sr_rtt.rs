//! Round-trip time from RTCP sender reports and the reception reports that answer them
//! (RFC 3550 §6.4.1): `RTT = arrival of the report − send time of the SR − DLSR`.
//!
//! The SR's NTP timestamp is written by rtc from the wall clock, which this crate never reads.
//! So the send *instant* of each outgoing SR is remembered against the middle 32 bits of its NTP
//! timestamp (what the remote echoes as LSR), and the round trip is measured entirely on the
//! chain's own instants.

use std::time::{Duration, Instant};

/// Sender reports remembered; reports are sent about once a second, so this covers 16 s.
const CAPACITY: usize = 16;

/// Recent outgoing sender reports, keyed by the LSR value a reply will carry.
#[derive(Debug, Clone, Default)]
pub struct SrHistory {
    ring: [Option<(u32, Instant)>; CAPACITY],
    next: usize,
}

impl SrHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// An SR with NTP timestamp `ntp_time` left at `at`.
    pub fn on_sender_report(&mut self, ntp_time: u64, at: Instant) {
        self.ring[self.next] = Some(((ntp_time >> 16) as u32, at));
        self.next = (self.next + 1) % CAPACITY;
    }

    /// The round trip a reception report received at `now` implies, if it answers an SR we
    /// remember. `lsr` 0 means the remote has not seen an SR yet.
    pub fn rtt(&self, lsr: u32, dlsr: u32, now: Instant) -> Option<Duration> {
        if lsr == 0 {
            return None;
        }
        let (_, sent) = self.ring.iter().flatten().find(|(mid, _)| *mid == lsr)?;
        let held = Duration::from_micros(u64::from(dlsr) * 1_000_000 / 65_536);
        now.checked_duration_since(*sent)?.checked_sub(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The remote's holding time is not network time.
    #[test]
    fn rtt_subtracts_the_delay_since_last_sr() {
        let base = Instant::now();
        let mut history = SrHistory::new();
        let ntp = 0x1234_5678_9ABC_DEF0u64;
        history.on_sender_report(ntp, base);
        let lsr = (ntp >> 16) as u32;
        // 20 ms held at the remote (1310.72 units of 1/65536 s).
        let rtt = history
            .rtt(lsr, 1_311, base + Duration::from_millis(100))
            .expect("answers our SR");
        assert!(rtt >= Duration::from_micros(79_900) && rtt <= Duration::from_micros(80_100));
    }

    /// Replies to unknown SRs, and impossible ones, give nothing rather than a wrong figure.
    #[test]
    fn unknown_or_impossible_replies_give_no_rtt() {
        let base = Instant::now();
        let mut history = SrHistory::new();
        history.on_sender_report(1 << 32, base);
        assert_eq!(history.rtt(0, 0, base), None, "no SR seen yet");
        assert_eq!(history.rtt(99, 0, base), None, "not ours");
        assert_eq!(
            history.rtt(1 << 16, 65_536, base + Duration::from_millis(10)),
            None,
            "held longer than the round trip"
        );
    }
}
