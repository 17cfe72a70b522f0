use std::fmt;
use std::ops::{Add, AddAssign, Div, Sub, SubAssign};

use super::{Bitrate, TimeDelta};

/// An amount of data, in bytes.
///
/// Unsigned: a size is never negative. Subtraction saturates at zero, which is the right answer
/// for "bytes still outstanding" when a duplicate acknowledgement arrives.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DataSize(u64);

impl DataSize {
    /// Nothing.
    pub const ZERO: Self = Self(0);

    /// `bytes` bytes.
    pub const fn from_bytes(bytes: u64) -> Self {
        Self(bytes)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// The size in bits, saturating.
    pub const fn bits(self) -> u64 {
        self.0.saturating_mul(8)
    }

    /// The size in bytes as a real number.
    pub fn as_bytes_f64(self) -> f64 {
        super::u64_to_f64(self.0)
    }

    /// The size in bits (saturating, as [`Self::bits`]) as a real number.
    pub fn as_bits_f64(self) -> f64 {
        super::u64_to_f64(self.bits())
    }

    /// The average rate at which this much data flows over `span`.
    ///
    /// `None` when the span is zero or negative: a rate over no time is undefined, not infinite.
    pub fn rate_over(self, span: TimeDelta) -> Option<Bitrate> {
        if span.as_micros() <= 0 {
            return None;
        }
        let micros = span.as_micros() as u64;
        // 64-bit division when the product fits (any size up to ~2.3 TB); 128-bit division is
        // a library call several times slower, and rates are read on every over-using packet.
        if let Some(scaled) = self.bits().checked_mul(1_000_000) {
            return Some(Bitrate::from_bps(scaled / micros));
        }
        let bps = u128::from(self.bits()) * 1_000_000 / u128::from(micros);
        Some(Bitrate::from_bps(u64::try_from(bps).unwrap_or(u64::MAX)))
    }
}

impl fmt::Debug for DataSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} B", self.0)
    }
}

impl fmt::Display for DataSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} B", self.0)
    }
}

impl Add for DataSize {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for DataSize {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl Sub for DataSize {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl SubAssign for DataSize {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl Div<TimeDelta> for DataSize {
    type Output = Option<Bitrate>;
    fn div(self, rhs: TimeDelta) -> Option<Bitrate> {
        self.rate_over(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1250 bytes in 10 ms is exactly 1 Mbit/s.
    #[test]
    fn rate_over_a_span_is_exact() {
        let rate = DataSize::from_bytes(1250).rate_over(TimeDelta::from_millis(10));
        assert_eq!(rate, Some(Bitrate::from_bps(1_000_000)));
    }

    /// A rate over zero or negative time is undefined rather than infinite.
    #[test]
    fn rate_over_no_time_is_undefined() {
        assert_eq!(DataSize::from_bytes(1).rate_over(TimeDelta::ZERO), None);
        assert_eq!(
            DataSize::from_bytes(1).rate_over(TimeDelta::from_micros(-5)),
            None
        );
    }

    /// Subtracting more than there is leaves nothing, not a wrapped huge number.
    #[test]
    fn subtraction_saturates_at_zero() {
        assert_eq!(
            DataSize::from_bytes(3) - DataSize::from_bytes(5),
            DataSize::ZERO
        );
        assert_eq!(DataSize::from_bytes(u64::MAX).bits(), u64::MAX);
    }
}
