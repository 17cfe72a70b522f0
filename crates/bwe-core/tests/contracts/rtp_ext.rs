//! What the RTP header-extension parsers promise for any payload, as functions that panic when a
//! promise is broken.
//!
//! One definition serves two drivers: `tests/parsers_never_panic.rs` (proptest, in `cargo test`)
//! and the fuzz targets in `fuzz/` (libFuzzer, which includes this file by path), so a contract
//! tightened here is tightened for both.

#![allow(dead_code)] // each driver uses its own subset

use bwe_core::TimeDelta;
use bwe_core::rtp_ext::{AbsCaptureTime, AbsSendTime, AbsSendTimeUnwrapper, ExtensionError};

/// abs-send-time: exactly three bytes parse, to their big-endian value, which writes back to the
/// same bytes and lies within the 64 s period; any other length is an error naming it.
pub fn abs_send_time(payload: &[u8]) {
    match AbsSendTime::parse(payload) {
        Ok(value) => {
            assert_eq!(payload.len(), AbsSendTime::LEN);
            assert_eq!(value.to_bytes(), payload, "written back differently");
            assert_eq!(
                value.raw(),
                u32::from_be_bytes([0, payload[0], payload[1], payload[2]])
            );
            let span = value.as_time_delta();
            assert!(
                span >= TimeDelta::ZERO && span <= TimeDelta::from_secs(64),
                "{span:?} outside one 64 s period"
            );
        }
        Err(ExtensionError::BadLength { got, .. }) => {
            assert_ne!(payload.len(), AbsSendTime::LEN);
            assert_eq!(got, payload.len(), "the error names another length");
        }
    }
}

/// The unwrapper, fed the 3-byte values of `bytes` in order: each step moves the clock by the
/// shortest distance between the two values, so never by more than half the 64 s period (plus
/// the microsecond each side is rounded by).
pub fn abs_send_time_unwrap(bytes: &[u8]) {
    let mut unwrapper = AbsSendTimeUnwrapper::new();
    let mut previous = None;
    for chunk in bytes.chunks_exact(AbsSendTime::LEN) {
        let value = AbsSendTime::parse(chunk).expect("three bytes always parse");
        let now = unwrapper.unwrap(value);
        if let Some(before) = previous {
            let step: TimeDelta = now - before;
            assert!(
                step.abs() <= TimeDelta::from_secs(32) + TimeDelta::from_micros(1),
                "a step of {step:?} between two 24-bit values"
            );
        }
        previous = Some(now);
    }
}

/// abs-capture-time: 8 or 16 bytes parse to their big-endian fields (the offset signed); any
/// other length is an error naming it; the conversions to spans never panic and keep the sign.
pub fn abs_capture_time(payload: &[u8]) {
    let word = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("eight bytes"));
    match AbsCaptureTime::parse(payload) {
        Ok(value) => {
            assert!(payload.len() == 8 || payload.len() == 16);
            assert_eq!(value.ntp, word(&payload[..8]));
            assert!(value.since_ntp_epoch() >= TimeDelta::ZERO);
            match (payload.len(), value.clock_offset, value.clock_offset()) {
                (16, Some(raw), Some(span)) => {
                    assert_eq!(raw, word(&payload[8..]) as i64);
                    assert!(
                        if raw >= 0 {
                            span >= TimeDelta::ZERO
                        } else {
                            span <= TimeDelta::ZERO
                        },
                        "offset {raw} became {span:?}"
                    );
                }
                (8, None, None) => {}
                other => panic!("offset {other:?} for {} bytes", payload.len()),
            }
        }
        Err(ExtensionError::BadLength { got, .. }) => {
            assert!(payload.len() != 8 && payload.len() != 16);
            assert_eq!(got, payload.len(), "the error names another length");
        }
    }
}
