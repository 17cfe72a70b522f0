//! The RTP header-extension parsers, fed any bytes: a value or a length error, never a panic, and
//! a parsed value writes back to the bytes it came from. The contracts are in
//! `contracts/rtp_ext.rs`, shared with the fuzz targets in `fuzz/`.

#[path = "contracts/rtp_ext.rs"]
mod contracts;

use proptest::prelude::*;

/// Payload lengths around the valid ones (3, 8, 16) and beyond a one-byte extension's 16.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..=20),
        1 => prop::collection::vec(any::<u8>(), 0..=256),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Whatever a peer puts in the extension, the receive side gets a value or an error.
    #[test]
    fn abs_send_time_parses_or_refuses_any_payload(bytes in payload()) {
        contracts::abs_send_time(&bytes);
    }

    /// Any sequence of send times, wraps and reordering included, moves the unwrapped clock by
    /// at most half a period per packet.
    #[test]
    fn abs_send_time_unwrapping_never_jumps_more_than_half_a_period(
        bytes in prop::collection::vec(any::<u8>(), 0..=600),
    ) {
        contracts::abs_send_time_unwrap(&bytes);
    }

    /// The same for abs-capture-time, whose offset is signed.
    #[test]
    fn abs_capture_time_parses_or_refuses_any_payload(bytes in payload()) {
        contracts::abs_capture_time(&bytes);
    }
}
