//! Building and reading REMB messages (draft-alvestrand-rmcat-remb-03: RTCP PSFB, FMT 15,
//! unique identifier "REMB").
//!
//! rtc's `ReceiverEstimatedMaximumBitrate` does the wire format; this module only converts
//! between it and bwe-core's units, and refuses values that are not rates.

use bwe_core::Bitrate;
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;

/// The most SSRCs one REMB lists: its count field is one byte.
pub const MAX_SSRCS: usize = u8::MAX as usize;

/// A REMB from `sender_ssrc` capping `ssrcs` at `bitrate`; only the first [`MAX_SSRCS`] are
/// listed (rtc-rtcp 0.21.1 writes the count modulo 256 and the message no longer parses as
/// written). A sender applies a REMB to the whole session, so the cap still reaches every stream.
pub fn build(
    sender_ssrc: u32,
    bitrate: Bitrate,
    mut ssrcs: Vec<u32>,
) -> ReceiverEstimatedMaximumBitrate {
    ssrcs.truncate(MAX_SSRCS);
    ReceiverEstimatedMaximumBitrate {
        sender_ssrc,
        // f32 carries 24 significant bits; REMB itself carries 18, so nothing is lost here.
        bitrate: bitrate.as_bps_f64() as f32,
        ssrcs,
    }
}

/// The bitrate a received REMB carries, or `None` when it is not a rate (negative, NaN,
/// infinite): such a message is ignored rather than clamped into something plausible. A rate
/// beyond what a `Bitrate` holds (REMB reaches 2⁸¹ bit/s) is no limit at all and saturates;
/// ignoring it would leave an older, lower cap in force.
pub fn bitrate(remb: &ReceiverEstimatedMaximumBitrate) -> Option<Bitrate> {
    let bps = f64::from(remb.bitrate);
    (bps.is_finite() && bps >= 0.0).then(|| Bitrate::saturating_from_bps_f64(bps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::packet::Packet as _;
    use rtc::shared::marshal::{Marshal, Unmarshal};

    /// A REMB must survive the wire: same bitrate (to REMB's 18-bit precision) and SSRCs.
    #[test]
    fn remb_round_trips_through_bytes() {
        let sent = build(0xABCD, Bitrate::from_bps(1_234_567), vec![11, 22]);
        let bytes = sent.marshal().expect("marshal");
        assert_eq!(&bytes[12..16], b"REMB");
        let back = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..]).expect("unmarshal");
        assert_eq!(back.ssrcs, vec![11, 22]);
        assert_eq!(back.sender_ssrc, 0xABCD);
        let rate = bitrate(&back).expect("a rate").bps();
        assert!((1_234_500..=1_234_567).contains(&rate), "{rate}");
        assert_eq!(
            back.header().count,
            15,
            "FMT 15 is application-layer feedback"
        );
    }

    /// Values that are not rates never become a cap.
    #[test]
    fn non_rates_are_refused() {
        for value in [f32::NAN, f32::INFINITY, -1.0] {
            let remb = ReceiverEstimatedMaximumBitrate {
                bitrate: value,
                ..Default::default()
            };
            assert_eq!(bitrate(&remb), None, "{value}");
        }
    }

    /// A REMB lists at most 255 SSRCs; more would overflow its one-byte count and the message
    /// would read back as a different one (found by the `remb_packet` fuzz target).
    #[test]
    fn more_than_255_ssrcs_are_cut_to_255_and_read_back_as_sent() {
        let ssrcs: Vec<u32> = (0..300).collect();
        let bytes = build(1, Bitrate::from_kbps(500), ssrcs)
            .marshal()
            .expect("marshal");
        let back = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..]).expect("unmarshal");
        assert_eq!(back.ssrcs, (0..255).collect::<Vec<u32>>());
    }

    /// A REMB above 2⁶⁴ bit/s is a valid message lifting the cap, not a malformed one: it must
    /// replace the previous cap rather than be ignored (found by the REMB property test in
    /// `tests/malformed_input_is_counted_never_fatal.rs`).
    #[test]
    fn a_rate_beyond_u64_saturates_instead_of_being_refused() {
        let mut bytes = build(1, Bitrate::ZERO, vec![5]).marshal().expect("marshal");
        // Exponent 63, mantissa 2¹⁷: 2⁸⁰ bit/s.
        bytes[17..20].copy_from_slice(&[63 << 2 | 0b10, 0, 0]);
        let remb = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..]).expect("unmarshal");
        assert_eq!(f64::from(remb.bitrate), 2f64.powi(80));
        assert_eq!(bitrate(&remb), Some(Bitrate::from_bps(u64::MAX)));
    }

    /// rtc-rtcp 0.21.1 decodes a zero mantissa as 2^(exponent + 23) instead of 0 (the implicit
    /// IEEE-754 leading bit is added unconditionally), so a REMB of 0 bit/s reads as 8.4 Mbit/s.
    /// Inbound RTCP reaches the chain already parsed, so there is no raw value to recover; this
    /// test fails when upstream fixes the decoder.
    #[test]
    fn upstream_zero_remb_still_decodes_as_two_to_the_23() {
        let zero = build(1, Bitrate::ZERO, vec![5]);
        let bytes = zero.marshal().expect("marshal");
        let back = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..]).expect("unmarshal");
        assert_eq!(back.bitrate, 8_388_608.0);
    }

    /// rtc-rtcp 0.21.1 writes a REMB's SSRC count modulo 256, so a message listing 256 SSRCs
    /// goes out claiming none and does not read back as written: the reason [`build`] lists at
    /// most [`MAX_SSRCS`]. This test fails when upstream refuses or fixes such a message.
    #[test]
    fn upstream_remb_with_256_ssrcs_does_not_read_back() {
        let remb = ReceiverEstimatedMaximumBitrate {
            sender_ssrc: 1,
            bitrate: 500_000.0,
            ssrcs: (0..256).collect(),
        };
        let Ok(bytes) = remb.marshal() else {
            panic!("upstream now refuses 256 SSRCs: MAX_SSRCS can go");
        };
        let back = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..]);
        assert!(
            back.as_ref().map_or(true, |b| b.ssrcs.len() != 256),
            "upstream now round-trips 256 SSRCs: {:?}",
            back.map(|b| b.ssrcs.len())
        );
    }
}
