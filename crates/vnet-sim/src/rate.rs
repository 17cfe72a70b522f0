//! [`Rate`]: a data rate in integer bits per second.
//!
//! Integer, like libwebrtc's `DataRate`, so that serialisation times are computed exactly (a
//! 1250-byte packet at 1 Mbit/s takes 10 ms, not 9.999…) and identically on every platform.

use std::fmt;

use crate::time::SimDuration;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A data rate, in bits per second.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(u64);

impl Rate {
    /// No capacity: nothing is ever serialised.
    pub const ZERO: Self = Self(0);

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

    /// `gbps` gigabits per second, saturating.
    pub const fn from_gbps(gbps: u64) -> Self {
        Self(gbps.saturating_mul(1_000_000_000))
    }

    /// Bits per second.
    pub const fn bps(self) -> u64 {
        self.0
    }

    /// Megabits per second as a real number, for reports.
    pub fn as_mbps_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// The time to serialise `bytes` at this rate, rounded up to the nanosecond; `None` at zero
    /// rate (it never finishes).
    pub fn serialization_time(self, bytes: u64) -> Option<SimDuration> {
        if self.0 == 0 {
            return None;
        }
        let bits = u128::from(bytes) * 8;
        let nanos = (bits * u128::from(NANOS_PER_SEC)).div_ceil(u128::from(self.0));
        Some(SimDuration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// Whole bytes this rate carries in `span` (truncated), saturating.
    pub fn bytes_in(self, span: SimDuration) -> u64 {
        let bits = u128::from(self.0) * u128::from(span.as_nanos()) / u128::from(NANOS_PER_SEC);
        u64::try_from(bits / 8).unwrap_or(u64::MAX)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Rate {
    /// `1.5 Mbit/s`, `640 kbit/s`, `12 bit/s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bps = self.0;
        if bps >= 1_000_000_000 {
            write!(f, "{} Gbit/s", bps as f64 / 1e9)
        } else if bps >= 1_000_000 {
            write!(f, "{} Mbit/s", bps as f64 / 1e6)
        } else if bps >= 1_000 {
            write!(f, "{} kbit/s", bps as f64 / 1e3)
        } else {
            write!(f, "{bps} bit/s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The link model's serialisation delay rests on this: exact at round numbers.
    #[test]
    fn a_1250_byte_packet_serialises_in_exactly_10_ms_at_1_mbps() {
        assert_eq!(
            Rate::from_mbps(1).serialization_time(1250),
            Some(SimDuration::from_millis(10))
        );
    }

    /// Rounding up keeps a packet from finishing before its last bit could have left.
    #[test]
    fn serialisation_time_rounds_up_and_is_none_at_zero_rate() {
        // 1 byte at 3 bit/s = 8/3 s = 2.666…s → rounded up.
        assert_eq!(
            Rate::from_bps(3).serialization_time(1),
            Some(SimDuration::from_nanos(2_666_666_667))
        );
        assert_eq!(Rate::ZERO.serialization_time(1500), None);
        assert_eq!(
            Rate::from_bps(1).serialization_time(u64::MAX),
            Some(SimDuration::MAX)
        );
    }

    /// The queue converts a time limit to bytes with this; it must be exact at round numbers.
    #[test]
    fn bytes_in_300_ms_at_1_mbps_is_37500() {
        assert_eq!(
            Rate::from_mbps(1).bytes_in(SimDuration::from_millis(300)),
            37_500
        );
    }
}
