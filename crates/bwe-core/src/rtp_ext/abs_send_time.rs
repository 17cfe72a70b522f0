//! abs-send-time: `http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`.
//!
//! A 24-bit unsigned fixed-point number of seconds with 6 integer and 18 fractional bits, taken
//! from the sender's clock when the packet left it. The resolution is 2⁻¹⁸ s ≈ 3.8 µs and the
//! value wraps every 2⁶ = 64 s. Defined at <https://webrtc.googlesource.com/src/+/refs/heads/main/docs/native-code/rtp-hdrext/abs-send-time/>.
//!
//! The receive-side estimator needs a continuous send clock, so [`AbsSendTimeUnwrapper`] extends
//! the 24-bit value across wraps by taking the shortest signed distance from the previous value:
//! any step of less than 32 s forwards or backwards is interpreted as such. Reordered packets
//! therefore unwrap to the right (earlier) time instead of jumping 64 s ahead.

use super::ExtensionError;
use crate::units::{TimeDelta, Timestamp};

/// Number of distinct abs-send-time values: 2²⁴.
const WRAP: i64 = 1 << 24;
/// Ticks per second: 2¹⁸.
const TICKS_PER_SEC: i64 = 1 << 18;

/// One abs-send-time value: 24 bits of 6.18 fixed-point seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsSendTime(u32);

impl AbsSendTime {
    /// The extension's payload length in bytes.
    pub const LEN: usize = 3;

    /// Parses the 3-byte big-endian extension payload.
    pub fn parse(payload: &[u8]) -> Result<Self, ExtensionError> {
        match payload {
            [a, b, c] => Ok(Self(u32::from_be_bytes([0, *a, *b, *c]))),
            _ => Err(ExtensionError::BadLength {
                extension: "abs-send-time",
                got: payload.len(),
                expected: "3",
            }),
        }
    }

    /// A value from its raw 24-bit representation; higher bits are discarded.
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw & 0x00FF_FFFF)
    }

    /// The value for a sender-clock instant (the instant modulo 64 s), for writing the extension.
    pub fn from_timestamp(t: Timestamp) -> Self {
        let ticks = (i128::from(t.as_micros()) * i128::from(TICKS_PER_SEC)).div_euclid(1_000_000);
        Self::from_raw((ticks.rem_euclid(i128::from(WRAP))) as u32)
    }

    /// The raw 24-bit value.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The 3-byte big-endian payload.
    pub const fn to_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }

    /// The value as a span since the last wrap.
    pub fn as_time_delta(self) -> TimeDelta {
        ticks_to_delta(i64::from(self.0))
    }
}

/// Converts 2⁻¹⁸ s ticks to microseconds, rounding to nearest (1 tick = 15625/4096 µs exactly).
fn ticks_to_delta(ticks: i64) -> TimeDelta {
    // Fast path in 64 bits (any span under ~400 days); 128-bit division is slow.
    if let Some(scaled) = ticks.checked_mul(15_625) {
        return TimeDelta::from_micros((scaled + 2_048).div_euclid(4_096));
    }
    let us = (i128::from(ticks) * 1_000_000 + i128::from(TICKS_PER_SEC / 2))
        .div_euclid(i128::from(TICKS_PER_SEC));
    TimeDelta::from_micros(i64::try_from(us).unwrap_or(if ticks < 0 { i64::MIN } else { i64::MAX }))
}

/// Extends successive 24-bit abs-send-time values into a continuous sender clock.
///
/// The first value seen maps to its own offset within the 64 s period; every later value moves the
/// clock by the shortest signed distance from the previous one (the half-period rule).
#[derive(Debug, Clone, Default)]
pub struct AbsSendTimeUnwrapper {
    last: Option<(u32, i64)>,
}

impl AbsSendTimeUnwrapper {
    /// A fresh unwrapper with no history.
    pub const fn new() -> Self {
        Self { last: None }
    }

    /// The continuous sender-clock instant for `value`.
    pub fn unwrap(&mut self, value: AbsSendTime) -> Timestamp {
        let raw = value.raw();
        let ticks = match self.last {
            None => i64::from(raw),
            Some((last_raw, last_ticks)) => {
                // Both values are below 2²⁴, so the masked wrapping difference is the distance
                // modulo the period (a mask, where `rem_euclid` on i64 would divide).
                let mut diff = i64::from(raw.wrapping_sub(last_raw) & 0x00FF_FFFF);
                if diff >= WRAP / 2 {
                    diff -= WRAP;
                }
                crate::units::add_i64(last_ticks, diff)
            }
        };
        self.last = Some((raw, ticks));
        // The epoch is zero: the span is the instant (no saturating addition needed).
        Timestamp::from_micros(ticks_to_delta(ticks).as_micros())
    }

    /// Forgets the history, so the next value starts a new clock.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload is 24-bit big-endian; anything but 3 bytes is an error naming the length.
    #[test]
    fn parses_three_big_endian_bytes_and_rejects_other_lengths() {
        assert_eq!(
            AbsSendTime::parse(&[0x01, 0x02, 0x03]).map(|v| v.raw()),
            Ok(0x010203)
        );
        assert_eq!(
            AbsSendTime::parse(&[1, 2]),
            Err(ExtensionError::BadLength {
                extension: "abs-send-time",
                got: 2,
                expected: "3"
            })
        );
        assert!(AbsSendTime::parse(&[]).is_err());
        assert!(AbsSendTime::parse(&[0; 4]).is_err());
    }

    /// 6.18 fixed point: 1 s is 2¹⁸, and the fraction resolves ~3.8 µs.
    #[test]
    fn fixed_point_is_six_dot_eighteen_seconds() {
        assert_eq!(
            AbsSendTime::from_raw(1 << 18).as_time_delta(),
            TimeDelta::from_secs(1)
        );
        assert_eq!(
            AbsSendTime::from_raw(1).as_time_delta(),
            TimeDelta::from_micros(4)
        );
        assert_eq!(
            AbsSendTime::from_timestamp(Timestamp::from_millis(1500)).raw(),
            (3 << 18) / 2
        );
        let v = AbsSendTime::from_raw(0xABCDEF);
        assert_eq!(AbsSendTime::parse(&v.to_bytes()), Ok(v));
    }

    /// Crossing the 64 s wrap keeps the clock moving forward by the true step.
    #[test]
    fn unwrap_crosses_the_64_second_wrap_forward() {
        let mut u = AbsSendTimeUnwrapper::new();
        let before = u.unwrap(AbsSendTime::from_raw((1 << 24) - (1 << 16)));
        let after = u.unwrap(AbsSendTime::from_raw(1 << 16));
        assert_eq!(after - before, TimeDelta::from_millis(500));
    }

    /// A packet reordered across the wrap unwraps to an earlier time, not 64 s into the future.
    #[test]
    fn reordering_across_the_wrap_goes_backwards() {
        let mut u = AbsSendTimeUnwrapper::new();
        let late = u.unwrap(AbsSendTime::from_raw(1 << 10));
        let early = u.unwrap(AbsSendTime::from_raw((1 << 24) - (1 << 10)));
        assert!(early < late);
        // Each side is rounded to the microsecond on its own, so allow one microsecond.
        let err = (late - early - ticks_to_delta(1 << 11)).abs();
        assert!(err <= TimeDelta::from_micros(1), "error {err:?}");
    }

    /// Ten minutes of 20 ms steps, through several wraps, accumulate exactly.
    #[test]
    fn long_runs_accumulate_across_many_wraps() {
        let mut u = AbsSendTimeUnwrapper::new();
        let start = u.unwrap(AbsSendTime::from_timestamp(Timestamp::ZERO));
        let mut last = start;
        for i in 1..=30_000i64 {
            last = u.unwrap(AbsSendTime::from_timestamp(Timestamp::from_millis(i * 20)));
        }
        let err = (last - start - TimeDelta::from_secs(600)).abs();
        assert!(err <= TimeDelta::from_micros(4), "error {err:?}");
    }
}
