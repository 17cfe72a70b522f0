use std::fmt;
use std::ops::{Add, Mul, Sub};

use super::{DataSize, TimeDelta};

/// A data rate, in bits per second.
///
/// Integer bits per second (as libwebrtc's `DataRate`) so that rates compare exactly and print
/// identically on every platform. Control laws that scale a rate by a real factor use
/// [`Bitrate::mul_f64`], which saturates and maps NaN to zero rather than propagating it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bitrate(u64);

impl Bitrate {
    /// No data at all.
    pub const ZERO: Self = Self(0);
    /// The largest representable rate; used as "unlimited".
    pub const MAX: Self = Self(u64::MAX);

    /// `bps` bits per second.
    pub const fn from_bps(bps: u64) -> Self {
        Self(bps)
    }

    /// `kbps` kilobits per second (1 kbit = 1000 bits), saturating.
    pub const fn from_kbps(kbps: u64) -> Self {
        Self(kbps.saturating_mul(1_000))
    }

    /// `mbps` megabits per second, saturating.
    pub const fn from_mbps(mbps: u64) -> Self {
        Self(mbps.saturating_mul(1_000_000))
    }

    /// A rate given as a real number of bits per second, rounded.
    ///
    /// `None` for NaN, negative and out-of-range values: a computed rate that is not a rate is a
    /// bug to surface, not a number to clamp silently.
    pub fn try_from_bps_f64(bps: f64) -> Option<Self> {
        let r = bps.round();
        if r.is_finite() && r >= 0.0 && r <= u64::MAX as f64 {
            Some(Self(r as u64))
        } else {
            None
        }
    }

    /// A rate given as a real number of bits per second, clamped into range; NaN gives zero.
    pub fn saturating_from_bps_f64(bps: f64) -> Self {
        if bps.is_nan() {
            Self::ZERO
        } else {
            // Saturates: negative → 0, too large → u64::MAX.
            Self(super::round_to_u64(bps))
        }
    }

    /// Bits per second.
    pub const fn bps(self) -> u64 {
        self.0
    }

    /// Bits per second as a real number.
    pub fn as_bps_f64(self) -> f64 {
        super::u64_to_f64(self.0)
    }

    /// Kilobits per second as a real number.
    pub fn as_kbps_f64(self) -> f64 {
        // A multiplication: a division here sits on the hot path of every filter update.
        super::u64_to_f64(self.0) * 1e-3
    }

    /// `self * factor`, saturating; NaN or a negative factor gives zero.
    pub fn mul_f64(self, factor: f64) -> Self {
        Self::saturating_from_bps_f64(super::u64_to_f64(self.0) * factor)
    }

    /// The amount of data this rate carries in `span`; zero for a non-positive span.
    pub fn over(self, span: TimeDelta) -> DataSize {
        if span.as_micros() <= 0 {
            return DataSize::ZERO;
        }
        let micros = span.as_micros() as u64;
        // 64-bit arithmetic when the product fits; 128-bit division is a library call.
        if let Some(scaled) = self.0.checked_mul(micros) {
            return DataSize::from_bytes(scaled / 1_000_000 / 8);
        }
        let bits = u128::from(self.0) * u128::from(micros) / 1_000_000;
        DataSize::from_bytes(u64::try_from(bits / 8).unwrap_or(u64::MAX))
    }

    /// `self` clamped to `[lo, hi]`. If `lo > hi`, `hi` wins (the maximum is the harder limit).
    pub fn clamp_to(self, lo: Self, hi: Self) -> Self {
        Self(self.0.max(lo.0).min(hi.0))
    }
}

impl fmt::Debug for Bitrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

impl fmt::Display for Bitrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} kbps", self.as_kbps_f64())
    }
}

impl Add for Bitrate {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Bitrate {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl Mul<TimeDelta> for Bitrate {
    type Output = DataSize;
    fn mul(self, rhs: TimeDelta) -> DataSize {
        self.over(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rates and sizes round-trip: 1 Mbit/s for 10 ms is 1250 bytes.
    #[test]
    fn rate_times_span_is_a_size() {
        assert_eq!(
            Bitrate::from_mbps(1) * TimeDelta::from_millis(10),
            DataSize::from_bytes(1250)
        );
        assert_eq!(
            Bitrate::from_mbps(1) * TimeDelta::from_millis(-10),
            DataSize::ZERO
        );
    }

    /// Non-rates are rejected by the checked conversion and clamped by the saturating one.
    #[test]
    fn real_conversions_are_checked_or_saturating() {
        assert_eq!(Bitrate::try_from_bps_f64(f64::NAN), None);
        assert_eq!(Bitrate::try_from_bps_f64(-1.0), None);
        assert_eq!(Bitrate::try_from_bps_f64(f64::INFINITY), None);
        assert_eq!(Bitrate::try_from_bps_f64(1.6), Some(Bitrate::from_bps(2)));
        assert_eq!(Bitrate::saturating_from_bps_f64(-5.0), Bitrate::ZERO);
        assert_eq!(Bitrate::saturating_from_bps_f64(f64::NAN), Bitrate::ZERO);
        assert_eq!(Bitrate::saturating_from_bps_f64(1e300), Bitrate::MAX);
        assert_eq!(
            Bitrate::from_kbps(500).mul_f64(0.85),
            Bitrate::from_kbps(425)
        );
    }

    /// When bounds conflict the maximum wins: an operator's cap is never exceeded.
    #[test]
    fn clamp_prefers_the_maximum_on_conflict() {
        let r = Bitrate::from_kbps(100).clamp_to(Bitrate::from_kbps(300), Bitrate::from_kbps(200));
        assert_eq!(r, Bitrate::from_kbps(200));
    }
}
