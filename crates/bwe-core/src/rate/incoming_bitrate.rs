//! The rate at which packets arrive, over a sliding window.
//!
//! The receive side (REMB) has no acknowledgements: the throughput that rate control backs off
//! from is simply the bytes received over the last window divided by the window. The window is a
//! ring of 1 ms buckets allocated once in [`IncomingBitrate::new`]; a packet adds to one bucket
//! and buckets that fall out of the window are subtracted from the running total as time moves
//! on. Updating and reading are O(1) amortised and never allocate.
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    bytes: u64,
    packets: u64,
}

/// Bytes received over a sliding window, as a rate.
#[derive(Debug, Clone)]
pub struct IncomingBitrate {
    buckets: Box<[Bucket]>,
    /// Window length in milliseconds (= number of buckets), at least 1.
    window_ms: i64,
    /// The millisecond held by `buckets[oldest_index]`; `None` until the first packet.
    oldest_ms: Option<i64>,
    oldest_index: usize,
    /// Latest millisecond seen by `update` or `rate`; earlier instants are raised to it.
    latest_ms: Option<i64>,
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
            buckets: vec![Bucket::default(); len].into_boxed_slice(),
            window_ms,
            oldest_ms: None,
            oldest_index: 0,
            latest_ms: None,
            total_bytes: 0,
            total_packets: 0,
        }
    }

    /// The window length.
    pub const fn window(&self) -> TimeDelta {
        TimeDelta::from_millis(self.window_ms)
    }

    /// Records a packet of `size` received at `now`.
    pub fn update(&mut self, now: Timestamp, size: DataSize) {
        let now_ms = self.advance_to(now);
        let oldest = *self.oldest_ms.get_or_insert(now_ms);
        // `advance_to` keeps `oldest > now_ms - window_ms`, and `now_ms >= oldest` because the
        // oldest millisecond is never later than the latest one, so the offset is in the ring.
        let offset = usize::try_from((now_ms - oldest).clamp(0, self.window_ms - 1))
            .expect("offset clamped to the window");
        let mut index = self.oldest_index + offset;
        if index >= self.buckets.len() {
            index -= self.buckets.len();
        }
        let bucket = &mut self.buckets[index];
        bucket.bytes = bucket.bytes.saturating_add(size.bytes());
        bucket.packets = bucket.packets.saturating_add(1);
        self.total_bytes = self.total_bytes.saturating_add(size.bytes());
        self.total_packets = self.total_packets.saturating_add(1);
    }

    /// The average rate over the window ending at `now`; see the module docs for when it is `None`.
    pub fn rate(&mut self, now: Timestamp) -> Option<Bitrate> {
        let now_ms = self.advance_to(now);
        let oldest = self.oldest_ms?;
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
        self.buckets.fill(Bucket::default());
        self.oldest_ms = None;
        self.oldest_index = 0;
        self.latest_ms = None;
        self.total_bytes = 0;
        self.total_packets = 0;
    }

    /// Moves the window so that it ends at `now` (or at the latest instant seen, if later) and
    /// returns that end in milliseconds.
    fn advance_to(&mut self, now: Timestamp) -> i64 {
        let now_ms = match self.latest_ms {
            Some(latest) => now.as_millis().max(latest),
            None => now.as_millis(),
        };
        self.latest_ms = Some(now_ms);
        let Some(oldest) = self.oldest_ms else {
            return now_ms;
        };
        let new_oldest = now_ms.saturating_sub(self.window_ms - 1);
        if new_oldest <= oldest {
            return now_ms;
        }
        // Drop the buckets that left the window: at most one pass over the ring, however far
        // time jumped. A jump of a whole window or more empties it outright.
        let expired = new_oldest.saturating_sub(oldest);
        if expired >= self.window_ms {
            self.buckets.fill(Bucket::default());
            self.total_packets = 0;
        }
        let mut left = expired;
        while self.total_packets > 0 && left > 0 {
            let bucket = std::mem::take(&mut self.buckets[self.oldest_index]);
            self.total_bytes = self.total_bytes.saturating_sub(bucket.bytes);
            self.total_packets = self.total_packets.saturating_sub(bucket.packets);
            // A compare instead of `%`: this loop runs once per elapsed millisecond.
            self.oldest_index += 1;
            if self.oldest_index == self.buckets.len() {
                self.oldest_index = 0;
            }
            left -= 1;
        }
        if self.total_packets == 0 {
            // Everything aged out: re-anchor on the next packet, so that a stream resuming after
            // a silence is measured over its own duration rather than diluted by the gap. Every
            // bucket is empty now, so the ring index may restart anywhere.
            self.total_bytes = 0;
            self.oldest_ms = None;
            self.oldest_index = 0;
        } else {
            self.oldest_ms = Some(new_oldest);
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
