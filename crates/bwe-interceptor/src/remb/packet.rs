//! Building and reading REMB messages (draft-alvestrand-rmcat-remb-03: RTCP PSFB, FMT 15,
//! unique identifier "REMB").
//!
//! rtc's `ReceiverEstimatedMaximumBitrate` does the wire format; this module only converts
//! between it and bwe-core's units, and refuses values that are not rates.

use bwe_core::Bitrate;
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;

/// A REMB from `sender_ssrc` capping `ssrcs` at `bitrate`.
pub fn build(
    sender_ssrc: u32,
    bitrate: Bitrate,
    ssrcs: Vec<u32>,
) -> ReceiverEstimatedMaximumBitrate {
    ReceiverEstimatedMaximumBitrate {
        sender_ssrc,
        // f32 carries 24 significant bits; REMB itself carries 18, so nothing is lost here.
        bitrate: bitrate.as_bps_f64() as f32,
        ssrcs,
    }
}

/// The bitrate a received REMB carries, or `None` when it is not a rate (negative, NaN,
/// infinite): such a message is ignored rather than clamped into something plausible.
pub fn bitrate(remb: &ReceiverEstimatedMaximumBitrate) -> Option<Bitrate> {
    Bitrate::try_from_bps_f64(f64::from(remb.bitrate))
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
}
