//! Physical quantities as types.
//!
//! Every quantity that crosses a function boundary in this crate carries its unit in its type, so
//! that a millisecond can never be added to a microsecond and a byte count never passes for bits.
//! The representations are integers (microseconds, bytes, bits per second) because integer
//! arithmetic is exact and deterministic across platforms; the algorithms that need real numbers
//! convert at the point of use with `as_*_f64`.
//!
//! Arithmetic saturates instead of overflowing: inputs come from the network, and a malformed
//! timestamp must never be able to panic the estimator. Conversions that can fail (a negative
//! delta into a `std::time::Duration`, a NaN into a bitrate) are checked and return an error or
//! `None`.

mod bitrate;
mod data_size;
mod time_delta;
mod timestamp;

pub use bitrate::Bitrate;
pub use data_size::DataSize;
pub use time_delta::TimeDelta;
pub use timestamp::Timestamp;

/// `a + b`, saturating at the `i64` range.
///
/// The same result as `i64::saturating_add`, but the in-range case is an add and a rarely taken
/// branch: `saturating_add` compiles to a branch-free select whose saturated value is computed on
/// every call (five instructions more), and timestamps are added and subtracted several times per
/// packet. Overflow only happens on malformed input, so its branch is cold.
#[inline]
pub(crate) const fn add_i64(a: i64, b: i64) -> i64 {
    match a.checked_add(b) {
        Some(sum) => sum,
        // Only a positive `b` can overflow upwards.
        None => saturated(b > 0),
    }
}

/// `a - b`, saturating at the `i64` range; see [`add_i64`] for why not `i64::saturating_sub`.
#[inline]
pub(crate) const fn sub_i64(a: i64, b: i64) -> i64 {
    match a.checked_sub(b) {
        Some(difference) => difference,
        // Only a negative `b` can overflow upwards.
        None => saturated(b < 0),
    }
}

/// The bound an overflowing operation reached: `i64::MAX` upwards, `i64::MIN` downwards. Out of
/// line so that the common, non-overflowing path stays two instructions.
#[cold]
#[inline(never)]
const fn saturated(upwards: bool) -> i64 {
    if upwards { i64::MAX } else { i64::MIN }
}

/// Below this magnitude an `f64` may have a fractional part; at or above it every value is an
/// integer (2⁵²).
const FRACTION_LIMIT: f64 = 4_503_599_627_370_496.0;

/// `x.round() as i64`: half away from zero, saturating, NaN gives 0.
///
/// `f64::round` is a library call on baseline x86-64 (no SSE4.1 `roundsd`), and the rate
/// controllers round on every update. Below 2⁵² the fraction `x − trunc(x)` is exact, so
/// comparing it with ½ gives `round`'s answer bit for bit; larger values and NaN take `round`.
fn round_to_i64(x: f64) -> i64 {
    if x.abs() < FRACTION_LIMIT {
        let t = x as i64;
        let fraction = x - t as f64;
        if fraction >= 0.5 {
            t + 1
        } else if fraction <= -0.5 {
            t - 1
        } else {
            t
        }
    } else {
        x.round() as i64
    }
}

/// `x.round() as u64`: half away from zero, saturating (negative values give 0), NaN gives 0.
/// See [`round_to_i64`] for why not `f64::round`.
fn round_to_u64(x: f64) -> u64 {
    if (0.0..FRACTION_LIMIT).contains(&x) {
        // Through `i64`, which holds every value below 2⁵²: x86-64 converts signed integers to
        // and from `f64` in one instruction each, unsigned ones in a sequence of eight.
        let t = x as i64;
        // Non-negative, since x is: the cast keeps the value.
        (if x - t as f64 >= 0.5 { t + 1 } else { t }) as u64
    } else {
        x.round() as u64
    }
}

/// `v as f64`, in one instruction for the values that occur.
///
/// x86-64 has no unsigned-to-`f64` conversion before AVX-512: `u64 as f64` compiles to a
/// sequence of about eight instructions, while `i64 as f64` is one. Every byte count and bitrate
/// fits an `i64`, so the signed conversion is taken below 2⁶³ (a branch that never changes
/// direction) and gives the same `f64`.
#[inline]
pub(crate) fn u64_to_f64(v: u64) -> f64 {
    match i64::try_from(v) {
        Ok(signed) => signed as f64,
        Err(_) => v as f64,
    }
}

/// A conversion into or out of one of the unit types was not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// A negative time delta cannot become a `std::time::Duration`.
    #[error("time delta {0} µs is negative and has no Duration equivalent")]
    NegativeDuration(i64),
    /// The value does not fit the target representation.
    #[error("value {0} is out of range for the target unit")]
    OutOfRange(u128),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branchy saturating add and subtract must agree with the standard ones everywhere,
    /// the overflowing edges included: timestamps from the network may be anything.
    /// The signed route gives the same `f64` as the direct conversion, at the edges too.
    #[test]
    fn unsigned_conversion_agrees_with_the_direct_one() {
        for v in [
            0,
            1,
            (1 << 53) + 1,
            i64::MAX as u64,
            i64::MAX as u64 + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(u64_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
    }

    #[test]
    fn branchy_saturation_matches_std() {
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            i64::MIN / 2,
            -1_000_000,
            -1,
            0,
            1,
            1_000_000,
            i64::MAX / 2,
            i64::MAX - 1,
            i64::MAX,
        ];
        for a in edges {
            for b in edges {
                assert_eq!(add_i64(a, b), a.saturating_add(b), "{a} + {b}");
                assert_eq!(sub_i64(a, b), a.saturating_sub(b), "{a} - {b}");
            }
        }
    }

    /// The fast rounding must agree with `f64::round` everywhere, halves and edges included.
    #[test]
    fn fast_rounding_matches_f64_round() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            FRACTION_LIMIT - 0.5,
            -(FRACTION_LIMIT - 0.5),
            FRACTION_LIMIT,
            FRACTION_LIMIT + 1.0,
            1e19,
            2e19,
            -1e19,
            -2e19,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
        ];
        let mut x = 1e-3;
        while x < 1e20 {
            for v in [x, x + 0.5, x * 1.000_1, 1.0 / x] {
                values.push(v);
                values.push(-v);
            }
            x *= 1.37;
        }
        for v in values {
            assert_eq!(round_to_i64(v), v.round() as i64, "{v:e}");
            assert_eq!(round_to_u64(v), v.round() as u64, "{v:e}");
        }
    }
}
