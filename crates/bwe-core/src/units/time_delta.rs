use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};
use std::time::Duration;

use super::UnitError;

/// A signed span of time with microsecond resolution.
///
/// Signed because the quantities the estimator works with — inter-group delay variation, the
/// difference between two clocks — are naturally negative half of the time. Microseconds because
/// abs-send-time resolves 3.8 µs and TWCC 250 µs; nanoseconds would buy nothing and shrink the
/// range.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimeDelta(i64);

impl TimeDelta {
    /// No time at all.
    pub const ZERO: Self = Self(0);
    /// The largest representable span; used as "infinitely long ago / never".
    pub const MAX: Self = Self(i64::MAX);
    /// The most negative representable span.
    pub const MIN: Self = Self(i64::MIN);

    /// A span of `us` microseconds.
    pub const fn from_micros(us: i64) -> Self {
        Self(us)
    }

    /// A span of `ms` milliseconds, saturating at the representable range.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms.saturating_mul(1_000))
    }

    /// A span of `s` seconds, saturating at the representable range.
    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1_000_000))
    }

    /// A span of `s` seconds given as a real number, rounded to the nearest microsecond.
    ///
    /// Returns `None` for NaN and for values outside the representable range.
    pub fn try_from_secs_f64(s: f64) -> Option<Self> {
        let us = (s * 1e6).round();
        if us.is_finite() && us >= i64::MIN as f64 && us <= i64::MAX as f64 {
            Some(Self(us as i64))
        } else {
            None
        }
    }

    /// A span of `ms` milliseconds given as a real number, rounded to the nearest microsecond.
    ///
    /// Returns `None` for NaN and for values outside the representable range.
    pub fn try_from_millis_f64(ms: f64) -> Option<Self> {
        Self::try_from_secs_f64(ms / 1e3)
    }

    /// The span in whole microseconds.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The span in whole milliseconds, truncated towards zero.
    pub const fn as_millis(self) -> i64 {
        self.0 / 1_000
    }

    /// The span in milliseconds as a real number.
    pub fn as_millis_f64(self) -> f64 {
        // A multiplication: a division here sits on the hot path of every filter update.
        self.0 as f64 * 1e-3
    }

    /// The span in seconds as a real number.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-6
    }

    /// Whether the span is strictly negative.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Whether the span is strictly positive.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The absolute value, saturating for [`TimeDelta::MIN`].
    pub const fn abs(self) -> Self {
        Self(self.0.saturating_abs())
    }

    /// `self * factor`, rounded, saturating; NaN gives zero.
    pub fn mul_f64(self, factor: f64) -> Self {
        // Saturates for out-of-range products; NaN gives zero.
        Self(super::round_to_i64(self.0 as f64 * factor))
    }

    /// `self` clamped to `[lo, hi]`.
    pub fn clamp_to(self, lo: Self, hi: Self) -> Self {
        Self(self.0.max(lo.0).min(hi.0))
    }
}

impl fmt::Debug for TimeDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

impl fmt::Display for TimeDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.abs() >= 1_000_000 {
            write!(f, "{:.3} s", self.as_secs_f64())
        } else {
            write!(f, "{:.3} ms", self.as_millis_f64())
        }
    }
}

impl Add for TimeDelta {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(super::add_i64(self.0, rhs.0))
    }
}

impl AddAssign for TimeDelta {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl Sub for TimeDelta {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(super::sub_i64(self.0, rhs.0))
    }
}

impl SubAssign for TimeDelta {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl Neg for TimeDelta {
    type Output = Self;
    fn neg(self) -> Self {
        Self(self.0.saturating_neg())
    }
}

impl Mul<i64> for TimeDelta {
    type Output = Self;
    fn mul(self, rhs: i64) -> Self {
        Self(self.0.saturating_mul(rhs))
    }
}

impl Div<i64> for TimeDelta {
    type Output = Self;
    /// Division by zero saturates to the span's sign instead of panicking.
    fn div(self, rhs: i64) -> Self {
        match self.0.checked_div(rhs) {
            Some(v) => Self(v),
            None if self.0 < 0 => Self::MIN,
            None if self.0 == 0 => Self::ZERO,
            None => Self::MAX,
        }
    }
}

impl TryFrom<Duration> for TimeDelta {
    type Error = UnitError;
    fn try_from(d: Duration) -> Result<Self, UnitError> {
        i64::try_from(d.as_micros())
            .map(Self)
            .map_err(|_| UnitError::OutOfRange(d.as_micros()))
    }
}

impl TryFrom<TimeDelta> for Duration {
    type Error = UnitError;
    fn try_from(d: TimeDelta) -> Result<Self, UnitError> {
        u64::try_from(d.0)
            .map(Duration::from_micros)
            .map_err(|_| UnitError::NegativeDuration(d.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arithmetic on values from the network must never panic, only saturate.
    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        assert_eq!(TimeDelta::MAX + TimeDelta::from_micros(1), TimeDelta::MAX);
        assert_eq!(TimeDelta::MIN - TimeDelta::from_micros(1), TimeDelta::MIN);
        assert_eq!(-TimeDelta::MIN, TimeDelta::MAX);
        assert_eq!(TimeDelta::from_secs(i64::MAX), TimeDelta::MAX);
        assert_eq!(TimeDelta::from_millis(5) / 0, TimeDelta::MAX);
        assert_eq!(TimeDelta::MIN / -1, TimeDelta::MIN);
    }

    /// Real-number conversions reject what cannot be represented rather than inventing a value.
    #[test]
    fn real_conversions_are_checked() {
        assert_eq!(TimeDelta::try_from_secs_f64(f64::NAN), None);
        assert_eq!(TimeDelta::try_from_secs_f64(1e30), None);
        assert_eq!(
            TimeDelta::try_from_millis_f64(1.5),
            Some(TimeDelta::from_micros(1_500))
        );
        assert_eq!(
            TimeDelta::from_millis(10).mul_f64(f64::NAN),
            TimeDelta::ZERO
        );
    }

    /// Only non-negative spans have a `Duration`; the error carries the offending value.
    #[test]
    fn duration_conversion_rejects_negative_spans() {
        assert_eq!(
            Duration::try_from(TimeDelta::from_micros(-3)),
            Err(UnitError::NegativeDuration(-3))
        );
        assert_eq!(
            Duration::try_from(TimeDelta::from_millis(7)),
            Ok(Duration::from_millis(7))
        );
        assert_eq!(
            TimeDelta::try_from(Duration::from_millis(7)),
            Ok(TimeDelta::from_millis(7))
        );
        assert!(TimeDelta::try_from(Duration::MAX).is_err());
    }
}
