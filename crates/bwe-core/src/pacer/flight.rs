//! Bytes in flight and the path's round-trip time, for the congestion window.
//!
//! `Flight` records released bytes in batches by release instant (merged within
//! 1 ms) in a fixed ring of 4 096 batches. Feedback resolves every
//! batch released up to the newest departure it reports: TWCC and RFC 8888 report every packet
//! of their range, arrived or lost, so anything released before that departure is accounted
//! for; packets that never get a report of their own (an RTX packet without a transport-wide
//! number) are resolved with them. When the ring is full the oldest batch counts as resolved.

use crate::units::{TimeDelta, Timestamp};

/// Released bytes not yet resolved by feedback.
#[derive(Debug)]
pub(crate) struct Flight {
    batches: Box<[(Timestamp, u64)]>,
    head: usize,
    len: usize,
    bytes: u64,
}

impl Flight {
    /// Release batches kept.
    pub(crate) const SLOTS: usize = 4_096;

    /// Releases closer together than this share one batch, so the ring always spans at least
    /// `SLOTS` × this (4 s).
    pub(crate) const MERGE: TimeDelta = TimeDelta::from_millis(1);

    pub(crate) fn new() -> Self {
        Self {
            batches: vec![(Timestamp::ZERO, 0); Self::SLOTS].into_boxed_slice(),
            head: 0,
            len: 0,
            bytes: 0,
        }
    }

    /// Bytes in flight.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// `bytes` left at `at`.
    pub(crate) fn push(&mut self, at: Timestamp, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.bytes += bytes;
        let cap = self.batches.len();
        if self.len > 0 {
            let last = (self.head + self.len - 1) % cap;
            let (t, b) = &mut self.batches[last];
            if at - *t < Self::MERGE {
                *t = (*t).max(at);
                *b += bytes;
                return;
            }
        }
        if self.len == cap {
            self.pop();
        }
        self.batches[(self.head + self.len) % cap] = (at, bytes);
        self.len += 1;
    }

    fn pop(&mut self) {
        let (_, b) = self.batches[self.head];
        self.bytes = self.bytes.saturating_sub(b);
        self.head = (self.head + 1) % self.batches.len();
        self.len -= 1;
    }

    /// Feedback accounted for everything released up to `through`.
    pub(crate) fn resolve_through(&mut self, through: Timestamp) {
        while self.len > 0 && self.batches[self.head].0 <= through {
            self.pop();
        }
    }
}

/// The smallest round-trip time over the last 5–10 s: the minimum of the current 5 s bucket
/// and the one before it.
///
/// The window is sized by the path's round trip, not by the latest one: a round trip measured
/// through a standing queue includes that queue, and a window sized from it would grow with the
/// queue it is meant to bound (after a capacity drop, 300 ms of queue made the window admit
/// another 300 ms). libwebrtc takes the minimum of recent per-feedback maxima for the same
/// reason; two buckets keep this O(1) and let a lasting path change in after at most 10 s.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MinRtt {
    current: Option<TimeDelta>,
    previous: Option<TimeDelta>,
    bucket_start: Option<Timestamp>,
}

impl MinRtt {
    const BUCKET: TimeDelta = TimeDelta::from_secs(5);

    pub(crate) fn update(&mut self, now: Timestamp, rtt: TimeDelta) {
        match self.bucket_start {
            Some(start) if now - start < Self::BUCKET => {}
            _ => {
                self.previous = self.current.take();
                self.bucket_start = Some(now);
            }
        }
        self.current = Some(self.current.map_or(rtt, |c| c.min(rtt)));
    }

    pub(crate) fn get(&self) -> Option<TimeDelta> {
        match (self.current, self.previous) {
            (Some(c), Some(p)) => Some(c.min(p)),
            (c, p) => c.or(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    /// Feedback through a departure resolves that batch and every earlier one, nothing later.
    #[test]
    fn feedback_resolves_everything_released_up_to_its_newest_departure() {
        let mut f = Flight::new();
        f.push(ms(0), 1_000);
        f.push(ms(10), 1_200);
        f.push(ms(20), 800);
        assert_eq!(f.bytes(), 3_000);
        f.resolve_through(ms(10));
        assert_eq!(f.bytes(), 800);
        f.resolve_through(ms(5));
        assert_eq!(f.bytes(), 800, "an older report resolves nothing more");
        f.resolve_through(ms(20));
        assert_eq!(f.bytes(), 0);
    }

    /// A sender whose feedback never comes cannot grow the record: the oldest batches give way.
    #[test]
    fn a_full_ring_forgets_the_oldest_batch() {
        let mut f = Flight::new();
        for i in 0..(Flight::SLOTS as i64 + 10) {
            f.push(ms(2 * i), 100);
        }
        assert_eq!(f.bytes(), Flight::SLOTS as u64 * 100);
    }

    /// Releases within a millisecond share a batch, so bursts do not use up the ring.
    #[test]
    fn releases_within_the_merge_span_share_a_batch() {
        let mut f = Flight::new();
        f.push(Timestamp::from_micros(0), 100);
        f.push(Timestamp::from_micros(300), 100);
        f.push(Timestamp::from_micros(900), 100);
        f.resolve_through(Timestamp::from_micros(100));
        assert_eq!(f.bytes(), 300, "the batch's instant is its newest release");
        f.resolve_through(Timestamp::from_micros(900));
        assert_eq!(f.bytes(), 0);
    }

    /// The window's RTT is the smallest of the last 5–10 s, so a queue-inflated sample does
    /// not stretch it, and an old short path is forgotten after two buckets.
    #[test]
    fn min_rtt_keeps_the_smallest_of_two_buckets() {
        let mut r = MinRtt::default();
        assert_eq!(r.get(), None);
        r.update(ms(0), TimeDelta::from_millis(50));
        r.update(ms(1_000), TimeDelta::from_millis(350));
        assert_eq!(r.get(), Some(TimeDelta::from_millis(50)));
        r.update(ms(6_000), TimeDelta::from_millis(80));
        assert_eq!(r.get(), Some(TimeDelta::from_millis(50)));
        r.update(ms(12_000), TimeDelta::from_millis(90));
        assert_eq!(r.get(), Some(TimeDelta::from_millis(80)));
    }
}
