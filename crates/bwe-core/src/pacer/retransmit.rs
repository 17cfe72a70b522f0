//! Which retransmissions the pacer takes: a per-packet history and a budget.
//!
//! A receiver may NACK the same packet again and again (rtc 0.21's NACK generator repeats every
//! missing number every 100 ms until it leaves its window, and never learns of an RTX repair).
//! Each copy would queue at the pacer; the queue's wait makes the receiver NACK more, and the
//! drain rule would put all of it on the wire at whatever rate empties the queue: a
//! retransmission storm many times the target. Three rules prevent it:
//!
//! - as libwebrtc's RTP sender does, a retransmission of a packet is refused while an earlier
//!   one of it is still queued or was accepted less than `min_retransmit_interval` ago, an
//!   interval that doubles with each further retransmission of the packet (up to 16×), so that
//!   repeats of old losses give way to first retransmissions of new ones (`History`);
//! - a retransmission of a packet first queued more than `max_retransmit_age` ago (or one the
//!   pacer dropped as stale) is refused;
//! - retransmissions only use what new media leaves of the target (`Budget`): a budget
//!   accrues at the (pushed-back) target, up to 250 ms of it and at least one full-size packet;
//!   new media draws on it first, a retransmission is queued only if enough is left. libwebrtc
//!   reaches the same sum by taking the retransmission rate out of the encoder's allocation; an
//!   encoder outside the chain cannot be told.

use crate::units::{Bitrate, TimeDelta, Timestamp};

/// Packets remembered per stream (rtc's NACK responder's default history).
pub(crate) const SLOTS: usize = 1024;

/// The spacing between retransmissions of one packet doubles at most this many times.
const MAX_BACKOFF_DOUBLINGS: u32 = 4;

/// How much unused target the budget keeps.
const BUDGET_WINDOW: TimeDelta = TimeDelta::from_millis(250);

/// The budget always holds at least one packet this big, so that a low target does not rule
/// retransmissions out altogether.
const MIN_BUDGET_BITS: f64 = 1_500.0 * 8.0;

#[derive(Debug, Clone, Copy, Default)]
struct Resent {
    seq: u16,
    /// When a retransmission of it was last accepted, if ever.
    accepted: Option<Timestamp>,
    /// How many retransmissions of it were accepted.
    count: u8,
    /// Whether that retransmission is still queued.
    pending: bool,
}

#[derive(Debug, Clone, Copy)]
struct Original {
    seq: u16,
    queued: Timestamp,
    /// Dropped as stale by the queue time limit: never worth repeating.
    dropped: bool,
}

/// One stream's originals and retransmissions, direct-mapped by sequence number.
#[derive(Debug)]
pub(crate) struct History {
    pub(crate) ssrc: u32,
    resent: Box<[Resent]>,
    originals: Box<[Option<Original>]>,
}

impl History {
    pub(crate) fn new(ssrc: u32) -> Self {
        Self {
            ssrc,
            resent: vec![Resent::default(); SLOTS].into_boxed_slice(),
            originals: vec![None; SLOTS].into_boxed_slice(),
        }
    }

    /// Whether a retransmission of `seq` may be queued at `now` as far as this packet's own
    /// history goes.
    pub(crate) fn allowed(
        &self,
        seq: u16,
        now: Timestamp,
        min_interval: TimeDelta,
        max_age: TimeDelta,
    ) -> bool {
        if let Some(o) = self.originals[usize::from(seq) % SLOTS] {
            // A slot moved on to a newer packet means the original is over SLOTS packets old.
            if o.seq != seq || o.dropped || now - o.queued > max_age {
                return false;
            }
        }
        let r = &self.resent[usize::from(seq) % SLOTS];
        if r.seq != seq {
            return true;
        }
        let Some(accepted) = r.accepted else {
            return true;
        };
        let doublings = u32::from(r.count.saturating_sub(1)).min(MAX_BACKOFF_DOUBLINGS);
        !r.pending && now - accepted >= min_interval * (1i64 << doublings)
    }

    /// The first transmission of `seq` entered the queue at `now`.
    pub(crate) fn original_queued(&mut self, seq: u16, now: Timestamp) {
        self.originals[usize::from(seq) % SLOTS] = Some(Original {
            seq,
            queued: now,
            dropped: false,
        });
    }

    /// The first transmission of `seq` was dropped as stale.
    pub(crate) fn original_dropped(&mut self, seq: u16) {
        if let Some(o) = &mut self.originals[usize::from(seq) % SLOTS]
            && o.seq == seq
        {
            o.dropped = true;
        }
    }

    /// A retransmission of `seq` entered the queue at `now`.
    pub(crate) fn retransmission_queued(&mut self, seq: u16, now: Timestamp) {
        let r = &mut self.resent[usize::from(seq) % SLOTS];
        let count = if r.seq == seq && r.accepted.is_some() {
            r.count.saturating_add(1)
        } else {
            1
        };
        *r = Resent {
            seq,
            accepted: Some(now),
            count,
            pending: true,
        };
    }

    /// A retransmission of `seq` left the queue.
    pub(crate) fn retransmission_released(&mut self, seq: u16) {
        let r = &mut self.resent[usize::from(seq) % SLOTS];
        if r.seq == seq {
            r.pending = false;
        }
    }
}

/// What new media leaves of the target for retransmissions, in bits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Budget {
    bits: f64,
    refilled: Option<Timestamp>,
}

impl Budget {
    /// Refills to `now` at `rate`, up to the window.
    pub(crate) fn refill(&mut self, now: Timestamp, rate: Bitrate) {
        let rate = rate.as_bps_f64();
        let cap = (rate * BUDGET_WINDOW.as_secs_f64()).max(MIN_BUDGET_BITS);
        let bits = match self.refilled {
            None => cap,
            Some(t) => self.bits + rate * (now - t).max(TimeDelta::ZERO).as_secs_f64(),
        };
        self.bits = bits.min(cap);
        if self.refilled.is_none_or(|t| now > t) {
            self.refilled = Some(now);
        }
    }

    /// Takes `bits` for a retransmission if there are enough; returns whether it did.
    pub(crate) fn take(&mut self, bits: f64) -> bool {
        if self.bits < bits {
            return false;
        }
        self.bits -= bits;
        true
    }

    /// New media takes its `bits` first, down to nothing.
    pub(crate) fn charge(&mut self, bits: f64) {
        self.bits = (self.bits - bits).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: TimeDelta = TimeDelta::from_millis(250);
    const AGE: TimeDelta = TimeDelta::from_secs(1);

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    /// Repeats of one loss back off (250, 500, 1 000 ms …) so new losses get repaired first.
    #[test]
    fn repeated_retransmissions_of_one_packet_back_off() {
        let mut h = History::new(1);
        h.original_queued(7, ms(0));
        assert!(h.allowed(7, ms(10), MIN, AGE));
        h.retransmission_queued(7, ms(10));
        assert!(!h.allowed(7, ms(300), MIN, AGE), "still queued");
        h.retransmission_released(7);
        assert!(!h.allowed(7, ms(200), MIN, AGE));
        assert!(h.allowed(7, ms(260), MIN, AGE));
        h.retransmission_queued(7, ms(260));
        h.retransmission_released(7);
        assert!(
            !h.allowed(7, ms(700), MIN, AGE),
            "second repeat waits 500 ms"
        );
        assert!(h.allowed(7, ms(760), MIN, AGE));
    }

    /// A packet first queued over a second ago, or dropped as stale, is not worth repeating.
    #[test]
    fn old_or_stale_originals_are_not_retransmitted() {
        let mut h = History::new(1);
        h.original_queued(3, ms(0));
        assert!(h.allowed(3, ms(1_000), MIN, AGE));
        assert!(!h.allowed(3, ms(1_001), MIN, AGE));
        h.original_queued(4, ms(0));
        h.original_dropped(4);
        assert!(!h.allowed(4, ms(10), MIN, AGE));
        h.original_queued(4 + SLOTS as u16, ms(20));
        assert!(!h.allowed(4, ms(30), MIN, AGE), "its slot moved on");
    }

    /// The budget never exceeds 250 ms of the rate, and media drains it before repairs.
    #[test]
    fn the_budget_holds_250_ms_of_the_rate_and_media_comes_first() {
        let mut b = Budget::default();
        let rate = Bitrate::from_kbps(800);
        b.refill(ms(0), rate);
        assert!(b.take(200_000.0));
        assert!(!b.take(1.0), "250 ms of 800 kbit/s is 200 000 bits");
        b.refill(ms(100), rate);
        b.charge(50_000.0);
        assert!(b.take(30_000.0));
        assert!(!b.take(1.0));
    }
}
