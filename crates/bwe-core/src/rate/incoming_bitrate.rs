//! The rate at which packets arrive, over a sliding window.
//!
//! The receive side (REMB) has no acknowledgements: the throughput that rate control backs off
//! from is simply the bytes received over the last window divided by the window. Data is kept
//! per millisecond in a ring allocated once in [`IncomingBitrate::new`]; only milliseconds that
//! saw a packet take an entry, and entries that fall out of the window are subtracted from the
//! running totals as time moves on. Updating and reading are O(1) amortised and never allocate.
//!
//! This follows libwebrtc `rtc_base/rate_statistics.cc` (1 ms buckets), which
//! `modules/remote_bitrate_estimator/remote_bitrate_estimator_abs_send_time.cc` runs over
//! `kBitrateWindowMs` = 1000 ms (`modules/remote_bitrate_estimator/include/bwe_defines.h`).
//! [`IncomingBitrate::DEFAULT_WINDOW`] is that 1 s. An exponential average was rejected: its
//! value depends on the packet pattern, while a window average of a constant stream is exact.
//!
//! # When a rate is available
//! [`IncomingBitrate::rate`] is `None` when
//! - nothing is left in the window (no packet yet, after [`IncomingBitrate::reset`], or after a
//!   silence longer than the window: a stale rate must not pass for a current one),
//! - the data spans a single millisecond (a rate over no time is meaningless), or
//! - there is only one packet and the window has not yet filled.
//!
//! Until the window has filled, the rate is taken over the time since the first packet (inclusive
//! of both end milliseconds) rather than over the whole window, so that a fresh stream is not
//! under-reported. When every packet has aged out the meter re-anchors on the next one. In
//! libwebrtc the receive-side estimator does this from outside, by calling `Reset()` when the
//! rate turns unavailable; doing it here saves every caller that bookkeeping.
//!
//! # Time
//! Instants are reduced to whole milliseconds. An instant earlier than the latest one seen is
//! treated as that latest one (a reordered arrival still counts, in the newest bucket); a jump
//! forward by more than the window empties it.

use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// The longest window accepted by [`IncomingBitrate::new`]; it bounds the one allocation.
const MAX_WINDOW_MS: i64 = 60_000;

/// The bytes and packets that arrived in one millisecond.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    ms: i64,
    bytes: u64,
    packets: u64,
}

/// Bytes received over a sliding window, as a rate.
///
/// Only milliseconds that saw a packet are stored, oldest first, in a ring of `window_ms`
/// entries (the window cannot hold more distinct milliseconds than that). A packet adds to the
/// newest entry or appends one. Entries that left the window are dropped lazily, when the rate is
/// read or when the ring is full: a packet in the same millisecond as the one before it (most
/// packets, at video rates) costs a compare and two adds, and none pays for a walk over expired
/// entries. Amortised O(1) per packet however sparse the traffic, with no pass over empty
/// milliseconds.
#[derive(Debug, Clone)]
pub struct IncomingBitrate {
    ring: Box<[Bucket]>,
    /// Index of the oldest entry.
    head: usize,
    /// Index of the newest entry; meaningful while `len > 0`.
    tail: usize,
    len: usize,
    /// Window length in milliseconds, at least 1.
    window_ms: i64,
    /// The first millisecond with data since the meter last (re-)anchored; `None` when empty.
    anchor_ms: Option<i64>,
    /// The latest instant seen and its millisecond: time never runs backwards here, and an
    /// instant no later than this one needs no division to find its millisecond.
    latest: Timestamp,
    latest_ms: i64,
    /// Sums over the stored entries, including any not yet dropped.
    total_bytes: u64,
    total_packets: u64,
}

impl Default for IncomingBitrate {
    fn default() -> Self {
        Self::new(Self::DEFAULT_WINDOW)
    }
}

impl IncomingBitrate {
    /// libwebrtc's `kBitrateWindowMs`.
    pub const DEFAULT_WINDOW: TimeDelta = TimeDelta::from_millis(1000);

    /// A meter over `window`, clamped to [1 ms, 60 s]. This is the meter's only allocation.
    pub fn new(window: TimeDelta) -> Self {
        let window_ms = window.as_millis().clamp(1, MAX_WINDOW_MS);
        let len = usize::try_from(window_ms).expect("window clamped to [1, 60000] ms");
        Self {
            ring: vec![Bucket::default(); len].into_boxed_slice(),
            head: 0,
            tail: 0,
            len: 0,
            window_ms,
            anchor_ms: None,
            latest: Timestamp::MIN,
            latest_ms: Timestamp::MIN.as_millis(),
            total_bytes: 0,
            total_packets: 0,
        }
    }

    /// The window this meter averages over.
    pub const fn window(&self) -> TimeDelta {
        TimeDelta::from_millis(self.window_ms)
    }

    /// Records `size` bytes arriving at `now`.
    #[inline]
    pub fn update(&mut self, now: Timestamp, size: DataSize) {
        let now_ms = self.millisecond(now);
        let bytes = size.bytes();
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        self.total_packets = self.total_packets.saturating_add(1);
        if self.len > 0
            && let Some(newest) = self.ring.get_mut(self.tail)
        {
            if newest.ms == now_ms {
                newest.bytes = newest.bytes.saturating_add(bytes);
                newest.packets = newest.packets.saturating_add(1);
                return;
            }
            if newest.ms >= self.expired_before(now_ms) {
                self.append(now_ms, bytes);
                return;
            }
        }
        // Empty, or every entry has left the window: re-anchor on this packet, so that a stream
        // resuming after a silence is measured over its own duration, not diluted by the gap.
        self.head = 0;
        self.tail = 0;
        self.len = 1;
        self.anchor_ms = Some(now_ms);
        self.total_bytes = bytes;
        self.total_packets = 1;
        if let Some(first) = self.ring.first_mut() {
            *first = Bucket {
                ms: now_ms,
                bytes,
                packets: 1,
            };
        }
    }

    /// The rate over the window ending at `now`; see the module documentation for when it is
    /// `None`.
    #[inline]
    pub fn rate(&mut self, now: Timestamp) -> Option<Bitrate> {
        let now_ms = self.millisecond(now);
        self.drop_expired(now_ms);
        let anchor = self.anchor_ms?;
        let oldest = anchor.max(now_ms - (self.window_ms - 1));
        // Both end milliseconds count: data at 0 ms and 1 ms spans 2 ms.
        let active_ms = now_ms - oldest + 1;
        if self.total_packets == 0
            || active_ms <= 1
            || (self.total_packets == 1 && active_ms < self.window_ms)
        {
            return None;
        }
        DataSize::from_bytes(self.total_bytes).rate_over(TimeDelta::from_millis(active_ms))
    }

    /// Forgets every packet.
    pub fn reset(&mut self) {
        self.head = 0;
        self.tail = 0;
        self.len = 0;
        self.anchor_ms = None;
        self.latest = Timestamp::MIN;
        self.latest_ms = Timestamp::MIN.as_millis();
        self.total_bytes = 0;
        self.total_packets = 0;
    }

    /// The first millisecond still inside a window that ends at `now_ms`.
    const fn expired_before(&self, now_ms: i64) -> i64 {
        now_ms - (self.window_ms - 1)
    }

    /// Appends an entry for `now_ms`, later than the newest. When the ring is full its oldest
    /// entry is out of the window (`window_ms` distinct earlier milliseconds reach back at least
    /// `window_ms`), so it makes room.
    fn append(&mut self, now_ms: i64, bytes: u64) {
        let capacity = self.ring.len();
        if self.len == capacity {
            self.drop_oldest();
        }
        self.tail = if self.tail + 1 == capacity {
            0
        } else {
            self.tail + 1
        };
        self.len += 1;
        if let Some(bucket) = self.ring.get_mut(self.tail) {
            *bucket = Bucket {
                ms: now_ms,
                bytes,
                packets: 1,
            };
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(oldest) = self.ring.get(self.head) {
            self.total_bytes = self.total_bytes.saturating_sub(oldest.bytes);
            self.total_packets = self.total_packets.saturating_sub(oldest.packets);
        }
        self.head = if self.head + 1 == self.ring.len() {
            0
        } else {
            self.head + 1
        };
        self.len -= 1;
    }

    /// Drops the entries that left the window ending at `now_ms`; an emptied meter forgets its
    /// anchor.
    fn drop_expired(&mut self, now_ms: i64) {
        let expired_before = self.expired_before(now_ms);
        while self.len > 0
            && self
                .ring
                .get(self.head)
                .is_some_and(|b| b.ms < expired_before)
        {
            self.drop_oldest();
        }
        if self.len == 0 {
            self.head = 0;
            self.tail = 0;
            self.total_bytes = 0;
            self.total_packets = 0;
            self.anchor_ms = None;
        }
    }

    /// The millisecond of `now`, never earlier than the latest one seen.
    #[inline]
    fn millisecond(&mut self, now: Timestamp) -> i64 {
        if now <= self.latest {
            return self.latest_ms;
        }
        // Milliseconds never decrease as instants increase.
        self.latest = now;
        self.latest_ms = now.as_millis();
        self.latest_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    /// A stream of 125 bytes every millisecond is exactly 1 Mbit/s, before and after the window
    /// fills: the meter must not bias the rate the controller backs off from.
    #[test]
    fn incoming_rate_of_constant_stream_is_exact() {
        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(500));
        for t in 0..2000 {
            meter.update(ms(t), DataSize::from_bytes(125));
            if t == 249 || t == 499 || t == 1999 {
                assert_eq!(meter.rate(ms(t)), Some(Bitrate::from_mbps(1)), "at {t} ms");
            }
        }
    }

    /// A single packet is no rate until the window is full, and a single millisecond never is.
    #[test]
    fn incoming_rate_needs_more_than_one_millisecond_of_data() {
        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(100));
        assert_eq!(meter.rate(ms(0)), None);
        meter.update(ms(0), DataSize::from_bytes(1000));
        assert_eq!(meter.rate(ms(0)), None);
        assert_eq!(meter.rate(ms(98)), None, "one packet, window not yet full");
        assert_eq!(meter.rate(ms(99)), Some(Bitrate::from_kbps(80)));

        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(100));
        meter.update(ms(0), DataSize::from_bytes(1000));
        meter.update(ms(0), DataSize::from_bytes(1000));
        assert_eq!(meter.rate(ms(0)), None, "two packets but one millisecond");
        // 2000 bytes over 2 ms (both end milliseconds count).
        assert_eq!(meter.rate(ms(1)), Some(Bitrate::from_bps(8_000_000)));
    }

    /// After a silence longer than the window the rate is unknown, not a stale number.
    #[test]
    fn incoming_rate_is_unknown_after_a_long_idle() {
        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(500));
        for t in 0..1000 {
            meter.update(ms(t), DataSize::from_bytes(125));
        }
        // Only the packet at 999 ms is left: 125 B over the 500 ms window.
        assert_eq!(meter.rate(ms(1498)), Some(Bitrate::from_bps(2_000)));
        assert_eq!(meter.rate(ms(1499)), None);
        // A new stream after the gap is measured on its own, not diluted by the silence.
        for t in 5000..5250 {
            meter.update(ms(t), DataSize::from_bytes(250));
        }
        assert_eq!(meter.rate(ms(5249)), Some(Bitrate::from_mbps(2)));
    }

    /// A step in the input rate is fully reflected one window later.
    #[test]
    fn incoming_rate_follows_a_step_after_one_window() {
        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(200));
        for t in 0..1000 {
            meter.update(ms(t), DataSize::from_bytes(125));
        }
        for t in 1000..1200 {
            meter.update(ms(t), DataSize::from_bytes(250));
        }
        assert_eq!(meter.rate(ms(1199)), Some(Bitrate::from_mbps(2)));
    }

    /// Time that goes backwards is treated as the latest instant: no panic, no lost bytes.
    #[test]
    fn incoming_rate_tolerates_time_going_backwards() {
        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(100));
        meter.update(ms(1000), DataSize::from_bytes(500));
        meter.update(ms(10), DataSize::from_bytes(500));
        meter.update(Timestamp::MIN, DataSize::from_bytes(500));
        // 1500 bytes, all in the millisecond 1000, read at 1099: 1500 B over 100 ms.
        assert_eq!(meter.rate(ms(1099)), Some(Bitrate::from_bps(120_000)));
        assert_eq!(meter.rate(ms(0)), Some(Bitrate::from_bps(120_000)));
    }

    /// Extreme instants and sizes saturate instead of panicking or wrapping.
    #[test]
    fn incoming_rate_survives_extreme_inputs() {
        let mut meter = IncomingBitrate::new(TimeDelta::MAX);
        assert_eq!(meter.window(), TimeDelta::from_secs(60));
        meter.update(Timestamp::MIN, DataSize::from_bytes(u64::MAX));
        meter.update(Timestamp::MIN, DataSize::from_bytes(u64::MAX));
        let _ = meter.rate(Timestamp::from_micros(i64::MIN + 5_000));
        meter.update(Timestamp::MAX, DataSize::ZERO);
        meter.update(Timestamp::MAX, DataSize::from_bytes(10));
        assert_eq!(meter.rate(Timestamp::MAX), None, "one millisecond of data");
        let mut tiny = IncomingBitrate::new(TimeDelta::from_micros(-7));
        assert_eq!(tiny.window(), TimeDelta::from_millis(1));
        tiny.update(ms(0), DataSize::from_bytes(1));
        tiny.update(ms(5), DataSize::from_bytes(1));
        assert_eq!(tiny.rate(ms(5)), None);
    }

    /// Reset empties the meter completely.
    #[test]
    fn reset_forgets_all_packets() {
        let mut meter = IncomingBitrate::new(TimeDelta::from_millis(100));
        for t in 0..100 {
            meter.update(ms(t), DataSize::from_bytes(100));
        }
        meter.reset();
        assert_eq!(meter.rate(ms(99)), None);
        meter.update(ms(150), DataSize::from_bytes(100));
        meter.update(ms(151), DataSize::from_bytes(100));
        assert_eq!(meter.rate(ms(151)), Some(Bitrate::from_bps(800_000)));
    }

    /// The meter against a direct model: every packet kept, the window re-scanned on every read,
    /// the anchor reset whenever the window is found empty. Arbitrary instants (repeated,
    /// backwards, jumps past the window) and windows; the two must agree on every read.
    mod against_a_direct_model {
        use super::*;
        use proptest::prelude::*;

        struct Direct {
            window_ms: i64,
            packets: Vec<(i64, u64)>,
            anchor_ms: Option<i64>,
            latest_ms: i64,
        }

        impl Direct {
            fn millisecond(&mut self, now: Timestamp) -> i64 {
                self.latest_ms = self.latest_ms.max(now.as_millis());
                self.latest_ms
            }

            fn in_window(&self, now_ms: i64) -> impl Iterator<Item = &(i64, u64)> {
                let first = now_ms - (self.window_ms - 1);
                self.packets.iter().filter(move |(ms, _)| *ms >= first)
            }

            fn update(&mut self, now: Timestamp, bytes: u64) {
                let now_ms = self.millisecond(now);
                if self.in_window(now_ms).next().is_none() {
                    self.anchor_ms = Some(now_ms);
                }
                self.packets.push((now_ms, bytes));
            }

            fn rate(&mut self, now: Timestamp) -> Option<Bitrate> {
                let now_ms = self.millisecond(now);
                let (count, bytes) = self
                    .in_window(now_ms)
                    .fold((0u64, 0u64), |(n, b), (_, s)| (n + 1, b.saturating_add(*s)));
                if count == 0 {
                    self.anchor_ms = None;
                    return None;
                }
                let oldest = self.anchor_ms?.max(now_ms - (self.window_ms - 1));
                let active_ms = now_ms - oldest + 1;
                if active_ms <= 1 || (count == 1 && active_ms < self.window_ms) {
                    return None;
                }
                DataSize::from_bytes(bytes).rate_over(TimeDelta::from_millis(active_ms))
            }
        }

        proptest! {
            #[test]
            fn meter_matches_the_direct_model(
                window_ms in 1i64..40,
                ops in proptest::collection::vec((any::<bool>(), -30i64..60, 0u64..3000), 1..400),
            ) {
                let mut meter = IncomingBitrate::new(TimeDelta::from_millis(window_ms));
                let mut direct = Direct {
                    window_ms,
                    packets: Vec::new(),
                    anchor_ms: None,
                    latest_ms: i64::MIN,
                };
                let mut at_us = 1_000_000i64;
                for (read, step, bytes) in ops {
                    // Steps in tenths of a millisecond: several packets share a millisecond,
                    // some go backwards, a few jump past the window.
                    at_us += step * 100 + if step == 59 { 100_000 } else { 0 };
                    let now = Timestamp::from_micros(at_us);
                    if read {
                        prop_assert_eq!(meter.rate(now), direct.rate(now), "read at {} us", at_us);
                    } else {
                        meter.update(now, DataSize::from_bytes(bytes));
                        direct.update(now, bytes);
                    }
                }
            }
        }
    }
}
