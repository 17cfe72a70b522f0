//! abs-capture-time: `http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time`.
//!
//! 8 bytes: the capture instant as a 64-bit NTP timestamp (UQ32.32 seconds since 1900) on the
//! capturer's clock; optionally 8 more: the estimated offset between the capturer's clock and the
//! sender's, as a signed Q32.32 number of seconds. Defined at
//! <https://webrtc.googlesource.com/src/+/refs/heads/main/docs/native-code/rtp-hdrext/abs-capture-time/>.

use super::ExtensionError;
use crate::units::TimeDelta;

/// One abs-capture-time value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsCaptureTime {
    /// Capture instant, UQ32.32 NTP seconds on the capturer's clock.
    pub ntp: u64,
    /// Estimated capturer-to-sender clock offset, Q32.32 seconds, when sent.
    pub clock_offset: Option<i64>,
}

impl AbsCaptureTime {
    /// Parses an 8- or 16-byte big-endian payload.
    pub fn parse(payload: &[u8]) -> Result<Self, ExtensionError> {
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            u64::from_be_bytes(w)
        };
        match payload.len() {
            8 => Ok(Self {
                ntp: word(payload),
                clock_offset: None,
            }),
            16 => Ok(Self {
                ntp: word(&payload[..8]),
                clock_offset: Some(word(&payload[8..]) as i64),
            }),
            got => Err(ExtensionError::BadLength {
                extension: "abs-capture-time",
                got,
                expected: "8 or 16",
            }),
        }
    }

    /// The capture instant as a span since the NTP epoch (1900-01-01), rounded to microseconds.
    pub fn since_ntp_epoch(self) -> TimeDelta {
        q32_to_delta(i128::from(self.ntp))
    }

    /// The clock offset as a signed span, when present.
    pub fn clock_offset(self) -> Option<TimeDelta> {
        self.clock_offset.map(|q| q32_to_delta(i128::from(q)))
    }
}

fn q32_to_delta(q: i128) -> TimeDelta {
    let us = (q * 1_000_000 + (1 << 31)) >> 32;
    TimeDelta::from_micros(i64::try_from(us).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short form carries only the capture instant.
    #[test]
    fn parses_the_eight_byte_form() {
        let mut p = [0u8; 8];
        p[..4].copy_from_slice(&3u32.to_be_bytes());
        p[4..].copy_from_slice(&(1u32 << 31).to_be_bytes());
        let v = AbsCaptureTime::parse(&p).expect("8 bytes is a valid length");
        assert_eq!(v.clock_offset, None);
        assert_eq!(v.since_ntp_epoch(), TimeDelta::from_micros(3_500_000));
    }

    /// The long form adds a signed offset; negative offsets come out negative.
    #[test]
    fn parses_the_sixteen_byte_form_with_a_signed_offset() {
        let mut p = [0u8; 16];
        p[8..].copy_from_slice(&(-(1i64 << 31)).to_be_bytes());
        let v = AbsCaptureTime::parse(&p).expect("16 bytes is a valid length");
        assert_eq!(v.clock_offset(), Some(TimeDelta::from_millis(-500)));
    }

    /// Other lengths are errors, never panics.
    #[test]
    fn rejects_other_lengths() {
        for n in [0usize, 1, 7, 9, 15, 17, 64] {
            assert!(AbsCaptureTime::parse(&vec![0; n]).is_err(), "len {n}");
        }
    }
}
