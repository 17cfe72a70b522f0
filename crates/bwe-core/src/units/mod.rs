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
