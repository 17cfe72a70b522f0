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
/// newest entry or appends one, and entries that left the window are dropped from the front with
/// the running totals: amortised O(1) per packet however sparse the traffic, with no pass over
/// empty milliseconds.
#[derive(Debug, Clone)]
pub struct IncomingBitrate {
    ring: Box<[Bucket]>,
    head: usize,
    len: usize,
    /// Window length in milliseconds, at least 1.
    window_ms: i64,
    /// The first millisecond with data since the meter last (re-)anchored; `None` when empty.
    anchor_ms: Option<i64>,
    /// Latest millisecond seen by `update` or `rate` (earlier instants are raised to it), with
    /// the instant that set it.
    latest: Option<(Timestamp, i64)>,
    total_bytes: u64,
    total_packets: u64,
}

impl Default for IncomingBitrate {
    fn default() -> Self {
        Self::new(Self::DEFAULT_WINDOW)
    }
}

impl IncomingBitrate {
    /// libwebrtc's receive-side window, `kBitrateWindowMs` (bwe_defines.h).
    pub const DEFAULT_WINDOW: TimeDelta = TimeDelta::from_millis(1000);

    /// A meter over `window`, rounded to whole milliseconds and clamped to [1 ms, 60 s].
    pub fn new(window: TimeDelta) -> Self {
        let window_ms = window.as_millis().clamp(1, MAX_WINDOW_MS);
        let len = usize::try_from(window_ms).expect("window clamped to [1, 60000] ms");
        Self {
            ring: vec![Bucket::default(); len].into_boxed_slice(),
            head: 0,
            len: 0,
            window_ms,
            anchor_ms: None,
            latest: None,
            total_bytes: 0,
            total_packets: 0,
        }
    }

    /// The window length.
    pub const fn window(&self) -> TimeDelta {
        TimeDelta::from_millis(self.window_ms)
    }

    /// Records a packet of `size` received at `now`.
    #[inline]
    pub fn update(&mut self, now: Timestamp, size: DataSize) {
        let now_ms = self.advance_to(now);
        self.anchor_ms.get_or_insert(now_ms);
        let bytes = size.bytes();
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        self.total_packets = self.total_packets.saturating_add(1);
        let capacity = self.ring.len();
        // The ring position just past the newest entry, and the newest entry's own.
        let end = self.index(self.len);
        let newest = end.checked_sub(1).unwrap_or(capacity - 1);
        if self.len > 0
            && let Some(bucket) = self.ring.get_mut(newest)
            // `advance_to` never goes backwards, so the newest entry is this millisecond or older.
            && bucket.ms == now_ms
        {
            bucket.bytes = bucket.bytes.saturating_add(bytes);
            bucket.packets = bucket.packets.saturating_add(1);
            return;
        }
        // After `advance_to` every stored entry lies in (now − window, now), so there is room:
        // `len < capacity` here, and the newest entry is overwritten only if that ever failed.
        let slot = if self.len < capacity { end } else { newest };
        if let Some(bucket) = self.ring.get_mut(slot) {
            *bucket = Bucket {
                ms: now_ms,
                bytes,
                packets: 1,
            };
        }
        self.len = (self.len + 1).min(capacity);
    }

    /// The average rate over the window ending at `now`; see the module docs for when it is `None`.
    #[inline]
    pub fn rate(&mut self, now: Timestamp) -> Option<Bitrate> {
        let now_ms = self.advance_to(now);
        let anchor = self.anchor_ms?;
        // No overflow: `now_ms` is at least `i64::MIN / 1000` (see `advance_to`).
        let oldest = anchor.max(now_ms - (self.window_ms - 1));
        let active_ms = now_ms - oldest + 1;
        if self.total_packets == 0
            || active_ms <= 1
            || (self.total_packets == 1 && active_ms < self.window_ms)
        {
            return None;
        }
        DataSize::from_bytes(self.total_bytes).rate_over(TimeDelta::from_millis(active_ms))
    }

    /// Forgets everything, as if newly constructed.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.anchor_ms = None;
        self.latest = None;
        self.total_bytes = 0;
        self.total_packets = 0;
    }

    /// The ring position of the `i`-th oldest entry.
    fn index(&self, i: usize) -> usize {
        let j = self.head + i;
        if j >= self.ring.len() {
            j - self.ring.len()
        } else {
            j
        }
    }

    /// Moves the window so that it ends at `now` (or at the latest instant seen, if later),
    /// dropping the entries that left it, and returns that end in milliseconds.
    fn advance_to(&mut self, now: Timestamp) -> i64 {
        // An instant no later than the one that set `latest` lies in the same millisecond or an
        // earlier one: that case needs no division. (Reading the rate right after recording a
        // packet at the same instant, as the receive side does, lands here.)
        if let Some((instant, latest)) = self.latest
            && now <= instant
        {
            return latest;
        }
        let now_ms = now.as_millis();
        if let Some((_, latest)) = self.latest {
            if now_ms <= latest {
                // The window already ends at `latest`: everything older left it on that call, and
                // only `update` at `latest` has added entries since.
                return latest;
            }
        }
        self.latest = Some((now, now_ms));
        // A microsecond instant in milliseconds is at least `i64::MIN / 1000`, so subtracting
        // at most a minute cannot overflow.
        let expired_before = now_ms - (self.window_ms - 1);
        // In locals, written back once: the compiler cannot tell that the ring does not alias
        // these fields and would otherwise store them on every step.
        let (mut head, mut len) = (self.head, self.len);
        let (mut total_bytes, mut total_packets) = (self.total_bytes, self.total_packets);
        while len > 0 {
            let Some(bucket) = self.ring.get(head) else {
                break;
            };
            if bucket.ms >= expired_before {
                break;
            }
            total_bytes = total_bytes.saturating_sub(bucket.bytes);
            total_packets = total_packets.saturating_sub(bucket.packets);
            head += 1;
            if head >= self.ring.len() {
                head -= self.ring.len();
            }
            len -= 1;
        }
        (self.head, self.len) = (head, len);
        (self.total_bytes, self.total_packets) = (total_bytes, total_packets);
        if self.len == 0 {
            // Everything aged out: re-anchor on the next packet, so that a stream resuming after
            // a silence is measured over its own duration rather than diluted by the gap.
            self.head = 0;
            self.total_bytes = 0;
            self.total_packets = 0;
            self.anchor_ms = None;
        }
        now_ms
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
}
