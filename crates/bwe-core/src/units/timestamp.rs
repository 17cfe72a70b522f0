use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

use super::TimeDelta;

/// A point in time: microseconds since an epoch the caller chooses.
///
/// The estimator never reads a clock, so an instant is only ever compared with other instants from
/// the same source. A plain integer (rather than `std::time::Instant`) lets tests and simulators
/// construct any instant, including ones that go backwards, and makes runs reproducible. Adapters
/// convert from `Instant` by subtracting a fixed epoch.
///
/// Receive times reported by a remote peer live on that peer's clock; they are only ever
/// differenced with each other, never with local instants.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The epoch.
    pub const ZERO: Self = Self(0);
    /// The latest representable instant; used as "never".
    pub const MAX: Self = Self(i64::MAX);
    /// The earliest representable instant; used as "infinitely long ago".
    pub const MIN: Self = Self(i64::MIN);

    /// The instant `us` microseconds after the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Self(us)
    }

    /// The instant `ms` milliseconds after the epoch, saturating.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms.saturating_mul(1_000))
    }

    /// The instant `s` seconds after the epoch, saturating.
    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1_000_000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole milliseconds since the epoch, rounded towards negative infinity.
    pub const fn as_millis(self) -> i64 {
        self.0.div_euclid(1_000)
    }

    /// Seconds since the epoch as a real number.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-6
    }

    /// The span from `earlier` to `self`; negative if `earlier` is later.
    pub const fn since(self, earlier: Self) -> TimeDelta {
        TimeDelta::from_micros(super::sub_i64(self.0, earlier.0))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{:.6}s", self.as_secs_f64())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} s", self.as_secs_f64())
    }
}

impl Add<TimeDelta> for Timestamp {
    type Output = Self;
    fn add(self, rhs: TimeDelta) -> Self {
        Self(super::add_i64(self.0, rhs.as_micros()))
    }
}

impl AddAssign<TimeDelta> for Timestamp {
    fn add_assign(&mut self, rhs: TimeDelta) {
        *self = *self + rhs;
    }
}

impl Sub<TimeDelta> for Timestamp {
    type Output = Self;
    fn sub(self, rhs: TimeDelta) -> Self {
        Self(super::sub_i64(self.0, rhs.as_micros()))
    }
}

impl SubAssign<TimeDelta> for Timestamp {
    fn sub_assign(&mut self, rhs: TimeDelta) {
        *self = *self - rhs;
    }
}

impl Sub for Timestamp {
    type Output = TimeDelta;
    fn sub(self, rhs: Self) -> TimeDelta {
        self.since(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Differences of instants are signed: time that goes backwards yields a negative span.
    #[test]
    fn differences_are_signed() {
        let a = Timestamp::from_millis(100);
        let b = Timestamp::from_millis(40);
        assert_eq!(a - b, TimeDelta::from_millis(60));
        assert_eq!(b - a, TimeDelta::from_millis(-60));
    }

    /// Extreme instants saturate instead of wrapping around.
    #[test]
    fn extreme_instants_saturate() {
        assert_eq!(Timestamp::MAX + TimeDelta::from_secs(1), Timestamp::MAX);
        assert_eq!(Timestamp::MIN - TimeDelta::from_secs(1), Timestamp::MIN);
        assert_eq!(Timestamp::MAX - Timestamp::MIN, TimeDelta::MAX);
        assert_eq!(Timestamp::from_micros(-1).as_millis(), -1);
    }
}
