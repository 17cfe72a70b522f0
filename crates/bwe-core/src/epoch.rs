//! Converting `std::time::Instant`s (a webrtc-rs chain's clock, a tokio clock, a simulator's) to
//! [`Timestamp`]s and back.
//!
//! bwe-core counts microseconds from an epoch of the caller's choosing. The epoch here is the
//! first `Instant` an adapter is handed, not `Instant::now()` at construction: that keeps every
//! adapter free of clock reads, so a chain driven by a virtual clock (or by a test that builds
//! instants from one base plus offsets) sees exactly the instants it was given. Instants before
//! the epoch map to negative timestamps, which bwe-core accepts.

use std::time::{Duration, Instant};

use crate::Timestamp;

/// A fixed origin shared by every conversion of one adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Epoch {
    origin: Option<Instant>,
}

impl Epoch {
    /// An epoch that is set by the first conversion.
    pub const fn new() -> Self {
        Self { origin: None }
    }

    /// An epoch fixed at `origin`.
    pub const fn at(origin: Instant) -> Self {
        Self {
            origin: Some(origin),
        }
    }

    /// The origin, once one has been seen.
    pub fn origin(&self) -> Option<Instant> {
        self.origin
    }

    /// `at` as microseconds since the epoch; the first instant ever converted becomes the epoch.
    /// Saturates at the ends of the `i64` range (hundreds of thousands of years away).
    pub fn timestamp(&mut self, at: Instant) -> Timestamp {
        let origin = *self.origin.get_or_insert(at);
        match at.checked_duration_since(origin) {
            Some(after) => Timestamp::from_micros(saturating_micros(after)),
            None => Timestamp::from_micros(-saturating_micros(origin.duration_since(at))),
        }
    }

    /// The `Instant` a timestamp stands for; `None` before any instant was seen or when the
    /// result is not representable.
    pub fn instant(&self, at: Timestamp) -> Option<Instant> {
        let origin = self.origin?;
        let us = at.as_micros();
        if us >= 0 {
            origin.checked_add(Duration::from_micros(us.unsigned_abs()))
        } else {
            origin.checked_sub(Duration::from_micros(us.unsigned_abs()))
        }
    }
}

fn saturating_micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    //! The tests need some `Instant` to start from and one cannot be built from a number, so
    //! they read the clock once as an arbitrary base; the code under test never does.
    use super::*;

    /// No clock is read: the first instant handed in is the origin.
    #[test]
    fn first_instant_becomes_the_epoch() {
        let base = Instant::now();
        let mut epoch = Epoch::new();
        assert_eq!(epoch.instant(Timestamp::ZERO), None);
        assert_eq!(
            epoch.timestamp(base + Duration::from_millis(5)),
            Timestamp::ZERO
        );
        assert_eq!(
            epoch.timestamp(base + Duration::from_millis(7)),
            Timestamp::from_millis(2)
        );
    }

    /// Instants before the epoch (a report about a packet sent earlier) stay ordered.
    #[test]
    fn earlier_instants_map_to_negative_timestamps() {
        let base = Instant::now() + Duration::from_secs(1);
        let mut epoch = Epoch::at(base);
        assert_eq!(
            epoch.timestamp(base - Duration::from_micros(1_500)),
            Timestamp::from_micros(-1_500)
        );
    }

    /// A deadline computed in timestamps comes back as the same instant, both sides of the epoch.
    #[test]
    fn round_trip_is_exact_to_the_microsecond() {
        let base = Instant::now() + Duration::from_secs(1);
        let mut epoch = Epoch::at(base);
        for offset_us in [-250_000i64, -1, 0, 1, 123_456_789] {
            let at = if offset_us < 0 {
                base - Duration::from_micros(offset_us.unsigned_abs())
            } else {
                base + Duration::from_micros(offset_us.unsigned_abs())
            };
            let ts = epoch.timestamp(at);
            assert_eq!(ts.as_micros(), offset_us);
            assert_eq!(epoch.instant(ts), Some(at));
        }
    }
}
