//! The REMB mapping (`bwe_interceptor::remb::packet`): what a received REMB's bitrate becomes,
//! and what a REMB built from an estimate carries on the wire.

use bwe_core::Bitrate;
use bwe_interceptor::remb::packet;
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use rtc::shared::marshal::{Marshal, Unmarshal};

/// Bytes rtc reads as a REMB give a cap exactly when their bitrate is a rate (finite, not
/// negative), and then that rate to the bit per second, saturating beyond `u64`.
pub fn received(bytes: &[u8]) {
    let Ok(remb) = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..]) else {
        return;
    };
    let value = f64::from(remb.bitrate);
    match packet::bitrate(&remb) {
        Some(cap) => {
            assert!(value.is_finite() && value >= 0.0, "{value} became a cap");
            let expected = value.min(Bitrate::from_bps(u64::MAX).as_bps_f64());
            assert!(
                (cap.as_bps_f64() - expected).abs() <= 1.0 + expected * 1e-9,
                "{value} became {cap}"
            );
        }
        None => assert!(
            !(value.is_finite() && value >= 0.0),
            "the rate {value} was refused"
        ),
    }
}

/// A REMB built for `bps` and `ssrcs` reads back with the same sender, the SSRCs (the first
/// 255: its count is one byte) and the rate to REMB's precision (an 18-bit mantissa: within
/// 2⁻¹⁷). Zero is left out: rtc-rtcp 0.21.1 decodes a zero mantissa as 2²³ (pinned by a unit
/// test in `remb::packet`).
pub fn built(sender_ssrc: u32, bps: u64, ssrcs: Vec<u32>) {
    let rate = Bitrate::from_bps(bps);
    let remb = packet::build(sender_ssrc, rate, ssrcs.clone());
    let bytes = remb.marshal().expect("a REMB we build marshals");
    let back = ReceiverEstimatedMaximumBitrate::unmarshal(&mut &bytes[..])
        .expect("a REMB rtc wrote reads back");
    assert_eq!(back.sender_ssrc, sender_ssrc);
    assert_eq!(back.ssrcs, ssrcs[..ssrcs.len().min(packet::MAX_SSRCS)]);
    if bps == 0 {
        return;
    }
    let cap = packet::bitrate(&back).expect("a REMB we built carries a rate");
    let (sent, got) = (rate.as_bps_f64(), cap.as_bps_f64());
    assert!(
        (got - sent).abs() <= sent * 2f64.powi(-17) + 1.0,
        "{rate} came back as {cap}"
    );
}
